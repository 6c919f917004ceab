"""The write path: a sales order from a sentence (or a form) to NetSuite, exactly once.

    draft ──PATCH──▶ draft ──approve──▶ submitting ──▶ submitted
      │                                   │   ▲
      └──reject──▶ rejected               ▼   │ approve again (retry)
                                        failed ──reject──▶ rejected

- **Draft**: the transactions agent (or the form of ``POST /orders``) names a customer and lines; each is
  resolved against the marts within the caller's scope and checked: customer exists (fuzzy match, or
  choices when ambiguous), product in the catalogue, price within [min price, list price], stock available,
  credit (open balance + this order ≤ credit limit). The stored draft shows every check's result.
- **Approve** is a compare-and-set on the row (``UPDATE … WHERE status IN (draft, failed) OR its holder is
  gone``), so of any number of concurrent approvals exactly one goes on to NetSuite; the others get 409 (or
  the finished order). The one that goes on holds a lease: its identity (host, process id and the process's
  start, so a reused pid is not mistaken for it) and a heartbeat every ``SCC_API_SUBMIT_HEARTBEAT_SECONDS``
  are in the row. A retry takes the lease over at once when its holder is gone: its process no longer runs
  on this host, or its heartbeat stopped for three beats (a crash on another host); a live holder keeps it
  for at most ``SCC_API_SUBMIT_LEASE_SECONDS``. The order goes to NetSuite as an upsert by external id
  (``PUT salesOrder/eid:scc-<id>``), after looking that external id up first: a retry after a crash or a
  timeout finds the order that was already created and records it instead of sending it again. After any failure the order is looked up by
  its external id before the answer: found, it is submitted; otherwise the answer says whether NetSuite was
  asked and has none, or could not be asked.
- **Reject** of a transaction that was ever sent asks NetSuite first: an order it has is closed there through
  its API (recorded as ``netsuite_closed_at``); one it will not close is recorded as submitted and the
  rejection refused; nothing is rejected while NetSuite cannot be asked.
- Every step is written to the audit log with who and when.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import logging
import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from decimal import ROUND_HALF_UP, Decimal

import requests
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from api.db import Database
from api.models import (DRAFT, FAILED, REJECTED, SUBMITTED, SUBMITTING, AuditLog, Transaction, new_id,
                        utcnow)
from api.security import Scope
from api.services.warehouse import reader
from scc.config import Settings, get_settings, today

log = logging.getLogger("scc.api.writepath")

LEGAL = re.compile(r"\b(inc|incorporated|corp|corporation|llc|ltd|co|company|group|holdings|the)\b\.?")


class WriteError(Exception):
    status = 400

    def __init__(self, message: str, transaction: dict | None = None):
        super().__init__(message)
        self.message = message
        self.transaction = transaction


class NotFound(WriteError):
    status = 404


class Conflict(WriteError):
    status = 409


class Invalid(WriteError):
    status = 422


class SubmissionFailed(WriteError):
    status = 502


# --- the audit log ---------------------------------------------------------------------------------


def audit(session: Session, scope: Scope | None, action: str, entity_id: str | None, detail: dict | None = None,
          entity: str = "transaction", actor: str | None = None) -> None:
    session.add(AuditLog(actor=actor or (scope.user if scope else "system"), role=scope.role if scope else None,
                         action=action, entity=entity, entity_id=entity_id, detail=detail))


# --- resolving and checking a draft ----------------------------------------------------------------


def _norm(text: str) -> str:
    text = re.sub(r"[^a-z0-9& ]+", " ", (text or "").lower())
    return " ".join(text.split())


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    return [_singular(w) for w in _norm(text).split()]


def name_score(query: str, name: str) -> float:
    """How well a typed name matches a customer's name, 0..1 (1: the same name)."""
    q, n = _norm(query), _norm(name)
    if not q or not n:
        return 0.0
    if q == n:
        return 1.0
    q2, n2 = " ".join(LEGAL.sub(" ", q).split()), " ".join(LEGAL.sub(" ", n).split())
    if q2 and q2 == n2:
        return 0.97
    qw, nw = set(q2.split()), set(n2.split())
    if qw and qw <= nw:
        return 0.9 - 0.05 * min(len(nw - qw), 4)
    return difflib.SequenceMatcher(None, q2 or q, n2 or n).ratio() * 0.9


def _customers(r, scope: Scope) -> list[dict]:
    where, params = scope.where()
    return r.all(
        "SELECT customer_id, customer_name, netsuite_customer_id, rep_id, territory, region, credit_limit, "
        f"open_balance FROM marts.dim_customers WHERE {where} AND netsuite_customer_id IS NOT NULL",
        params,
    )


def _products(r) -> list[dict]:
    return r.all(
        "SELECT product_id, sku, product_name, category, list_price, min_price, quantity_available, is_active "
        "FROM marts.dim_products"
    )


def _preference(r, scope: Scope, customer: dict | None) -> dict:
    """How to order the other matches a draft offers: the items this customer has bought most (units, all
    time), then the best sellers of the last 90 days in the caller's scope."""
    where, params = scope.where("l")
    since = today() - dt.timedelta(days=90)
    best = {str(row["product_id"]): float(row["units"] or 0) for row in r.all(
        f"SELECT l.product_id, sum(l.quantity) AS units FROM marts.fct_order_lines l JOIN marts.fct_orders o "
        f"ON o.order_id = l.order_id WHERE {where} AND o.status_group <> 'cancelled' AND l.order_date > ? "
        f"GROUP BY l.product_id", [*params, since])}
    bought = {}
    if customer and customer.get("customer_id"):
        bought = {str(row["product_id"]): float(row["units"] or 0) for row in r.all(
            "SELECT l.product_id, sum(l.quantity) AS units FROM marts.fct_order_lines l JOIN marts.fct_orders o "
            "ON o.order_id = l.order_id WHERE o.customer_id = ? AND o.status_group <> 'cancelled' GROUP BY l.product_id",
            [customer["customer_id"]])}
    return {"bought": bought, "best": best, "customer_name": (customer or {}).get("customer_name")}


def _offered(others: list[dict], preference: dict | None) -> tuple[list[dict], str]:
    """The other matches a draft offers (at most 5), the customer's own favourites first, then the best
    sellers, and a note saying so."""
    note = ""
    if preference:
        bought, best = preference["bought"], preference["best"]
        others = sorted(others, key=lambda p: (-bought.get(str(p["product_id"]), 0.0), -best.get(str(p["product_id"]), 0.0)))
        favourites = any(bought.get(str(p["product_id"])) for p in others[:5])
        note = (f", the ones {preference['customer_name']} has bought most first, then the best sellers" if favourites
                else ", the best sellers first")
    choices = [{"product_id": p["product_id"], "sku": p["sku"], "product_name": p["product_name"],
                "list_price": p["list_price"], "min_price": p["min_price"]} for p in others[:5]]
    return choices, (f" ({len(choices)} other match(es) to choose from{note})" if choices else "")


