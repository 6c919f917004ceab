"""Recall: every story planted in the demo company is found, with the right direction and about the right
size; the figures are checked against ``stories.json``, which the generator measured on its own data."""

from __future__ import annotations

import pytest

from agents import Scope
from agents.insights import compute_insights


@pytest.fixture(scope="module")
def report(planted):
    return compute_insights(Scope.all(), settings=planted, use_cache=False)


def parts(insight):
    """An insight, or the parts of a story told as one (the same metric over two periods: engine.merge_stories),
    each with its own facts, direction and headline."""
    from types import SimpleNamespace

    if not insight.facts.get("story"):
        return [insight]
    return [SimpleNamespace(facts=part, direction=part["direction"], headline=part["headline"])
            for part in insight.facts["story"]]


def one(report, kind, **facts):
    found = [p for i in report.of_kind(kind) for p in parts(i) if all(p.facts.get(k) == v for k, v in facts.items())]
    assert found, (f"no {kind} insight with {facts}; {kind} insights: "
                   + "; ".join(i.headline for i in report.of_kind(kind)))
    assert len(found) == 1, [i.headline for i in found]
    return found[0]


def test_every_detector_ran(report):
    assert not report.errors, report.errors
    assert {"order_anomalies", "deal_performance", "deal_risk", "customer_trends", "revenue_concentration",
            "receivables", "stock_cover"} <= set(report.timings)


def test_the_big_customer_whose_orders_fell(report, stories):
    story = stories["customer_decline"]
    insight = one(report, "customer_decline", customer_name=story["customer_name"])
    assert insight.direction == "down" == story["expected_direction"]
    assert insight.facts["change_pct"] == pytest.approx(story["change_pct"], abs=story["tolerance_pct"])
    assert insight.facts["revenue_last_90d"] == pytest.approx(story["revenue_last_90d"], abs=0.01)
    assert insight.facts["revenue_prior_90d"] == pytest.approx(story["revenue_prior_90d"], abs=0.01)
    assert insight.facts["window"]["last_90d"] == story["window"]["last_90d"]
    assert insight.facts["window"]["prior_90d"] == story["window"]["prior_90d"]
    assert insight.severity in ("high", "medium")
    assert f"{abs(round(story['change_pct']))}%" in insight.headline and story["customer_name"] in insight.headline


def test_disney_growing_is_an_upsell_opportunity(report, stories):
    story = stories["customer_growth"]
    insight = one(report, "customer_growth", customer_name=story["customer_name"])
    assert insight.direction == "up" == story["expected_direction"]
    assert insight.facts["change_pct"] == pytest.approx(story["change_pct"], abs=story["tolerance_pct"])
    assert insight.facts["change_pct"] == pytest.approx(story["expected_change_pct"], abs=story["tolerance_pct"])
    assert insight.facts["revenue_last_90d"] == pytest.approx(story["revenue_last_90d"], abs=0.01)
    assert "upsell" in insight.headline and "25%" in insight.headline


def test_the_large_deals_stalled_in_negotiation(report, stories):
    story = stories["stalled_deals"]
    for deal in story["opportunities"]:
        insight = one(report, "stalled_deal", opportunity_id=deal["opportunity_id"])
        assert insight.direction == "stalled" and insight.severity == "high"
        assert insight.facts["stage"] == story["stage"]
        assert insight.facts["amount"] == pytest.approx(deal["amount"])
        assert insight.facts["amount"] >= story["min_amount"]
        assert abs(insight.facts["days_in_stage"] - deal["days_in_stage"]) <= 1
        assert insight.facts["won_median_days_in_stage"] == pytest.approx(story["median_days_in_stage_won"])
        assert insight.rep_id == deal["owner_id"]
        assert insight.subject_ids("opportunities", "opportunity_id") == [deal["opportunity_id"]]


