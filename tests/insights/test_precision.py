"""Precision: on a company generated without the planted stories, few alarms at high severity, and none of
the planted kinds (a stalled large deal, a one-day anomaly, a stock-out) shows up by itself."""

from __future__ import annotations

from agents import Scope
from agents.insights import compute_insights

MAX_HIGH = 2  # high-severity insights allowed on a company where nothing was planted


def test_few_high_severity_alarms_without_planted_stories(plain):
    report = compute_insights(Scope.all(), settings=plain, use_cache=False)
    assert not report.errors, report.errors
    assert report.insights, "the detectors found nothing at all: is the plain warehouse empty?"
    high = [i for i in report.insights if i.severity == "high"]
    assert len(high) <= MAX_HIGH, [i.headline for i in high]
    planted_kinds = {"stalled_deal", "order_anomaly", "stock_shortfall"}
    assert not [i.headline for i in high if i.kind in planted_kinds]
    assert not [i for i in report.of_kind("order_anomaly") if i.direction == "up" and (i.facts["count_ratio"] or 0) >= 3]


def test_the_planted_customers_are_not_flagged_without_their_story(plain, stories):
    report = compute_insights(Scope.all(), settings=plain, use_cache=False)
    disney = [i for i in report.of_kind("customer_growth") if i.facts["customer_name"] == "Disney"]
    assert not disney or disney[0].facts["change_pct"] < 20
    decline = stories["customer_decline"]["customer_name"]
    assert not [i for i in report.of_kind("customer_decline") if i.facts["customer_name"] == decline]