def _customer_ref(row: dict) -> dict:
    return {k: row.get(k) for k in ("customer_id", "customer_name", "netsuite_customer_id", "rep_id", "territory",
                                    "region", "credit_limit", "open_balance")}


def resolve_customer(customers: list[dict], query: str | None, customer_id: str | None) -> tuple[dict | None, dict]:
    """(the customer, the check) for a typed name or a chosen id, among the customers the caller may see."""
    if customer_id:
        row = next((c for c in customers if str(c["customer_id"]) == str(customer_id)), None)
        if row is None:
            return None, {"ok": False, "message": f"no customer {customer_id} within your scope", "choices": []}
        return row, {"ok": True, "message": f"customer {row['customer_name']}", "choices": []}
    if not query or not query.strip():
        return None, {"ok": False, "message": "no customer named", "choices": []}
    scored = sorted(((name_score(query, c["customer_name"]), c) for c in customers),
                    key=lambda pair: (-pair[0], str(pair[1]["customer_name"])))
    scored = [(s, c) for s, c in scored if s >= 0.5]
    choices = [{"customer_id": c["customer_id"], "customer_name": c["customer_name"], "score": round(s, 2)}
               for s, c in scored[:5]]
    if not scored:
        return None, {"ok": False, "message": f"no customer matches {query!r}", "choices": []}
    best_score, best = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if best_score >= 0.85 and (best_score >= 0.97 and runner_up < 0.97 or best_score - runner_up >= 0.08):
        return best, {"ok": True, "message": f"{query!r} matched {best['customer_name']}",
                      "choices": choices[1:] if best_score < 1.0 else []}
    return None, {"ok": False, "message": f"{query!r} is ambiguous: choose one of the customers listed",
                  "choices": choices}


def _product_candidates(products: list[dict], query: str) -> list[tuple[float, dict]]:
    q = _norm(query)
    words = _words(query)
    out = []
    for p in products:
        if not p.get("is_active", True):
            continue
        sku = _norm(p.get("sku") or "")
        name_words = _words(p.get("product_name") or "")
        category_words = _words(p.get("category") or "")
        if q and q == sku:
            score = 1.0
        elif q and q == _norm(p.get("product_name") or ""):
            score = 0.99
        elif words and set(words) <= set(name_words):
            score = 0.9
        elif words and set(words) <= set(category_words):
            score = 0.8
        elif words and set(words) <= set(name_words) | set(category_words):
            score = 0.75
        else:
            continue
        out.append((score, p))
    return out


def resolve_product(products: list[dict], query: str | None, product_id, quantity: float,
                    unit_price: float | None, suggested: bool = False,
                    preference: dict | None = None) -> tuple[dict | None, dict]:
    """(the item, the product check): an id, a SKU, a name or a category ("hats"); among several items the one
    whose price range takes the asked price and whose stock covers the quantity, the others as choices.
    ``suggested``: ``product_id`` is the agent's pick for ``query``, preferred among items that fit equally."""
    if product_id not in (None, "") and not (suggested and query):
        row = next((p for p in products if str(p["product_id"]) == str(product_id)), None)
        if row is None:
            return None, {"ok": False, "message": f"no product {product_id} in the catalogue", "choices": []}
        if not row.get("is_active", True):
            return row, {"ok": False, "message": f"{row['sku']} is no longer sold", "choices": []}
        # a person's pick among the matches of what was asked ("hats"): the others stay to choose from
        others = [p for _, p in _product_candidates(products, query) if str(p["product_id"]) != str(product_id)] \
            if query and query.strip() else []
        choices, more = _offered(others, preference)
        return row, {"ok": True, "message": f"{row['sku']} {row['product_name']}{more}", "choices": choices}
    if not query or not query.strip():
        return None, {"ok": False, "message": "no product named", "choices": []}
    candidates = _product_candidates(products, query)
    pick = str(product_id) if product_id not in (None, "") else None
    if pick and not any(str(p["product_id"]) == pick for _, p in candidates):
        candidates += [(0.95, p) for p in products if str(p["product_id"]) == pick and p.get("is_active", True)]
    if not candidates:
        return None, {"ok": False, "message": f"no product in the catalogue matches {query!r}", "choices": []}

    def rank(pair):
        # an exact SKU or name wins; among partial matches ("hats"), the item that fits the order wins
        score, p = pair
        exact = score >= 0.99
        in_range = unit_price is None or (float(p["min_price"] or 0) <= unit_price <= float(p["list_price"] or 0))
        in_stock = float(p.get("quantity_available") or 0) >= quantity
        return (not exact, not in_range, not in_stock, str(p["product_id"]) != pick, -score, str(p["sku"]))

    candidates.sort(key=rank)
    best = candidates[0][1]
    # the count said is the count offered (the best few of the other matches)
    choices, more = _offered([p for _, p in candidates[1:]], preference)
    return best, {"ok": True, "message": f"{query!r} matched {best['sku']} {best['product_name']}{more}",
                  "choices": choices}


def _money(value) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def price_check(price: float, low: float, high: float) -> dict:
    if low <= price <= high:
        return {"ok": True, "message": f"{price:,.2f} is within {low:,.2f}–{high:,.2f}"}
    return {"ok": False, "message": f"{price:,.2f} is outside the allowed {low:,.2f}–{high:,.2f}"}


def stock_checks(lines: list[dict]) -> dict[int, dict]:
    """The stock check of each line with an item: the quantities of every line of the same item together
    against what is available (two lines of 300 of an item with 400 in stock ask 600, not 300 twice)."""
    asked: dict[str, float] = {}
    numbers: dict[str, list[int]] = {}
    for line in lines:
        if line.get("product_id") is not None and (line.get("quantity") or 0) > 0:
            item = str(line["product_id"])
            asked[item] = asked.get(item, 0.0) + float(line["quantity"])
            numbers.setdefault(item, []).append(line["line"])
    checks = {}
    for line in lines:
        if line.get("product_id") is None:
            continue
        item = str(line["product_id"])
        available, total = float(line.get("quantity_available") or 0), asked.get(item, 0.0)
        together = numbers.get(item, [])
        wanted = (f"{total:,.0f} asked on lines {', '.join(map(str, together))} together" if len(together) > 1
                  else f"{total:,.0f} asked")
        checks[line["line"]] = ({"ok": True, "message": f"{available:,.0f} available, {wanted}"}
                                if total <= available else
                                {"ok": False, "message": f"only {available:,.0f} available, {wanted}"})
    return checks


