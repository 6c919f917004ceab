"""Sensors: change events -> one incremental run; raw data landing -> marts rebuilt; failed runs recorded.

* ``change_events_sensor`` reads the change events the API's webhooks queued (``api.events``): every event
  pending when it looks is claimed and becomes part of ONE run that syncs only the affected dlt resources
  and builds only what is downstream of them. While such a run waits in the queue, new events wait too,
  so a burst is coalesced into one run. The run's tags name the events, the objects and the resources.
* ``change_events_done_sensor`` marks the events of a finished run processed (after success, or after a
  failure: the data is pulled incrementally, so the next run of that table, at the latest the fallback
  schedule, picks the change up; a failure never turns into a retry storm).
* ``marts_automation`` evaluates the dbt assets' automation condition (``eager``): raw data that lands
  by any path (a schedule, a manual materialisation, ``dagster asset materialize``) rebuilds what is
  downstream of it.
* ``failed_runs_sensor`` records every failed run in ``<data dir>/orchestration/failed_runs.jsonl``, logs
  it and pushes it to the dashboards (``dagster_project.notify.run_failed``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Sequence

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunStatusSensorContext,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
    sensor,
)

from dagster_project.assets import raw_key, resources_of
from scc.config import get_settings

log = logging.getLogger("scc.orchestration")

TRIGGER_TAG = "scc/trigger"
CHANGE_TRIGGER = "change_events"
EVENT_ROWS_TAG = "scc/change_event_rows"  # ids of the events in the app database, as ranges ("3-7,9")
EVENT_IDS_TAG = "scc/event_ids"  # the vendors' own event ids
ENTITIES_TAG = "scc/entities"  # vendor:object of each kind of change, with counts
RESOURCES_TAG = "scc/resources"  # the dlt resources the run syncs
FIRST_RECEIVED_TAG = "scc/first_event_received_at"
MAX_TAG_CHARS = 2000
MAX_EVENTS_PER_RUN = 5000

# What a vendor's change touches, as dlt resources. Salesforce writes an OpportunityHistory row with every
# stage or amount change and sends no event for it; a NetSuite transaction's lines travel with it.
_SALESFORCE_EXTRA = {"Opportunity": ("Opportunity", "OpportunityHistory")}
_NETSUITE = {
    "salesorder": ("sales_orders", "sales_order_lines"),
    "invoice": ("invoices", "invoice_lines"),
    "transaction": ("sales_orders", "sales_order_lines", "invoices", "invoice_lines"),
    "customer": ("customers",),
    "item": ("items",),
    "inventoryitem": ("items",),
    "inventory": ("inventory",),
    "employee": ("employees",),
    "location": ("locations",),
}


def affected_resources(vendor: str, object_type: str | None) -> tuple[str, ...]:
    """The dlt resources an event of ``vendor`` about ``object_type`` makes stale (empty: none we load)."""
    if not object_type:
        return ()
    if vendor == "salesforce":
        if object_type in _SALESFORCE_EXTRA:
            return _SALESFORCE_EXTRA[object_type]
        return (object_type,) if object_type in resources_of("salesforce") else ()
    if vendor == "netsuite":
        return _NETSUITE.get(object_type.lower(), ())
    return ()


def id_ranges(ids: Iterable[int]) -> str:
    """``[3, 4, 5, 7]`` -> ``"3-5,7"`` (compact enough for a run tag)."""
    out, ordered = [], sorted(set(ids))
    start = prev = None
    for value in ordered:
        if start is None:
            start = prev = value
        elif value == prev + 1:
            prev = value
        else:
            out.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = value
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else str(start))
    return ",".join(out)


def parse_id_ranges(text: str | None) -> list[int]:
    ids: list[int] = []
    for part in (text or "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        ids.extend(range(int(low), int(high or low) + 1))
    return ids


def _capped(values: Sequence[str]) -> str:
    text = ""
    for index, value in enumerate(values):
        candidate = f"{text},{value}" if text else value
        if len(candidate) > MAX_TAG_CHARS - 20:
            return f"{text},+{len(values) - index} more"
        text = candidate
    return text


def change_run_request(
    events: list[dict], downstream: Callable[[list[AssetKey]], list[AssetKey]]
) -> RunRequest | None:
    """ONE run request for a batch of change events: the affected raw tables and what is downstream."""
    resources: dict[tuple[str, str], None] = {}
    entities: dict[str, int] = {}
    for event in events:
        for resource in affected_resources(event["vendor"], event.get("object_type")):
            resources[(event["vendor"], resource)] = None
        label = f"{event['vendor']}:{event.get('object_type')}"
        entities[label] = entities.get(label, 0) + 1
    if not resources:
        return None
    raw = [raw_key(vendor, resource) for vendor, resource in resources]
    rows = [event["id"] for event in events]
    received = sorted(event.get("received_at") or "" for event in events)
    return RunRequest(
        run_key=f"change-events-{id_ranges(rows)[:200]}",
        asset_selection=downstream(raw),
        tags={
            TRIGGER_TAG: CHANGE_TRIGGER,
            EVENT_ROWS_TAG: id_ranges(rows),
            EVENT_IDS_TAG: _capped([str(event["event_id"]) for event in events]),
            ENTITIES_TAG: ",".join(f"{label}={count}" for label, count in sorted(entities.items())),
            RESOURCES_TAG: ",".join(f"{vendor}:{resource}" for vendor, resource in resources),
            FIRST_RECEIVED_TAG: received[0] if received else "",
            "scc/event_count": str(len(events)),
        },
    )


def _queued_change_run(context: SensorEvaluationContext) -> str | None:
    runs = context.instance.get_runs(
        filters=RunsFilter(
            tags={TRIGGER_TAG: CHANGE_TRIGGER},
            statuses=[DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED],
        ),
        limit=1,
    )
    return runs[0].run_id if runs else None


def make_change_sensor(target: AssetSelection, downstream: Callable[[list[AssetKey]], list[AssetKey]]):
    settings = get_settings()

    @sensor(
        name="change_events_sensor",
        target=target,
        minimum_interval_seconds=max(1, settings.orchestration_sensor_interval),
        default_status=DefaultSensorStatus.RUNNING,
        description="Webhook change events (Salesforce CDC, NetSuite notifications) queued by the API -> one "
        "run syncing only the affected objects and building only the marts downstream of them.",
    )
    def change_events_sensor(context: SensorEvaluationContext):
        from api.events import claim_change_events, mark_change_events_processed, pending_change_events

        waiting = _queued_change_run(context)
        if waiting:
            # Its selection is fixed; what arrives meanwhile goes into the next run, all of it together.
            return SkipReason(f"change run {waiting[:8]} is still queued; new events wait for the next run")
        if not pending_change_events():
            return SkipReason("no change events")
        events = claim_change_events(limit=MAX_EVENTS_PER_RUN)
        if not events:
            return SkipReason("no change events")
        request = change_run_request(events, downstream)
        if request is None:
            mark_change_events_processed([event["id"] for event in events])
            kinds = sorted({f"{e['vendor']}:{e.get('object_type')}" for e in events})
            return SkipReason(f"{len(events)} events about objects not loaded ({', '.join(kinds)})")
        context.log.info(
            f"{len(events)} change events -> one run for {request.tags[RESOURCES_TAG]} "
            f"({len(request.asset_selection)} assets)"
        )
        return request

    return change_events_sensor


def _finish_change_events(run, outcome: str) -> int:
    rows = parse_id_ranges(run.tags.get(EVENT_ROWS_TAG))
    if not rows:
        return 0
    from api.events import mark_change_events_processed

    count = mark_change_events_processed(rows)
    log.info("run %s %s: %d change events processed", run.run_id[:8], outcome, count)
    return count


@run_status_sensor(
    name="change_events_done_sensor",
    run_status=DagsterRunStatus.SUCCESS,
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    description="Marks the change events of a successful run processed.",
)
def change_events_done_sensor(context: RunStatusSensorContext):
    if context.dagster_run.tags.get(TRIGGER_TAG) == CHANGE_TRIGGER:
        _finish_change_events(context.dagster_run, "succeeded")


def failures_path():
    return get_settings().data_dir / "orchestration" / "failed_runs.jsonl"


def _error_text(error) -> str | None:
    """An error with its causes (Dagster wraps what the step raised), most specific last."""
    parts = []
    while error is not None:
        parts.append(error.message.strip())
        error = error.cause
    return " <- caused by: ".join(parts)[:2000] if parts else None


def record_failure(context: RunFailureSensorContext) -> dict:
    run = context.dagster_run
    failed_steps = []
    for event in context.get_step_failure_events():
        error = event.event_specific_data.error if event.event_specific_data else None
        failed_steps.append({"step": event.step_key, "error": _error_text(error)})
    record = {
        "run_id": run.run_id,
        "job": run.job_name,
        "failed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "message": context.failure_event.message,
        "trigger": run.tags.get(TRIGGER_TAG) or run.tags.get("dagster/schedule_name")
        or run.tags.get("dagster/sensor_name") or "manual",
        "tags": {k: v for k, v in run.tags.items() if k.startswith("scc/") or k.startswith("dagster/s")},
        "assets": sorted(key.to_user_string() for key in (run.asset_selection or [])),
        "failed_steps": failed_steps,
    }
    path = failures_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(record) + "\n")
    return record


@run_failure_sensor(
    name="failed_runs_sensor",
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    description="Records every failed run (<data dir>/orchestration/failed_runs.jsonl), logs it and tells the "
    "dashboards; the change events of a failed run are closed (the next run of those tables picks the "
    "changes up, incrementally).",
)
def failed_runs_sensor(context: RunFailureSensorContext):
    from dagster_project import notify

    record = record_failure(context)
    steps = ", ".join(step["step"] or "?" for step in record["failed_steps"]) or "no step"
    context.log.error(f"run {record['run_id'][:8]} ({record['trigger']}) failed in {steps}: {record['message']}")
    notify.run_failed(record["run_id"], record["job"], record["message"], tags=record["tags"])
    if context.dagster_run.tags.get(TRIGGER_TAG) == CHANGE_TRIGGER:
        _finish_change_events(context.dagster_run, "failed")


def make_automation_sensor(target: AssetSelection) -> AutomationConditionSensorDefinition:
    return AutomationConditionSensorDefinition(
        "marts_automation",
        target=target,
        default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=10,
        run_tags={TRIGGER_TAG: "automation"},
        description="Rebuilds the dbt models downstream of raw data that landed by any path (eager).",
    )
