"""What an insight is, what a detector is, and the context a detector works in.

An :class:`Insight` is one finding with its evidence: a kind, a severity, a one-line headline with its
numbers, the queries and rows it came from, a suggested action and the scope it belongs to (the rep and
territory whose book it is about). A :class:`Detector` finds insights of one or more kinds; it reads data
only through :meth:`InsightContext.run` (the agents' SQL guard, with the caller's scope), so whatever a
detector does, the rows it sees are the caller's.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
from dataclasses import dataclass, field
from typing import Any

from agents.scope import Scope

SEVERITIES = ("high", "medium", "low")
SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}


def severity_at_least(severity: str, minimum: str) -> bool:
    return SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK.get(minimum, 0)


def plain(value):
    """A JSON-friendly value: Decimal → float, dates → ISO text."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


@dataclass
class Evidence:
    """A query that ran (after the guard: the scoped SQL) and the rows it returned."""

    title: str
    sql: str
    columns: list[str]
    rows: list[tuple]
    truncated: bool = False
    seconds: float = 0.0

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def first(self) -> dict[str, Any]:
        return dict(zip(self.columns, self.rows[0])) if self.rows else {}

    def only(self, rows: list[tuple] | None = None, title: str | None = None, limit: int = 25) -> "Evidence":
        """The same query with a subset of its rows (what the insight is about), at most ``limit``."""
        chosen = self.rows if rows is None else rows
        return Evidence(title=title or self.title, sql=self.sql, columns=list(self.columns),
                        rows=list(chosen[:limit]), truncated=self.truncated or len(chosen) > limit,
                        seconds=self.seconds)

    def to_dict(self) -> dict:
        # Rows as lists (not objects): the columns say what each value is.
        return {"title": self.title, "sql": self.sql, "columns": list(self.columns),
                "rows": [plain(list(r)) for r in self.rows], "truncated": self.truncated}


@dataclass
class Insight:
    """One finding. ``facts`` holds every number the headline and narrative use (from the queries)."""

    kind: str
    severity: str
    headline: str
    action: str
    key: str                                    # identity within the kind (entity id, period...)
    evidence: list[Evidence] = field(default_factory=list)
    rep_id: str | None = None                   # whose book it is about (None: the caller's whole scope)
    territory: str | None = None
    direction: str | None = None                # up, down, stalled, short, slipping, overdue, concentrated...
    facts: dict[str, Any] = field(default_factory=dict)
    subjects: dict[str, list[dict]] = field(default_factory=dict)  # customers, opportunities, products, reps
    narrative: str = ""                         # a sentence or two (template, or the LLM's wording)
    narrative_source: str = "template"
    score: float = 0.0                          # ranking within a severity: the money at stake, mostly
    detector: str = ""
    period: dict[str, str] | None = None

    def __post_init__(self):
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    @property
    def id(self) -> str:
        return hashlib.sha1(f"{self.kind}|{self.key}".encode()).hexdigest()[:16]

    @property
    def rank(self) -> tuple:
        return (-SEVERITY_RANK[self.severity], -float(self.score or 0), self.kind, self.key)

    def subject_ids(self, kind: str, id_field: str) -> list[str]:
        return [str(s.get(id_field)) for s in self.subjects.get(kind, []) if s.get(id_field) is not None]

    def to_dict(self, *, evidence: bool = True) -> dict:
        out = {
            "id": self.id, "kind": self.kind, "severity": self.severity, "headline": self.headline,
            "title": self.headline, "narrative": self.narrative or self.headline,
            "narrative_source": self.narrative_source, "action": self.action, "direction": self.direction,
            "rep_id": self.rep_id, "territory": self.territory, "facts": plain(self.facts),
            "subjects": plain(self.subjects), "score": round(float(self.score or 0), 2), "detector": self.detector,
            "period": self.period,
        }
        if evidence:
            out["evidence"] = [e.to_dict() for e in self.evidence]
        return out


class Detector:
    """Base class of insight detectors. Subclass it, set ``name`` and ``kinds``, implement ``detect``.

    Return detectors from a ``register_insight_detectors`` hook implementation (see ``docs/plugins.md``);
    a detector with the name of an earlier one replaces it.
    """

    name: str = ""
    title: str = ""
    description: str = ""
    kinds: tuple[str, ...] = ()
    marts: tuple[str, ...] = ()      # the marts it needs; skipped (not an error) when one is not built

    def detect(self, ctx: "InsightContext") -> list[Insight]:  # pragma: no cover - abstract
        raise NotImplementedError


class InsightContext:
    """What a detector works with: the caller's scope, the settings, the product's clock, the catalogue,
    and :meth:`run` (guarded, scoped SQL)."""

    def __init__(self, *, scope: Scope, settings, catalog, today: dt.date):
        self.scope = scope
        self.settings = settings
        self.catalog = catalog
        self.today = today
        self.queries = 0
        self.query_seconds = 0.0

    # --- data, through the guard ------------------------------------------------------------------
    def run(self, sql: str, *, title: str = "", max_rows: int | None = None) -> Evidence:
        from agents.guard import run_sql

        result = run_sql(sql, self.scope, self.catalog, settings=self.settings, max_rows=max_rows)
        self.queries += 1
        self.query_seconds += result.seconds
        return Evidence(title=title, sql=result.sql, columns=list(result.columns), rows=list(result.rows),
                        truncated=result.truncated, seconds=result.seconds)

    def has_marts(self, *names: str) -> bool:
        return all((m := self.catalog.mart(n)) is not None and m.built for n in names)

    # --- helpers for detectors ---------------------------------------------------------------------
    def date(self, value: dt.date) -> str:
        """A date as a SQL literal (from a date object, never from text)."""
        return f"DATE '{dt.date.fromordinal(value.toordinal()).isoformat()}'"

    @property
    def scoped_rep(self) -> str | None:
        return self.scope.rep_id if self.scope.role == "sales_rep" else None

    @property
    def scoped_territory(self) -> str | None:
        return self.scope.territory if self.scope.role == "sales_manager" else None

    def owner(self, rep_id=None, territory=None) -> dict:
        """The scope fields of an insight about a row owned by ``rep_id`` in ``territory``; an aggregate
        (no owner) belongs to the caller's own scope."""
        if rep_id is None and territory is None:
            return {"rep_id": self.scoped_rep, "territory": self.scoped_territory}
        return {"rep_id": rep_id, "territory": territory}

    def insight(self, **kwargs) -> Insight:
        owner = self.owner(kwargs.pop("rep_id", None), kwargs.pop("territory", None))
        return Insight(**owner, **kwargs)
