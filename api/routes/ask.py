"""``/api/v1/query/ask``, ``/api/v1/insights``, ``/api/v1/conversations``: the agents, within the caller's scope."""

from __future__ import annotations

from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.responses import Response

from api.deps import ReadScope
from api.models import Conversation
from api.services import ask as agents

router = APIRouter(prefix="/api/v1", tags=["ask"])


class AskIn(BaseModel):
    question: str = Field(min_length=1, max_length=2000, examples=["show me pending orders over $100K"])
    conversation_id: str | None = Field(None, max_length=32, pattern=r"^[0-9a-f]{32}$",
                                        description="Continue a conversation (follow-up questions).")


# Answering is Python work that holds the GIL most of the time: a few at once per worker, the others queue in
# order. Forty at once (the thread pool's size) would only share the same CPU forty ways and make every answer
# slow, the slowest past a client's patience.
ASKING_AT_ONCE = anyio.CapacityLimiter(4)


@router.post("/query/ask", summary="Ask the data a question in plain words (scoped to the caller)")
async def ask(request: Request, body: AskIn, scope: ReadScope) -> dict:
    return await anyio.to_thread.run_sync(_ask, request, body, scope, limiter=ASKING_AT_ONCE)


def _ask(request: Request, body: AskIn, scope) -> dict:
    db, settings = request.app.state.db, request.app.state.settings
    try:
        return agents.ask(body.question, scope, db=db, conversation_id=body.conversation_id, settings=settings)
    except agents.ConversationNotFound:
        raise HTTPException(404, "no such conversation") from None
    except agents.AgentsUnavailable as error:
        return {"text": f"Sorry, I cannot answer questions yet: {error}.", "path": "unavailable",
                "question": body.question}


@router.get("/insights", summary="What deserves attention in the caller's data")
async def insights(request: Request, scope: ReadScope) -> Response:
    # Cached and refreshed like the dashboards (api.routes.dashboard): one computation shared by every worker.
    from api.routes.dashboard import cached_answer

    return await cached_answer(request, scope, "insights", {})


@router.get("/conversations", summary="The caller's questions and answers, newest first")
def conversations(request: Request, scope: ReadScope,
                  conversation_id: Annotated[str | None, Query(max_length=32)] = None,
                  cursor: Annotated[int | None, Query(ge=0, description="next_cursor of the previous page")] = None,
                  limit: Annotated[int, Query(ge=1, le=100)] = 50) -> dict:
    with request.app.state.db.session() as session:
        query = select(Conversation).where(Conversation.user_id == scope.user)
        if conversation_id:
            query = query.where(Conversation.conversation_id == conversation_id)
        if cursor is not None:
            query = query.where(Conversation.id < cursor)
        rows = session.scalars(query.order_by(Conversation.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [{"id": r.id, "conversation_id": r.conversation_id, "question": r.question, "answer_text": r.answer_text,
                   "answer": r.answer, "intent": r.intent, "agents_used": r.agents_used, "path": r.path,
                   "created_at": r.created_at.isoformat() + "Z"} for r in rows],
        "next_cursor": rows[-1].id if more and rows else None,
        "limit": limit,
    }


