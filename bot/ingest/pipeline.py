"""Ingestion: fetch each source, extract, dedupe, group, store; summarize what is new.

The scheduler is here (:class:`Ingestor`); it reads the active sources from the catalog in the
database at each tick (:mod:`bot.ingest.catalog`). The stages are modules of their own: the kinds of
source and how each lists candidates (:mod:`bot.ingest.kinds`), one source's pass
(:mod:`bot.ingest.fetcher`), the store with deduplication, story grouping and the retry queue
(:mod:`bot.ingest.store`), and summaries and translations (:mod:`bot.ingest.summaries`).

Each source runs as its own task within a time budget, so one hanging source never holds
the others; a source is never run twice at once. Network I/O is async; parsing, extraction,
database writes and summarization run in worker threads so that the bot's event loop is
never blocked. Article pages that fail are retried with backoff on later passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from functools import partial

import httpx

from bot.config import Settings, SourceSettings
from bot.ingest.catalog import active_sources, apply_config
from bot.ingest.fetcher import SourceFetcher, SourceReport
from bot.ingest.http import PoliteClient, host_of
from bot.ingest.kinds import KINDS
from bot.ingest.store import ArticleStore
from bot.ingest.summaries import SummaryStage
from bot.storage import Database
from summarizer import Summarizer

log = logging.getLogger(__name__)

__all__ = ["Ingestor", "SourceReport"]


class Ingestor:
    """Runs sources (each as its own task) and summarizes what they stored.

    ``poll_due`` starts the sources that are due in the background (the scheduler's job);
    ``run`` fetches and waits for the reports (``newsbot fetch``, ``/fetch``). Both share one
    task per source, so a source never runs twice at once. ``close`` stops everything.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        summarizer: Summarizer,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.summarizer = summarizer
        self.transport = transport
        self._closing = threading.Event()
        self.store = ArticleStore(settings, db)
        self.fetcher = SourceFetcher(settings, self.store)
        self.summaries = SummaryStage(settings, db, summarizer, self._closing)
        self._tasks: dict[str, asyncio.Task[SourceReport]] = {}  # at most one per configured source
        self._summary_task: asyncio.Task[None] | None = None
        self._summaries_wanted = False
        self._client: PoliteClient | None = None
        self._client_users = 0
        self._catalog_lock = threading.Lock()
        self._config_applied = False
        self._web_hosts: set[str] = set()  # of the sources last read: the hosts the client trusts

    @property
    def running(self) -> frozenset[str]:
        """Names of the sources being fetched now."""
        return frozenset(name for name, task in self._tasks.items() if not task.done())

    def catalog(self) -> list[SourceSettings]:
        """The active sources of the catalog, read from the database (database work: call it in a
        worker thread from the event loop). The first call applies the config's ``[[sources]]``."""
        with self._catalog_lock:
            if not self._config_applied:
                apply_config(self.db, self.settings)
                self._config_applied = True
        sources = active_sources(self.db)
        self._web_hosts = {host_of(s.url) for s in sources if KINDS[s.kind].web}
        return sources

    def selected(self, only: str | None = None) -> list[SourceSettings]:
        """The active sources, or just the one named ``only``; ValueError if there is none such.
        Database work, like :meth:`catalog`."""
        catalog = self.catalog()
        sources = [s for s in catalog if only is None or s.name == only]
        if only is not None and not sources:
            known = ", ".join(repr(s.name) for s in catalog) or "none"
            raise ValueError(f"no enabled source named {only!r} (configured: {known})")
        return sources

    async def poll_due(self) -> None:
        """Start every due source that is not running yet as a background task; don't wait.

        Such a task logs its errors, and when it stored something asks for summaries, made
        in the background too.
        """
        idle = [s for s in await asyncio.to_thread(self.selected) if s.name not in self.running]
        if not idle or self._closing.is_set():
            return
        ids = await asyncio.to_thread(self.store.sync_sources, idle)
        due = await asyncio.to_thread(self.store.due, list(ids.values()))
        for config in idle:
            if ids[config.name] in due and config.name not in self.running and not self._closing.is_set():
                self._start(config, ids[config.name], background=True)

    async def run(
        self,
        only: str | None = None,
        on_source_done: Callable[[SourceReport], None] | None = None,
    ) -> list[SourceReport]:
        """Fetch the enabled sources (or the one named ``only``), store what is new, summarize it,
        and return the reports. A source already running (from ``poll_due``) is waited for."""
        sources = await asyncio.to_thread(self.selected, only)
        ids = await asyncio.to_thread(self.store.sync_sources, sources)
        tasks = [
            self._tasks[s.name] if s.name in self.running else self._start(s, ids[s.name], background=False) for s in sources
        ]

        async def wait(task: asyncio.Task[SourceReport]) -> SourceReport:
            report = await asyncio.shield(task)
            if on_source_done:
                on_source_done(report)
            return report

        reports = list(await asyncio.gather(*(wait(t) for t in tasks)))
        if any(not r.skipped for r in reports):  # skipped: another process was fetching them all
            await asyncio.to_thread(self.summarize_pending)
        return reports

    async def close(self) -> None:
        """On shutdown: cancel the running sources, let background summarizing finish the batch
        it is on (so no worker thread outlives the database), and wait for both."""
        self._closing.set()
        sources = list(self._tasks.values())
        for task in sources:
            task.cancel()
        await asyncio.gather(*sources, *([self._summary_task] if self._summary_task else []), return_exceptions=True)

    # -- source tasks ----------------------------------------------------------------------

    def _start(self, config: SourceSettings, source_id: int, background: bool) -> asyncio.Task[SourceReport]:
        task = asyncio.create_task(self._pass(config, source_id, background), name=f"source {config.name}")
        self._tasks[config.name] = task
        task.add_done_callback(partial(self._forget, config.name))
        return task

    def _forget(self, name: str, task: asyncio.Task[SourceReport]) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]

    async def _pass(self, config: SourceSettings, source_id: int, background: bool) -> SourceReport:
        if not await asyncio.to_thread(self.store.claim_source, source_id):
            log.info("source %s is being fetched by another process", config.name)
            return SourceReport(config.name, skipped=True)
        try:
            async with self._shared_client() as client:
                report = await self.fetcher.run(client, config, source_id)
        finally:
            await asyncio.to_thread(self.store.release_source, source_id)
        if background:  # nobody waits for this report
            for error in report.errors:
                log.warning("source %s: %s", config.name, error)
            if report.new:
                self._request_summaries()
        return report

    @contextlib.asynccontextmanager
    async def _shared_client(self) -> AsyncIterator[PoliteClient]:
        """One client for the sources running together, so that host politeness holds across
        them; closed (with its robots.txt cache) when the last of them ends."""
        if self._client is None:
            self._client = PoliteClient(self.settings.fetch, self.transport, trusted_hosts=self._web_hosts)
        client = self._client
        self._client_users += 1
        try:
            yield client
        finally:
            self._client_users -= 1
            if self._client_users == 0 and self._client is client:
                self._client = None
                await client.close()

    def request_fetch(self) -> None:
        """Make every active source due now (the bot role asks the workers for a pass)."""
        self.store.request_fetch([s.name for s in self.selected()])

    def summarize_pending(self) -> int:
        """Summarize (and translate) what was stored and lacks it: see :class:`SummaryStage`."""
        return self.summaries.summarize_pending()

    # -- background summaries ----------------------------------------------------------------

    def _request_summaries(self) -> None:
        """Summarize in the background; a request while that runs gives one more run after it."""
        self._summaries_wanted = True
        if self._summary_task is None or self._summary_task.done():
            self._summary_task = asyncio.create_task(self._summarize_while_wanted(), name="summaries")

    async def _summarize_while_wanted(self) -> None:
        while self._summaries_wanted and not self._closing.is_set():
            self._summaries_wanted = False
            try:
                await asyncio.to_thread(self.summarize_pending)
            except Exception:
                log.exception("summarizing failed")
