"""The executive digests on a schedule: daily (``SCC_DIGEST_DAILY_CRON``, 07:00) and weekly
(``SCC_DIGEST_WEEKLY_CRON``, Mondays 07:00), in ``SCC_DIGEST_TIMEZONE``.

Each run builds one digest per recipient scope of ``SCC_DIGEST_RECIPIENTS`` (``agents.digest.send_digests``)
and sends it through the SMTP server of ``SCC_SMTP_*``. The schedules start running only when digests can be
sent (an SMTP host and recipients set, and ``SCC_DIGEST_SCHEDULES`` on); they can be switched on in the
console all the same, or the jobs launched by hand.
"""

from __future__ import annotations

from dagster import DefaultScheduleStatus, Failure, OpExecutionContext, ScheduleDefinition, job, op

from scc.config import get_settings


def _send(context: OpExecutionContext, kind: str) -> dict:
    from agents.digest import send_digests

    result = send_digests(kind)
    context.log.info(f"{kind} digest: sent to {len(result['sent'])} recipients in {result.get('seconds', 0)} s"
                     + (f" ({result['note']})" if result.get("note") else ""))
    if result["refused"]:
        raise Failure(f"the SMTP server refused {len(result['refused'])} recipients", metadata={
            "refused": ", ".join(sorted(result["refused"]))})
    return result


@op(description="Build the daily digest of every recipient's scope and send it by SMTP.")
def send_daily_digest(context) -> None:  # context: OpExecutionContext (unannotated: Dagster checks it)
    _send(context, "daily")


@op(description="Build the weekly digest of every recipient's scope and send it by SMTP.")
def send_weekly_digest(context) -> None:
    _send(context, "weekly")


@job(description="The daily executive digest (yesterday against the same day a week before).",
     tags={"scc/trigger": "schedule"})
def daily_digest_job():
    send_daily_digest()


@job(description="The weekly executive digest (the last 7 days against the 7 before).",
     tags={"scc/trigger": "schedule"})
def weekly_digest_job():
    send_weekly_digest()


def make_digest_schedules() -> list[ScheduleDefinition]:
    settings = get_settings()
    ready = settings.digest_schedules and bool(settings.smtp_host) and bool(settings.digest_recipients.strip())
    status = DefaultScheduleStatus.RUNNING if ready else DefaultScheduleStatus.STOPPED
    return [
        ScheduleDefinition(name="daily_digest_schedule", cron_schedule=settings.digest_daily_cron,
                           job=daily_digest_job, execution_timezone=settings.digest_timezone, default_status=status,
                           description="The daily digest to SCC_DIGEST_RECIPIENTS."),
        ScheduleDefinition(name="weekly_digest_schedule", cron_schedule=settings.digest_weekly_cron,
                           job=weekly_digest_job, execution_timezone=settings.digest_timezone, default_status=status,
                           description="The weekly digest to SCC_DIGEST_RECIPIENTS."),
    ]