def credit_check(customer: dict | None, total: float) -> dict:
    """Open balance + this order within the customer's credit limit (``credit_limit``, ``open_balance``)."""
    if customer is None:
        return {"ok": None, "message": "not checked: no customer yet"}
    if customer.get("credit_limit") is None:
        return {"ok": True, "message": "the customer has no credit limit"}
    limit, balance = float(customer["credit_limit"]), float(customer.get("open_balance") or 0)
    if balance + total <= limit + 0.005:
        return {"ok": True, "message": f"open balance {balance:,.2f} + this order {total:,.2f} is within the "
                                       f"limit of {limit:,.2f}"}
    return {"ok": False, "message": f"open balance {balance:,.2f} + this order {total:,.2f} exceeds the limit of "
                                    f"{limit:,.2f} (headroom {limit - balance:,.2f})"}


def build_draft(request: dict, scope: Scope, settings: Settings | None = None) -> tuple[dict, dict, bool]:
    """Resolve and check a requested order. ``request``: ``{"customer": {"query"|"customer_id"}, "lines":
    [{"query"|"product_id", "quantity", "unit_price"}], "memo"}``. Returns (draft, checks, valid)."""
    with reader(settings) as r:
        customers = _customers(r, scope)
        products = _products(r)
    wanted_customer = request.get("customer") or {}
    customer, customer_check = resolve_customer(customers, wanted_customer.get("query"),
                                                wanted_customer.get("customer_id"))
    with reader(settings) as r:
        preference = _preference(r, scope, customer)
    lines, line_checks = [], []
    for number, wanted in enumerate(request.get("lines") or [], start=1):
        quantity = float(wanted.get("quantity") or 0)
        asked_price = wanted.get("unit_price")
        asked_price = None if asked_price is None else float(asked_price)
        product, product_check = resolve_product(products, wanted.get("query"), wanted.get("product_id"), quantity,
                                                 asked_price, suggested=bool(wanted.get("suggested")),
                                                 preference=preference)
        line = {"line": number, "query": wanted.get("query"), "quantity": quantity, "unit_price": asked_price}
        check = {"line": number, "product": product_check}
        if quantity <= 0:
            check["quantity"] = {"ok": False, "message": "the quantity must be more than zero"}
        if product is not None:
            price = asked_price if asked_price is not None else float(product["list_price"] or 0)
            low, high = float(product["min_price"] or 0), float(product["list_price"] or 0)
            line.update(product_id=product["product_id"], sku=product["sku"], product_name=product["product_name"],
                        unit_price=_money(price), amount=_money(price * quantity), list_price=high, min_price=low,
                        quantity_available=float(product.get("quantity_available") or 0))
            check["price"] = price_check(price, low, high)
        lines.append(line)
        line_checks.append(check)
    stock = stock_checks(lines)
    for check in line_checks:
        if check["line"] in stock:
            check["stock"] = stock[check["line"]]
    total = _money(sum(line.get("amount") or 0 for line in lines))
    credit = credit_check(customer, total)
    lines_check = {"ok": bool(lines), "message": f"{len(lines)} line(s)" if lines else "no order lines"}
    all_checks = [customer_check, credit, lines_check] + [
        c for check in line_checks for key, c in check.items() if key != "line"
    ]
    valid = customer is not None and all(c["ok"] is not False for c in all_checks)
    draft = {
        "customer": {**_customer_ref(customer), "query": wanted_customer.get("query")} if customer
        else {"query": wanted_customer.get("query"), "customer_id": wanted_customer.get("customer_id")},
        "lines": lines,
        "memo": request.get("memo"),
        "total": total,
        "currency": "USD",
        "tran_date": today().isoformat(),
    }
    checks = {"customer": customer_check, "lines": line_checks, "credit": credit, "has_lines": lines_check,
              "valid": valid}
    return draft, checks, valid


def recheck(draft: dict, checks: dict, world: dict) -> tuple[dict, list[str]]:
    """The draft's price, stock and credit checks again on the world as it is now (``world`` from
    :meth:`NetSuiteWriter.current_facts`: each item's prices, stock and whether it is sold, the customer's
    credit limit and balance). Returns (the checks with those results, the names of the failed ones)."""
    items, customer = world.get("items", {}), world.get("customer")
    lines = [{**line, "quantity_available": (items.get(str(line.get("product_id"))) or {}).get("available", 0.0)}
             for line in draft.get("lines") or []]
    stock = stock_checks(lines)
    line_checks = []
    for line, old in zip(lines, checks.get("lines") or [{} for _ in lines]):
        item = items.get(str(line.get("product_id")))
        check = {**old, "line": line["line"]}
        if item is None or not item["active"]:
            check["product"] = {"ok": False, "message": f"{line.get('sku') or line.get('product_id')} is no longer "
                                                       "sold", "choices": []}
        else:
            check["price"] = price_check(float(line.get("unit_price") or 0), item["min_price"], item["list_price"])
            check["stock"] = stock[line["line"]]
        line_checks.append(check)
    credit = credit_check(customer, float(draft.get("total") or 0)) if customer is not None else \
        {"ok": False, "message": "the customer is no longer in NetSuite"}
    rechecked = {**checks, "lines": line_checks, "credit": credit}
    failed = failed_checks(rechecked)
    rechecked["valid"] = not failed
    return rechecked, failed


def request_of(draft: dict) -> dict:
    """The request a stored draft answers (to check it again after an edit)."""
    customer = draft.get("customer") or {}
    return {
        "customer": {"customer_id": customer.get("customer_id"), "query": customer.get("query")},
        "lines": [{"product_id": line.get("product_id"), "query": line.get("query"),
                   "quantity": line.get("quantity"), "unit_price": line.get("unit_price")}
                  for line in draft.get("lines") or []],
        "memo": draft.get("memo"),
    }


# --- transactions ---------------------------------------------------------------------------------


NO_LEASE = {"lease_until": None, "lease_holder": None, "lease_heartbeat_at": None}  # the lease ended


def _update():
    """An UPDATE of transactions whose WHERE clause is the compare-and-set (no ORM state to synchronise)."""
    return update(Transaction).execution_options(synchronize_session=False)


def visible(tx: Transaction, scope: Scope) -> bool:
    return tx.created_by == scope.user or scope.covers(tx.rep_id, tx.territory)


def _visible_condition(scope: Scope):
    """:func:`visible` as SQL (None: every row): the caller's own drafts, plus those of the book they cover,
    named by an explicit value, never a NULL that would match every draft without a customer."""
    if scope.sees_everything:
        return None
    owned = Transaction.created_by == scope.user
    if scope.role == "sales_manager" and scope.territory:
        return or_(owned, and_(Transaction.territory.is_not(None), Transaction.territory == scope.territory))
    if scope.role == "sales_rep" and scope.rep_id:
        return or_(owned, and_(Transaction.rep_id.is_not(None), Transaction.rep_id == scope.rep_id))
    return owned


