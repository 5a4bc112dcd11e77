"""A scripted OpenAI-compatible server for tests: ``/v1/chat/completions`` and ``/v1/models`` on
127.0.0.1 at a free port, in a background thread (stdlib ``http.server``; no model, no network).

Behaviour is deterministic and set per test: a ``responder(messages, index, body) -> str`` writes each
completion (``index`` counts the samples already produced for the same prompt), ``fail_next`` queues
HTTP errors (429 with ``Retry-After``, 500, ...) or delays for the next chat requests, ``ignore_n``
answers one choice whatever ``n`` says (as llama.cpp does), and every request is counted and kept.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[list[dict], int, dict], str]


def last_user_text(messages: list[dict]) -> str:
    return next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")


def sql_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```sql\s*\n(.*?)```", text, re.S)]


def prompt_sql(messages: list[dict]) -> str | None:
    """The SQL a back-translation prompt asks about, or the reference SQL of a CoT prompt."""
    blocks = [b for b in sql_blocks(last_user_text(messages)) if not b.startswith("--")]
    return blocks[-1] if blocks else None


def prompt_style(messages: list[dict]) -> str | None:
    m = re.search(r"^Style: ([A-Za-z-]+)", last_user_text(messages), re.M)
    return m.group(1).lower().replace("-", "_") if m else None


def prompt_question(messages: list[dict]) -> str | None:
    m = re.search(r"^Question:\n(.*?)\n", last_user_text(messages), re.M | re.S)
    return m.group(1).strip() if m else None


def echo_responder(messages: list[dict], index: int, body: dict) -> str:
    """A generic default: says which sample of which prompt this is."""
    return f"sample {index}: {last_user_text(messages)[:40]}"


def question_responder(messages: list[dict], index: int, body: dict) -> str:
    """Back-translation answers derived from the prompt's SQL and style: a consistent question every
    time, except sample 1 which drifts off topic (consistency selection must not pick it)."""
    sql = prompt_sql(messages) or ""
    style = prompt_style(messages) or "formal"
    table = (re.findall(r"\bFROM\s+(\w+)", sql, re.I) or ["things"])[0]
    if index % 3 == 1:
        question = "Tell me a joke about penguins and the weather in Paris tomorrow morning."
    elif style == "multi_turn":
        question = f"User: I have a question about {table}.\nAssistant: Sure, what would you like?\nUser: How many {table} rows are there in total?"
    else:
        question = f"How many {table} rows are there in total{'' if index % 3 == 0 else ' overall'}?"
    evidence = (
        "\n[EXTERNAL-KNOWLEDGE-START]\nrows means records\n[EXTERNAL-KNOWLEDGE-END]"
        if style in ("vague", "metaphorical")
        else ""
    )
    return (f"[EXPLANATION-START]\nCounts the rows of {table}.\n[EXPLANATION-END]\n"
            f"[QUESTION-START]\n{question}\n[QUESTION-END]{evidence}")  # fmt: skip


class StubLLMServer:
    def __init__(
        self,
        responder: Responder | None = None,
        models: tuple[str, ...] = ("stub-model",),
        ignore_n: bool = False,
        api_key: str | None = None,
        send_usage: bool = True,
        delay: float = 0.0,
        reject_n: bool = False,
    ):
        self.responder = responder or echo_responder
        self.models = list(models)
        self.ignore_n = ignore_n
        self.reject_n = reject_n
        self.api_key = api_key
        self.send_usage = send_usage
        self.delay = delay
        self.lock = threading.Lock()
        self.plan: deque = deque()
        self.requests: list[dict] = []
        self.times: list[float] = []
        self.counts: Counter = Counter()
        self._seen: Counter = Counter()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control --------------------------------------------------------------------------------
    def fail_next(self, *actions: Any) -> None:
        """Queue what the next chat requests get: an HTTP status (``429``, ``500``), ``(429, seconds)``
        for a Retry-After header, ``("ms", 429, millis)`` for retry-after-ms, or ``("delay", seconds)``."""
        with self.lock:
            self.plan.extend(actions)

    @property
    def chat_requests(self) -> int:
        return self.counts["chat"]

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> StubLLMServer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if not stub._authorized(self):
                    return
                if self.path.rstrip("/") == "/v1/models":
                    with stub.lock:
                        stub.counts["models"] += 1
                    data = [{"id": m, "object": "model", "owned_by": "stub"} for m in stub.models]
                    stub._send(self, 200, {"object": "list", "data": data})
                else:
                    stub._send(
                        self, 404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}
                    )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not stub._authorized(self):
                    return
                if self.path.rstrip("/") != "/v1/chat/completions":
                    stub._send(
                        self, 404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}
                    )
                    return
                stub._chat(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="llm-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StubLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour ------------------------------------------------------------------------------
    def _authorized(self, handler: BaseHTTPRequestHandler) -> bool:
        if self.api_key is None:
            return True
        if handler.headers.get("Authorization") == f"Bearer {self.api_key}":
            return True
        self._send(handler, 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                            "code": "invalid_api_key"}})  # fmt: skip
        return False

    def _chat(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        with self.lock:
            self.counts["chat"] += 1
            self.requests.append(body)
            self.times.append(time.monotonic())
            action = self.plan.popleft() if self.plan else None
        if self.delay:
            time.sleep(self.delay)
        if isinstance(action, tuple) and action and action[0] == "delay":
            time.sleep(action[1])
        elif isinstance(action, tuple) and action and action[0] == "ms":
            _, status, millis = action
            self._send(handler, status, _error(status), {"retry-after-ms": str(millis)})
            return
        elif isinstance(action, tuple):
            status, retry_after = action
            self._send(handler, status, _error(status), {"Retry-After": str(retry_after)})
            return
        elif isinstance(action, int):
            self._send(handler, action, _error(action))
            return
        model = body.get("model")
        if model not in self.models:
            self._send(handler, 404, {"error": {"message": f"The model `{model}` does not exist.", "type": "NotFoundError",
                                                "code": 404}})  # fmt: skip
            return
        n = int(body.get("n") or 1)
        if n > 1 and self.reject_n:
            self._send(
                handler,
                400,
                {"error": {"message": "n must be 1 for this model", "type": "invalid_request_error"}},
            )
            return
        k = 1 if self.ignore_n else n
        messages = body.get("messages") or []
        key = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()
        with self.lock:
            first = self._seen[key]
            self._seen[key] += k
        texts = [self.responder(messages, first + i, body) for i in range(k)]
        payload: dict[str, Any] = {
            "id": f"chatcmpl-{self.counts['chat']}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
                for i, t in enumerate(texts)
            ],
        }
        if self.send_usage:
            prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
            completion_tokens = sum(len(t.split()) for t in texts)
            payload["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                "total_tokens": prompt_tokens + completion_tokens}  # fmt: skip
        self._send(handler, 200, payload)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, payload: dict, headers: dict | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                handler.send_header(k, v)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass


def _error(status: int) -> dict:
    kinds = {429: "rate_limit_exceeded", 500: "server_error", 502: "bad_gateway", 503: "overloaded"}
    return {"error": {"message": f"stub error {status}", "type": kinds.get(status, "error"), "code": status}}


def free_port() -> int:
    """A port with nothing listening on it (for the unreachable-server test)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
