"""Execution accuracy of the agents on the question set (tests/agents/questions.yaml).

Shared by the accuracy test and ``benchmarks/agents.py``. A question is correct when every column of the
gold result equals (as a multiset of normalised values) a distinct column of the answer, and the answer's
rows projected on those columns equal the gold rows (order-insensitive). Extra answer columns are fine
(an answer may add the customer's name beside an order number); missing rows or wrong values are not.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

QUESTIONS = Path(__file__).with_name("questions.yaml")


def load_questions() -> list[dict]:
    return yaml.safe_load(QUESTIONS.read_text())["questions"]


def norm(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, decimal.Decimal)):
        v = float(value)
        return round(v, 4) if abs(v) < 10 else round(v, 2)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return norm(dt.date.fromisoformat(value[:10])) if len(value) in (10, 19) and value[4] == "-" else value
        except ValueError:
            return value
    return value


def compare(gold_rows: list[tuple], answer_columns: list[str], answer_rows: list,
            truncated: bool = False) -> tuple[bool, str]:
    """(correct, why not). A ``truncated`` answer (the row limit cut it, and it says so) is right when
    every row it shows is a row of the gold answer."""
    gold = [tuple(norm(v) for v in r) for r in gold_rows]
    pred = [tuple(norm(v) for v in r) for r in answer_rows]
    part = truncated and 0 < len(pred) < len(gold)
    if len(gold) != len(pred) and not part:
        return False, f"{len(pred)} rows, expected {len(gold)}"
    if not gold:
        return True, ""
    n_gold = len(gold[0])
    gold_cols = [Counter(r[i] for r in gold) for i in range(n_gold)]
    n_pred = len(pred[0]) if pred else 0
    pred_cols = [Counter(r[j] for r in pred) for j in range(n_pred)]
    fits = (lambda answer, expected: answer <= expected) if part else (lambda answer, expected: answer == expected)
    candidates = [[j for j in range(n_pred) if fits(pred_cols[j], gold_cols[i])] for i in range(n_gold)]
    for i, c in enumerate(candidates):
        if not c:
            return False, f"no answer column equals gold column {i} (e.g. {gold[0][i]!r})"
    target = Counter(gold)
    for assignment in itertools.product(*candidates):
        if len(set(assignment)) != len(assignment):
            continue
        if fits(Counter(tuple(r[j] for j in assignment) for r in pred), target):
            return True, ""
    return False, "columns match one by one but not row by row"


def draft_rows(draft: dict | None) -> tuple[list[str], list[tuple]]:
    columns = ["customer_id", "customer_name", "product_id", "category", "quantity", "unit_price"]
    if not draft:
        return columns, []
    customer = draft.get("customer") or {}
    rows = [(customer.get("customer_id"), customer.get("customer_name"), line.get("product_id"), line.get("category"),
             line.get("quantity"), line.get("unit_price")) for line in draft.get("lines") or []]
    return columns, rows


@dataclass
class Outcome:
    id: str
    agent: str
    question: str
    correct: bool
    why: str = ""
    routed_to: str = ""
    path: str = ""
    seconds: float = 0.0
    llm_calls: int = 0
    llm_tokens: int = 0
    design: bool = False


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(o.correct for o in self.outcomes) / max(1, len(self.outcomes))

    def by(self, key: str) -> dict[str, tuple[int, int]]:
        out: dict[str, list[int]] = {}
        for o in self.outcomes:
            k = getattr(o, key)
            out.setdefault(k, [0, 0])
            out[k][0] += o.correct
            out[k][1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]


def gold_result(sql: str, connection) -> list[tuple]:
    return connection.execute(sql).fetchall()


def evaluate(questions: list[dict], *, settings, scope=None, warehouse=None, store=None) -> Report:
    """Ask every question (no conversation), compare with its gold SQL run straight on the warehouse."""
    import duckdb

    from agents import Scope, ask
    from scc.warehouse import duckdb_path

    scope = scope or Scope.all()
    report = Report()
    gold_db = duckdb.connect(str(warehouse or duckdb_path(settings)), read_only=True)
    try:
        golds = {q["id"]: gold_result(q["gold"], gold_db) for q in questions}
    finally:
        gold_db.close()
    for q in questions:
        started = time.perf_counter()
        answer = ask(q["question"], scope, settings=settings, store=store)
        seconds = time.perf_counter() - started
        if q["agent"] == "transactions":
            columns, rows = draft_rows(answer.draft)
        else:
            columns, rows = answer.columns, answer.rows
        ok, why = compare(golds[q["id"]], columns, rows, truncated=answer.truncated)
        if answer.error and answer.error != "no_plan" and not answer.refused and not rows and golds[q["id"]]:
            why = f"error: {answer.text}"
        report.outcomes.append(Outcome(
            id=q["id"], agent=q["agent"], question=q["question"], correct=ok, why=why, routed_to=answer.agent,
            path=answer.path, seconds=seconds, llm_calls=answer.llm_calls, llm_tokens=answer.llm_tokens,
            design=bool(q.get("design")),
        ))
    return report
