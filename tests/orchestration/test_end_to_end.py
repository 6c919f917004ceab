"""End to end, as real processes: an opportunity changed in the Salesforce emulator reaches
``marts.fct_opportunities`` through the webhook path with no manual step.

emulator (admin PATCH) --CDC webhook--> API (``scc serve``: verifies, queues the event) --> Dagster daemon
(change sensor: one run) --> dlt sync of Opportunity + OpportunityHistory --> dbt build downstream --> marts.

The stack gets a data folder of its own (its emulators must POST to its API from the start), a smaller
company than the session's, and the fallback schedules off, so the only run after the first load is the
one the change causes.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from scc.processes import Supervisor, free_port, scc_command

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory, test_environment):
    from dagster_project import stack as dagster_stack
    from emulators.server import RunInfo
    from scc.config import Settings

    root = tmp_path_factory.mktemp("orchestration-e2e")
    api_port = free_port()
    env = {
        "SCC_DATA_DIR": str(root), "SCC_DEMO_SCALE": "0.02",
        "SCC_SALESFORCE_EMULATOR_PORT": str(free_port()), "SCC_NETSUITE_EMULATOR_PORT": str(free_port()),
        "SCC_EMULATOR_WEBHOOK_URL": f"http://127.0.0.1:{api_port}/webhooks", "SCC_EMULATOR_LIVE": "false",
        "SCC_API_PORT": str(api_port), "SCC_REDIS_URL": "", "SCC_APP_DATABASE_URL": "",
        "SCC_ORCHESTRATION_SCHEDULES": "false", "SCC_LOG_LEVEL": "WARNING",
    }
    settings = Settings(**{k.removeprefix("SCC_").lower(): v for k, v in {**test_environment, **env}.items()
                           if v != ""})
    supervisor = Supervisor(root / "logs")
    try:
        emulators = supervisor.start("emulators", scc_command("emulators", "start"), env=env)
        api = supervisor.start("api", scc_command("serve", "--port", str(api_port)), env=env)
        supervisor.wait_until(
            emulators, lambda: bool((i := RunInfo.read(settings)) and i.pid == emulators.process.pid), timeout=300)

        def api_up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=2, trust_env=False).status_code == 200
            except httpx.HTTPError:
                return False

        supervisor.wait_until(api, api_up, timeout=120)
        first = dagster_stack.materialize_all(settings, env=env)
        assert first.returncode == 0, f"the first load failed:\n{first.stdout[-3000:]}\n{first.stderr[-3000:]}"
        dagster_stack.start_daemon(supervisor, settings, env=env)
        yield settings, RunInfo.read(settings), supervisor
    finally:
        supervisor.stop_all()


def _alive(supervisor):
    def check() -> None:
        dead = supervisor.first_dead()
        if dead:
            raise AssertionError(f"{dead.name} died:\n{dead.tail()}")

    return check


def test_an_opportunity_changed_in_salesforce_reaches_the_marts_through_the_webhook(stack):
    import ssl

    from dagster_project import stack as dagster_stack
    from scc.warehouse import fetch_all

    settings, info, supervisor = stack
    opportunity_id, amount = fetch_all(
        "SELECT opportunity_id, amount FROM marts.fct_opportunities WHERE NOT is_closed ORDER BY opportunity_id "
        "LIMIT 1", settings=settings)[0]
    new_amount = round(float(amount or 0) + 4321.5, 2)
    changed_at = dt.datetime.now(dt.timezone.utc)
    context = ssl.create_default_context(cafile=str(settings.tls_dir / "ca.pem"))
    httpx.patch(f"{info.salesforce_url}/__admin/records/Opportunity/{opportunity_id}", json={"Amount": new_amount},
                verify=context, trust_env=False, timeout=30).raise_for_status()

    # Waiting on Dagster's record of the run, not by polling DuckDB: a reader holding the file would make the
    # run's writers wait or retry.
    with dagster_stack.instance(settings) as instance:
        def change_run():
            runs = [r for r in instance.get_runs() if r.tags.get("scc/trigger") == "change_events"]
            return runs if runs and all(r.is_finished for r in runs) else None

        runs = dagster_stack.wait_for(change_run, timeout=240, interval=0.5, alive=_alive(supervisor),
                                      what="the run the change starts (trigger change_events) to finish")
    # exactly one run did it, started by the change sensor, syncing only what the change touched
    assert len(runs) == 1, [r.tags for r in runs]
    run = runs[0]
    assert run.is_success, run.status
    assert run.tags["scc/entities"] == "salesforce:Opportunity=1"
    assert run.tags["scc/resources"] == "salesforce:Opportunity,salesforce:OpportunityHistory"
    selected = {k.to_user_string() for k in run.asset_selection}
    assert {"raw_salesforce/opportunity", "marts/fct_opportunities"} <= selected
    assert not any(k.startswith("raw_netsuite/") or k in {"raw_salesforce/account", "marts/fct_orders"}
                   for k in selected)
    received = dt.datetime.fromisoformat(run.tags["scc/first_event_received_at"].replace("Z", "+00:00"))
    assert received >= changed_at - dt.timedelta(seconds=5)

    rows = fetch_all("SELECT amount FROM marts.fct_opportunities WHERE opportunity_id = ?", (opportunity_id,),
                     settings=settings)
    assert abs(float(rows[0][0]) - new_amount) < 0.005, (rows, new_amount)

    # and the webhook event is closed
    def processed() -> bool:
        from sqlalchemy import func, select

        from api.db import get_database
        from api.models import WebhookEvent

        database = get_database(f"sqlite:///{settings.data_dir / 'app.sqlite'}")
        with database.session() as session:
            statuses = dict(session.execute(
                select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)).all())
        return statuses == {"processed": 1} and statuses

    dagster_stack.wait_for(processed, timeout=60, what="the webhook event to be marked processed",
                           alive=_alive(supervisor))
