"""The console of one process: the ``[status] listen`` listener (``/`` the status page,
``/metrics`` Prometheus), its heartbeat, and (in a bot process) the admin alerts.

The listener is tornado's HTTP server (python-telegram-bot's webhook server, so no other
dependency) on the process's own event loop. Requests only format the latest snapshot, in a
thread of the console's own (two threads), so a scrape or a page view never waits for the
database and never takes a thread from the push engine or the handlers. A background task
reads the snapshot every ``refresh_seconds`` in the same threads.

Beyond loopback a token is required (the config refuses to load without one): a request
without ``Authorization: Bearer TOKEN`` or ``?token=TOKEN`` gets 401; the token is compared in
constant time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from bot.config import ConfigError, Settings, parse_listen
from bot.console import heartbeat, metrics
from bot.console.admin_alerts import AdminAlerts
from bot.console.snapshot import Reader, Snapshot, read_snapshot
from bot.console.status_page import render
from bot.storage import Database
from bot.storage.models import utcnow
from bot.telegram.delivery import Deliverer
from bot.texts import LANGUAGES

log = logging.getLogger(__name__)

THREADS = 2
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the page's URL may hold the token
    "Cache-Control": "no-store",
}


class Console:
    """``await start()`` after the event loop runs; ``await stop()`` on shutdown.

    ``deliverer`` (a bot process's) enables the admin alerts. ``clock`` gives the time of
    each snapshot (tests drive it).
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        role: str,
        deliverer: Deliverer | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.role = role
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self.alerts = AdminAlerts(settings, db, deliverer) if deliverer is not None and settings.telegram.admins else None
        self.port: int | None = None  # where it listens (the configured port, or the one picked for port 0)
        self._reader = Reader(db)
        self._executor = ThreadPoolExecutor(THREADS, thread_name_prefix="newsbot-console")
        self._server: HTTPServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._refreshing = asyncio.Lock()
        self._pages: dict[str, tuple[Snapshot | None, str]] = {}  # language → (its snapshot, the page)
        self._started_at = utcnow()

    async def start(self) -> None:
        """Listen (when ``[status] listen`` is set) and start the background refresh.

        Raises ConfigError naming ``status.listen`` when the address cannot be bound."""
        heartbeat.ERRORS.install()
        metrics.set_role(self.role)
        listen = self.settings.status.listen
        if listen:
            host, port = parse_listen(listen)
            app = Application([(r"/", _PageHandler, {"console": self}), (r"/metrics", _MetricsHandler, {"console": self})])
            try:
                sockets = bind_sockets(port, host)
            except OSError as exc:
                raise ConfigError(f"status.listen: cannot listen on {listen}: {exc.strerror or exc}") from None
            self._server = HTTPServer(app)
            self._server.add_sockets(sockets)
            self.port = sockets[0].getsockname()[1]
            metrics.LATEST.current = self._latest
            log.info("status page and metrics on http://%s:%d/", host, self.port)
        self._task = asyncio.create_task(self._refresh_forever(), name="console")

    async def stop(self) -> None:
        """Stop listening and refreshing; release the threads."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._server is not None:
            self._server.stop()
            if metrics.LATEST.current == self._latest:
                metrics.LATEST.current = metrics.no_snapshot
        if self.alerts is not None:
            await self.run_in_thread(self.alerts.close)
        await self.run_in_thread(self._reader.close)
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def refresh(self) -> Snapshot | None:
        """Beat, read a snapshot (when anything shows it), check the alerts; the snapshot.
        One refresh at a time."""
        async with self._refreshing:
            return await self._refresh()

    async def _refresh(self) -> Snapshot | None:
        now = self.clock()
        await self.run_in_thread(heartbeat.beat, self.db, self.role, self._started_at, now)
        metrics.HEARTBEAT.set(now.timestamp())
        if self._server is None and self.alerts is None:
            return None
        self.snapshot = await self.run_in_thread(read_snapshot, self._reader, self.settings, now)
        if self.alerts is not None:
            await self.alerts.check(self.snapshot, now)
        return self.snapshot

    async def page(self, language: str) -> str:
        """The status page for ``language``, rendered once per snapshot (in a console thread)."""
        snapshot = self.snapshot
        cached = self._pages.get(language)
        if cached is None or cached[0] is not snapshot:
            cached = (snapshot, await self.run_in_thread(render, snapshot, self.settings, language))
            self._pages[language] = cached
        return cached[1]

    def _latest(self) -> Snapshot | None:
        return self.snapshot

    async def _refresh_forever(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # the database away for a moment: the next refresh tries again
                log.warning("the console could not refresh its numbers (%s: %s); trying again", type(exc).__name__, exc)
            await asyncio.sleep(self.settings.status.refresh_seconds)

    async def run_in_thread(self, function, *args):
        """``function(*args)`` in one of the console's threads."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def authorized(self, handler: RequestHandler) -> bool:
        """Whether the request carries the token (always, when none is configured)."""
        token = self.settings.status.token
        if not token:
            return True
        header = handler.request.headers.get("Authorization", "")
        given = (
            header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else handler.get_query_argument("token", "")
        )
        return hmac.compare_digest(given.encode(), token.encode())


class _Handler(RequestHandler):
    console: Console

    def initialize(self, console: Console) -> None:
        self.console = console

    def set_default_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)

    async def prepare(self) -> None:
        if not self.console.authorized(self):
            self.set_header("WWW-Authenticate", 'Bearer realm="newsbot"')
            self.set_status(401)
            self.finish("a token is required: Authorization: Bearer TOKEN, or ?token=TOKEN\n")


class _PageHandler(_Handler):
    async def get(self) -> None:
        console = self.console
        language = self.get_query_argument("lang", console.settings.region.language)
        if language not in LANGUAGES:
            language = console.settings.region.language
        page = await console.page(language)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page)


class _MetricsHandler(_Handler):
    async def get(self) -> None:
        body = await self.console.run_in_thread(generate_latest, metrics.REGISTRY)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(body)
