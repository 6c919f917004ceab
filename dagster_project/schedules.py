"""The fallback cadence of the design, for changes no webhook announced (or that one lost).

Salesforce and NetSuite orders every 5 minutes, products and inventory every 15 minutes, invoices hourly.
Each schedule syncs only its raw tables and builds only what is downstream of them. ``SCC_ORCHESTRATION_
SCHEDULES=false`` leaves them stopped (they can still be switched on in the console).
"""

from __future__ import annotations

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition

from dagster_project.assets import CADENCES, cadence_keys
from dagster_project.sensors import TRIGGER_TAG
from scc.config import get_settings


def cron_for(minutes: int) -> str:
    return "0 * * * *" if minutes >= 60 else f"*/{minutes} * * * *"


def make_schedules() -> list[ScheduleDefinition]:
    running = get_settings().orchestration_schedules
    status = DefaultScheduleStatus.RUNNING if running else DefaultScheduleStatus.STOPPED
    schedules = []
    for name, (minutes, tables) in CADENCES.items():
        what = "; ".join(f"{source}: {', '.join(resources)}" for source, resources in tables.items())
        schedules.append(ScheduleDefinition(
            name=f"{name}_schedule",
            cron_schedule=cron_for(minutes),
            target=AssetSelection.assets(*cadence_keys(name)).downstream(),
            default_status=status,
            tags={TRIGGER_TAG: "schedule"},
            description=f"Every {minutes} minutes: sync {what}, then build what is downstream.",
        ))
    return schedules
