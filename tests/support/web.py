"""A loopback HTTP server that tests program route by route, and what a route answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """What a route answers: status, headers, body (bytes or str, UTF-8), optional delay."""

    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Hit:
    """A request as the server got it: path (with the query), headers (lower-case names), when it
    came and when its answer was written (``time.monotonic``)."""

    path: str
    headers: dict[str, str]
    start: float
    end: float = 0.0


Route = Callable[[Hit], Reply] | Reply


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 with per-path routes and a request log."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                hit = Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
                with server._lock:
                    server.hits.append(hit)
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                try:
                    route = server.routes.get(self.path.split("?")[0])
                    reply = route(hit) if callable(route) else route or Reply("not found", 404)
                    if reply.delay:
                        server._closing.wait(reply.delay)  # a slow answer, cut short when the server closes
                    body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
                    self.send_response(reply.status)
                    headers = {"Content-Type": "text/html; charset=utf-8", **reply.headers}
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server._lock:
                        server._in_flight -= 1
                        hit.end = time.monotonic()

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, address: None  # clients hanging up mid-answer
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def hits_for(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path.split("?")[0] == path]

    def close(self) -> None:
        """Stop serving; answers still being delayed go out at once (closing waits for them)."""
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def free_port() -> int:
    """A loopback port that nothing listens on (for a server the test starts itself)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
