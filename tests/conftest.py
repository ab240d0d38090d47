"""Shared fixtures: a loopback HTTP server the tests program route by route, a temp database."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from bot.config import Settings, load_settings
from bot.storage import Database

os.environ["HF_HUB_OFFLINE"] = "1"  # belt and braces: models load from local folders only

DEMO = Path(__file__).resolve().parent.parent / "bot" / "demo"
SEED_TEXT = Path(__file__).resolve().parent / "fixtures" / "liangping-2023-02-24.txt"  # copy of shared/seed
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Reply:
    """What a route answers: status, headers, body (bytes or str, UTF-8), optional delay."""

    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Hit:
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
                        time.sleep(reply.delay)
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
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def hits_for(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path.split("?")[0] == path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server():
    instance = LocalServer()
    yield instance
    instance.close()


POSTGRES_URL = os.environ.get("NEWSBOT_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A migrated database: SQLite in a temp folder, and PostgreSQL when CI provides one."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    elif POSTGRES_URL:
        url = POSTGRES_URL
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        pytest.skip("set NEWSBOT_TEST_POSTGRES_URL to test PostgreSQL (.ci/run starts one when it can)")
    database = Database(url)
    yield database
    database.close()


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """The in-process CLI reads the environment and the working directory: neither may leak in."""
    for name in list(os.environ):
        if name.startswith("NEWSBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write_config(tmp_path: Path, text: str) -> Path:
    """A TOML config in ``tmp_path`` whose database also lives there."""
    path = tmp_path / "newsbot.toml"
    if "[database]" not in text:
        text = f'[database]\nurl = "sqlite:///{tmp_path / "news.db"}"\n\n' + text
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def make_settings(tmp_path) -> Callable[[str], Settings]:
    """Settings from TOML text, with fast politeness delays and retries for tests."""

    def make(text: str = "") -> Settings:
        if "[fetch]" not in text:
            text += "\n[fetch]\nmin_delay_seconds = 0\nmax_retries = 1\ntimeout_seconds = 5\n"
        return load_settings(write_config(tmp_path, text), environ={})

    return make
