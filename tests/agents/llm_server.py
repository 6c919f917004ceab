"""A scripted OpenAI-compatible chat-completions server over real HTTP, for the LLM path's tests and the
benchmark. It plays back the replies it is given, in order (or computes one from the request with a
function), and records every request, so a test can check what the model was sent.

    with ScriptedLLM() as llm:
        llm.script(['{"kind": "sql", "title": "x", "sql": "SELECT 1"}'])
        settings = settings_for(..., llm_model="openai/scripted", llm_api_base=llm.url)
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from scc.processes import free_port


class ScriptedLLM:
    def __init__(self):
        self.port = free_port()
        self.replies: list = []
        self.requests: list[dict] = []
        self.default = None  # a function(request) -> reply, used when the script is empty
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, replies: list) -> None:
        """Replies to play back: a string (the message content), a dict ``{"status": 500}`` for an HTTP
        error, or a function ``f(request_json) -> str``."""
        with self._lock:
            self.replies = list(replies)
            self.requests = []

    def _next(self, request: dict):
        with self._lock:
            self.requests.append(request)
            if self.replies:
                reply = self.replies.pop(0)
            elif self.default is not None:
                reply = self.default
            else:
                reply = {"status": 500, "error": "script exhausted"}
        return reply(request) if callable(reply) else reply

    def __enter__(self) -> "ScriptedLLM":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = owner._next(body)
                if isinstance(reply, dict) and "status" in reply:
                    self._send(reply["status"], {"error": {"message": reply.get("error", "scripted error"),
                                                           "type": "server_error"}})
                    return
                content = reply if isinstance(reply, str) else json.dumps(reply)
                prompt_tokens = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4
                completion_tokens = max(1, len(content) // 4)
                self._send(200, {
                    "id": f"chatcmpl-{len(owner.requests)}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "scripted"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                              "total_tokens": prompt_tokens + completion_tokens},
                })

            def _send(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        return False
