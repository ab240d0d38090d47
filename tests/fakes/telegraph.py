"""A fake Telegraph API (api.telegra.ph) on 127.0.0.1 for the "Full text" tests.

It answers ``createAccount`` and ``createPage`` as Telegraph does (``{"ok": true, "result": ...}``
or ``{"ok": false, "error": "..."}``), GET or POST, and VALIDATES what it is given: a short name
of 1-32 characters, a title of 1-256, an author name up to 128 and an author URL up to 512
characters, a known access token, and ``content`` as a JSON array of Nodes — text, or
``{"tag", "attrs"?, "children"?}`` with an allowed tag, ``href``/``src`` attributes only (strings),
no other keys — of at most 64 KB. A page it accepts is kept in ``pages`` under its path.

Faults for tests: ``down`` ("drop": the connection closes without an answer; "500"/"502": that
status), ``flood`` (the next N calls answer ``FLOOD_WAIT_1``), ``delay`` (seconds before an
answer), and ``revoke()`` (every token issued so far becomes ACCESS_TOKEN_INVALID).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ALLOWED_TAGS = {"a", "aside", "b", "blockquote", "br", "code", "em", "figcaption", "figure", "h3", "h4", "hr", "i",
                "iframe", "img", "li", "ol", "p", "pre", "s", "strong", "u", "ul", "video"}
ALLOWED_ATTRS = {"href", "src"}
MAX_CONTENT_BYTES = 64 * 1024


class NodeError(ValueError):
    """Content that Telegraph would refuse."""


def validate_nodes(nodes: object, depth: int = 0) -> None:
    """Raise NodeError unless ``nodes`` is a list of valid Telegraph Nodes."""
    if not isinstance(nodes, list):
        raise NodeError("content must be an array of nodes")
    if depth > 20:
        raise NodeError("nodes nested too deeply")
    for node in nodes:
        if isinstance(node, str):
            continue
        if not isinstance(node, dict) or set(node) - {"tag", "attrs", "children"}:
            raise NodeError(f"not a node: {node!r:.80}")
        if node.get("tag") not in ALLOWED_TAGS:
            raise NodeError(f"tag not allowed: {node.get('tag')!r}")
        attrs = node.get("attrs", {})
        if not isinstance(attrs, dict) or set(attrs) - ALLOWED_ATTRS or not all(isinstance(v, str) for v in attrs.values()):
            raise NodeError(f"attributes not allowed: {attrs!r:.80}")
        validate_nodes(node.get("children", []), depth + 1)


class FakeTelegraph:
    """The fake server; ``base_url`` goes into ``[telegraph] api_base_url``."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict] = {}  # access token -> the account's fields
        self.revoked: set[str] = set()
        self.pages: dict[str, dict] = {}  # path -> {"title", "author_name", "author_url", "content", "token"}
        self.calls: list[tuple[str, dict]] = []  # the calls answered (not those an outage turned away)
        self.requests = 0  # every request, answered or not
        self.rejected: list[tuple[str, str]] = []  # (method, error)
        self.down: bool | str = False
        self.flood = 0
        self.delay = 0.0
        self._tokens = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                split = urlsplit(self.path)
                self._handle(split.path, {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()})

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._handle(self.path, {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()})

            def _handle(self, path: str, params: dict) -> None:
                with fake._lock:
                    fake.requests += 1
                time.sleep(fake.delay)
                if fake.down in (True, "drop"):
                    self.close_connection = True
                    return
                if fake.down in ("500", "502"):
                    self._answer(int(fake.down), b"<html>error</html>", "text/html")
                    return
                answer = fake._dispatch(path.strip("/"), params)
                self._answer(200, json.dumps(answer).encode(), "application/json")

            def _answer(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()  # closes fast

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def revoke(self) -> None:
        """Every access token given out so far is refused from now on."""
        self.revoked |= set(self.accounts)

    def _dispatch(self, method: str, params: dict) -> dict:
        with self._lock:
            self.calls.append((method, params))
            if self.flood:
                self.flood -= 1
                return self._error(method, "FLOOD_WAIT_1")
            if method == "createAccount":
                return self._create_account(params)
            if method == "createPage":
                return self._create_page(params)
            return self._error(method, "METHOD_NOT_FOUND")

    def _error(self, method: str, error: str) -> dict:
        self.rejected.append((method, error))
        return {"ok": False, "error": error}

    def _create_account(self, params: dict) -> dict:
        if not 1 <= len(params.get("short_name", "")) <= 32:
            return self._error("createAccount", "SHORT_NAME_REQUIRED")
        if len(params.get("author_name", "")) > 128:
            return self._error("createAccount", "AUTHOR_NAME_TOO_LONG")
        token = f"token-{next(self._tokens)}"
        self.accounts[token] = {k: params.get(k, "") for k in ("short_name", "author_name", "author_url")}
        return {"ok": True, "result": {**self.accounts[token], "access_token": token, "auth_url": f"{self.base_url}/auth"}}

    def _create_page(self, params: dict) -> dict:
        token = params.get("access_token", "")
        if token not in self.accounts or token in self.revoked:
            return self._error("createPage", "ACCESS_TOKEN_INVALID")
        title = params.get("title", "")
        if not title:
            return self._error("createPage", "TITLE_REQUIRED")
        if len(title) > 256:
            return self._error("createPage", "TITLE_TOO_LONG")
        if len(params.get("author_name", "")) > 128:
            return self._error("createPage", "AUTHOR_NAME_TOO_LONG")
        if len(params.get("author_url", "")) > 512:
            return self._error("createPage", "AUTHOR_URL_TOO_LONG")
        raw = params.get("content", "")
        if len(raw.encode("utf-8")) > MAX_CONTENT_BYTES:
            return self._error("createPage", "CONTENT_TOO_BIG")
        try:
            content = json.loads(raw)
            validate_nodes(content)
        except (ValueError, NodeError) as exc:
            return self._error("createPage", f"CONTENT_FORMAT_INVALID: {exc}")
        if not content:
            return self._error("createPage", "CONTENT_REQUIRED")
        path = f"page-{len(self.pages) + 1}"
        self.pages[path] = {"title": title, "author_name": params.get("author_name", ""),
                            "author_url": params.get("author_url", ""), "content": content, "token": token}
        return {"ok": True, "result": {"path": path, "url": f"{self.base_url}/{path}", "title": title, "views": 0}}


def page_text(content: list) -> list[str]:
    """The text of each top-level node of a page's content (for assertions)."""
    def text(node) -> str:
        return node if isinstance(node, str) else "".join(text(child) for child in node.get("children", []))
    return [text(node) for node in content]
