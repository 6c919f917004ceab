"""The nightly consistency check of the raw tables: ``scc sync --verify`` as Dagster asset checks.

One multi-asset check per source puts a ``matches_source`` check on each raw table it verifies
(:mod:`pipelines.verify`): the table's key ranges are compared with the source (row count, newest change)
and a drifted range is re-read. The check passes when nothing had drifted; drift that the re-read
repaired fails it as a warning (the table is right again, but something got past the cursor discipline
and is worth a look), drift that is still there as an error. The ``verify_nightly_schedule`` runs the
checks alone, without syncing, every night at ``VERIFY_CRON``.
"""

from __future__ import annotations

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    define_asset_job,
    multi_asset_check,
)

from dagster_project.assets import WAREHOUSE_POOL, raw_key
from pipelines.run import SOURCES
from scc.config import get_settings

CHECK_NAME = "matches_source"
VERIFY_CRON = "30 2 * * *"  # nightly, at 02:30 UTC: after the day's work, before the morning digests
SHOWN_RANGES = 20  # drifted ranges listed in a check's metadata


def make_verify_checks() -> list:
    from pipelines.verify import verified_tables

    settings = get_settings()
    return [_source_check(source, [t.resource for t in verified_tables(source, settings)]) for source in SOURCES]


def _source_check(source: str, resources: list[str]):
    specs = [
        AssetCheckSpec(CHECK_NAME, asset=raw_key(source, resource),
                       description=f"Every key range of the table matches {source} (row count, newest change); "
                       "a drifted range is re-read (`scc sync --verify`).")
        for resource in resources
    ]

    # can_subset: a job that selects some raw tables (with their checks) selects some of these checks only.
    @multi_asset_check(specs=specs, name=f"verify_{source}", pool=WAREHOUSE_POOL, can_subset=True)
    def _check(context):  # not annotated: the annotation is a string here, which Dagster refuses
        from pipelines.verify import verify

        by_table = verify(source).tables()
        selected = context.selected_asset_check_keys
        for spec in specs:
            if spec.key not in selected:
                continue
            ranges = by_table.get(spec.asset_key.path[-1], [])
            drifted = [c for c in ranges if c.drifted]
            left = [c for c in drifted if not c.repaired]
            yield AssetCheckResult(
                asset_key=spec.asset_key,
                check_name=CHECK_NAME,
                passed=not drifted,
                severity=AssetCheckSeverity.ERROR if left else AssetCheckSeverity.WARN,
                metadata={
                    "key_ranges": len(ranges),
                    "drifted_ranges": len(drifted),
                    "repaired_ranges": len(drifted) - len(left),
                    "drift": "\n".join(str(c) for c in drifted[:SHOWN_RANGES]) or "none",
                },
            )

    return _check


def make_verify_schedule(checks: list) -> ScheduleDefinition:
    running = get_settings().orchestration_schedules
    job = define_asset_job("verify_raw_tables", selection=AssetSelection.checks(*checks),
                           description="Compare every raw table with its source by key range; repair drift.")
    return ScheduleDefinition(
        name="verify_nightly_schedule",
        cron_schedule=VERIFY_CRON,
        job=job,
        default_status=DefaultScheduleStatus.RUNNING if running else DefaultScheduleStatus.STOPPED,
        description="Nightly: `scc sync --verify` of every raw table, as asset checks.",
    )
