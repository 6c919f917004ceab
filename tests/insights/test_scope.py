"""Scope: a rep's insights are about their customers and deals only, a manager's about their territory; both
are computed through the guard with the caller's scope and checked here against the marts read directly."""

from __future__ import annotations

import json

import pytest

from agents import Scope
from agents.insights import compute_insights


@pytest.fixture(scope="module")
def disney_rep(planted, marts_reader, planted_company):
    reference = next(s for s in planted_company.stories if s["kind"] == "reference")
    row = marts_reader(planted, "SELECT rep_id, territory FROM marts.dim_customers WHERE netsuite_customer_id = ?",
                       [reference["disney"]["netsuite_customer_id"]])[0]
    return row["rep_id"], row["territory"]


def book(planted, marts_reader, condition: str, value: str) -> dict:
    """What a scope may mention, read straight from the marts: its customers (id and name) and deals."""
    customers = marts_reader(planted, f"SELECT customer_id, customer_name FROM marts.dim_customers WHERE {condition} = ?",
                             [value])
    extra = marts_reader(planted, f"SELECT DISTINCT customer_id FROM marts.fct_orders WHERE {condition} = ? UNION "
                         f"SELECT DISTINCT customer_id FROM marts.fct_opportunities WHERE {condition} = ? UNION "
                         f"SELECT DISTINCT customer_id FROM marts.fct_invoices WHERE {condition} = ?", [value] * 3)
    deals = marts_reader(planted, f"SELECT opportunity_id FROM marts.fct_opportunities WHERE {condition} = ?", [value])
    everyone = marts_reader(planted, "SELECT customer_id, customer_name FROM marts.dim_customers")
    return {"customer_ids": {c["customer_id"] for c in customers} | {c["customer_id"] for c in extra},
            "names": {c["customer_name"] for c in customers},
            "other_names": {c["customer_name"] for c in everyone} - {c["customer_name"] for c in customers},
            "deals": {d["opportunity_id"] for d in deals}}


def check_within(report, allowed: dict) -> None:
    for insight in report.insights:
        customers = set(insight.subject_ids("customers", "customer_id"))
        assert customers <= allowed["customer_ids"], (insight.headline, customers - allowed["customer_ids"])
        deals = set(insight.subject_ids("opportunities", "opportunity_id"))
        assert deals <= allowed["deals"], (insight.headline, deals - allowed["deals"])
        for evidence in insight.evidence:
            for column in ("customer_id", "opportunity_id"):
                if column in evidence.columns:
                    k = evidence.columns.index(column)
                    ids = {r[k] for r in evidence.rows if r[k] is not None}
                    pool = allowed["customer_ids"] if column == "customer_id" else allowed["deals"]
                    assert ids <= pool, (insight.headline, evidence.title, ids - pool)
        # names of customers outside the book appear nowhere (unless part of a name in the book)
        text = " ".join([insight.headline, insight.narrative, insight.action,
                         json.dumps([e.rows for e in insight.evidence], default=str)])
        leaked = {n for n in allowed["other_names"]
                  if n and n in text and not any(n in own for own in allowed["names"])}
        assert not leaked, (insight.headline, leaked)


def test_a_rep_sees_insights_on_their_own_book_only(planted, marts_reader, disney_rep, stories):
    rep_id, _ = disney_rep
    report = compute_insights(Scope.rep(rep_id), settings=planted, use_cache=False)
    assert report.insights and not report.errors, report.errors
    assert all(i.rep_id == rep_id for i in report.insights), [(i.kind, i.rep_id) for i in report.insights]
    check_within(report, book(planted, marts_reader, "rep_id", rep_id))
    # ... and it is their book: Disney's growth and their own stalled deal are there
    assert [i for i in report.of_kind("customer_growth") if i.facts["customer_name"] == "Disney"]
    own = [d["opportunity_id"] for d in stories["stalled_deals"]["opportunities"] if d["owner_id"] == rep_id]
    assert own and {i.key for i in report.of_kind("stalled_deal")} == set(own)


def test_a_manager_sees_their_territory_only(planted, marts_reader, disney_rep):
    _, territory = disney_rep
    report = compute_insights(Scope.manager(territory), settings=planted, use_cache=False)
    assert report.insights and not report.errors, report.errors
    assert all(i.territory == territory for i in report.insights), [(i.kind, i.territory) for i in report.insights]
    check_within(report, book(planted, marts_reader, "territory", territory))


def test_the_executive_sees_the_reps_stalled_deals_too(planted, disney_rep):
    rep_id, _ = disney_rep
    everything = compute_insights(Scope.all(), settings=planted)
    mine = compute_insights(Scope.rep(rep_id), settings=planted)
    assert {i.id for i in mine.of_kind("stalled_deal")} <= {i.id for i in everything.of_kind("stalled_deal")}
