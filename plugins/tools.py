"""Built-in tools agents and the LLM may call: guarded SQL, metric queries, entity look-ups, order drafts."""

from __future__ import annotations

from agents import MetricQuery, Tool, hookimpl


def _run_sql(context, sql: str):
    result = context.run_sql(sql)
    return {"columns": result.columns, "rows": result.rows, "sql": result.sql, "truncated": result.truncated}


def _query_metrics(context, metrics, group_by=(), where=(), order_by=(), limit=None):
    query = MetricQuery(metrics=list(metrics), group_by=list(group_by), where=[tuple(w) if isinstance(w, list) else w
                                                                               for w in where],
                        order_by=list(order_by), limit=limit)
    result = context.run_metrics(query)
    return {"columns": result.columns, "rows": result.rows, "sql": result.sql, "truncated": result.truncated}


def _find(context, text: str, kinds: tuple[str, ...]):
    matches, unknown = context.vocabulary.match(text)
    return {"matches": [m.to_dict() for m in matches if m.kind in kinds], "unknown": unknown}


def _draft(context, sentence: str):
    from plugins.transactions import build_draft

    return build_draft(sentence, context)


@hookimpl
def register_tools():
    return [
        Tool("run_sql", "Run one read-only SELECT over the marts (guarded, scoped, limited).", _run_sql,
             {"type": "object", "properties": {"sql": {"type": "string"}}, "required": ["sql"]}),
        Tool("query_metrics", "Query metrics of the semantic layer (names from the catalogue).", _query_metrics,
             {"type": "object", "properties": {"metrics": {"type": "array", "items": {"type": "string"}},
                                               "group_by": {"type": "array", "items": {"type": "string"}},
                                               "where": {"type": "array"}, "order_by": {"type": "array"},
                                               "limit": {"type": "integer"}}, "required": ["metrics"]}),
        Tool("find_customer", "Customers named in a text, matched against the warehouse's customer names.",
             lambda context, text: _find(context, text, ("customer",)),
             {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
        Tool("find_product", "Items, item groups and categories named in a text.",
             lambda context, text: _find(context, text, ("product", "product_group", "category")),
             {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
        Tool("draft_sales_order", "Turn a sentence into a draft sales order (nothing is submitted).", _draft,
             {"type": "object", "properties": {"sentence": {"type": "string"}}, "required": ["sentence"]}),
    ]
