"""The engine: detectors are plugins, a failing one does not hide the others, every query goes through the guard;
the statistics behind the detectors; the LLM narrative keeps the query's numbers; the agent and the API use it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agents import Scope, hookimpl
from agents.insights import Detector, compute_insights, registered_detectors
from agents.insights.model import Insight
from agents.insights.stats import decompose, main_driver, mad_sigma, weekly_seasonal_residuals
from agents.plugins import register_plugin, unregister_plugin

# --- statistics -------------------------------------------------------------------------------------------------


def test_a_spike_stands_out_of_a_weekly_seasonal_series_and_does_not_move_the_scale():
    rng = np.random.default_rng(7)
    weeks = 16
    week = np.array([10, 12, 11, 12, 9, 0, 0], dtype=float)  # closed at weekends
    x = np.tile(week, weeks) + np.tile([1, 1, 1, 1, 1, 0, 0], weeks) * rng.normal(0, 1.0, 7 * weeks)
    spike = 7 * 12 + 3
    x[spike] += 20
    first = 7 * 8
    res = weekly_seasonal_residuals(x, first, weeks=8)
    z = res.z
    assert int(np.argmax(z)) == spike - first and z.max() > 8
    assert np.sort(np.abs(z))[-2] < 4  # nothing else looks unusual
    assert 0.5 < res.sigma < 2.0       # the spike did not inflate the robust scale
    assert mad_sigma([1, 2, 3, 4, 100]) == pytest.approx(1.4826)


def test_segment_contributions_add_up_to_the_change_and_name_the_driver():
    # West and Central steady at 30%; East falls from 30% to 5%, with a shift of volume too
    groups = {"West": {"num0": 30, "den0": 100, "num1": 30, "den1": 100},
              "Central": {"num0": 15, "den0": 50, "num1": 18, "den1": 60},
              "East": {"num0": 30, "den0": 100, "num1": 4, "den1": 80}}
    total0, total1, segments = decompose(groups, dimension="region")
    assert sum(s.contribution for s in segments) == pytest.approx(total1 - total0)
    by_region = decompose(groups, dimension="region")[2]
    driver, share = main_driver({"region": by_region}, total1 - total0, ["region"])
    assert driver.value == "East" and share > 0.8
    # a segment that appears only after counts fully, one that vanished counts its mix effect
    _, _, segs = decompose({"a": {"num0": 5, "den0": 10, "num1": 5, "den1": 10},
                            "b": {"num0": 0, "den0": 0, "num1": 1, "den1": 10}}, dimension="x")
    assert sum(s.contribution for s in segs) == pytest.approx(0.3 - 0.5)


# --- detectors are plugins ------------------------------------------------------------------------------------------


class BigOpenOrders(Detector):
    name = "big_open_orders"
    title = "Big orders still open"
    kinds = ("big_open_order",)
    marts = ("fct_orders",)

    def detect(self, ctx):
        evidence = ctx.run("SELECT order_id, customer_id, rep_id, territory, total_amount FROM marts.fct_orders "
                           "WHERE status_group = 'pending' ORDER BY total_amount DESC LIMIT 3", title="Biggest open")
        return [ctx.insight(kind="big_open_order", severity="low", headline=f"Order {r['order_id']} is open",
                            action="Ship it.", key=str(r["order_id"]), evidence=[evidence.only([tuple(r.values())])],
                            rep_id=r["rep_id"], territory=r["territory"],
                            subjects={"customers": [{"customer_id": r["customer_id"]}]})
                for r in evidence.dicts()]


class Broken(Detector):
    name = "broken"
    kinds = ("nothing",)

    def detect(self, ctx):
        raise RuntimeError("a bug in a plugin")


class Sneaky(Detector):
    name = "sneaky"
    kinds = ("nothing",)

    def detect(self, ctx):
        ctx.run("SELECT * FROM raw_netsuite.customers")
        return []


class DataTeamPlugin:
    @hookimpl
    def register_insight_detectors(self):
        return [BigOpenOrders(), Broken(), Sneaky()]


@pytest.fixture
def data_team_plugin():
    plugin = DataTeamPlugin()
    register_plugin(plugin, name="data-team-insights")
    try:
        yield plugin
    finally:
        unregister_plugin(name="data-team-insights")


def test_a_plugin_adds_a_detector_and_a_broken_one_hides_nothing(planted, data_team_plugin, marts_reader):
    assert {"big_open_orders", "broken", "sneaky", "order_anomalies", "stock_cover"} <= set(registered_detectors())
    report = compute_insights(Scope.all(), settings=planted, use_cache=False)
    assert len(report.of_kind("big_open_order")) == 3
    assert "a bug in a plugin" in report.errors["broken"]
    assert "raw_netsuite" in report.errors["sneaky"] or "schema" in report.errors["sneaky"]
    assert report.of_kind("stalled_deal") and report.of_kind("stock_shortfall")  # the built-in ones still ran
    # the plugin's queries went through the guard with the caller's scope too
    rep = marts_reader(planted, "SELECT rep_id FROM marts.fct_orders WHERE status_group = 'pending' "
                       "GROUP BY rep_id ORDER BY count(*) DESC, rep_id LIMIT 1")[0]["rep_id"]
    mine = compute_insights(Scope.rep(rep), settings=planted, use_cache=False, detectors=["big_open_orders"])
    assert mine.insights and all(i.rep_id == rep for i in mine.insights)
    assert all("rep_id = '" in e.sql for i in mine.insights for e in i.evidence)


def test_an_insight_needs_a_known_severity():
    with pytest.raises(ValueError):
        Insight(kind="x", severity="urgent", headline="h", action="a", key="k")


def test_unknown_detector_names_are_refused(planted):
    with pytest.raises(ValueError, match="no insight detector named nope"):
        compute_insights(Scope.all(), settings=planted, detectors=["nope"])


def test_the_report_is_cached_per_scope_until_the_warehouse_changes(planted):
    first = compute_insights(Scope.all(), settings=planted)
    assert compute_insights(Scope.all(), settings=planted) is first
    assert compute_insights(Scope.manager("Pacific"), settings=planted) is not first


# --- narrative --------------------------------------------------------------------------------------------------------


@pytest.fixture
def scripted_llm():
    from tests.agents.llm_server import ScriptedLLM

    with ScriptedLLM() as server:
        yield server


def test_the_llm_words_the_narrative_but_the_numbers_stay_the_querys(planted, scripted_llm, stories):
    from agents.insights.detectors import CustomerTrends

    story = stories["customer_growth"]

    def reply(request):
        payload = json.loads(request["messages"][-1]["content"])
        items = []
        for item in payload["insights"]:
            facts = item["facts"]
            if item["kind"] == "customer_growth" and facts.get("customer_name") == "Disney":
                items.append({"id": item["id"], "text": f"Disney is buying more: ${facts['revenue_last_90d']:,.0f} in "
                                                        f"90 days, up {facts['change_pct']:.1f}%. Time to talk volume."})
            else:  # an invented figure: must be dropped
                items.append({"id": item["id"], "text": "Revenue will grow 4,242% next quarter."})
        return json.dumps({"items": items})

    scripted_llm.default = reply
    settings = planted.model_copy(update={"llm_model": "openai/scripted", "llm_api_base": scripted_llm.url,
                                          "llm_api_key": None})
    report = compute_insights(Scope.all(), settings=settings, use_cache=False, detectors=["customer_trends"])
    assert scripted_llm.requests, "the model was not asked"
    sent = scripted_llm.requests[0]["messages"][-1]["content"]
    assert "Disney" in sent and "rows" not in json.loads(sent)["insights"][0]
    disney = next(i for i in report.of_kind("customer_growth") if i.facts["customer_name"] == "Disney")
    assert disney.narrative_source == "llm" and "Time to talk volume" in disney.narrative
    assert f"{story['change_pct']:.1f}%" in disney.narrative
    others = [i for i in report.insights if i is not disney]
    assert others and all(i.narrative_source == "template" and "4,242%" not in i.narrative for i in others)
    assert CustomerTrends.name in report.timings


def test_an_unreachable_model_leaves_the_templates(planted, scripted_llm):
    scripted_llm.script([{"status": 500}])
    settings = planted.model_copy(update={"llm_model": "openai/scripted", "llm_api_base": scripted_llm.url})
    report = compute_insights(Scope.all(), settings=settings, use_cache=False, detectors=["stock_cover"])
    assert report.insights and all(i.narrative_source == "template" for i in report.insights)


# --- the agent and the API use the engine ------------------------------------------------------------------------------


def test_the_insights_agent_answers_with_the_detectors(planted, tmp_path):
    from agents import ask
    from agents.conversations import SQLiteConversationStore

    answer = ask("What should I worry about?", Scope.all(), settings=planted,
                 store=SQLiteConversationStore(tmp_path / "c.sqlite"))
    assert answer.agent == "insights" and answer.intent == "insights.summary"
    assert answer.rows and answer.columns[:3] == ["severity", "kind", "headline"]
    assert answer.rows[0][0] == "high" and "SELECT" in answer.sql
    assert answer.extra["insights"][0]["headline"] == answer.rows[0][2]


def test_the_api_insights_endpoint_answers_from_the_engine(planted):
    from api.security import Scope as ApiScope
    from api.services.ask import insights

    rep = compute_insights(Scope.all(), settings=planted).of_kind("stalled_deal")[0]
    body = insights(ApiScope(user="t", role="sales_rep", rep_id=rep.rep_id, territory=rep.territory), settings=planted)
    assert body["source"] == "agents" and body["scope"] == f"rep:{rep.rep_id}"
    assert body["insights"] and all(i["rep_id"] == rep.rep_id for i in body["insights"])
    assert {"id", "kind", "severity", "title", "headline", "action", "evidence", "rep_id"} <= set(body["insights"][0])
    assert rep.id in {i["id"] for i in body["insights"]}
    json.dumps(body)  # plain JSON
    from api.security import ScopeError

    with pytest.raises(ScopeError):  # a manager without a territory has no scope at all (issue 17.5)
        ApiScope(user="t", role="sales_manager", rep_id=None, territory=None)


def test_insights_about_one_metric_in_two_periods_are_one_story(planted):
    from agents.insights.engine import merge_stories

    def part(severity, start, headline, score):
        return Insight(kind="win_rate_change", severity=severity, headline=headline, action="Look at it.",
                       key=f"win_rate:{start}", facts={"metric": "win_rate", "period": start}, score=score,
                       period={"start": start, "end": start})

    q3 = part("high", "2026-07-01", "Win rate fell 5.1 points to 20.8% in Q3", 10)
    q4 = part("medium", "2026-10-01", "Win rate rose 3.0 points to 23.8% in Q4 so far", 5)
    other = Insight(kind="stock_out", severity="medium", headline="HAT-1 runs out", action="Order more.", key="HAT-1")
    (story, rest) = merge_stories([q3, other, q4])
    assert story.headline == "Win rate fell 5.1 points to 20.8% in Q3; then win rate rose 3.0 points to 23.8% in Q4 so far"
    assert story.severity == "high" and story.id == q4.id and [f["period"] for f in story.facts["story"]] == [
        "2026-07-01", "2026-10-01"]
    assert rest is other
    # and on the planted company, no two insights tell the same metric of the same book apart
    report = compute_insights(Scope.all(), use_cache=False)
    told = [(i.kind, i.facts.get("metric"), i.rep_id, i.territory) for i in report.insights if i.facts.get("metric")]
    assert len(told) == len(set(told)), told
