"""Running the detectors: for one caller's scope, every registered detector over the marts, its insights
kept only when they belong to the caller's book, ranked, narrated, and cached until the warehouse changes.

Detectors come from the ``register_insight_detectors`` hook (the built-in ones through ``plugins/insights.py``,
like any plugin). One detector failing (a mart missing, a query refused) is recorded in the report's
``errors`` and does not hide the others' insights.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field

from agents.errors import AgentError
from agents.insights.model import SEVERITY_RANK, Detector, Insight, InsightContext, severity_at_least
from agents.scope import Scope

log = logging.getLogger("scc.insights")


def registered_detectors() -> dict[str, Detector]:
    """name -> detector, in registration order (a later plugin replaces an earlier detector of the same name)."""
    from agents.plugins import get_plugin_manager

    detectors: dict[str, Detector] = {}
    for result in reversed(get_plugin_manager().hook.register_insight_detectors()):
        for detector in result or []:
            if not getattr(detector, "name", None):
                raise TypeError(f"insight detector {detector!r} has no name")
            detectors[detector.name] = detector
    return detectors


def visible(insight: Insight, scope: Scope) -> bool:
    """Whether ``insight`` is about the caller's book: a rep's own rows, a manager's territory, or anything
    for the roles that see all data."""
    if scope.sees_everything:
        return True
    if scope.role == "sales_rep":
        return insight.rep_id == scope.rep_id
    if scope.role == "sales_manager":
        return insight.territory == scope.territory
    return False


@dataclass
class InsightReport:
    scope: Scope
    today: dt.date
    insights: list[Insight] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    queries: int = 0
    seconds: float = 0.0
    generated_at: str = ""

    def top(self, n: int = 5, min_severity: str = "low") -> list[Insight]:
        return [i for i in self.insights if severity_at_least(i.severity, min_severity)][:n]

    def of_kind(self, *kinds: str) -> list[Insight]:
        return [i for i in self.insights if i.kind in kinds]

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in SEVERITY_RANK}
        for i in self.insights:
            out[i.severity] += 1
        return out

    def summary(self) -> str:
        if not self.insights:
            return "Nothing stands out right now."
        c = self.counts()
        parts = [f"{c[s]} {s}" for s in ("high", "medium", "low") if c[s]]
        return f"{len(self.insights)} insights ({', '.join(parts)}). Top: {self.insights[0].headline}."

    def to_dict(self, *, evidence: bool = True, limit: int | None = None) -> dict:
        items = self.insights if limit is None else self.insights[:limit]
        return {
            "source": "agents", "scope": self.scope.key, "today": self.today.isoformat(),
            "generated_at": self.generated_at, "seconds": round(self.seconds, 3), "summary": self.summary(),
            "counts": self.counts(), "errors": dict(self.errors),
            "insights": [i.to_dict(evidence=evidence) for i in items],
        }


_cache_lock = threading.Lock()
_cache: dict[tuple, tuple[float, InsightReport]] = {}


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def compute_insights(scope: Scope | None = None, *, settings=None, today: dt.date | None = None,
                     detectors: list[str] | None = None, llm=None, narrate: bool | None = None,
                     use_cache: bool = True) -> InsightReport:
    """Every registered detector (or those named in ``detectors``) for the caller ``scope``.

    ``narrate``: reword the top insights with the LLM (default: when ``SCC_LLM_MODEL`` is set or ``llm`` is
    given); the numbers are the queries' either way. Results are cached for ``SCC_INSIGHTS_CACHE_SECONDS``
    per scope, as long as the warehouse file does not change.
    """
    from agents.catalog import _fingerprint, get_catalog
    from scc.config import get_settings
    from scc.config import today as clock

    settings = settings or get_settings()
    scope = scope or Scope.all()
    today = today or settings.today or clock()
    narrate = (llm is not None or bool(settings.llm_model)) if narrate is None else narrate
    key = (_fingerprint(settings), scope.key, today, tuple(detectors or ()), narrate)
    ttl = float(settings.insights_cache_seconds)
    if use_cache and ttl > 0:
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return hit[1]
    started = time.perf_counter()
    catalog = get_catalog(settings)
    ctx = InsightContext(scope=scope, settings=settings, catalog=catalog, today=today)
    report = InsightReport(scope=scope, today=today,
                           generated_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat())
    chosen = registered_detectors()
    if detectors:
        unknown = set(detectors) - set(chosen)
        if unknown:
            raise ValueError(f"no insight detector named {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted(chosen))}")
        chosen = {name: chosen[name] for name in detectors}
    found: dict[str, Insight] = {}
    for name, detector in chosen.items():
        t0 = time.perf_counter()
        try:
            if detector.marts and not ctx.has_marts(*detector.marts):
                report.errors[name] = "skipped: needs " + ", ".join(detector.marts)
                continue
            for insight in detector.detect(ctx) or []:
                insight.detector = insight.detector or name
                if visible(insight, scope) and insight.id not in found:
                    found[insight.id] = insight
        except AgentError as error:
            log.warning("insight detector %s: %s", name, error.message)
            report.errors[name] = error.message
        except Exception as error:  # noqa: BLE001 - one detector's bug must not hide the others
            log.exception("insight detector %s failed", name)
            report.errors[name] = f"{type(error).__name__}: {error}"
        finally:
            report.timings[name] = round(time.perf_counter() - t0, 4)
    report.insights = merge_stories(sorted(found.values(), key=lambda i: i.rank))
    report.queries = ctx.queries
    if narrate and report.insights:
        from agents.insights.narrative import narrate_with_llm

        narrate_with_llm(report.insights[: settings.digest_top_insights * 2], settings=settings, llm=llm)
    report.seconds = time.perf_counter() - started
    if use_cache and ttl > 0:
        with _cache_lock:
            if len(_cache) > 256:
                _cache.clear()
            _cache[key] = (time.monotonic(), report)
    return report


def merge_stories(insights: list[Insight]) -> list[Insight]:
    """Insights about the same metric of the same book in different periods, as one story.

    "Win rate fell in Q3" and "win rate rose in Q4 so far" side by side read as a contradiction; together they
    are one line: "Win rate fell … in Q3; then rose … in Q4 so far". The story keeps the latest insight's
    identity (its id, so a notice already sent is not sent again), the highest severity of its parts, every
    part's evidence, and the parts' facts in order (``facts["story"]``). ``insights`` is in rank order; so is
    the result, each story where its most severe part was.
    """
    import dataclasses

    def story_key(insight: Insight):
        metric = insight.facts.get("metric")
        return (insight.kind, metric, insight.rep_id, insight.territory) if metric and insight.period else None

    groups: dict[tuple, list[Insight]] = {}
    for insight in insights:
        key = story_key(insight)
        if key is not None:
            groups.setdefault(key, []).append(insight)
    out: list[Insight] = []
    for insight in insights:
        group = groups.get(story_key(insight)) if story_key(insight) is not None else None
        if not group or len(group) == 1:
            out.append(insight)
            continue
        if group[0] is not insight:
            continue  # told with the story, where its most severe part stands
        parts = sorted(group, key=lambda i: (i.period or {}).get("start", ""))
        latest = parts[-1]
        headline = parts[0].headline + "".join(
            f"; then {part.headline[:1].lower()}{part.headline[1:]}" for part in parts[1:])
        out.append(dataclasses.replace(
            latest, headline=headline,
            severity=max((p.severity for p in parts), key=lambda sev: SEVERITY_RANK[sev]),
            narrative=" ".join(p.narrative or p.headline for p in parts),
            evidence=[e for p in parts for e in p.evidence], score=max(float(p.score or 0) for p in parts),
            facts={**latest.facts, "story": [{**p.facts, "direction": p.direction, "headline": p.headline}
                                             for p in parts]},
            period={"start": (parts[0].period or {}).get("start"), "end": (latest.period or {}).get("end")}))
    return out


def insights_payload(scope: Scope, *, settings=None, limit: int | None = None, evidence: bool = True) -> dict:
    """What ``GET /api/v1/insights`` answers: the caller's insights, most severe first, with their evidence."""
    return compute_insights(scope, settings=settings).to_dict(evidence=evidence, limit=limit)


