"""The worker role: source polling, extraction, dedup/grouping and summarization, no Telegram.

``newsbot run --role worker`` runs this loop; any number of workers (and bot processes) can
share one PostgreSQL database: a source is fetched by one process at a time (row claims, see
:mod:`bot.ingest.pipeline`), and so is an article's summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from bot.config import Settings
from bot.console.server import Console
from bot.ingest.pipeline import Ingestor
from bot.maintenance import prune
from bot.storage import Database
from bot.storage.models import utcnow
from summarizer import Summarizer

log = logging.getLogger(__name__)

POLL_SECONDS = 60  # how often due sources are looked for
PRUNE_SECONDS = 24 * 60 * 60


async def run_worker(settings: Settings, db: Database, summarizer: Summarizer) -> None:
    """Poll due sources (and prune old data daily) until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ingestor = Ingestor(settings, db, summarizer)
    console = Console(settings, db, "worker")
    await console.start()  # [status]: status page, metrics, heartbeat
    log.info("worker started: %d active source(s)", len(await asyncio.to_thread(ingestor.selected)))
    pruned_at = time.monotonic()  # first prune a day after start, like the bot's job
    try:
        while not stop.is_set():
            await ingestor.poll_due()
            if time.monotonic() - pruned_at >= PRUNE_SECONDS:
                pruned_at = time.monotonic()
                counts = await asyncio.to_thread(prune, db, settings.storage.keep_days, utcnow())
                log.info("pruned data older than %d days: %s", settings.storage.keep_days, counts)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
    finally:
        await ingestor.close()
        await console.stop()
