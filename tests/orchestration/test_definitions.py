"""The code location loads; its assets, lineage, checks, freshness policies and schedules are as designed."""

from __future__ import annotations

import os
from pathlib import Path

from .lineage import descendants, models, node_key, raw_ancestors

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_keys.txt"


def keys_of(graph) -> list[str]:
    return sorted(key.to_user_string() for key in graph.get_all_asset_keys())


def test_every_expected_asset_key_exists(asset_graph):
    """Snapshot of every asset key; refresh with SCC_UPDATE_SNAPSHOTS=1 after adding a table or a model."""
    actual = keys_of(asset_graph)
    if os.environ.get("SCC_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text("\n".join(actual) + "\n")
    expected = SNAPSHOT.read_text().split()
    missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
    assert not missing and not extra, (
        f"asset keys changed (missing {missing}, new {extra}); if intended, run the tests with "
        "SCC_UPDATE_SNAPSHOTS=1 and review tests/orchestration/snapshots/asset_keys.txt"
    )


def test_every_dlt_resource_and_every_dbt_model_is_an_asset(asset_graph, manifest):
    from pipelines.netsuite import LINE_TABLES, TABLES
    from pipelines.salesforce import OBJECTS

    keys = set(keys_of(asset_graph))
    snake = {"Account": "account", "Contact": "contact", "Opportunity": "opportunity",
             "OpportunityHistory": "opportunity_history", "Task": "task", "Event": "event", "User": "user"}
    assert {f"raw_salesforce/{snake[o]}" for o in OBJECTS} <= keys
    assert {f"raw_netsuite/{t.name}" for t in TABLES} | {f"raw_netsuite/{t}" for t in LINE_TABLES} <= keys
    assert {node_key(manifest, uid) for uid in models(manifest)} <= keys
    # every raw table is materialised by a dlt step (not an external stub), every model by the dbt step
    for key in asset_graph.get_all_asset_keys():
        node = asset_graph.get(key)
        assert node.is_materializable, f"{key.to_user_string()} has nothing that materialises it"
    raw_groups = {asset_graph.get(k).group_name for k in asset_graph.get_all_asset_keys()
                  if k.path[0].startswith("raw_")}
    assert raw_groups == {"raw_salesforce", "raw_netsuite"}


def test_lineage_runs_from_each_dlt_table_to_each_mart(asset_graph, manifest):
    """For every mart, the raw tables upstream of it in Dagster are exactly the dbt sources it reads (through
    staging and intermediate), and every raw table the dbt project reads reaches at least one mart."""
    from dagster import AssetKey

    marts = [uid for uid in models(manifest) if manifest["nodes"][uid]["fqn"][1] == "marts"]
    assert len(marts) >= 10
    reached: set[str] = set()
    for uid in marts:
        key = AssetKey(node_key(manifest, uid).split("/"))
        upstream = {k.to_user_string() for k in asset_graph.get_ancestor_asset_keys(key)
                    if k.path[0].startswith("raw_")}
        assert upstream == raw_ancestors(manifest, uid), node_key(manifest, uid)
        reached |= upstream
    # every dbt source is a dlt table (no dangling source asset), and each one is read by a staging model
    raw_tables = {k.to_user_string() for k in asset_graph.get_all_asset_keys() if k.path[0].startswith("raw_")}
    sources = {node_key(manifest, uid) for uid in manifest["sources"]}
    assert sources == raw_tables
    for key in asset_graph.get_all_asset_keys():
        if key.path[0].startswith("raw_"):
            children = asset_graph.get(key).child_keys
            assert children and all(c.path[0] == "staging" for c in children), key.to_user_string()
    assert {"raw_salesforce/opportunity", "raw_salesforce/opportunity_history", "raw_netsuite/sales_orders",
            "raw_netsuite/sales_order_lines", "raw_netsuite/invoices", "raw_netsuite/items"} <= reached
    # and the way from a raw table to a mart goes through staging
    for key in asset_graph.get_all_asset_keys():
        if key.path[0] == "staging":
            parents = asset_graph.get(key).parent_keys
            assert parents and all(p.path[0].startswith("raw_") for p in parents), key.to_user_string()


def test_dbt_tests_are_asset_checks_and_marts_have_freshness(asset_graph, manifest):
    from dagster import AssetKey

    checks = {(c.asset_key.to_user_string(), c.name) for c in asset_graph.asset_check_keys}
    assert ("marts/fct_opportunities", "unique_fct_opportunities_opportunity_id") in checks
    assert ("staging/stg_salesforce__opportunities",
            "not_null_stg_salesforce__opportunities_opportunity_id") in checks
    data_tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"
                  and [d[:6] for d in n.get("depends_on", {}).get("nodes", [])] == ["model."]]
    assert len(checks) >= len(data_tests) > 50
    for uid in models(manifest):
        if manifest["nodes"][uid]["fqn"][1] != "marts" or not raw_ancestors(manifest, uid):
            continue
        key = AssetKey(node_key(manifest, uid).split("/"))
        policy = asset_graph.get(key).freshness_policy
        assert policy is not None, f"{key.to_user_string()} has no freshness policy"
        assert (key.to_user_string(), "freshness_check") in checks, f"{key.to_user_string()} has no freshness check"


def test_schedules_run_only_their_tables_and_what_is_downstream(definitions, asset_graph, manifest):
    expected = {
        "salesforce_schedule": ("*/5 * * * *", {"raw_salesforce/account", "raw_salesforce/contact",
                                                "raw_salesforce/opportunity", "raw_salesforce/opportunity_history",
                                                "raw_salesforce/task", "raw_salesforce/event", "raw_salesforce/user"}),
        "netsuite_orders_schedule": ("*/5 * * * *", {"raw_netsuite/customers", "raw_netsuite/employees",
                                                     "raw_netsuite/sales_orders", "raw_netsuite/sales_order_lines"}),
        "products_and_inventory_schedule": ("*/15 * * * *", {"raw_netsuite/items", "raw_netsuite/inventory",
                                                             "raw_netsuite/locations"}),
        "invoices_schedule": ("0 * * * *", {"raw_netsuite/invoices", "raw_netsuite/invoice_lines"}),
    }
    schedules = {s.name: s for s in definitions.schedules}
    assert set(expected) <= set(schedules)
    for name, (cron, raw) in expected.items():
        schedule = schedules[name]
        assert schedule.cron_schedule == cron
        selected = {k.to_user_string() for k in schedule.job.selection.resolve(asset_graph)}
        assert selected == descendants(manifest, raw), name
