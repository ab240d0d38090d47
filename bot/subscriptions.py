"""Subscribers and their settings, push schedule and delivery log (database operations)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.config import Settings, parse_hhmm, parse_window
from bot.storage import Database, Delivery, Source, Story, Subscriber


@dataclass(frozen=True)
class ChatRef:
    """Where to talk: a chat, and a forum topic in it (0 for none)."""

    chat_id: int
    thread_id: int = 0
    chat_type: str = "private"


def next_push_at(push_time: str, timezone: str, after: datetime, skip_date: str | None = None) -> datetime:
    """The first local ``push_time`` strictly after ``after`` (not on ``skip_date``), in UTC.

    Computed on the wall clock of ``timezone`` and converted, so a push stays at 07:30
    local across DST changes; a time that does not exist that day falls just after the gap.
    """
    tz = ZoneInfo(timezone)
    at = parse_hhmm(push_time)
    local_day = after.astimezone(tz).date()
    for offset in range(3):
        day = local_day + timedelta(days=offset)
        candidate = datetime.combine(day, at, tzinfo=tz)
        if candidate.astimezone(ZoneInfo("UTC")) > after and day.isoformat() != skip_date:
            return candidate.astimezone(ZoneInfo("UTC"))
    raise AssertionError("unreachable: one of three days always qualifies")


def in_window(moment: time, window: str) -> bool:
    """Whether a local time of day falls in ``HH:MM-HH:MM`` (windows may wrap midnight)."""
    start, end = parse_window(window)
    return start <= moment < end if start <= end else moment >= start or moment < end


class Subscriptions:
    """All subscriber reads and writes; safe to call from worker threads."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def get(self, ref: ChatRef, language: str) -> Subscriber:
        """The chat's row, created (inactive, region defaults) on first contact."""
        with self.db.session() as session:
            return self._row(session, ref, language)

    def _row(self, session, ref: ChatRef, language: str) -> Subscriber:
        row = session.scalar(select(Subscriber).where(Subscriber.chat_id == ref.chat_id, Subscriber.thread_id == ref.thread_id))
        if row is None:
            row = Subscriber(
                chat_id=ref.chat_id, thread_id=ref.thread_id, chat_type=ref.chat_type, language=language,
                language_chosen=False, push_time=self.settings.digest.default_time,
                timezone=self.settings.region.timezone, news_mode="daily", active=False,
            )
            session.add(row)
            session.flush()
        elif not row.language_chosen and row.language != language:
            row.language = language  # follows the Telegram client until /lang is used
        return row

    def update(self, ref: ChatRef, default_language: str, now: datetime, **changes) -> Subscriber:
        """Apply setting ``changes`` (active, push_time, language, news_mode) and reschedule."""
        with self.db.session() as session:
            row = self._row(session, ref, default_language)
            if "language" in changes:
                row.language_chosen = True
            for key, value in changes.items():
                setattr(row, key, value)
            if row.active:
                row.inactive_reason = None
                row.next_push_at = next_push_at(row.push_time, row.timezone, now, skip_date=row.last_push_date)
                if row.news_mode == "instant" and row.last_news_at is None:
                    row.last_news_at = now
            else:
                row.next_push_at = None
            return row

    def due(self, now: datetime) -> list[Subscriber]:
        """Active subscribers whose daily push time has come."""
        with self.db.session() as session:
            return list(session.scalars(
                select(Subscriber).where(Subscriber.active, Subscriber.next_push_at <= now).order_by(Subscriber.next_push_at)
            ))

    def instant(self) -> list[Subscriber]:
        """Active subscribers who also want new stories as they arrive."""
        with self.db.session() as session:
            return list(session.scalars(select(Subscriber).where(Subscriber.active, Subscriber.news_mode == "instant")))

    def delivered(self, subscriber_id: int, key: str) -> bool:
        """Whether push ``key`` already reached this subscriber."""
        with self.db.session() as session:
            return bool(session.scalar(select(func.count()).select_from(Delivery).where(
                Delivery.subscriber_id == subscriber_id, Delivery.push_key == key, Delivery.status == "sent")))

    def record(self, subscriber_id: int, key: str, error: str | None, now: datetime) -> None:
        """Log push ``key`` as sent (no error) or failed."""
        with self.db.session() as session:
            row = session.scalar(select(Delivery).where(Delivery.subscriber_id == subscriber_id, Delivery.push_key == key))
            if row is None:
                row = Delivery(subscriber_id=subscriber_id, push_key=key)
                session.add(row)
            row.status, row.error, row.created_at = ("failed", error, now) if error else ("sent", None, now)

    def pushed(self, subscriber_id: int, local_day: date, now: datetime) -> None:
        """The day's push is done: remember it and schedule the next one."""
        with self.db.session() as session:
            row = session.get_one(Subscriber, subscriber_id)
            row.last_push_date = local_day.isoformat()
            row.last_push_at = now
            row.next_push_at = next_push_at(row.push_time, row.timezone, now, skip_date=row.last_push_date)

    def retry_later(self, subscriber_id: int, when: datetime) -> None:
        """A push failed for a passing reason: try again at ``when``."""
        with self.db.session() as session:
            session.get_one(Subscriber, subscriber_id).next_push_at = when

    def news_sent(self, subscriber_id: int, now: datetime) -> None:
        """Instant mode: stories up to ``now`` have been sent."""
        with self.db.session() as session:
            session.get_one(Subscriber, subscriber_id).last_news_at = now

    def deactivate(self, chat_id: int, reason: str) -> None:
        """The chat blocked or removed the bot: stop pushing to it (settings kept)."""
        with self.db.session() as session:
            for row in session.scalars(select(Subscriber).where(Subscriber.chat_id == chat_id)):
                row.active, row.inactive_reason, row.next_push_at = False, reason, None

    def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its rows follow the new chat id."""
        with self.db.session() as session:
            for row in session.scalars(select(Subscriber).where(Subscriber.chat_id == old_chat_id)):
                row.chat_id = new_chat_id

    def stats(self, now: datetime) -> dict:
        """Counts for /stats: subscribers, and stories and deliveries since local midnight."""
        tz = self.settings.region.tz
        midnight = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)
        with self.db.session() as session:
            count = lambda query: session.scalar(query) or 0  # noqa: E731 - a local shorthand
            return {
                "subscribers": count(select(func.count()).select_from(Subscriber)),
                "active": count(select(func.count()).select_from(Subscriber).where(Subscriber.active)),
                "stories": count(select(func.count()).select_from(Story).where(Story.first_seen_at >= midnight)),
                "sent": count(select(func.count()).select_from(Delivery).where(Delivery.created_at >= midnight, Delivery.status == "sent")),
                "failed": count(select(func.count()).select_from(Delivery).where(Delivery.created_at >= midnight, Delivery.status == "failed")),
            }

    def sources(self) -> list[Source]:
        """Source rows with their fetch state, for /sources and /stats."""
        with self.db.session() as session:
            return list(session.scalars(select(Source).order_by(Source.name)))
