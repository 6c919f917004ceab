"""Insights: what deserves attention in the caller's data, found by detectors over the marts.

    from agents import Scope
    from agents.insights import compute_insights

    report = compute_insights(Scope.rep("005000000000008AAA"))
    for insight in report.top(5):
        insight.severity, insight.headline, insight.action, insight.evidence[0].sql

Detectors are plugins: return :class:`Detector` instances from a ``register_insight_detectors`` hook
implementation (``plugins/insights.py`` registers the built-in ones that way; ``docs/plugins.md`` shows a
third-party one). Every query a detector runs goes through the agents' guard with the caller's scope, and an
insight is kept only when it belongs to the caller's book, so a rep sees insights on their customers and
deals only. ``refresh_and_publish()`` is what orchestration calls after a marts refresh: it pushes notable new
insights to the dashboards over the WebSocket.
"""

from agents.insights.engine import (InsightReport, clear_cache, compute_insights, insights_payload,
                                    refresh_and_publish, registered_detectors, visible)
from agents.insights.model import SEVERITIES, Detector, Evidence, Insight, InsightContext

__all__ = [
    "SEVERITIES", "Detector", "Evidence", "Insight", "InsightContext", "InsightReport", "clear_cache",
    "compute_insights", "insights_payload", "refresh_and_publish", "registered_detectors", "visible",
]
