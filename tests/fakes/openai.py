"""A loopback OpenAI-compatible inference server for tests: ``POST /v1/chat/completions`` and
``GET /v1/models`` on 127.0.0.1 (a threaded stdlib server), with programmable answers, latency,
failures and API key, and a log of the requests it got and of how many were in flight at once."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Request:
    """A request as the server got it: path, headers (lower-case names), JSON body (None for GET),
    when it arrived (``time.monotonic``)."""

    path: str
    headers: dict[str, str]
    body: Any
    received: float = field(default_factory=time.monotonic)

    @property
    def user(self) -> str:
        """The last user message of a chat request."""
        return [m["content"] for m in self.body["messages"] if m["role"] == "user"][-1]

    @property
    def system(self) -> str | None:
        """The system message of a chat request, if any."""
        return next((m["content"] for m in self.body["messages"] if m["role"] == "system"), None)


class FakeOpenAI:
    """The server. Chat answers: ``answer(user message)``, by default the value in ``answers``
    whose key (an article, or a piece of one) is in the user message, else "". Before that,
    each chat request takes one status from ``failures`` while any are left (answered as an
    OpenAI-style error, with 429 ``Retry-After: <retry_after>``), and waits ``latency`` seconds. ``raw``,
    when set, is every chat answer's body as is. With ``api_key`` set, a request without it as
    a Bearer token gets 401."""

    def __init__(self, model: str = "test-model") -> None:
        self.model = model
        self.answers: dict[str, str] = {}
        self.answer: Callable[[str], str] = lambda user: next((v for k, v in self.answers.items() if k in user), "")
        self.latency = 0.0
        self.failures: list[int] = []
        self.retry_after = "0"
        self.raw: bytes | None = None
        self.api_key: str | None = None
        self.requests: list[Request] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, address: None  # clients that gave up mid-answer
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def chats(self) -> list[Request]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def close(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _respond(self, request: Request) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and extra headers for ``request``."""
        if self.api_key is not None and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, _error("Incorrect API key provided"), {}
        if request.path == "/v1/models":
            return 200, json.dumps({"object": "list", "data": [{"id": self.model, "object": "model"}]}).encode(), {}
        if request.path != "/v1/chat/completions":
            return 404, _error(f"no route {request.path}"), {}
        with self._lock:
            status = self.failures.pop(0) if self.failures else 200
        if status != 200:
            return status, _error(f"failure {status}"), {"Retry-After": self.retry_after} if status == 429 else {}
        self._closing.wait(self.latency)  # cut short when the server closes
        if self.raw is not None:
            return 200, self.raw, {}
        content = self.answer(request.user)
        return 200, json.dumps({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "model": request.body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }, ensure_ascii=False).encode(), {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                self._serve(None)

            def do_POST(self) -> None:  # noqa: N802
                self._serve(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))

            def _serve(self, body: Any) -> None:
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.requests.append(request)
                    fake._in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake._in_flight)
                try:
                    status, payload, headers = fake._respond(request)
                    self.send_response(status)
                    for key, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with fake._lock:
                        fake._in_flight -= 1

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _error(message: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "invalid_request_error"}}).encode()
