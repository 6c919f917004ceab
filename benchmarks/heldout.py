"""Ask the data, held out: accuracy of the assistant on questions nobody tuned it on (issue 16).

The held-out set (tests/agents/heldout.yaml) was written without reading the planner or the development
set. For each scale the demo company is synced and built (``prepare_warehouse``), every question is asked
through ``agents.ask`` with no LLM, follow-ups in their parent's conversation, reps and managers in their
own scope, and judged against gold computed from the emulators' SQLite stores the warehouse was loaded
from (never the marts). Reported: accuracy overall and by class, and the wrong answers that were
confident (rows, a number or a table) rather than a refusal or a clarifying question: the ones that
mislead. The baseline in the same run is the gold SQL itself on the stores.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from benchmarks.common import bench_scales, prepare_warehouse, table

TITLE = "Ask the data: held-out questions"
# The first run's figures (the "before" of issue 16: the planner as it was when the set was written), kept
# so that every later run is shown beside them.
BEFORE = Path(__file__).parent / "results" / "heldout-before.json"


def _commit() -> str:
    import subprocess

    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def _run_scale(scale: float, questions: list[dict]) -> dict:
    from agents.conversations import SQLiteConversationStore
    from emulators.server import company_dir
    from tests.agents.heldout import GoldStore, compute_golds, measure

    settings = prepare_warehouse(scale)
    stores = company_dir(settings)
    gold = GoldStore.of(stores)
    started = time.perf_counter()
    compute_golds(questions, gold)
    gold_seconds = time.perf_counter() - started
    gold.close()
    with tempfile.TemporaryDirectory(prefix="scc-bench-heldout-") as folder:
        store = SQLiteConversationStore(Path(folder) / "c.sqlite")
        started = time.perf_counter()
        report = measure(questions, settings=settings, company_dir=stores, store=store)
        seconds = time.perf_counter() - started
    return {"report": report, "seconds": seconds, "gold_seconds": gold_seconds}


def run(quick: bool) -> dict:
    from tests.agents.heldout import SCALE, load_heldout

    questions = load_heldout()
    scales = bench_scales(quick, [SCALE], [SCALE])
    rows, class_rows, failures, results = [], [], [], []
    for scale in scales:
        result = _run_scale(scale, questions)
        report = result["report"]
        results.append((scale, report))
        declined_wrong = sum(not o.correct and not o.confident for o in report.outcomes)
        rows.append([scale, len(report.outcomes), f"{sum(o.correct for o in report.outcomes)}",
                     f"{report.accuracy:.1%}", len(report.confident_wrong), declined_wrong,
                     f"{result['seconds'] / len(report.outcomes) * 1000:.0f}",
                     f"{result['gold_seconds'] / len(report.outcomes) * 1000:.1f}"])
        if scale == scales[0]:
            for klass, (ok, n, confident) in report.by_class().items():
                class_rows.append([klass, n, ok, f"{ok / n:.0%}", confident])
            failures = [o for o in report.outcomes if not o.correct]
    body = table(["scale", "questions", "right", "accuracy", "wrong and confident", "wrong, declined",
                  "ask (ms/question)", "baseline: gold SQL on the stores (ms/question)"], rows)
    body += ("\n\nNo LLM (the deterministic planner, metric questions through the semantic layer). "
             "\"Wrong and confident\": the answer came back with rows (a number or a table) that are not the "
             "gold; \"declined\": a refusal, a clarifying question or no rows where the gold has rows. "
             "A question the assistant should clarify or refuse is right only when it declines. "
             "Gold: SQLite over the "
             "emulators' stores (tests/agents/heldout.py), compared with `tests.agents.evaluation.compare`; "
             "a share or rate may be given as a fraction or in percent.\n\n")
    body += table(["class", "questions", "right", "accuracy", "wrong and confident"], class_rows)
    if failures:
        by_class: dict[str, list[str]] = {}
        for o in failures:
            by_class.setdefault(o.klass, []).append(f"{o.id}{'' if o.confident else ' (declined)'}")
        body += ("\n\nWrong answers (first scale; the questions are in tests/agents/heldout.yaml): "
                 + "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(by_class.items())) + ".")
    scale0, first = results[0]
    figures = {"commit": _commit(), "scale": scale0, "questions": len(first.outcomes),
               "right": sum(o.correct for o in first.outcomes), "accuracy": first.accuracy,
               "confident_wrong": len(first.confident_wrong),
               "by_class": {k: list(v) for k, v in first.by_class().items()}}
    from benchmarks.common import machine_description

    if not BEFORE.exists():
        BEFORE.write_text(json.dumps({**figures, "machine": machine_description()}, indent=2) + "\n")
    before = json.loads(BEFORE.read_text())
    m = before["machine"]
    body += (f"\n\n**Before** (the working tree at commit {before['commit']}, before any planner change "
             f"for issue 16; {m['date']}, {m['cpu']}, {m['cores']} cores): "
             f"{before['right']}/{before['questions']} right "
             f"({before['accuracy']:.1%}), {before['confident_wrong']} wrong answers confident; this run "
             f"(commit {figures['commit']}): {figures['right']}/{figures['questions']} "
             f"({figures['accuracy']:.1%}), "
             f"{figures['confident_wrong']} confident wrong.\n\n")
    body += table(["class", "before", "now"], [
        [k, "{}/{}".format(*before["by_class"].get(k, [0, 0])[:2]), f"{v[0]}/{v[1]}"]
        for k, v in figures["by_class"].items()])
    body += "\n\nAim (issue 16): at least 95%, and no answer whose reading dropped a word silently."
    return {"title": TITLE, "body": body,
            "summary": f"held-out accuracy {first.accuracy:.1%} on {len(first.outcomes)} questions at scale "
                       f"{scale0}; {len(first.confident_wrong)} wrong answers were confident numbers"}
