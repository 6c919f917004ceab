"""The transactions agent: a sentence becomes a draft sales order.

"Create a sales order for Disney, 500 hats, $50 each" → customer Disney, one line: the hat item whose
allowed price range holds $50 (the best seller among those when several do), 500 units at $50.00. The
draft is only a proposal: the API validates it (credit, stock, price range), lets a person edit it and
submits it to NetSuite. Nothing here writes anything.

Customers and items are matched against the warehouse's own values, read with the caller's scope: a
rep can only draft orders for their own customers.
"""

from __future__ import annotations

import re

from agents import Agent, Answer, hookimpl
from agents.entities import norm_tokens
from agents.planning import in_list, lit

CREATE = re.compile(r"\b(create|place|make|enter|book|draft|raise|put in|submit|new|start|write up|prepare)\b"
                    r"[\w\s,'-]{0,30}?\b(sales )?orders?\b|^\s*order\s+\d", re.I)
LINE = re.compile(
    r"(?<![$\d.,])(?P<qty>\d{1,3}(?:,\d{3})+|\d+)\s*(?:x\s+|units? of\s+|pcs\.? of\s+|pieces of\s+|of\s+)?"
    r"(?P<item>[a-z][a-z0-9\-' ]*?)(?=\s*(?:,|;|\band\b|\bfor\b|\bat\b|\bto\b|\bpriced\b|@|\$|\(|\bplus\b|\.|$))",
    re.I,
)
PRICE = re.compile(r"(?:(?:at|@|priced at|for)\s*)?\$\s*(?P<p1>\d+(?:\.\d{1,2})?)|(?:at|@|priced at)\s*(?P<p2>\d+(?:\.\d{1,2})?)"
                   r"\s*(?:dollars|usd|each|ea\b|apiece|a piece|per)", re.I)
NOT_ITEMS = {"each", "dollars", "usd", "ea", "per", "apiece"}


def _units_sold(context, product_ids: list[str]) -> dict[str, float]:
    if not product_ids:
        return {}
    start = context.today.fromordinal(context.today.toordinal() - 365)
    result = context.run_sql(
        f"SELECT product_id, sum(quantity) AS units FROM marts.fct_order_lines WHERE {in_list('product_id', product_ids)} "
        f"AND order_date >= {lit(start)} GROUP BY 1"
    )
    return {str(r[0]): float(r[1] or 0) for r in result.rows}


def _products(context, product_ids: list[str] | None = None, categories: list[str] | None = None) -> list[dict]:
    conds = ["is_active"]
    if product_ids:
        conds.append(in_list("product_id", product_ids))
    if categories:
        conds.append(in_list("category", categories))
    result = context.run_sql("SELECT product_id, sku, product_name, category, list_price, min_price, quantity_available "
                             "FROM marts.dim_products WHERE " + " AND ".join(conds))
    return [dict(zip(result.columns, r)) | {"product_id": str(r[0])} for r in result.rows]


def _resolve_item(context, phrase: str, price: float | None) -> dict:
    matches, unknown = context.vocabulary.match(phrase)
    product_ids, categories = [], []
    for m in matches:
        if m.kind == "product":
            product_ids.append(m.id)
        elif m.kind == "product_group":
            product_ids.extend(m.ids)
        elif m.kind == "category":
            categories.append(m.value)
    if not product_ids and not categories:
        # Last resort: every word of the phrase in the item's name.
        words = [w for w in norm_tokens(phrase) if len(w) > 2]
        if words:
            candidates = [pid for pid, name, _ in context.vocabulary.products
                          if all(w in norm_tokens(name) for w in words)]
            product_ids.extend(candidates)
    if not product_ids and not categories:
        return {"query": phrase, "product_id": None, "alternatives": [],
                "problem": f"no item in the catalogue matches '{phrase.strip()}'"}
    items = _products(context, product_ids or None, categories or None)
    if not items:
        return {"query": phrase, "product_id": None, "alternatives": [], "problem": f"no active item matches '{phrase}'"}
    sold = _units_sold(context, [i["product_id"] for i in items])
    in_range = [i for i in items if price is not None and float(i["min_price"]) <= price <= float(i["list_price"])]
    pool = in_range or items
    pool.sort(key=lambda i: (-sold.get(i["product_id"], 0.0), i["product_id"]))
    chosen = pool[0]
    alternatives = [{"product_id": i["product_id"], "sku": i["sku"], "product_name": i["product_name"],
                     "list_price": float(i["list_price"]), "min_price": float(i["min_price"])} for i in pool[1:6]]
    return {"query": phrase.strip(), **{k: chosen[k] for k in ("product_id", "sku", "product_name", "category")},
            "list_price": float(chosen["list_price"]), "min_price": float(chosen["min_price"]),
            "quantity_available": chosen["quantity_available"], "price_in_range": bool(in_range) if price is not None else None,
            "alternatives": alternatives, "candidates": len(items)}


