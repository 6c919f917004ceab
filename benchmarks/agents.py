"""Ask the data: accuracy per agent and per path, planner latency, LLM calls and tokens per question.

For each scale: the emulators are started, both sources synced and the marts built; then every question
of the question set (tests/agents/questions.yaml) is asked through ``agents.ask`` with no LLM (the
deterministic planner, metric questions through the semantic layer) and compared with its gold SQL.
Latency is measured per question over several warm repetitions; the baseline in the same run is the gold
SQL itself on an open DuckDB connection (no routing, no guard, no semantic layer, no conversation write).

The LLM path runs against the scripted OpenAI-compatible server over real HTTP (tests/agents/llm_server.py):
the "model" answers each question with its gold SQL as a plan, and every fifth question first with SQL
that does not parse, so the corrections are counted too.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import bench_scales, prepare_warehouse, table

TITLE = "Ask the data: agents"


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    k = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[k]


def _planner(settings, questions, repeat: int) -> dict:
    import duckdb

    from agents import Scope, ask
    from agents.conversations import SQLiteConversationStore
    from scc.warehouse import duckdb_path
    from tests.agents.evaluation import evaluate

    folder = tempfile.TemporaryDirectory(prefix="scc-bench-agents-")
    store = SQLiteConversationStore(Path(folder.name) / "c.sqlite")
    report = evaluate(questions, settings=settings, store=store)  # also warms caches
    samples, per_question = [], {}
    for _ in range(repeat):
        for q in questions:
            started = time.perf_counter()
            ask(q["question"], Scope.all(), settings=settings, store=store)
            elapsed = time.perf_counter() - started
            samples.append(elapsed)
            per_question.setdefault(q["id"], []).append(elapsed)
    baseline = []
    con = duckdb.connect(str(duckdb_path(settings)), read_only=True)
    try:
        for _ in range(repeat):
            for q in questions:
                started = time.perf_counter()
                con.execute(q["gold"]).fetchall()
                baseline.append(time.perf_counter() - started)
    finally:
        con.close()
    folder.cleanup()
    slowest = max(per_question.items(), key=lambda kv: statistics.median(kv[1]))
    return {"report": report, "p50": _pct(samples, 0.5), "p95": _pct(samples, 0.95), "max": max(samples),
            "base_p50": _pct(baseline, 0.5), "base_p95": _pct(baseline, 0.95),
            "slowest": (slowest[0], statistics.median(slowest[1]))}


def _llm(settings, questions) -> dict:
    from agents import Scope, ask
    from agents.conversations import SQLiteConversationStore
    from tests.agents.evaluation import compare, draft_rows
    from tests.agents.llm_server import ScriptedLLM

    by_text = {q["question"]: q for q in questions}
    broken = {q["id"] for i, q in enumerate(questions) if i % 5 == 4}
    seen: dict[str, int] = {}

    def reply(request: dict) -> str:
        user = request["messages"][1]["content"]
        question = user.split("\n", 1)[0].removeprefix("Question: ").strip()
        q = by_text.get(question)
        if q is None:
            return json.dumps({"kind": "clarify", "title": "?", "message": "Which question?"})
        seen[q["id"]] = seen.get(q["id"], 0) + 1
        if q["id"] in broken and seen[q["id"]] == 1:
            return json.dumps({"kind": "sql", "title": q["question"], "sql": "SELEC " + q["gold"]})
        return json.dumps({"kind": "sql", "title": q["question"], "sql": q["gold"]})

    folder = tempfile.TemporaryDirectory(prefix="scc-bench-llm-")
    store = SQLiteConversationStore(Path(folder.name) / "c.sqlite")
    outcomes = []
    with folder, ScriptedLLM() as server:
        server.default = reply
        llm_settings = settings.model_copy(update={"llm_model": "openai/scripted", "llm_api_base": server.url})
        ask("warm up", Scope.all(), settings=llm_settings, store=store)  # litellm's import, once
        import duckdb

        from scc.warehouse import duckdb_path

        con = duckdb.connect(str(duckdb_path(settings)), read_only=True)
        golds = {q["id"]: con.execute(q["gold"]).fetchall() for q in questions}
        con.close()
        for q in questions:
            seen.pop(q["id"], None)
            started = time.perf_counter()
            answer = ask(q["question"], Scope.all(), settings=llm_settings, store=store)
            seconds = time.perf_counter() - started
            columns, rows = draft_rows(answer.draft) if q["agent"] == "transactions" else (answer.columns, answer.rows)
            ok, _ = compare(golds[q["id"]], columns, rows, truncated=answer.truncated)
            outcomes.append({"id": q["id"], "agent": q["agent"], "path": answer.path, "ok": ok,
                             "calls": answer.llm_calls, "tokens": answer.llm_tokens, "seconds": seconds})
    used = [o for o in outcomes if o["calls"]]
    return {
        "outcomes": outcomes, "accuracy": sum(o["ok"] for o in outcomes) / len(outcomes),
        "with_llm": len(used), "calls_mean": statistics.mean(o["calls"] for o in used) if used else 0,
        "one_call": sum(o["calls"] == 1 for o in used) / max(1, len(used)),
        "max_calls": max((o["calls"] for o in used), default=0),
        "tokens_mean": statistics.mean(o["tokens"] for o in used) if used else 0,
        "tokens_p95": _pct([o["tokens"] for o in used], 0.95),
        "p50": _pct([o["seconds"] for o in used], 0.5),
    }


def run(quick: bool) -> dict:
    from tests.agents.evaluation import load_questions

    scales = bench_scales(quick, [1, 10], [0.05])
    repeat = 2 if quick else 5
    questions = load_questions()
    lat_rows, acc_rows, path_rows, llm, misses = [], [], [], None, []
    for scale in scales:
        settings = prepare_warehouse(scale)
        result = _planner(settings, questions, repeat)
        report = result["report"]
        misses += [f"scale {scale}, {o.id} ({o.question!r}): {o.why}" for o in report.outcomes if not o.correct]
        lat_rows.append([
            scale, len(questions), f"{report.accuracy:.1%}", f"{result['p50'] * 1000:.0f}", f"{result['p95'] * 1000:.0f}",
            f"{result['max'] * 1000:.0f}", f"{result['base_p50'] * 1000:.1f}", f"{result['base_p95'] * 1000:.1f}",
            f"{result['p95'] / max(result['base_p95'], 1e-9):.0f}x", f"{result['slowest'][0]} "
            f"({result['slowest'][1] * 1000:.0f} ms)",
        ])
        if scale == scales[0]:
            for agent, (ok, n) in report.by("agent").items():
                acc_rows.append([agent, n, f"{ok / n:.1%}"])
            for path, (ok, n) in report.by("path").items():
                path_rows.append([f"planner: {path}", n, f"{ok / n:.1%}"])
            paraphrases = [o for o, q in zip(report.outcomes, questions) if q.get("paraphrase")]
            para = (sum(o.correct for o in paraphrases), len(paraphrases))
            llm = _llm(settings, questions)
            for path in sorted({o["path"] for o in llm["outcomes"]}):
                sub = [o for o in llm["outcomes"] if o["path"] == path]
                path_rows.append([f"LLM configured: {path}", len(sub), f"{sum(o['ok'] for o in sub) / len(sub):.1%}"])
    body = table(["scale", "questions", "accuracy", "p50 (ms)", "p95 (ms)", "max (ms)", "baseline p50 (ms)",
                  "baseline p95 (ms)", "p95 / baseline", "slowest question (median)"], lat_rows)
    body += ("\n\nPlanner path, no LLM; latency per question over warm repetitions, including routing, entity matching, "
             "the semantic layer's compile, the guard, the query and the conversation write. Baseline: the gold SQL "
             "alone on an open DuckDB connection. An answer cut by the row limit (1,000 rows, and it says so) "
             "counts as right when every row it shows is a gold row.\n\n")
    if misses:
        body += "Wrong answers: " + "; ".join(misses) + (
            ". (The question set was written on the test company, scale 0.05: a question that names a product "
            "of that catalogue has an empty gold answer where the catalogue has no such product.)\n\n")
    body += table(["agent", "questions", "planner accuracy"], acc_rows) + "\n\n"
    body += table(["path", "questions", "accuracy"], path_rows)
    body += (f"\n\nParaphrases written after the planner (the `paraphrase: true` questions): {para[0]}/{para[1]} now; "
             "25/26 on their first run.\n\n")
    body += table(["LLM path (scripted model, real HTTP)", "value"], [
        ["questions planned by the LLM", llm["with_llm"]],
        ["LLM calls per question (mean / max)", f"{llm['calls_mean']:.2f} / {llm['max_calls']}"],
        ["questions answered with one call", f"{llm['one_call']:.0%}"],
        ["tokens per question (mean / p95)", f"{llm['tokens_mean']:,.0f} / {llm['tokens_p95']:,.0f}"],
        ["answer time p50, loopback model (ms)", f"{llm['p50'] * 1000:.0f}"],
        ["accuracy (model replies with the gold SQL; every 5th first with broken SQL)", f"{llm['accuracy']:.1%}"],
    ])
    body += ("\n\nTokens are estimated by the scripted server (characters / 4): the prompt is the catalogue's "
             "descriptions, the metric definitions and the question, with no table rows.\n\n"
             "Aims: planner p95 under 300 ms at scale 10; at most one LLM call for most questions.")
    first = lat_rows[-1]
    return {"title": TITLE, "body": body,
            "summary": f"planner accuracy {lat_rows[0][2]} on {len(questions)} questions; p95 {first[4]} ms at scale "
                       f"{first[0]}; LLM path {llm['calls_mean']:.2f} calls/question, {llm['tokens_mean']:,.0f} tokens"}