# --- after a marts refresh: push what is new -------------------------------------------------------------------

_publish_lock = threading.Lock()


def _state_path(settings):
    return settings.data_dir / "insights" / "published.json"


def refresh_and_publish(marts: list[str] | None = None, *, settings=None, max_events: int = 20,
                        background: bool = False) -> dict:
    """Recompute every insight (all data) after the marts changed and push the notable new ones to the
    dashboards (``api.cache.publish_event("insight", ..., rep_id=, territory=)``, so each goes only to the
    clients whose scope covers it). "Notable": at least ``SCC_INSIGHTS_PUBLISH_SEVERITY``; "new": not among
    those pushed after the previous refresh (kept in ``<data_dir>/insights/published.json``). Never raises:
    orchestration calls it after a build and must not fail because of it. ``background=True``: do it in a
    thread of its own (not a daemon: the process finishes it before exiting) and return at once."""
    import json

    if background:
        worker = threading.Thread(target=refresh_and_publish, args=(marts,),
                                  kwargs={"settings": settings, "max_events": max_events},
                                  name="scc-insights-refresh", daemon=False)
        worker.start()
        return {"started": True, "thread": worker.name}

    from scc.config import get_settings

    started = time.perf_counter()
    try:
        settings = settings or get_settings()
        try:
            from api import cache
        except ImportError:  # the API is not part of this installation
            return {"insights": 0, "published": 0, "seconds": 0.0, "note": "no API installed"}
        # Without Redis only an API in this very process could hear it; with none listening, nothing to do.
        if not settings.redis_url and getattr(cache, "_local_store", None) is None:
            return {"insights": 0, "published": 0, "seconds": round(time.perf_counter() - started, 3),
                    "note": "no dashboards listening (no Redis, no API in this process)"}
        with _publish_lock:
            clear_cache()
            report = compute_insights(Scope.all(), settings=settings, use_cache=False, narrate=False)
            notable = [i for i in report.insights if severity_at_least(i.severity, settings.insights_publish_severity)]
            path = _state_path(settings)
            try:
                before = json.loads(path.read_text()).get("published", {})
            except (FileNotFoundError, ValueError):
                before = {}
            new = [i for i in notable if i.id not in before]
            published, error, sent = 0, None, set()
            for insight in new[:max_events]:
                try:
                    cache.publish_event("insight", _event_data(insight), rep_id=insight.rep_id,
                                        territory=insight.territory, settings=settings)
                    published += 1
                    sent.add(insight.id)
                except Exception as failure:  # noqa: BLE001 - Redis down: the insights are in the API all the same
                    error = f"{type(failure).__name__}: {failure}"
                    log.warning("could not push insight %s: %s", insight.id, failure)
                    break
            now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
            # Still notable and pushed before, or pushed now; one that was not sent is tried again next time.
            state = {i.id: before.get(i.id, {"kind": i.kind, "first_seen": now}) for i in notable
                     if i.id in before or i.id in sent}
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"published": state, "refreshed_at": now, "marts": sorted(marts or [])},
                                      indent=1))
            tmp.replace(path)
        from agents.guard import release_connections

        release_connections()  # orchestration's next writer must find the warehouse file free
        out = {"insights": len(report.insights), "notable": len(notable), "new": len(new), "published": published,
               "errors": report.errors, "seconds": round(time.perf_counter() - started, 3)}
        if error:
            out["error"] = error
        return out
    except Exception as failure:  # noqa: BLE001
        log.exception("refreshing the insights failed")
        return {"insights": 0, "published": 0, "error": f"{type(failure).__name__}: {failure}",
                "seconds": round(time.perf_counter() - started, 3)}


def _event_data(insight: Insight) -> dict:
    data = insight.to_dict(evidence=False)
    data.pop("rep_id", None)
    data.pop("territory", None)
    return data
