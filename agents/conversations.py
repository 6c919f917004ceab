"""Conversations: each question and answer, so a follow-up can refine the previous question.

:class:`ConversationStore` is the interface; :class:`SQLiteConversationStore` keeps them in a small
SQLite file under the data folder (``<data_dir>/conversations.sqlite``). The API can pass its own store
(its app database) to :func:`agents.ask` as long as it has the same four methods.

A conversation belongs to the scope that started it: continuing it with another scope is refused, so one
user cannot read another's history through a conversation id.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Protocol

from agents.errors import Refusal


class ConversationStore(Protocol):
    def start(self, scope_key: str, title: str) -> str: ...
    def owner(self, conversation_id: str) -> str | None: ...
    def last_turn(self, conversation_id: str) -> dict | None: ...
    def add_turn(self, conversation_id: str, question: str, answer: dict, routes: list[dict]) -> int: ...


class SQLiteConversationStore:
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS conversations (
        id TEXT PRIMARY KEY, scope_key TEXT NOT NULL, title TEXT, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS conversation_turns (
        conversation_id TEXT NOT NULL REFERENCES conversations(id), turn INTEGER NOT NULL,
        question TEXT NOT NULL, answer_json TEXT NOT NULL, routes_json TEXT NOT NULL, agent TEXT, path TEXT,
        created_at TEXT NOT NULL, PRIMARY KEY (conversation_id, turn));
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(self.SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def start(self, scope_key: str, title: str) -> str:
        cid = uuid.uuid4().hex
        with self._lock, self._connect() as conn:
            conn.execute("INSERT INTO conversations VALUES (?, ?, ?, ?)",
                         (cid, scope_key, title[:200], dt.datetime.now(dt.timezone.utc).isoformat()))
        return cid

    def owner(self, conversation_id: str) -> str | None:
        with self._connect() as conn:
            row = conn.execute("SELECT scope_key FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return row["scope_key"] if row else None

    def last_turn(self, conversation_id: str) -> dict | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT * FROM conversation_turns WHERE conversation_id = ? ORDER BY turn DESC LIMIT 1",
                (conversation_id,),
            ).fetchone()
        if row is None:
            return None
        return {"turn": row["turn"], "question": row["question"], "answer": json.loads(row["answer_json"]),
                "routes": json.loads(row["routes_json"])}

    def add_turn(self, conversation_id: str, question: str, answer: dict, routes: list[dict]) -> int:
        with self._lock, self._connect() as conn:
            (last,) = conn.execute("SELECT coalesce(max(turn), 0) FROM conversation_turns WHERE conversation_id = ?",
                                   (conversation_id,)).fetchone()
            turn = last + 1
            conn.execute(
                "INSERT INTO conversation_turns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, turn, question, json.dumps(answer, default=str), json.dumps(routes, default=str),
                 answer.get("agent"), answer.get("path"), dt.datetime.now(dt.timezone.utc).isoformat()),
            )
        return turn

    def history(self, conversation_id: str) -> list[dict]:
        with self._connect() as conn:
            rows = conn.execute("SELECT turn, question, answer_json FROM conversation_turns WHERE conversation_id = ? "
                                "ORDER BY turn", (conversation_id,)).fetchall()
        return [{"turn": r["turn"], "question": r["question"], "answer": json.loads(r["answer_json"])} for r in rows]

    def conversations(self, scope_key: str, limit: int = 50) -> list[dict]:
        with self._connect() as conn:
            rows = conn.execute("SELECT id, title, created_at FROM conversations WHERE scope_key = ? "
                                "ORDER BY created_at DESC LIMIT ?", (scope_key, limit)).fetchall()
        return [dict(r) for r in rows]


_stores: dict[str, SQLiteConversationStore] = {}
_lock = threading.Lock()


def default_store(settings) -> SQLiteConversationStore:
    path = Path(settings.data_dir) / "conversations.sqlite"
    with _lock:
        store = _stores.get(str(path))
        if store is None or not path.exists():
            store = _stores[str(path)] = SQLiteConversationStore(path)
        return store


def check_owner(store, conversation_id: str, scope_key: str) -> bool:
    """True when the conversation exists and is the caller's; refuses someone else's."""
    owner = store.owner(conversation_id)
    if owner is None:
        return False
    if owner != scope_key:
        raise Refusal("That conversation belongs to someone else; start a new one.")
    return True
