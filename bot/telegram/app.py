"""The python-telegram-bot Application: services, handlers, command menus and scheduled jobs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from telegram.ext import AIORateLimiter, Application, ContextTypes

from bot.config import ConfigError, Settings
from bot.console.server import Console
from bot.digest import Stories
from bot.follows import Follows
from bot.ingest.pipeline import Ingestor
from bot.maintenance import prune
from bot.redact import install_redaction
from bot.storage import Database
from bot.storage.models import utcnow
from bot.subscriptions import Subscriptions
from bot.telegram import commands
from bot.telegram.chat import Services
from bot.telegram.delivery import Deliverer
from bot.telegram.push import Pusher
from bot.telegram.updates import PerChatUpdateProcessor
from bot.telegraph import FullTexts
from bot.weather_service import WeatherService
from bot.worker import POLL_SECONDS, PRUNE_SECONDS
from summarizer import Summarizer

log = logging.getLogger(__name__)

PUSH_SECONDS = 10  # a push due at 07:30 goes out within seconds; retries come back within seconds
JOB_OPTIONS = {"misfire_grace_time": 30, "coalesce": True, "max_instances": 1}
WORKER_THREADS = 16
# Telegram answers sendMessage in well under a second, but a slow link or a busy Bot API may
# take several: only a request without an answer for this long counts as failed.
BOT_API_TIMEOUTS = {"connect_timeout": 10.0, "read_timeout": 30.0, "write_timeout": 30.0, "pool_timeout": 30.0}


class _FloodWaitsAreHandled(logging.Filter):
    """PTB's rate limiter logs every flood wait it does not retry as an error with a traceback;
    the deliverer handles (and logs) them, so those records are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Rate limit hit after maximum")


def build_application(
    settings: Settings,
    db: Database,
    summarizer: Summarizer,
    clock: Callable[[], datetime] = utcnow,
    schedule: bool = True,
    role: str = "all",
) -> Application:
    """The bot, wired to the same services as the CLI. ``schedule`` adds the jobs: pushes and
    pruning, and source polling unless ``role`` is "bot" (worker processes poll then)."""
    token = settings.telegram.token
    if not token:
        raise ConfigError("no Telegram bot token: set [telegram] token or NEWSBOT_TELEGRAM_TOKEN")
    install_redaction(token)
    limiter_log = logging.getLogger("telegram.ext.AIORateLimiter")
    if not any(isinstance(f, _FloodWaitsAreHandled) for f in limiter_log.filters):
        limiter_log.addFilter(_FloodWaitsAreHandled())
    builder = (
        Application.builder()
        .token(token)
        .base_url(settings.telegram.api_base_url)
        # the limiter paces requests (30/s overall, 20/min per group); it must not retry flood
        # waits itself: it would pause every chat's requests while one chat waits
        .rate_limiter(AIORateLimiter(max_retries=0))
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    for name, seconds in BOT_API_TIMEOUTS.items():
        builder = getattr(builder, name)(seconds)
    application = builder.build()
    subscriptions = Subscriptions(db, settings)
    deliverer = Deliverer(application.bot, subscriptions, settings.telegram.broadcast_per_second)
    weather = WeatherService(settings, db)
    follows = Follows(db, settings)
    application.bot_data["services"] = Services(
        settings=settings,
        subscriptions=subscriptions,
        stories=Stories(db, settings),
        deliverer=deliverer,
        weather=weather,
        ingestor=Ingestor(settings, db, summarizer),
        pusher=Pusher(settings, db, subscriptions, weather, deliverer, follows, summarizer),
        follows=follows,
        full_texts=FullTexts(settings, db),
        clock=clock,
        role=role,
    )
    application.bot_data["schedule"] = schedule
    commands.register(application)
    return application


async def _post_init(application: Application) -> None:
    svc: Services = application.bot_data["services"]
    # database work, parsing and summarization share these threads; a long summarization or a
    # database lock held by another process must not starve the handlers' short queries
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="newsbot"))
    await commands.register_menus(application, svc.settings)
    await asyncio.to_thread(svc.subscriptions.sync_channels, svc.now())
    await asyncio.to_thread(svc.ingestor.catalog)  # the config's [[sources]] applied to the catalog
    application.bot_data["console"] = Console(svc.settings, svc.subscriptions.db, svc.role, svc.deliverer)
    await application.bot_data["console"].start()  # [status]: status page, metrics, heartbeat, admin alerts
    if application.bot_data.get("schedule") and application.job_queue is not None:
        queue = application.job_queue
        if svc.role == "all":
            queue.run_repeating(poll_sources, interval=POLL_SECONDS, first=1, name="poll-sources", job_kwargs=JOB_OPTIONS)
        now = svc.now()
        first = PUSH_SECONDS - now.second % PUSH_SECONDS + 1
        queue.run_repeating(
            push_tick, interval=PUSH_SECONDS, first=first, name="push-tick", job_kwargs={**JOB_OPTIONS, "max_instances": 2}
        )  # a tick during a long broadcast returns at once
        queue.run_repeating(prune_old_data, interval=PRUNE_SECONDS, first=600, name="prune", job_kwargs=JOB_OPTIONS)


async def _post_shutdown(application: Application) -> None:
    """Stop the sources still being fetched (a summarization finishes its current batch)."""
    svc: Services = application.bot_data["services"]
    await svc.ingestor.close()
    console = application.bot_data.pop("console", None)  # once, however often shutdown runs
    if console is not None:
        await console.stop()


async def poll_sources(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start each due source as its own task (one that hangs holds only itself); failures back off."""
    svc: Services = context.application.bot_data["services"]
    await svc.ingestor.poll_due()


async def prune_old_data(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Once a day: rows and article bodies older than ``[storage] keep_days``."""
    svc: Services = context.application.bot_data["services"]
    keep_days = svc.settings.storage.keep_days
    counts = await asyncio.to_thread(prune, svc.subscriptions.db, keep_days, svc.now())
    if any(counts.values()):
        log.info("pruned data older than %d days: %s", keep_days, counts)


async def push_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every few seconds: the pushes that are due."""
    svc: Services = context.application.bot_data["services"]
    await svc.pusher.tick(svc.now())