def test_the_win_rate_dip_and_the_region_behind_it(report, stories):
    story = stories["win_rate_dip"]
    insight = one(report, "win_rate_change", period=story["quarter"], previous_period=story["previous_quarter"]["quarter"])
    assert insight.direction == "down" == story["expected_direction"]
    assert insight.facts["win_rate"] == pytest.approx(story["win_rate"], abs=0.0005)
    assert (insight.facts["won"], insight.facts["closed"]) == (story["won"], story["closed"])
    assert insight.facts["previous_win_rate"] == pytest.approx(story["previous_quarter"]["win_rate"], abs=0.0005)
    assert insight.facts["change_points"] == pytest.approx(story["expected_change_points"], abs=3)
    driver = insight.facts["driver"]
    assert (driver["dimension"], driver["label"]) == ("region", story["region"])
    assert driver["win_rate"] == pytest.approx(story["region_win_rate"], abs=0.0005)
    assert driver["share_of_change"] > 0.5
    assert story["region"] in insight.headline


def test_the_one_day_order_anomaly(report, stories):
    story = stories["order_anomaly"]
    insight = one(report, "order_anomaly", date=story["date"])
    assert insight.direction == "up" == story["expected_direction"]
    assert insight.facts["orders"] == story["order_count"]
    assert insight.facts["bookings"] == pytest.approx(story["order_value"], abs=0.01)
    assert insight.facts["weekday"] == story["weekday"]
    # the baseline is a median of the same 8 weekdays (the story's a mean): about the same size
    assert insight.facts["count_ratio"] == pytest.approx(story["count_ratio"], rel=0.35)
    assert insight.facts["value_ratio"] == pytest.approx(story["value_ratio"], rel=0.35)
    assert insight.severity == "high"
    others = [i for i in report.of_kind("order_anomaly") if i.facts["date"] != story["date"]]
    assert not [i for i in others if i.severity == "high"], [i.headline for i in others]


def test_the_item_about_to_run_out(report, stories):
    story = stories["stockout_risk"]
    insight = one(report, "stock_shortfall", sku=story["sku"])
    assert insight.direction == "short" == story["expected_direction"]
    assert insight.facts["open_quantity"] == pytest.approx(story["open_order_quantity"])
    assert insight.facts["quantity_on_hand"] == pytest.approx(story["quantity_on_hand"])
    assert insight.facts["shortfall"] == pytest.approx(story["shortfall"])
    assert insight.facts["quantity_backordered"] == pytest.approx(story["quantity_backordered"])
    assert insight.severity == "high"
    assert len(insight.subjects["orders"]) == len(story["open_orders"]) == insight.facts["open_orders"]


def test_every_planted_story_is_among_the_high_or_medium_insights(report, stories):
    kinds = {i.kind for i in report.insights if i.severity in ("high", "medium")}
    expected = {"customer_decline", "customer_growth", "stalled_deal", "win_rate_change", "order_anomaly",
                "stock_shortfall"}
    assert expected <= kinds, expected - kinds
    assert len(stories) == 6


def test_each_insight_carries_its_evidence_and_the_rows_are_what_the_query_returns(report, planted, marts_reader):
    for insight in report.insights:
        assert insight.headline and insight.action and insight.severity in ("high", "medium", "low")
        assert insight.evidence, insight.headline
        assert all(e.sql and e.columns for e in insight.evidence), insight.headline
        assert any(e.rows for e in insight.evidence), insight.headline
        as_json = insight.to_dict()
        assert as_json["title"] == insight.headline and as_json["evidence"][0]["sql"]
    # the evidence's SQL (after the guard) run straight on the warehouse gives back the rows shown
    for insight in report.insights[:8]:
        for evidence in insight.evidence:
            rerun = [tuple(r.values()) for r in marts_reader(planted, evidence.sql)]
            plain = {tuple(float(v) if isinstance(v, (int, float)) or type(v).__name__ == "Decimal" else v for v in r)
                     for r in rerun}
            for row in evidence.rows:
                assert tuple(float(v) if isinstance(v, (int, float)) else v for v in row) in plain, (insight.headline, row)

