"""The extension points of the agents, as pluggy hook specifications (project name ``scc``).

A plugin is a module or object with functions named like the hooks below, decorated with
``@agents.hookimpl``; a third-party package exposes it through a Python entry point in the group
``scc`` (see ``docs/plugins.md`` and ``examples/scc-plugin-example``). Hook names are checked when a
plugin is registered (``PluginManager.check_pending()``): a misspelled hook fails loudly instead of
being ignored.
"""

from __future__ import annotations

import pluggy

PROJECT = "scc"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_agents():
    """Return a list of :class:`agents.Agent` instances this plugin adds.

    Each agent has a unique ``name``; the router asks every agent to ``score`` a question and the best
    one answers. An agent whose name is already taken replaces the earlier one (a plugin can override a
    built-in agent by registering after it).
    """


@hookspec
def register_tools():
    """Return a list of :class:`agents.Tool` instances agents (and the LLM) may call.

    A tool is a named, described function ``fn(context, **arguments)`` with a JSON schema for its
    arguments. Agents call them through ``context.call_tool(name, **arguments)``; with an LLM
    configured, the model may answer with a ``tool`` plan naming one. Tools run with the caller's scope
    and must read data only through ``context.run_sql`` / ``context.run_metrics`` (the guard).
    """


@hookspec
def register_catalog():
    """Return a list of :class:`agents.catalog.Mart` and :class:`agents.catalog.Metric` entries to add
    to the catalogue (for example the marts and metrics of another dbt package).

    Marts must live in the ``marts`` schema; the guard scopes them by their ``rep_id`` and ``territory``
    columns (a mart with neither is readable only by all-data roles, unless ``public=True``).
    """


@hookspec
def process_answer(answer, route, context):
    """Post-process an answer before it is returned: change its text, add follow-ups, fill ``extra``.

    Return a replacement :class:`agents.Answer`, or None to keep it (changes made in place count too).
    Called for every answer, refusals included (``answer.refused``); a question refused before it was
    routed (a request to write or to reach the system) comes with ``route`` and ``context`` None. Must not
    widen the scope: the rows were already limited by the guard.
    """


@hookspec
def register_insight_detectors():
    """Return a list of :class:`agents.insights.Detector` instances this plugin adds to the insights.

    A detector has a unique ``name``, the ``kinds`` of insight it finds and the ``marts`` it needs (it is
    skipped while one is not built), and implements ``detect(ctx)``, returning :class:`agents.insights.Insight`
    objects (``ctx.insight(kind=, severity=, headline=, action=, key=, evidence=, ...)``). It reads data only
    through ``ctx.run(sql)``: the guard, with the caller's scope. A detector with the name of an earlier one
    replaces it (the built-in detectors are registered by ``plugins/insights.py`` this way).
    """
