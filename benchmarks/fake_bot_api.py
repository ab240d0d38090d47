"""A fast fake Telegram Bot API for benchmarks: asyncio HTTP/1.1 (keep-alive) in its own thread.

Unlike ``tests/fakes/telegram.py`` (a thread per connection, HTTP/1.0, HTML checks) it holds
hundreds of slow requests at once at almost no cost, so the numbers measure the bot, not the
fake. It answers ``getMe``, ``sendMessage`` (after ``latency`` seconds) and ``True`` for any
other method (``setMyCommands``, ...).

The flood limit is strict: a ``sendMessage`` that would make more than ``flood_limit``
accepted ones within any sliding ``window`` seconds is answered 429 with ``retry_after`` 1
(2 while the bot keeps flooding) and is not delivered. Accepted messages are counted per chat
with the time they arrived, so a benchmark can count lost and duplicated pushes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from urllib.parse import parse_qs

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests"}


class FakeBotAPI:
    """Start with ``start()``; ``base_url`` goes into ``[telegram] api_base_url``."""

    def __init__(self, token: str, latency: float = 0.0, flood_limit: int | None = 30, window: float = 1.0) -> None:
        self.token = token
        self.latency = latency
        self.flood_limit = flood_limit
        self.window = window
        self.delivered: dict[int, int] = defaultdict(int)  # chat id -> accepted sendMessage count
        self.delivery_times: list[float] = []  # time.monotonic() of each accepted sendMessage
        self.texts: set[int] = set()  # hashes of the distinct texts delivered (editions)
        self.flood_rejections = 0
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections = 0
        self._accepted: deque[float] = deque()  # accepted sendMessage times within the window
        self._rejected: deque[float] = deque()
        self._message_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._thread_cpu = 0.0
        self.base_url = ""

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> FakeBotAPI:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0, backlog=1024))
            port = self._server.sockets[0].getsockname()[1]
            self.base_url = f"http://127.0.0.1:{port}/bot"
            ready.set()
            try:
                loop.run_forever()
            finally:
                self._server.close()
                for task in asyncio.all_tasks(loop):
                    task.cancel()
                loop.run_until_complete(asyncio.sleep(0))
                self._thread_cpu = time.thread_time()
                loop.close()

        self._thread = threading.Thread(target=serve, name="fake-bot-api", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def close(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def cpu_seconds(self) -> float:
        """CPU time the server's thread has used (exact after ``close``)."""
        if self._loop is None or not self._thread or not self._thread.is_alive():
            return self._thread_cpu

        async def measure() -> float:
            return time.thread_time()

        return asyncio.run_coroutine_threadsafe(measure(), self._loop).result(5)

    # -- counting --------------------------------------------------------------------------

    def served(self) -> int:
        """Chats that have at least one message."""
        return len(self.delivered)

    # -- HTTP ------------------------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                _, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                self.requests += 1
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    status, answer, delay = self._dispatch(path, headers.get("content-type", ""), body)
                    if delay > 0:
                        await asyncio.sleep(delay)
                finally:
                    self.in_flight -= 1
                data = json.dumps(answer).encode()
                writer.write(
                    f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\nConnection: keep-alive\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    def _dispatch(self, path: str, content_type: str, body: bytes) -> tuple[int, dict, float]:
        prefix, _, method = path.split("?")[0].strip("/").partition("/")
        if prefix != f"bot{self.token}":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, 0.0
        params = _params(content_type, body)
        if method == "getMe":
            return (
                200,
                {
                    "ok": True,
                    "result": {
                        "id": 42,
                        "is_bot": True,
                        "first_name": "newsbot",
                        "username": "newsbot_bench_bot",
                        "can_join_groups": True,
                        "can_read_all_group_messages": False,
                        "supports_inline_queries": False,
                    },
                },
                0.0,
            )
        if method == "sendMessage":
            return self._send_message(params)
        return 200, {"ok": True, "result": True}, 0.0

    def _send_message(self, params: dict) -> tuple[int, dict, float]:
        now = time.monotonic()
        if self.flood_limit:
            while self._accepted and self._accepted[0] <= now - self.window:
                self._accepted.popleft()
            while self._rejected and self._rejected[0] <= now - self.window:
                self._rejected.popleft()
            if len(self._accepted) >= self.flood_limit:
                self.flood_rejections += 1
                self._rejected.append(now)
                wait = 2 if len(self._rejected) > self.flood_limit else 1
                return (
                    429,
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {wait}",
                        "parameters": {"retry_after": wait},
                    },
                    self.latency,
                )
            self._accepted.append(now)
        chat_id = int(params["chat_id"])
        text = params.get("text", "")
        self.delivered[chat_id] += 1
        self.delivery_times.append(now)
        self.texts.add(hash(text))
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "text": text[:64],
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
        }
        return 200, {"ok": True, "result": message}, self.latency


def _params(content_type: str, body: bytes) -> dict:
    """Bot API parameters: a JSON object, or form fields whose values may be JSON-encoded."""
    if not body:
        return {}
    text = body.decode("utf-8")
    if "json" in content_type:
        return json.loads(text)
    return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}
