"""Running the bot until SIGINT/SIGTERM: long polling (one leader among processes) or a webhook.

Several ``newsbot run`` processes may share one PostgreSQL database. Telegram hands each
update to one ``getUpdates`` caller only, so exactly one of them long-polls: the one that
holds a PostgreSQL advisory lock (:class:`bot.storage.locks.Leadership`). The others push,
poll sources and summarize, and take over within seconds when the leader dies (its
connection closes and the lock frees). In webhook mode every process serves the webhook (put
them behind a load balancer). With SQLite there is a single process, always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, Updater

from bot.config import Settings
from bot.storage import Database
from bot.storage.locks import Leadership
from bot.telegram.handlers import ALLOWED_UPDATES

log = logging.getLogger(__name__)

# a Bot API that is unreachable at start is tried this many more times (a few seconds when the
# address refuses, about 15 s when connections time out) before giving up with one line
BOOTSTRAP_RETRIES = 2
LEADER_RETRY_SECONDS = 5.0  # how often a follower tries to become the long-polling leader
# Telegram's updates are a few KiB; a larger webhook request is refused before its secret is read
WEBHOOK_MAX_BODY_BYTES = 1 << 20


async def serve(application: Application, settings: Settings, db: Database, webhook_secret: str | None = None) -> None:
    """Start the application, receive updates until a stop signal, then stop cleanly.

    Raises InvalidToken or NetworkError (after retries) when the Bot API refuses or cannot be
    reached at start.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    leadership = Leadership(db, "telegram-long-polling")
    updater = _updater(application)
    await _initialize(application)
    try:
        if application.post_init:
            await application.post_init(application)
        await application.start()
        telegram = settings.telegram
        if telegram.webhook_url:
            from tornado.httpserver import HTTPServer  # PTB's webhook server; its default body limit is 100 MB

            HTTPServer.configure(None, max_body_size=WEBHOOK_MAX_BODY_BYTES)
            await updater.start_webhook(
                listen=telegram.webhook_listen,
                port=telegram.webhook_port,
                url_path=urlsplit(telegram.webhook_url).path.lstrip("/"),
                webhook_url=telegram.webhook_url,
                secret_token=webhook_secret,
                bootstrap_retries=BOOTSTRAP_RETRIES,
                allowed_updates=ALLOWED_UPDATES,
            )
            await stop.wait()
        else:
            await _poll_while_leader(updater, leadership, stop)
    finally:
        if updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        if application.post_stop:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
        await asyncio.to_thread(leadership.release)


def _updater(application: Application) -> Updater:
    """The application's updater (``build_application`` always gives it one)."""
    assert application.updater is not None
    return application.updater


async def _initialize(application: Application) -> None:
    for attempt in range(BOOTSTRAP_RETRIES + 1):
        try:
            await application.initialize()
            return
        except InvalidToken:
            raise
        except NetworkError as exc:
            if attempt == BOOTSTRAP_RETRIES:
                raise
            log.debug("Telegram Bot API not reachable yet (%s); trying again", exc)
            await asyncio.sleep(1 + attempt)


async def _poll_while_leader(updater: Updater, leadership: Leadership, stop: asyncio.Event) -> None:
    """Long-poll while this process holds the leadership (checked every few seconds); until
    then, try for it now and then."""
    while not stop.is_set():
        if updater.running and not await asyncio.to_thread(leadership.still_held):
            # another process may be the leader by now: two pollers would make Telegram answer 409
            log.warning("lost the long-polling leadership; stopping polling until it is won back")
            await updater.stop()
        if not updater.running:
            try:
                won = await asyncio.to_thread(leadership.acquire)
            except Exception as exc:  # the database is away for a moment: try again later, keep running
                log.warning("cannot reach the database to take the long-polling leadership: %s", exc)
                won = False
            if won:
                log.info("this process receives the Telegram updates (long polling)")
                await updater.start_polling(bootstrap_retries=BOOTSTRAP_RETRIES, allowed_updates=ALLOWED_UPDATES)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), LEADER_RETRY_SECONDS)
