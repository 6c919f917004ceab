"""The plugin system: hook specifications, check_pending, built-in agents as plugins, and the example
third-party package found through its entry point in the group "scc"."""

from __future__ import annotations

import importlib.metadata
import inspect

import pluggy
import pytest

from agents import Agent, Answer, Mart, Metric, Plan, Scope, Tool, ask, hookimpl, hookspecs
from agents.catalog import Column
from agents.conversations import SQLiteConversationStore
from agents.plugins import (new_plugin_manager, register_plugin, registered_agents, registered_tools,
                            unregister_plugin)

BUILT_IN = {"orders", "pipeline", "customers", "products", "transactions", "insights"}


@pytest.fixture
def store(tmp_path):
    return SQLiteConversationStore(tmp_path / "conversations.sqlite")


def test_every_hook_is_documented():
    hooks = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if not name.startswith("_")]
    assert {h.__name__ for h in hooks} >= {"register_agents", "register_tools", "register_catalog", "process_answer"}
    for hook in hooks:
        assert len((hook.__doc__ or "").split()) >= 10, f"{hook.__name__} needs a docstring"


def test_built_in_agents_are_plugins_and_the_example_comes_from_its_entry_point():
    assert BUILT_IN <= set(registered_agents())
    entry_points = importlib.metadata.entry_points(group="scc")
    assert "activity_coach" in {ep.name for ep in entry_points}
    pm = new_plugin_manager(builtins=False)
    assert pm.get_plugin("activity_coach") is not None
    names = {a.name for result in pm.hook.register_agents() for a in result}
    assert names == {"activity_coach"}


def test_a_misspelled_hook_fails_loudly():
    class Typo:
        @hookimpl
        def register_agent(self):  # missing "s"
            return []

    with pytest.raises(pluggy.PluginValidationError):
        register_plugin(Typo())
    assert "register_agent" not in {h for h in dir(new_plugin_manager(entry_points=False).hook)}


def test_the_example_plugin_answers_the_question_it_owns(synthetic, store):
    answer = ask("Which reps logged no activity this week?", Scope.all(), settings=synthetic, store=store)
    assert answer.agent == "activity_coach" and answer.ok
    assert answer.columns == ["rep_name", "territory", "region"]
    assert "reps logged no activity" in answer.text
    # Through the guard like everything else: a manager sees their own territory's reps only.
    scoped = ask("Which reps logged no activity this week?", Scope.manager("Midwest"), settings=synthetic, store=store)
    assert {row[1] for row in scoped.rows} <= {"Midwest"}
    assert "reps_without_activity" in registered_tools()


class EchoAgent(Agent):
    name = "echo"
    title = "Echo agent"
    description = "Counts orders, for the plugin tests."
    keywords = {r"\becho\b": 10.0}

    def plan(self, route, context):
        return Plan(title="Echo", sql="SELECT count(*) AS orders FROM marts.fct_orders", intent="echo.count")


class TestPlugin:
    @hookimpl
    def register_agents(self):
        return [EchoAgent()]

    @hookimpl
    def register_tools(self):
        return [Tool("shout", "Upper-cases a text.", lambda context, text: text.upper())]

    @hookimpl
    def register_catalog(self):
        return [Metric(name="echo_metric", description="A metric from a plugin."),
                Mart(name="fct_orders", description="Orders, described by a plugin.",
                     columns={"order_id": Column("order_id", description="The order, per the plugin.")})]

    @hookimpl
    def process_answer(self, answer, route, context):
        answer.extra["seen_by"] = "test-plugin"
        if answer.agent == "echo":
            answer.follow_ups = ["echo again"]
        return None


def test_all_four_hooks_of_a_plugin_registered_at_run_time(synthetic, store):
    plugin = TestPlugin()
    register_plugin(plugin, name="test-plugin")
    try:
        answer = ask("echo the orders", Scope.rep("005A"), settings=synthetic, store=store)
        assert answer.agent == "echo" and answer.rows == [[16]]           # scoped by the guard
        assert answer.extra["seen_by"] == "test-plugin" and answer.follow_ups == ["echo again"]
        other = ask("How many orders today?", Scope.all(), settings=synthetic, store=store)
        assert other.extra["seen_by"] == "test-plugin"
        assert registered_tools()["shout"].fn(None, text="hi") == "HI"
        from agents.catalog import get_catalog

        catalog = get_catalog(synthetic, refresh=True)
        assert "echo_metric" in catalog.metrics
        assert catalog.mart("fct_orders").columns["order_id"].description
    finally:
        unregister_plugin(name="test-plugin")
    assert "echo" not in registered_agents()


def test_a_plugin_can_replace_an_answer(synthetic, store):
    class Replace:
        @hookimpl
        def process_answer(self, answer, route, context):
            return Answer(question=answer.question, text="replaced", path=answer.path, agent=answer.agent)

    register_plugin(Replace(), name="replace")
    try:
        assert ask("How many orders today?", Scope.all(), settings=synthetic, store=store).text == "replaced"
    finally:
        unregister_plugin(name="replace")
