"""``/api/v1/transactions``: sales orders from a sentence, reviewed, edited, approved into NetSuite exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from api import writepath
from api.deps import ReadScope, WriteScope
from api.models import STATUSES
from api.routes.lists import OrderLineIn
from api.services.ask import extract_order

router = APIRouter(prefix="/api/v1/transactions", tags=["transactions"])
TxId = Annotated[str, Path(min_length=1, max_length=64)]


def run_write(action: Callable[[], dict]):
    """Run a write-path step; its refusals become their HTTP status with the transaction in the body."""
    try:
        return action()
    except writepath.WriteError as error:
        return JSONResponse({"detail": error.message, "transaction": error.transaction}, status_code=error.status)


class CreateIn(BaseModel):
    sentence: str = Field(min_length=3, max_length=1000,
                          examples=["Create a sales order for Disney, 500 hats, $50 each"])


class EditIn(BaseModel):
    customer_id: str | None = Field(None, max_length=64, description="Choose a customer (e.g. from the choices).")
    customer: str | None = Field(None, max_length=200, description="Or name one again.")
    lines: list[OrderLineIn] | None = Field(None, min_length=1, max_length=100, description="Replaces every line.")
    memo: str | None = Field(None, max_length=1000)


class RejectIn(BaseModel):
    reason: str | None = Field(None, max_length=1000)


@router.post("/create", status_code=201, summary="Draft a sales order from a sentence, with every check's result")
def create_transaction(request: Request, body: CreateIn, scope: WriteScope):
    settings = request.app.state.settings
    order, extraction = extract_order(body.sentence, scope, settings)
    return run_write(lambda: writepath.create(request.app.state.db, scope, order, sentence=body.sentence,
                                              settings=settings, extraction=extraction))


@router.get("", summary="Transactions the caller may see, newest first")
def list_transactions(request: Request, scope: ReadScope, status: Literal[STATUSES] | None = None,  # type: ignore[valid-type]
                      cursor: Annotated[str | None, Query(max_length=200)] = None,
                      limit: Annotated[int, Query(ge=1, le=100)] = 50):
    return run_write(lambda: writepath.list_visible(request.app.state.db, scope, status, limit, cursor))


@router.get("/{transaction_id}", summary="A transaction with its draft, checks and audit trail")
def get_transaction(request: Request, scope: ReadScope, transaction_id: TxId):
    return run_write(lambda: writepath.get(request.app.state.db, scope, transaction_id))


@router.patch("/{transaction_id}", summary="Edit a draft (customer, lines, memo); it is checked again")
def edit_transaction(request: Request, scope: WriteScope, transaction_id: TxId, body: EditIn):
    changes = body.model_dump(exclude_unset=True)
    if body.lines is not None:
        changes["lines"] = [{"product_id": line.product_id, "query": line.product, "quantity": line.quantity,
                             "unit_price": line.unit_price} for line in body.lines]
    return run_write(lambda: writepath.edit(request.app.state.db, scope, transaction_id, changes,
                                            settings=request.app.state.settings))


@router.post("/{transaction_id}/approve",
             summary="Approve and send to NetSuite (again, to retry a failed one); exactly one order results")
def approve_transaction(request: Request, scope: WriteScope, transaction_id: TxId):
    def action():
        result = writepath.approve(request.app.state.db, scope, transaction_id, request.app.state.settings,
                                   metrics=request.app.state.metrics)
        return {**result.transaction, "found_existing": result.found_existing}

    return run_write(action)


@router.post("/{transaction_id}/reject",
             summary="Reject a draft or a failed submission (an order NetSuite has after all is closed there)")
def reject_transaction(request: Request, scope: WriteScope, transaction_id: TxId, body: RejectIn | None = None):
    return run_write(lambda: writepath.reject(request.app.state.db, scope, transaction_id,
                                              body.reason if body else None, settings=request.app.state.settings))


@router.get("/{transaction_id}/pdf", summary="The draft as a PDF", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def transaction_pdf(request: Request, scope: ReadScope, transaction_id: TxId):
    try:
        tx = writepath.get(request.app.state.db, scope, transaction_id, with_audit=False)
    except writepath.NotFound as error:
        raise HTTPException(404, error.message) from None
    data = None
    if tx.get("pdf_key"):  # the approved order's PDF as it was kept at approval
        from scc.storage import StorageError, get_storage

        try:
            data = get_storage(request.app.state.settings).get(tx["pdf_key"])
        except (FileNotFoundError, StorageError):
            data = None
    return Response(data or writepath.pdf(tx), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="sales-order-draft-{transaction_id}.pdf"'})
