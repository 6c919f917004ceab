"""Sensor ticks evaluated in-process: change events -> exactly one run of the right assets; failures recorded.

The events go through the API's own queue (``api.events.enqueue_change_events``, in a fresh app database per
test), in the vendors' shapes (docs/emulators-contract.md). The expected selections are computed from the
dbt manifest, not from the code under test.
"""

from __future__ import annotations

import json
import uuid

import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, build_sensor_context

from .lineage import descendants


def salesforce_event(entity: str, record_id: str, fields: dict | None = None) -> dict:
    header = {"entityName": entity, "recordIds": [record_id], "changeType": "UPDATE",
              "changedFields": sorted(fields or {"Name": "x"}), "commitTimestamp": 1_780_000_000_000,
              "commitUser": "005000000000001AAA", "sequenceNumber": 1, "transactionKey": str(uuid.uuid4())}
    return {"ChangeEventHeader": header, **(fields or {"Name": "x"})}


def netsuite_event(record_type: str, record_id: int, action: str = "update") -> dict:
    return {"eventId": str(uuid.uuid4()), "recordType": record_type, "recordId": str(record_id), "action": action,
            "changedFields": ["status"], "timestamp": "2026-05-20T10:00:00Z"}


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as instance:
        yield instance


def tick(definitions, instance):
    sensor = definitions.get_sensor_def("change_events_sensor")
    return sensor.evaluate_tick(build_sensor_context(instance=instance, definitions=definitions))


def keys(run_request) -> set[str]:
    return {key.to_user_string() for key in run_request.asset_selection}


def test_no_events_no_run(definitions, instance, app_database):
    result = tick(definitions, instance)
    assert result.run_requests == [] and "no change events" in (result.skip_message or "")


def test_a_burst_of_events_is_one_run_of_only_the_affected_assets(definitions, instance, app_database, manifest):
    from api.events import enqueue_change_events, pending_change_events

    salesforce = [salesforce_event("Opportunity", "006000000000001AAA", {"Amount": 1000.0}),
                  salesforce_event("Opportunity", "006000000000001AAA", {"StageName": "Negotiation/Review"}),
                  salesforce_event("Opportunity", "006000000000002AAA", {"Amount": 5.0}),
                  salesforce_event("Account", "001000000000001AAA"),
                  salesforce_event("Lead", "00Q000000000001AAA")]  # not an object the product loads
    netsuite = [netsuite_event("salesOrder", 101), netsuite_event("salesOrder", 102, "create")]
    accepted = enqueue_change_events("salesforce", salesforce)["accepted"] + \
        enqueue_change_events("netsuite", netsuite)["accepted"]
    assert len(accepted) == 7

    result = tick(definitions, instance)
    assert len(result.run_requests) == 1, result
    request = result.run_requests[0]
    raw = {"raw_salesforce/opportunity", "raw_salesforce/opportunity_history", "raw_salesforce/account",
           "raw_netsuite/sales_orders", "raw_netsuite/sales_order_lines"}
    assert keys(request) == descendants(manifest, raw)
    assert "marts/fct_opportunities" in keys(request) and "marts/fct_orders" in keys(request)
    assert not any(k.startswith(("raw_netsuite/invoice", "raw_netsuite/items", "raw_salesforce/task"))
                   for k in keys(request)), "only the affected tables are synced"
    tags = request.tags
    assert tags["scc/trigger"] == "change_events"
    assert set(tags["scc/event_ids"].split(",")) == set(accepted)
    assert tags["scc/entities"] == ("netsuite:salesOrder=2,salesforce:Account=1,salesforce:Lead=1,"
                                    "salesforce:Opportunity=3")
    assert set(tags["scc/resources"].split(",")) == {
        "salesforce:Opportunity", "salesforce:OpportunityHistory", "salesforce:Account",
        "netsuite:sales_orders", "netsuite:sales_order_lines"}
    assert tags["scc/event_count"] == "7"
    assert pending_change_events() == 0

    # the events are taken: the next tick has nothing to do
    again = tick(definitions, instance)
    assert again.run_requests == []


def test_events_arriving_while_a_change_run_waits_join_the_next_run(definitions, instance, app_database):
    from dagster._core.test_utils import create_run_for_test

    from api.events import enqueue_change_events

    enqueue_change_events("salesforce", [salesforce_event("Task", "00T000000000001AAA")])
    first = tick(definitions, instance).run_requests
    assert len(first) == 1
    queued = create_run_for_test(instance, job_name="__anonymous_asset_job_change_events_sensor",
                                 status=DagsterRunStatus.NOT_STARTED, tags=first[0].tags)

    enqueue_change_events("salesforce", [salesforce_event("Event", "00U000000000001AAA")])
    enqueue_change_events("netsuite", [netsuite_event("invoice", 7)])
    waiting = tick(definitions, instance)
    assert waiting.run_requests == [] and "still queued" in waiting.skip_message

    instance.report_run_canceled(queued)  # the queued run went (here: cancelled; normally started)
    second = tick(definitions, instance).run_requests
    assert len(second) == 1
    assert {k.to_user_string() for k in second[0].asset_selection if k.path[0].startswith("raw_")} == {
        "raw_salesforce/event", "raw_netsuite/invoices", "raw_netsuite/invoice_lines"}
    assert second[0].tags["scc/event_count"] == "2"