def as_dict(tx: Transaction, audit_rows: list[AuditLog] | None = None) -> dict:
    out = {
        "id": tx.id,
        "kind": tx.kind,
        "status": tx.status,
        "sentence": tx.sentence,
        "draft": tx.draft,
        "checks": tx.checks,
        "valid": tx.valid,
        "total": float(tx.total or 0),
        "customer_id": tx.customer_id,
        "rep_id": tx.rep_id,
        "territory": tx.territory,
        "created_by": tx.created_by,
        "created_at": _iso(tx.created_at),
        "updated_at": _iso(tx.updated_at),
        "approved_by": tx.approved_by,
        "approved_at": _iso(tx.approved_at),
        "external_id": tx.external_id,
        "netsuite": {"id": tx.netsuite_id, "number": tx.netsuite_number} if tx.netsuite_id else None,
        "submitted_at": _iso(tx.submitted_at),
        "netsuite_closed_at": _iso(tx.netsuite_closed_at),
        "attempts": tx.attempts,
        "last_error": tx.last_error,
        "retryable": tx.status == FAILED,
        "lease": {"holder": tx.lease_holder, "heartbeat_at": _iso(tx.lease_heartbeat_at),
                  "until": _iso(tx.lease_until)} if tx.status == SUBMITTING else None,
        "version": tx.version,
        "pdf_key": tx.pdf_key,
        "links": {"self": f"/api/v1/transactions/{tx.id}", "pdf": f"/api/v1/transactions/{tx.id}/pdf",
                  **({"document": f"/api/v1/documents/{tx.pdf_key}"} if tx.pdf_key else {})},
    }
    if audit_rows is not None:
        out["audit"] = [{"at": _iso(a.at), "actor": a.actor, "role": a.role, "action": a.action, "detail": a.detail}
                        for a in audit_rows]
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None


def _apply(tx: Transaction, draft: dict, checks: dict, valid: bool) -> None:
    customer = draft.get("customer") or {}
    tx.draft, tx.checks, tx.valid = draft, checks, valid
    tx.total = Decimal(str(draft.get("total") or 0))
    tx.customer_id = customer.get("customer_id") if customer.get("customer_name") else None
    tx.rep_id = customer.get("rep_id") if tx.customer_id else None
    tx.territory = customer.get("territory") if tx.customer_id else None


def requested_order(customer_id: str | None, customer: str | None, lines: list[dict], memo: str | None) -> dict:
    """An order given as data (a form, an MCP client), in the shape :func:`create` takes: lines of
    ``product_id`` or ``product`` (words to match), ``quantity`` and ``unit_price``."""
    return {"customer": {"customer_id": customer_id, "query": customer},
            "lines": [{"product_id": line.get("product_id"), "query": line.get("product"), "quantity": line["quantity"],
                       "unit_price": line.get("unit_price")} for line in lines],
            "memo": memo}


def create(db: Database, scope: Scope, request: dict, sentence: str | None = None,
           settings: Settings | None = None, extraction: dict | None = None) -> dict:
    """A new draft from a requested order (already extracted from the sentence, if any)."""
    draft, checks, valid = build_draft(request, scope, settings)
    if extraction:
        draft["extraction"] = extraction
    tx_id = new_id()
    tx = Transaction(id=tx_id, status=DRAFT, sentence=sentence, created_by=scope.user, external_id=f"scc-{tx_id}",
                     attempts=0, version=1, created_at=utcnow(), updated_at=utcnow(), kind="sales_order")
    _apply(tx, draft, checks, valid)
    with db.session() as session:
        session.add(tx)
        audit(session, scope, "create", tx_id, {"sentence": sentence, "valid": valid, "total": draft["total"],
                                                 "failed_checks": failed_checks(checks)})
        session.commit()
    return as_dict(tx)


def failed_checks(checks: dict) -> list[str]:
    out = [name for name in ("customer", "credit", "has_lines") if checks.get(name, {}).get("ok", True) is False]
    for line in checks.get("lines", []):
        out += [f"line {line['line']} {key}" for key, c in line.items() if key != "line" and c["ok"] is False]
    return out


def load(session: Session, scope: Scope, tx_id: str) -> Transaction:
    tx = session.get(Transaction, tx_id)
    if tx is None or not visible(tx, scope):
        raise NotFound(f"no transaction {tx_id}")
    return tx


def get(db: Database, scope: Scope, tx_id: str, with_audit: bool = True) -> dict:
    with db.session() as session:
        tx = load(session, scope, tx_id)
        rows = None
        if with_audit:
            rows = session.scalars(select(AuditLog).where(AuditLog.entity == "transaction", AuditLog.entity_id == tx_id)
                                   .order_by(AuditLog.id)).all()
        return as_dict(tx, rows)


