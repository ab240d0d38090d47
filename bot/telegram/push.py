"""The per-minute push tick: due daily digests, and new stories for instant-mode subscribers.

One query finds who is due (no job per subscriber). Each subscriber's next push time and
last pushed local date are stored, and every push is logged under a key, so a restart
catches up a missed push once and never sends the same day's push twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.digest import build_digest, story_items
from bot.storage import Database, Subscriber
from bot.storage.models import utcnow
from bot.subscriptions import ChatRef, Subscriptions, in_window
from bot.telegram.delivery import Deliverer
from bot.telegram.render import render_digest, render_stories
from bot.texts import t
from bot.weather import WeatherReport, WeatherService

log = logging.getLogger(__name__)

RETRY_FAILED_PUSH = timedelta(minutes=10)


class Pusher:
    """Sends what is due at ``now``; ``tick`` is called every minute by the job queue."""

    def __init__(self, settings: Settings, db: Database, subscriptions: Subscriptions,
                 weather: WeatherService, deliverer: Deliverer) -> None:
        self.settings = settings
        self.db = db
        self.subscriptions = subscriptions
        self.weather = weather
        self.deliverer = deliverer

    async def tick(self, now: datetime | None = None) -> int:
        """Push everything due at ``now`` (aware; default: the current time). Returns pushes sent."""
        now = now or utcnow()
        sent = 0
        due = await asyncio.to_thread(self.subscriptions.due, now)
        report: WeatherReport | None = None
        for subscriber in due:
            report = report or await self.weather.report(now)
            sent += await self._daily(subscriber, report, now)
        for subscriber in await asyncio.to_thread(self.subscriptions.instant):
            sent += await self._instant(subscriber, now)
        return sent

    async def _daily(self, subscriber: Subscriber, report: WeatherReport, now: datetime) -> int:
        local = now.astimezone(ZoneInfo(subscriber.timezone))
        key = f"digest:{local.date().isoformat()}"
        if await asyncio.to_thread(self.subscriptions.delivered, subscriber.id, key):
            await asyncio.to_thread(self.subscriptions.pushed, subscriber.id, local.date(), now)
            return 0
        digest = await asyncio.to_thread(
            build_digest, self.db, subscriber.language, self.settings.digest.max_items, report, local, subscriber.last_push_at
        )
        outcome = await self.deliverer.send(_ref(subscriber), render_digest(digest), broadcast=True)
        await asyncio.to_thread(self.subscriptions.record, subscriber.id, key, outcome.error, now)
        if outcome.ok:
            await asyncio.to_thread(self.subscriptions.pushed, subscriber.id, local.date(), now)
            if subscriber.news_mode == "instant":
                await asyncio.to_thread(self.subscriptions.news_sent, subscriber.id, now)
            return 1
        if not outcome.blocked:
            log.warning("daily push to %s failed (%s); retrying later", subscriber.chat_id, outcome.error)
            await asyncio.to_thread(self.subscriptions.retry_later, subscriber.id, now + RETRY_FAILED_PUSH)
        return 0

    async def _instant(self, subscriber: Subscriber, now: datetime) -> int:
        local = now.astimezone(ZoneInfo(subscriber.timezone))
        if in_window(local.time(), self.settings.digest.quiet_hours):
            return 0
        since = subscriber.last_news_at or now
        stories = await asyncio.to_thread(
            story_items, self.db, subscriber.language, self.settings.digest.max_items, local.tzinfo, since
        )
        if not stories:
            return 0
        key = f"news:{since.isoformat()}"
        if await asyncio.to_thread(self.subscriptions.delivered, subscriber.id, key):
            return 0
        text = render_stories(stories, subscriber.language, heading=t("new_stories", subscriber.language))
        outcome = await self.deliverer.send(_ref(subscriber), text, broadcast=True)
        await asyncio.to_thread(self.subscriptions.record, subscriber.id, key, outcome.error, now)
        if outcome.ok:
            await asyncio.to_thread(self.subscriptions.news_sent, subscriber.id, now)
            return 1
        return 0


def _ref(subscriber: Subscriber) -> ChatRef:
    return ChatRef(subscriber.chat_id, subscriber.thread_id, subscriber.chat_type)