def _customer(context, sentence: str) -> tuple[dict | None, list[str]]:
    matches, unknown = context.vocabulary.match(sentence)
    customers = [m for m in matches if m.kind == "customer"]
    problems = []
    if customers:
        m = customers[0]
        result = context.run_sql("SELECT customer_id, customer_name, credit_limit, open_balance FROM marts.dim_customers "
                                 f"WHERE customer_id = {lit(m.id)}")
        if result.rows:
            r = dict(zip(result.columns, result.rows[0]))
            return ({"customer_id": str(r["customer_id"]), "customer_name": r["customer_name"], "query": m.phrase,
                     "credit_limit": r["credit_limit"], "open_balance": r["open_balance"], "exact": m.exact}, [])
        problems.append(f"'{m.phrase}' is not one of the customers you can order for")
        return None, problems
    for name in unknown:
        hits = _in_scope(context, context.vocabulary.search_customers(name))
        if hits:
            problems.append(f"no customer is called '{name}'; did you mean " + ", ".join(n for _, n in hits[:3]) + "?")
            return None, problems
    if unknown:
        problems.append(f"no customer is called '{unknown[0]}'")
        return None, problems
    problems.append("no customer named in the sentence")
    return None, problems


def _in_scope(context, hits: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Only suggest customers the caller can see."""
    if not hits or context.scope.sees_everything:
        return hits
    ids = [cid for cid, _ in hits]
    visible = {str(r[0]) for r in context.run_sql(
        f"SELECT customer_id FROM marts.dim_customers WHERE {in_list('customer_id', ids)}").rows}
    return [(cid, name) for cid, name in hits if cid in visible]


def build_draft(sentence: str, context) -> dict:
    """Sentence → draft sales order dict: customer, lines (item, quantity, unit price), problems."""
    text = sentence.strip()
    customer, problems = _customer(context, text)
    lowered = text.lower()
    # The customer's name is not an item: blank it before reading the lines.
    if customer and customer.get("query"):
        lowered = re.sub(re.escape(customer["query"].lower()), " ", lowered)
    lowered = re.sub(r"\b(create|place|make|enter|book|draft|raise|submit|prepare)\b( a| an| new)?( sales)? orders?\b",
                     " ", lowered)
    found = [m for m in LINE.finditer(lowered)
             if m.group("item").strip(" -'") and m.group("item").strip().split()[0] not in NOT_ITEMS]
    lines = []
    for k, m in enumerate(found):
        item = re.sub(r"\b(units?|pieces?|pcs)\b", " ", m.group("item")).strip(" -'")
        segment = lowered[m.end(): found[k + 1].start() if k + 1 < len(found) else len(lowered)]
        price_match = PRICE.search(segment)
        price = (price_match.group("p1") or price_match.group("p2")) if price_match else None
        quantity = int(m.group("qty").replace(",", ""))
        if quantity <= 0 or not item:
            continue
        unit_price = float(price) if price is not None else None
        resolved = _resolve_item(context, item, unit_price)
        if resolved.get("product_id") is None:
            problems.append(resolved["problem"])
        if unit_price is None and resolved.get("product_id"):
            unit_price = resolved["list_price"]
            resolved["price_from"] = "list_price"
        line = {"line_number": len(lines) + 1, "quantity": quantity, "unit_price": unit_price, **resolved}
        line["amount"] = round(quantity * unit_price, 2) if unit_price is not None else None
        lines.append(line)
    if not lines:
        problems.append("no item with a quantity found (say e.g. '500 hats at $50 each')")
    total = round(sum(line["amount"] or 0 for line in lines), 2)
    return {"type": "sales_order", "status": "draft", "source_text": sentence, "customer": customer, "lines": lines,
            "total": total, "currency": "USD", "problems": problems, "order_date": context.today.isoformat()}


class TransactionsAgent(Agent):
    name = "transactions"
    title = "Transactions agent"
    description = "Turns a sentence into a draft sales order (customer, items, quantities, prices) for review."
    marts = ("dim_customers", "dim_products", "fct_order_lines")
    keywords = {}
    examples = ("Create a sales order for 500 hats for Disney at $50 each",)
    uses_llm = False
    checks_reading = False  # a sentence to draft from, read by the draft builder itself

    def score(self, text, route):
        if CREATE.search(text) and re.search(r"\d", text):
            return 6.0
        if CREATE.search(text):
            return 3.0
        return 0.0

    def answer(self, route, context) -> Answer:
        previous = ((context.previous or {}).get("answer") or {}).get("draft")
        edit = edit_draft(previous, route.text, context) if route.refinement and previous else None
        if route.refinement and previous and edit is None:
            return Answer(question=route.text, text="I could not tell what to change in the draft: say, for example, "
                          "\"make it 600\", \"change the price to $45\", \"add 100 mugs\", \"remove the mugs\" or \"use "
                          "the navy one instead\".", path="agent", agent=self.name, intent="transactions.clarify",
                          draft=previous, error="clarify")
        draft = edit if edit is not None else build_draft(route.text, context)
        rows = [[line.get("product_name") or f"? {line['query']}", line.get("sku"), line["quantity"],
                 line["unit_price"], line["amount"]] for line in draft["lines"]]
        who = draft["customer"]["customer_name"] if draft["customer"] else "an unresolved customer"
        from agents.answer import money

        parts = [f"{line['quantity']:,} × {line.get('product_name') or line['query']} at "
                 f"{money(line['unit_price']) if line['unit_price'] is not None else 'no price'}" for line in draft["lines"]]
        text = f"Draft sales order for {who}: " + ("; ".join(parts) if parts else "no lines") + \
               f", total {money(draft['total'])}. Review it before it is submitted."
        if draft["problems"]:
            text += " To fix: " + "; ".join(draft["problems"]) + "."
        return Answer(question=route.text, text=text, columns=["product_name", "sku", "quantity", "unit_price", "amount"],
                      rows=rows, path="agent", agent=self.name, intent="transactions.draft", draft=draft,
                      entities=route.entities.filters(),
                      follow_ups=["Change the quantity to 600", "Show me Disney's open orders"] if draft["customer"] else [])


# Edits of an open draft from the chat: "make it 600", "change the price to $45", "add 100 mugs",
# "remove the mugs", "use the navy one instead".
EDIT_QUANTITY = re.compile(r"\b(?:make it|quantity (?:to|of)|change (?:it|that|the quantity|the qty) to|set (?:the )?"
                           r"(?:quantity|qty) to|(?:increase|raise|lower|reduce|decrease) (?:it |the quantity )?to)\s*"
                           r"(?P<qty>\d{1,3}(?:,\d{3})+|\d+)(?!\s*(?:%|\.\d))(?:\s+(?:units?|pieces?))?\s*(?:of (?P<item>[a-z][\w' -]*))?",
                           re.I)
EDIT_PRICE = re.compile(r"\b(?:price|unit price|cost)\b[^$\d]{0,20}\$?\s*(?P<price>\d+(?:\.\d{1,2})?)|"
                        r"\bmake it\s+\$\s*(?P<price2>\d+(?:\.\d{1,2})?)", re.I)
EDIT_ADD = re.compile(r"\b(?:add|plus|and also|also add)\s+(?P<rest>\d[\w\s$.,'-]*)", re.I)
EDIT_REMOVE = re.compile(r"\b(?:remove|drop|delete|take out|take off)\s+(?:the\s+)?(?P<item>[a-z][\w' -]*)", re.I)
EDIT_CHOOSE = re.compile(r"\b(?:use|take|pick|choose|switch to|go with)\s+the\s+(?P<item>[a-z][\w' -]*?)"
                         r"\s*(?:one|version|model|item)?\s*(?:instead)?\s*[.!?]?$", re.I)


def _line_for(lines: list[dict], words: str | None) -> dict | None:
    """The draft's line ``words`` names (by its item or what was typed), else the only or last line."""
    if words:
        wanted = set(norm_tokens(words)) - {"the", "one", "ones", "instead"}
        for line in lines:
            names = set(norm_tokens(f"{line.get('product_name') or ''} {line.get('query') or ''} {line.get('category') or ''}"))
            if wanted and wanted & names:
                return line
    return lines[-1] if lines else None


def _settle(draft: dict) -> dict:
    """Amounts, price checks and the total of an edited draft (stock and credit are checked by the API)."""
    problems = [p for p in draft.get("problems") or [] if not p.startswith(("no item with a quantity",))]
    for number, line in enumerate(draft["lines"], start=1):
        line["line_number"] = number
        price = line.get("unit_price")
        line["amount"] = round(line["quantity"] * price, 2) if price is not None else None
        if price is not None and line.get("min_price") is not None:
            line["price_in_range"] = float(line["min_price"]) <= price <= float(line["list_price"])
    draft["total"] = round(sum(line["amount"] or 0 for line in draft["lines"]), 2)
    draft["problems"] = problems
    return draft


def edit_draft(previous: dict, text: str, context) -> dict | None:
    """The open draft with the follow-up's edit applied, or None when the follow-up edits nothing."""
    import copy

    draft = copy.deepcopy(previous)
    lines = draft.get("lines") or []
    edits = []
    if m := EDIT_QUANTITY.search(text):
        line = _line_for(lines, m.group("item"))
        if line is not None:
            line["quantity"] = int(m.group("qty").replace(",", ""))
            edits.append(f"quantity of {line.get('product_name') or line['query']} to {line['quantity']:,}")
    if m := EDIT_PRICE.search(text):
        line = _line_for(lines, None if len(lines) == 1 else text)
        if line is not None:
            line["unit_price"] = float(m.group("price") or m.group("price2"))
            line.pop("price_from", None)
            edits.append(f"price of {line.get('product_name') or line['query']} to ${line['unit_price']:,.2f}")
    if m := EDIT_ADD.search(text):
        customer = (draft.get("customer") or {}).get("customer_name") or ""
        added = build_draft(f"create a sales order for {customer}: {m.group('rest')}", context)
        for line in added["lines"]:
            lines.append(line)
            edits.append(f"added {line['quantity']:,} {line.get('product_name') or line['query']}")
        draft["problems"] = (draft.get("problems") or []) + [p for p in added["problems"] if "customer" not in p]
    if (m := EDIT_REMOVE.search(text)) and not edits:
        line = _line_for(lines, m.group("item"))
        if line is not None and len(lines) > 1:
            lines.remove(line)
            edits.append(f"removed {line.get('product_name') or line['query']}")
    if (m := EDIT_CHOOSE.search(text)) and not edits:
        wanted = set(norm_tokens(m.group("item"))) - {"one", "instead"}
        for line in lines:
            choice = next((a for a in line.get("alternatives") or []
                           if wanted and wanted <= set(norm_tokens(a["product_name"]))), None)
            if choice is not None:
                old = {k: line.get(k) for k in ("product_id", "sku", "product_name", "list_price", "min_price")}
                line.update({k: choice[k] for k in ("product_id", "sku", "product_name", "list_price", "min_price")})
                line["alternatives"] = [a for a in line["alternatives"] if a is not choice] + [old]
                edits.append(f"{old['product_name']} replaced by {choice['product_name']}")
                break
    if not edits:
        return None
    draft["lines"] = lines
    draft["edits"] = (previous.get("edits") or []) + edits
    return _settle(draft)


@hookimpl
def register_agents():
    return [TransactionsAgent()]