def list_visible(db: Database, scope: Scope, status: str | None, limit: int, cursor: str | None) -> dict:
    with db.session() as session:
        query = select(Transaction)
        if (condition := _visible_condition(scope)) is not None:
            query = query.where(condition)
        if status:
            query = query.where(Transaction.status == status)
        if cursor:
            try:
                created, tx_id = cursor.split("~", 1)
                stamp = dt.datetime.fromisoformat(created)
            except ValueError:
                raise WriteError("the cursor is not valid; use next_cursor from a previous page") from None
            query = query.where(or_(Transaction.created_at < stamp,
                                    and_(Transaction.created_at == stamp, Transaction.id < tx_id)))
        rows = session.scalars(query.order_by(Transaction.created_at.desc(), Transaction.id.desc())
                               .limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = f"{rows[-1].created_at.isoformat()}~{rows[-1].id}" if more and rows else None
    return {"items": [as_dict(tx) for tx in rows], "next_cursor": next_cursor, "limit": limit}


def edit(db: Database, scope: Scope, tx_id: str, changes: dict, settings: Settings | None = None) -> dict:
    """Apply a person's edits to a draft and check it again (only drafts can change)."""
    with db.session() as session:
        tx = load(session, scope, tx_id)
        if tx.status != DRAFT:
            raise Conflict(f"a {tx.status} transaction cannot be edited", as_dict(tx))
        version = tx.version
        request = request_of(tx.draft)
        if changes.get("customer_id") is not None:
            request["customer"] = {"customer_id": changes["customer_id"]}
        elif changes.get("customer") is not None:
            request["customer"] = {"query": changes["customer"]}
        if changes.get("lines") is not None:
            request["lines"] = changes["lines"]
        if "memo" in changes and changes["memo"] is not None:
            request["memo"] = changes["memo"]
    draft, checks, valid = build_draft(request, scope, settings)
    if (tx.draft or {}).get("extraction"):
        draft["extraction"] = tx.draft["extraction"]
    customer = draft.get("customer") or {}
    known = bool(customer.get("customer_name"))
    with db.session() as session:
        result = session.execute(
            _update()
            .where(Transaction.id == tx_id, Transaction.status == DRAFT, Transaction.version == version)
            .values(draft=draft, checks=checks, valid=valid, total=Decimal(str(draft["total"])),
                    customer_id=customer.get("customer_id") if known else None,
                    rep_id=customer.get("rep_id") if known else None,
                    territory=customer.get("territory") if known else None,
                    updated_at=utcnow(), version=Transaction.version + 1)
        )
        if result.rowcount != 1:
            session.rollback()
            raise Conflict("the transaction changed while it was being edited; load it and try again")
        audit(session, scope, "edit", tx_id, {"changes": changes, "valid": valid,
                                              "failed_checks": failed_checks(checks)})
        session.commit()
    return get(db, scope, tx_id)


def reject(db: Database, scope: Scope, tx_id: str, reason: str | None = None,
           settings: Settings | None = None) -> dict:
    """Reject a draft or a failed submission. One that was ever sent for approval may be in NetSuite (the
    upsert can go through while its answer is lost): NetSuite is asked first, and an order it has is closed
    there through its API (or, when NetSuite refuses, the transaction is recorded as the submitted order it is
    and the rejection refused). Nothing is rejected while NetSuite cannot be asked."""
    with db.session() as session:
        tx = load(session, scope, tx_id)
        if tx.status not in (DRAFT, FAILED):
            where = f" (its order is in NetSuite as {tx.netsuite_number}; close it there)" if tx.netsuite_id else ""
            raise Conflict(f"a {tx.status} transaction cannot be rejected{where}", as_dict(tx))
        previous, attempt = tx.status, tx.attempts
    now, me = utcnow(), lease_holder()
    never_sent = attempt == 0
    settings = settings or get_settings()
    # never sent: rejected here; else held (as an approval holds it) while NetSuite is asked
    values = (dict(status=REJECTED, **NO_LEASE) if never_sent else
              dict(status=SUBMITTING, lease_holder=me, lease_heartbeat_at=now,
                   lease_until=now + dt.timedelta(seconds=settings.api_submit_lease_seconds)))
    with db.session() as session:
        result = session.execute(
            _update().where(Transaction.id == tx_id, Transaction.status == previous, Transaction.attempts == attempt)
            .values(**values, updated_at=now, version=Transaction.version + 1)
        )
        if result.rowcount != 1:
            session.rollback()
            raise Conflict("the transaction changed while it was being rejected; load it and try again",
                           get(db, scope, tx_id))
        if never_sent:
            audit(session, scope, "reject", tx_id, {"reason": reason})
        session.commit()
    if not never_sent:
        with Heartbeat(db, tx_id, attempt, me, settings.api_submit_heartbeat_seconds):
            _reject_sent(db, scope, tx, previous, me, reason, settings)
    return get(db, scope, tx_id)


def _reject_sent(db: Database, scope: Scope, tx: Transaction, previous: str, me: str, reason: str | None,
                 settings: Settings) -> None:
    """The rejection of a transaction that was sent for approval before, its row held by ``me``."""
    def finish(actions: list[tuple[str, dict]], **values) -> None:
        with db.session() as session:
            session.execute(
                _update().where(Transaction.id == tx.id, Transaction.status == SUBMITTING,
                                Transaction.attempts == tx.attempts, Transaction.lease_holder == me)
                .values(**values, **NO_LEASE, updated_at=utcnow(), version=Transaction.version + 1)
            )
            for action, detail in actions:
                audit(session, scope, action, tx.id, detail)
            session.commit()

    writer = NetSuiteWriter(settings)
    try:
        record, failure = writer.look_up(tx.external_id)
        if failure is not None:
            message = (f"nothing was rejected: NetSuite could not be asked whether it has the order ({failure}), "
                       "and it may (a failed approval can have gone through); try again")
            finish([("reject_refused", {"reason": reason, "error": failure})], status=previous)
            raise SubmissionFailed(message, get(db, scope, tx.id))
        if record is None:
            finish([("reject", {"reason": reason, "in_netsuite": False})], status=REJECTED)
            return
        order_id, number = str(record["id"]), record.get("tranId")
        found = {"netsuite_id": order_id, "netsuite_number": number}
        status = (record.get("orderStatus") or {}).get("id")
        if status in ("C", "H"):  # cancelled or closed in NetSuite already
            finish([("reject", {"reason": reason, "in_netsuite": True, **found, "already": status})],
                   status=REJECTED, netsuite_id=order_id, netsuite_number=number, netsuite_closed_at=utcnow())
            return
        try:
            closed = writer.close_order(order_id)
        except NetSuiteRefused as error:
            message = (f"the order is in NetSuite as {number} (id {order_id}) and NetSuite refused to close it "
                       f"({error}); the transaction is recorded as that submitted order. Close or cancel it in "
                       "NetSuite.")
            finish([("submitted", {**found, "found_existing": True, "found_at": "reject"}),
                    ("reject_refused", {"reason": reason, **found, "error": str(error)})],
                   status=SUBMITTED, netsuite_id=order_id, netsuite_number=number, submitted_at=utcnow(),
                   last_error=None)
            raise Conflict(message, get(db, scope, tx.id)) from error
        except NetSuiteError as error:
            message = (f"nothing was rejected: the order is in NetSuite as {number} (id {order_id}) and closing it "
                       f"there failed ({error}); reject again to close it, or approve it to keep it")
            finish([("reject_refused", {"reason": reason, **found, "error": str(error)})], status=previous,
                   last_error=message)
            raise SubmissionFailed(message, get(db, scope, tx.id)) from error
        finish([("closed_in_netsuite", {**found, "order_status": (closed.get("orderStatus") or {}).get("id")}),
                ("reject", {"reason": reason, "in_netsuite": True, **found})],
               status=REJECTED, netsuite_id=order_id, netsuite_number=number, netsuite_closed_at=utcnow())
    finally:
        writer.close()


# --- NetSuite -------------------------------------------------------------------------------------


class NetSuiteError(Exception):
    pass


class NetSuiteRefused(NetSuiteError):
    """NetSuite answered and refused (a 4xx: the request will not succeed as it is)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class NetSuiteWriter:
    """The record service calls of the write path: look up by external id, upsert by external id, read."""

    def __init__(self, settings: Settings):
        from pipelines.http import ResilientSession
        from pipelines.netsuite.client import netsuite_auth

        self.base = settings.netsuite_url
        self.session = ResilientSession(max_retries=settings.api_netsuite_retries,
                                        timeout=settings.api_netsuite_timeout, base_delay=0.2, max_delay=2.0)
        self.session.auth = netsuite_auth(settings)  # signs every attempt anew

    def close(self) -> None:
        self.session.close()

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return self.session.request(method, f"{self.base}/record/v1/{path}", **kwargs)
        except requests.RequestException as error:
            raise NetSuiteError(f"NetSuite did not answer: {type(error).__name__}: {error}") from error

    @staticmethod
    def _detail(response: requests.Response) -> str:
        try:
            details = response.json().get("o:errorDetails") or []
            text = "; ".join(f"{d.get('o:errorCode')}: {d.get('detail')}" for d in details)
        except ValueError:
            text = response.text[:300]
        return f"NetSuite answered {response.status_code}" + (f" ({text})" if text else "")

    def find_by_external_id(self, external_id: str) -> dict | None:
        response = self._call("GET", f"salesOrder/eid:{external_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise NetSuiteError(self._detail(response))
        return response.json()

    def look_up(self, external_id: str) -> tuple[dict | None, str | None]:
        """(the order NetSuite has under an external id or None, None) when NetSuite answered; (None, what
        failed) when it could not be asked."""
        try:
            return self.find_by_external_id(external_id), None
        except NetSuiteError as error:
            return None, str(error)

    def close_order(self, order_id: str) -> dict:
        """Close a sales order (``orderStatus`` Closed: its open lines closed, their stock released) and
        return the record as NetSuite has it then."""
        response = self._call("PATCH", f"salesOrder/{order_id}", json={"orderStatus": {"id": "H"}})
        if 400 <= response.status_code < 500 and response.status_code != 429:
            raise NetSuiteRefused(self._detail(response), response.status_code)
        if response.status_code not in (200, 204):
            raise NetSuiteError(self._detail(response))
        return self.get(order_id)

    def upsert(self, external_id: str, payload: dict) -> str:
        response = self._call("PUT", f"salesOrder/eid:{external_id}", json=payload)
        if response.status_code not in (200, 201, 204):
            raise NetSuiteError(self._detail(response))
        location = response.headers.get("Location", "")
        order_id = location.rstrip("/").rsplit("/", 1)[-1]
        if not order_id or order_id.startswith("eid:"):
            record = self.find_by_external_id(external_id)
            if record is None:
                raise NetSuiteError("NetSuite accepted the order but does not find it by its external id")
            return str(record["id"])
        return order_id

    def get(self, order_id: str) -> dict:
        response = self._call("GET", f"salesOrder/{order_id}")
        if response.status_code != 200:
            raise NetSuiteError(self._detail(response))
        return response.json()

    def _suiteql(self, query: str) -> list[dict]:
        try:
            response = self.session.post(f"{self.base}/query/v1/suiteql", params={"limit": 1000},
                                         json={"q": query}, headers={"Prefer": "transient"})
        except requests.RequestException as error:
            raise NetSuiteError(f"NetSuite did not answer: {type(error).__name__}: {error}") from error
        if response.status_code != 200:
            raise NetSuiteError(self._detail(response))
        return response.json().get("items") or []

    def current_facts(self, customer_id, item_ids) -> dict:
        """What the checks of a draft depend on, as NetSuite has it now: each item's list and minimum price,
        units available (all locations) and whether it is sold; the customer's credit limit and balance."""
        def number(value) -> float | None:
            return None if value in (None, "") else float(value)

        ids = sorted({int(i) for i in item_ids})  # ints only: nothing but digits reaches the query
        items = {}
        if ids:
            listed = ", ".join(map(str, ids))
            stock = {str(row["item"]): number(row.get("available")) or 0.0 for row in self._suiteql(
                "SELECT item, SUM(quantityavailable) AS available FROM inventoryitemlocations "
                f"WHERE item IN ({listed}) GROUP BY item")}
            for row in self._suiteql("SELECT id, baseprice, custitem_scc_min_price, isinactive FROM item "
                                     f"WHERE id IN ({listed})"):
                items[str(row["id"])] = {"list_price": number(row.get("baseprice")) or 0.0,
                                         "min_price": number(row.get("custitem_scc_min_price")) or 0.0,
                                         "available": stock.get(str(row["id"]), 0.0),
                                         "active": row.get("isinactive") != "T"}
        rows = self._suiteql(f"SELECT id, creditlimit, balance FROM customer WHERE id = {int(customer_id)}")
        customer = ({"credit_limit": number(rows[0].get("creditlimit")),
                     "open_balance": number(rows[0].get("balance")) or 0.0} if rows else None)
        return {"items": items, "customer": customer}


def netsuite_payload(tx: Transaction) -> dict:
    draft = tx.draft
    customer = draft["customer"]
    memo = draft.get("memo") or f"Sales Command Center {tx.id}, approved by {tx.approved_by}"
    return {
        "entity": {"id": str(customer["netsuite_customer_id"])},
        "tranDate": draft.get("tran_date") or today().isoformat(),
        "externalId": tx.external_id,
        "memo": memo,
        "item": {"items": [{"item": {"id": str(line["product_id"])}, "quantity": line["quantity"],
                            "rate": line["unit_price"]} for line in draft["lines"]]},
    }


# --- the submission lease: who holds it, and whether they still live ----------------------------------


def _process_start(pid: int) -> str | None:
    """When a running process started (clock ticks since boot), or None when no such process runs (a zombie,
    killed and not yet reaped, does not run). Where there is no /proc, only whether the pid exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "0"
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (command)": state is field 3, starttime 22
    return None if fields[0] in ("Z", "X", "x") else fields[19]


def lease_holder() -> str:
    """This process as a lease holder: ``<host>:<pid>:<process start>``."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid)}"


def holder_gone(holder: str | None) -> bool:
    """Whether the process that holds a lease is known to be gone: on this host, no process runs with its pid
    and start. (Of another host's processes nothing is known here: their heartbeat tells.)"""
    try:
        host, pid, start = (holder or "").rsplit(":", 2)
        pid = int(pid)
    except ValueError:
        return False
    return host == socket.gethostname() and _process_start(pid) != start


def _describe_holder(tx: Transaction, now: dt.datetime) -> str:
    host, _, rest = (tx.lease_holder or "").partition(":")
    pid = rest.split(":", 1)[0]
    beat = (f", heartbeat {max(0.0, (now - tx.lease_heartbeat_at).total_seconds()):.0f} s ago"
            if tx.lease_heartbeat_at else "")
    until = (f"; it finishes, or its lease ends within {max(0.0, (tx.lease_until - now).total_seconds()):.0f} s"
             if tx.lease_until else "")
    return (f" by another request (process {pid} on {host}{beat}){until}" if tx.lease_holder
            else f" by another request{until}")


class Heartbeat:
    """While a submission runs, a thread stamps ``lease_heartbeat_at`` every ``interval`` seconds (only while
    this holder still holds this attempt's lease)."""

    def __init__(self, db: Database, tx_id: str, attempt: int, holder: str, interval: float):
        self.db, self.tx_id, self.attempt, self.holder, self.interval = db, tx_id, attempt, holder, interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"lease-heartbeat-{tx_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                with self.db.session() as session:
                    session.execute(
                        _update().where(Transaction.id == self.tx_id, Transaction.status == SUBMITTING,
                                        Transaction.attempts == self.attempt, Transaction.lease_holder == self.holder)
                        .values(lease_heartbeat_at=utcnow())
                    )
                    session.commit()
            except Exception:  # noqa: BLE001 - a missed beat is no failure; three in a row let a retry take over
                log.warning("could not record the heartbeat of transaction %s", self.tx_id, exc_info=True)


@dataclass
class Submission:
    transaction: dict
    found_existing: bool = False


def approve(db: Database, scope: Scope, tx_id: str, settings: Settings, metrics=None) -> Submission:
    """Approve a draft (or retry a failed or abandoned submission) and send it to NetSuite, exactly once."""
    with db.session() as session:
        tx = load(session, scope, tx_id)
        if tx.status == SUBMITTED:
            return Submission(as_dict(tx))
        if tx.status == REJECTED:
            raise Conflict("the transaction was rejected", as_dict(tx))
        if not tx.valid:
            raise Invalid("the draft does not pass its checks: " + ", ".join(failed_checks(tx.checks)), as_dict(tx))
        previous, seen_holder, seen_attempt = tx.status, tx.lease_holder, tx.attempts
    now, me = utcnow(), lease_holder()
    # a submitting row is taken over when its lease ran out, its heartbeat stopped, or (seen just now) its
    # holder's process is gone; the attempt number makes the take-over of a dead holder happen once
    silent = now - dt.timedelta(seconds=3 * settings.api_submit_heartbeat_seconds)
    abandoned = or_(Transaction.lease_until < now, Transaction.lease_heartbeat_at < silent)
    dead = previous == SUBMITTING and holder_gone(seen_holder)
    if dead:
        abandoned = or_(abandoned, and_(Transaction.lease_holder == seen_holder, Transaction.attempts == seen_attempt))
    with db.session() as session:
        result = session.execute(
            _update()
            .where(Transaction.id == tx_id, Transaction.valid.is_(True),
                   or_(Transaction.status.in_([DRAFT, FAILED]), and_(Transaction.status == SUBMITTING, abandoned)))
            .values(status=SUBMITTING, attempts=Transaction.attempts + 1, approved_by=scope.user, approved_at=now,
                    lease_until=now + dt.timedelta(seconds=settings.api_submit_lease_seconds), lease_holder=me,
                    lease_heartbeat_at=now, updated_at=now, version=Transaction.version + 1)
        )
        if result.rowcount != 1:
            session.rollback()
            tx = session.get(Transaction, tx_id)
            if tx.status == SUBMITTED:
                return Submission(as_dict(tx))
            audit(session, scope, "approve_refused", tx_id, {"status": tx.status, "holder": tx.lease_holder})
            session.commit()
            by_whom = _describe_holder(tx, utcnow()) if tx.status == SUBMITTING else ""
            raise Conflict(f"the transaction is {tx.status}{by_whom}", as_dict(tx))
        tx = session.get(Transaction, tx_id)
        session.refresh(tx)
        attempt = tx.attempts
        detail = {"attempt": attempt, "previous_status": previous, "holder": me}
        if previous == SUBMITTING:
            detail["took_over_from"] = {"holder": seen_holder, "why": "its process is gone" if dead
                                        else "its heartbeat stopped or its lease ran out"}
        audit(session, scope, "approve" if previous == DRAFT else "retry", tx_id, detail)
        session.commit()
    with Heartbeat(db, tx_id, attempt, me, settings.api_submit_heartbeat_seconds):
        return _submit(db, scope, tx, attempt, settings, metrics)


def _submit(db: Database, scope: Scope, tx: Transaction, attempt: int, settings: Settings, metrics) -> Submission:
    writer = NetSuiteWriter(settings)
    found_existing, failure = False, None
    try:
        try:
            record = writer.find_by_external_id(tx.external_id)
            if record is not None:
                found_existing = True
            else:
                _recheck_at_approval(db, scope, tx, attempt, writer)
                with db.session() as session:
                    audit(session, scope, "send", tx.id, {"attempt": attempt, "external_id": tx.external_id})
                    session.commit()
                order_id = writer.upsert(tx.external_id, netsuite_payload(tx))
                record = writer.get(order_id)
        except NetSuiteError as error:
            # a failure says nothing of whether NetSuite has the order (the upsert may have gone through and
            # only its answer or the read-back failed): look it up by its external id before answering
            failure = str(error)
            record, looked_up = writer.look_up(tx.external_id)
            if record is None:
                message = (f"NetSuite did not take the order: {error}. NetSuite does not have it (looked up by its "
                           f"external id {tx.external_id}); it can be approved again (retry)." if looked_up is None
                           else f"NetSuite failed: {error}. Whether NetSuite has the order is not known: looking it "
                           f"up by its external id {tx.external_id} failed too ({looked_up}). Approving again looks "
                           "it up first and never makes a second order; rejecting it checks NetSuite first.")
                _record_failure(db, scope, tx.id, attempt, message, in_netsuite=None if looked_up else False)
                if metrics:
                    metrics.submissions.labels("failed").inc()
                raise SubmissionFailed(message, get(db, scope, tx.id)) from error
            found_existing = True
    except Invalid:
        if metrics:
            metrics.submissions.labels("refused_at_approval").inc()
        raise
    finally:
        writer.close()
    _record_success(db, scope, tx.id, str(record["id"]), record.get("tranId"), found_existing, after_error=failure)
    if metrics:
        metrics.submissions.labels("found_existing" if found_existing else "created").inc()
    result = store_pdf(db, scope, get(db, scope, tx.id), settings)
    _announce(result, settings)
    return Submission(result, found_existing)


def _recheck_at_approval(db: Database, scope: Scope, tx: Transaction, attempt: int, writer: NetSuiteWriter) -> None:
    """Check price, stock and credit again on NetSuite as it is now (the world may have changed since the
    draft); if one fails, the order is not sent: the transaction is a draft again, with the new checks."""
    draft = tx.draft or {}
    try:
        item_ids = [int(line["product_id"]) for line in draft.get("lines") or []]
        customer_id = int(draft["customer"]["netsuite_customer_id"])
    except (KeyError, TypeError, ValueError):
        item_ids, customer_id = None, None
    if item_ids is None:
        checks, failed = dict(tx.checks or {}), ["the draft's customer or items"]
    else:
        checks, failed = recheck(draft, tx.checks or {}, writer.current_facts(customer_id, item_ids))
    if not failed:
        return
    message = ("the order no longer passes its checks at approval, nothing was sent to NetSuite: "
               + ", ".join(failed) + "; edit the draft and approve it again")
    with db.session() as session:
        session.execute(
            _update().where(Transaction.id == tx.id, Transaction.status == SUBMITTING, Transaction.attempts == attempt)
            .values(status=DRAFT, checks=checks, valid=False, last_error=message, **NO_LEASE,
                    updated_at=utcnow(), version=Transaction.version + 1)
        )
        audit(session, scope, "approve_refused", tx.id, {"attempt": attempt, "at": "approval",
                                                         "failed_checks": failed})
        session.commit()
    raise Invalid(message, get(db, scope, tx.id))


def _record_failure(db: Database, scope: Scope, tx_id: str, attempt: int, error: str,
                    in_netsuite: bool | None = False) -> None:
    """A failed submission; ``in_netsuite``: False when NetSuite was asked and has no order under the external
    id, None when that is not known (the look-up failed too)."""
    with db.session() as session:
        session.execute(
            _update().where(Transaction.id == tx_id, Transaction.status == SUBMITTING,
                                      Transaction.attempts == attempt)
            .values(status=FAILED, last_error=error[:2000], **NO_LEASE, updated_at=utcnow(),
                    version=Transaction.version + 1)
        )
        audit(session, scope, "submit_failed", tx_id, {"attempt": attempt, "error": error[:2000],
                                                       "in_netsuite": in_netsuite})
        session.commit()


def _record_success(db: Database, scope: Scope, tx_id: str, netsuite_id: str, number: str | None,
                    found_existing: bool, after_error: str | None = None) -> None:
    """Record what NetSuite answered (``after_error``: the failure after which the look-up found the order).
    (Tests replace this to simulate a crash between sending and recording.)"""
    now = utcnow()
    with db.session() as session:
        session.execute(
            _update().where(Transaction.id == tx_id, Transaction.status.in_([SUBMITTING, FAILED]))
            .values(status=SUBMITTED, netsuite_id=netsuite_id, netsuite_number=number, submitted_at=now,
                    **NO_LEASE, last_error=None, updated_at=now, version=Transaction.version + 1)
        )
        detail = {"netsuite_id": netsuite_id, "netsuite_number": number, "found_existing": found_existing}
        if after_error:
            detail["found_after_error"] = after_error[:2000]
        audit(session, scope, "submitted", tx_id, detail)
        session.commit()


def _announce(tx: dict, settings: Settings) -> None:
    """A big order is a notable event for the dashboards of the people whose scope covers it."""
    from api.cache import publish_event

    if tx["total"] < settings.api_big_order_amount:
        return
    customer = (tx.get("draft") or {}).get("customer") or {}
    try:
        publish_event("big_order", {
            "transaction_id": tx["id"], "order_number": (tx.get("netsuite") or {}).get("number"),
            "customer_id": customer.get("customer_id"), "customer_name": customer.get("customer_name"),
            "total": tx["total"], "approved_by": tx.get("approved_by"), "source": "api",
        }, rep_id=tx.get("rep_id"), territory=tx.get("territory"), settings=settings)
    except Exception:  # noqa: BLE001 - a failed notification must not fail a recorded order
        log.exception("could not publish the big-order event")


# --- the PDF of a draft ---------------------------------------------------------------------------


def pdf_key_of(tx_id: str) -> str:
    return f"transactions/{tx_id}/sales-order-{tx_id}.pdf"


def store_pdf(db: Database, scope: Scope, tx: dict, settings: Settings | None = None) -> dict:
    """Keep the approved order's PDF in document storage and its key on the transaction; a store that
    fails is logged and audited, never a failed order (the PDF can still be made on request)."""
    from scc.storage import StorageError, get_storage

    key = pdf_key_of(tx["id"])
    try:
        stored = get_storage(settings).put(key, pdf(tx))
    except StorageError as error:
        log.error("the PDF of transaction %s was not stored: %s", tx["id"], error)
        with db.session() as session:
            audit(session, scope, "pdf_store_failed", tx["id"], {"key": key, "error": str(error)[:2000]})
            session.commit()
        return tx
    with db.session() as session:
        session.execute(_update().where(Transaction.id == tx["id"]).values(pdf_key=key))
        session.commit()
    log.debug("stored %s (%d bytes, sha256 %s)", key, stored.size, stored.sha256)
    return {**tx, "pdf_key": key, "links": {**tx["links"], "document": f"/api/v1/documents/{key}"}}


def pdf(tx: dict) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=f"Sales order draft {tx['id']}",
                            leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm)
    draft = tx.get("draft") or {}
    customer = draft.get("customer") or {}
    story = [Paragraph("Sales order draft", styles["Title"])]

    def para(text: str):
        return Paragraph(_escape(text), styles["Normal"])

    netsuite = tx.get("netsuite") or {}
    facts = [
        ["Transaction", tx["id"]],
        ["Status", tx["status"] + (f" — NetSuite {netsuite.get('number')} (id {netsuite.get('id')})"
                                   if netsuite else "")],
        ["Customer", f"{customer.get('customer_name') or customer.get('query') or '—'}"],
        ["Created", f"{tx.get('created_at')} by {tx.get('created_by')}"],
        ["Request", tx.get("sentence") or "—"],
        ["Date", draft.get("tran_date") or "—"],
    ]
    if tx.get("approved_by"):
        facts.append(["Approved", f"{tx.get('approved_at')} by {tx.get('approved_by')}"])
    table = Table([[para(a), para(str(b))] for a, b in facts], colWidths=[35 * mm, 135 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 6 * mm)]
    rows = [["#", "SKU", "Product", "Qty", "Unit price", "Amount"]]
    for line in draft.get("lines") or []:
        rows.append([str(line.get("line")), line.get("sku") or "—",
                     para(line.get("product_name") or line.get("query") or "—"),
                     f"{line.get('quantity', 0):,.0f}", f"{(line.get('unit_price') or 0):,.2f}",
                     f"{(line.get('amount') or 0):,.2f}"])
    rows.append(["", "", "", "", "Total", f"{draft.get('total', 0):,.2f} {draft.get('currency', '')}"])
    lines = Table(rows, colWidths=[10 * mm, 25 * mm, 70 * mm, 18 * mm, 22 * mm, 30 * mm], repeatRows=1)
    lines.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f3a5f")),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
        ("GRID", (0, 0), (-1, -2), 0.25, colors.grey),
        ("FONTNAME", (4, -1), (-1, -1), "Helvetica-Bold"),
    ]))
    story += [lines, Spacer(1, 6 * mm), Paragraph("Checks", styles["Heading2"])]
    checks = tx.get("checks") or {}
    check_rows = [["Check", "Result", "Detail"]]
    for name in ("customer", "credit", "has_lines"):
        if name in checks:
            c = checks[name]
            check_rows.append([name.replace("_", " "), _verdict(c["ok"]), para(c.get("message", ""))])
    for line in checks.get("lines") or []:
        for key, c in line.items():
            if key != "line":
                check_rows.append([f"line {line['line']} {key}", _verdict(c["ok"]), para(c.get("message", ""))])
    check_table = Table(check_rows, colWidths=[35 * mm, 18 * mm, 122 * mm])
    style = [("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey)]
    for i, row in enumerate(check_rows[1:], start=1):
        style.append(("TEXTCOLOR", (1, i), (1, i), {"pass": colors.green, "FAIL": colors.red}.get(row[1], colors.grey)))
    check_table.setStyle(TableStyle(style))
    story += [check_table, Spacer(1, 4 * mm),
              para("Valid: all checks pass." if tx.get("valid")
                   else "Not valid: fix the failed checks before approval.")]
    doc.build(story)
    return buffer.getvalue()


def _verdict(ok) -> str:
    return "pass" if ok is True else ("FAIL" if ok is False else "n/a")


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
