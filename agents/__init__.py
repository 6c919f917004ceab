"""Ask the data: agents that answer questions about the marts with governed text-to-SQL.

The public API (what the API, the CLI and plugins use)::

    from agents import ask, Scope
    answer = ask("show me pending orders over $100K", Scope.rep("005..."), conversation_id=None)
    answer.text, answer.columns, answer.rows, answer.chart, answer.sql, answer.path, answer.to_dict()

Plugins subclass :class:`Agent`, return it from a ``register_agents`` hook implementation decorated with
:data:`hookimpl`, and are found through the ``scc`` entry-point group (see ``docs/plugins.md``).
"""

from agents.hookspecs import hookimpl, hookspec
from agents.scope import Scope, ScopeError
from agents.errors import AgentError, QueryFailed, Refusal
from agents.answer import Answer
from agents.catalog import Catalog, Column, Mart, Metric
from agents.metrics import MetricQuery
from agents.base import Agent, AgentContext, Plan, Tool
from agents.engine import ask, draft_order

__all__ = [
    "Agent", "AgentContext", "AgentError", "Answer", "Catalog", "Column", "Mart", "Metric", "MetricQuery", "Plan",
    "QueryFailed", "Refusal", "Scope", "ScopeError", "Tool", "ask", "draft_order", "hookimpl", "hookspec",
]