def test_events_about_objects_not_loaded_start_nothing(definitions, instance, app_database):
    from api.events import enqueue_change_events, pending_change_events

    enqueue_change_events("salesforce", [salesforce_event("Lead", "00Q000000000009AAA")])
    result = tick(definitions, instance)
    assert result.run_requests == [] and "not loaded" in result.skip_message
    assert pending_change_events() == 0


def _run_with_tags(instance, tags: dict, fail: bool):
    from dagster import asset, materialize

    @asset(name="sensor_test_asset")
    def _asset():
        if fail:
            raise RuntimeError("the vendor is down")
        return 1

    return materialize([_asset], instance=instance, tags=tags, raise_on_error=False)


def run_event(instance, run_id: str, kind: str):
    from dagster import DagsterEventType

    return instance.all_logs(run_id, of_type=DagsterEventType[kind])[-1].dagster_event


def test_finished_change_runs_close_their_events_and_failures_are_recorded(definitions, instance, app_database,
                                                                         data_dir):
    from dagster import build_run_status_sensor_context

    from api.events import claim_change_events, enqueue_change_events
    from api.models import WebhookEvent
    from dagster_project.sensors import change_events_done_sensor, failed_runs_sensor, failures_path

    enqueue_change_events("salesforce", [salesforce_event("Contact", "003000000000001AAA"),
                                         salesforce_event("Contact", "003000000000002AAA")])
    ok_request = tick(definitions, instance).run_requests[0]
    enqueue_change_events("netsuite", [netsuite_event("customer", 3)])
    bad_request = tick(definitions, instance).run_requests[0]

    def status_of(request) -> set[str]:
        from sqlalchemy import select

        from dagster_project.sensors import parse_id_ranges

        ids = parse_id_ranges(request.tags["scc/change_event_rows"])
        with app_database.session() as session:
            return set(session.scalars(select(WebhookEvent.status).where(WebhookEvent.id.in_(ids))))

    assert status_of(ok_request) == {"claimed"} and status_of(bad_request) == {"claimed"}

    good = _run_with_tags(instance, ok_request.tags, fail=False)
    success_event = run_event(instance, good.run_id, "RUN_SUCCESS")
    change_events_done_sensor(build_run_status_sensor_context(
        sensor_name="change_events_done_sensor", dagster_event=success_event, dagster_instance=instance,
        dagster_run=instance.get_run_by_id(good.run_id)))
    assert status_of(ok_request) == {"processed"}

    bad = _run_with_tags(instance, bad_request.tags, fail=True)
    failure_event = run_event(instance, bad.run_id, "RUN_FAILURE")
    failures_path().unlink(missing_ok=True)
    failed_runs_sensor(build_run_status_sensor_context(
        sensor_name="failed_runs_sensor", dagster_event=failure_event, dagster_instance=instance,
        dagster_run=instance.get_run_by_id(bad.run_id)).for_run_failure())
    records = [json.loads(line) for line in failures_path().read_text().splitlines()]
    assert len(records) == 1
    record = records[0]
    assert record["run_id"] == bad.run_id and record["trigger"] == "change_events"
    assert record["failed_steps"][0]["step"] == "sensor_test_asset"
    assert "the vendor is down" in record["failed_steps"][0]["error"]
    assert record["tags"]["scc/entities"] == "netsuite:customer=1"
    # closed, not retried in a loop: the next sync of the table picks the change up incrementally
    assert status_of(bad_request) == {"processed"}
    assert claim_change_events() == []


def test_the_event_mapping_covers_every_kind_the_emulators_send():
    from dagster_project.sensors import affected_resources

    assert affected_resources("salesforce", "Opportunity") == ("Opportunity", "OpportunityHistory")
    for entity in ("Account", "Contact", "Task", "Event", "User"):
        assert affected_resources("salesforce", entity) == (entity,)
    assert affected_resources("netsuite", "salesOrder") == ("sales_orders", "sales_order_lines")
    assert affected_resources("netsuite", "invoice") == ("invoices", "invoice_lines")
    for kind, table in (("customer", "customers"), ("item", "items"), ("inventory", "inventory"),
                        ("employee", "employees"), ("location", "locations")):
        assert affected_resources("netsuite", kind) == (table,)
    assert affected_resources("salesforce", "Lead") == ()
    assert AssetKey(["raw_netsuite", "sales_orders"])  # keys are plain lists of strings
