"""Subscribers and their settings, push schedule and delivery log (database operations)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import Settings, parse_hhmm, parse_window
from bot.storage import Database, Delivery, Follow, FollowHit, Source, Story, Subscriber
from bot.storage.locks import PROCESS_ID
from bot.storage.models import utcnow

DAILY_KEY = "digest:"
NEWS_KEY = "news:"
FOLLOW_KEY = "follow:"
MAX_ATTEMPTS = 12  # a push failing this often (about two hours of backoff) waits for the next day
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 1800.0
CLAIM_LEASE = timedelta(seconds=60)  # wall clock; longer than any one send (Bot API timeouts are 30 s)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after ``attempts`` failures: 5 s, 10 s, 20 s, … up to 30 minutes, with jitter."""
    base = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS)
    return timedelta(seconds=base * random.uniform(1.0, 1.25))


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


def delete_subscribers(session: Session, ids: list[int]) -> None:
    """Delete subscriber rows and every row that refers to them (follows, follow hits,
    deliveries), without relying on the database's foreign-key cascades."""
    if ids:
        for model in (FollowHit, Follow, Delivery):
            session.execute(delete(model).where(model.subscriber_id.in_(ids)))
        session.execute(delete(Subscriber).where(Subscriber.id.in_(ids)))


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
                chat_id=ref.chat_id,
                thread_id=ref.thread_id,
                chat_type=ref.chat_type,
                language=language,
                language_chosen=False,
                push_time=self.settings.digest.default_time,
                timezone=self.settings.region.timezone,
                news_mode="daily",
                active=False,
            )
            session.add(row)
            session.flush()
        else:
            if not row.language_chosen and row.language != language and row.chat_type == "private":
                row.language = language  # follows the reader's Telegram client until /lang is used
            if row.inactive_reason and not row.managed:
                row.inactive_reason = row.blocked_at = None  # the chat talks to the bot again: it has not blocked it
        return row

    def update(self, ref: ChatRef, default_language: str, now: datetime, **changes) -> Subscriber:
        """Apply setting ``changes`` (active, push_time, language, news_mode, alerts, chart, region) and
        reschedule; a new region brings its timezone."""
        with self.db.session() as session:
            row = self._row(session, ref, default_language)
            if "language" in changes:
                row.language_chosen = True
            if "region" in changes:
                changes["timezone"] = self.settings.region_for(changes["region"]).timezone
            schedule = (row.active, row.push_time, row.timezone)
            for key, value in changes.items():
                setattr(row, key, value)
            if not row.active:
                row.next_push_at = None
            elif (row.active, row.push_time, row.timezone) != schedule or row.next_push_at is None:
                # only a new schedule moves the next push: one that is due or being retried stays
                row.inactive_reason = row.blocked_at = None
                row.next_push_at = next_push_at(row.push_time, row.timezone, now, skip_date=row.last_push_date)
            if row.active and row.news_mode == "instant" and row.last_news_at is None:
                row.last_news_at = now
            return row

    def sync_channels(self, now: datetime) -> None:
        """Make the subscriber rows of the ``[[channels]]`` entries match the config: each
        subscribed at its time, in its region; a channel no longer configured stops."""
        try:
            self._sync_channels(now)
        except IntegrityError:  # another process starting at the same time created a row first
            self._sync_channels(now)

    def _sync_channels(self, now: datetime) -> None:
        configured = {channel.chat_id: channel for channel in self.settings.channels}
        with self.db.session() as session:
            rows = {
                row.chat_id: row
                for row in session.scalars(
                    select(Subscriber).where(
                        or_(Subscriber.managed, Subscriber.chat_id.in_(configured)), Subscriber.thread_id == 0
                    )
                )
            }
            for chat_id, gone in rows.items():
                if chat_id not in configured and gone.managed and gone.active:
                    gone.active, gone.next_push_at, gone.inactive_reason = False, None, "no longer in [[channels]]"
            for chat_id, channel in configured.items():
                region = self.settings.region_for(channel.region or None)
                row = rows.get(chat_id)
                if row is None:
                    row = Subscriber(chat_id=chat_id, thread_id=0, chat_type="channel", news_mode="daily")
                    session.add(row)
                # a restart keeps a push that is due (the bot was down at push time): it is caught up
                unchanged = (
                    row.active
                    and row.next_push_at is not None
                    and (row.push_time, row.timezone) == (channel.time, region.timezone)
                )
                row.managed, row.active, row.inactive_reason = True, True, None
                row.language, row.language_chosen = channel.language or region.language, True
                row.push_time, row.region, row.timezone = channel.time, region.name, region.timezone
                if not unchanged:
                    row.next_push_at = next_push_at(row.push_time, row.timezone, now, skip_date=row.last_push_date)

    def due(self, now: datetime, after_id: int = 0, limit: int = 500) -> list[Subscriber]:
        """Active subscribers whose daily push time has come, by id after ``after_id`` (a page)."""
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(Subscriber)
                    .where(Subscriber.active, Subscriber.next_push_at <= now, Subscriber.id > after_id)
                    .order_by(Subscriber.id)
                    .limit(limit)
                )
            )

    def alert_recipients(self, region: str, key: str, after_id: int = 0, limit: int = 500) -> list[Subscriber]:
        """Chats of ``region`` that want weather alerts and have not had (or given up on) push
        ``key`` yet (a page, by id)."""
        settled = exists().where(
            Delivery.subscriber_id == Subscriber.id,
            Delivery.push_key == key,
            or_(Delivery.status == "sent", and_(Delivery.status == "failed", Delivery.next_attempt_at.is_(None))),
        )
        mine = Subscriber.region == region
        if region == self.settings.region.name:  # the default region also has the chats of none, or of a removed one
            mine = or_(mine, Subscriber.region.is_(None), Subscriber.region.not_in(self.settings.region_names()))
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(Subscriber)
                    .where(Subscriber.alerts, Subscriber.inactive_reason.is_(None), mine, ~settled, Subscriber.id > after_id)
                    .order_by(Subscriber.id)
                    .limit(limit)
                )
            )

    def instant(self, newer_than: datetime, after_id: int = 0, limit: int = 500) -> list[Subscriber]:
        """Active instant-mode subscribers who have not yet had news up to ``newer_than`` (a page)."""
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(Subscriber)
                    .where(
                        Subscriber.active,
                        Subscriber.news_mode == "instant",
                        Subscriber.id > after_id,
                        or_(Subscriber.last_news_at.is_(None), Subscriber.last_news_at < newer_than),
                    )
                    .order_by(Subscriber.id)
                    .limit(limit)
                )
            )

    def claim(self, subscriber_id: int, key: str, now: datetime) -> str:
        """Mark push ``key`` as being sent by this process: ``"go"``; ``"sent"`` when it already
        reached the subscriber; ``"given up"`` after its last failure; ``"later"`` while a retry or
        flood wait is not yet due, or while another process is sending it.

        Written (and committed) just before the message goes out (once it is built), so that
        after a crash only the pushes that were in flight can be sent twice. ``now`` is the
        tick's time, for retry times; the claim itself lasts ``CLAIM_LEASE`` on the wall clock
        (``claimed_until``), whenever in a long tick it is taken. On PostgreSQL, where several
        processes may push, another process's claim is honoured until then (after that it is
        taken to have died); with SQLite there is one process, so an older claim is a dead run's.
        """
        wall = utcnow()
        try:
            with self.db.session() as session:
                row = session.scalar(
                    select(Delivery).where(Delivery.subscriber_id == subscriber_id, Delivery.push_key == key).with_for_update()
                )
                if row is None:
                    session.add(
                        Delivery(
                            subscriber_id=subscriber_id,
                            push_key=key,
                            status="sending",
                            attempts=0,
                            claimed_by=PROCESS_ID,
                            claimed_until=wall + CLAIM_LEASE,
                            created_at=now,
                        )
                    )
                    session.flush()  # two processes claiming at once: the second fails here
                    return "go"
                if row.status == "sent":
                    return "sent"
                if row.status == "failed" and row.next_attempt_at is None:
                    return "given up"
                if row.status == "failed" and row.next_attempt_at is not None and row.next_attempt_at > now:
                    return "later"
                if (
                    row.status == "sending"
                    and row.claimed_by != PROCESS_ID
                    and self.db.shared
                    and row.claimed_until is not None
                    and row.claimed_until > wall
                ):
                    return "later"
                row.status, row.claimed_by, row.claimed_until, row.created_at = "sending", PROCESS_ID, wall + CLAIM_LEASE, now
                return "go"
        except IntegrityError:
            return "later"

    def sent(
        self, subscriber_id: int, key: str, now: datetime, local_day: date | None = None, moved_to: ChatRef | None = None
    ) -> None:
        """Push ``key`` reached the subscriber: log it and, for the daily push (``local_day``),
        schedule the next one. ``moved_to``: where the chat went if it migrated meanwhile.

        ``now`` is the tick's time: every push of one tick shares it, so the next edition's
        window starts at the same instant for all of them.
        """
        with self.db.session() as session:
            row = self._current(session, subscriber_id, moved_to)
            if row is None:
                return
            delivery = self._delivery(session, row.id, key)
            delivery.status, delivery.error, delivery.next_attempt_at, delivery.created_at = "sent", None, None, now
            if local_day is not None:
                row.last_push_date = local_day.isoformat()
                row.last_push_at = now
                row.next_push_at = next_push_at(row.push_time, row.timezone, now, skip_date=row.last_push_date)
            if row.news_mode == "instant":
                row.last_news_at = now

    def failed(
        self,
        subscriber_id: int,
        key: str,
        error: str,
        now: datetime,
        permanent: bool = False,
        local_day: date | None = None,
        moved_to: ChatRef | None = None,
    ) -> datetime | None:
        """Push ``key`` failed: log it and schedule a retry with backoff (seconds at first,
        doubling, capped). A permanent failure, or one past ``MAX_ATTEMPTS``, is given up: a
        daily push then waits for the next day. Returns when the retry is due, or None."""
        with self.db.session() as session:
            row = self._current(session, subscriber_id, moved_to)
            if row is None:
                return None
            delivery = self._delivery(session, row.id, key)
            delivery.attempts = (delivery.attempts or 0) + 1
            retry_at = None if permanent or delivery.attempts >= MAX_ATTEMPTS else now + retry_delay(delivery.attempts)
            delivery.status, delivery.error, delivery.created_at, delivery.next_attempt_at = "failed", error, now, retry_at
            if retry_at is None and key.startswith(NEWS_KEY):
                row.last_news_at = now  # the next news push starts after the stories given up on
            if row.active and local_day is not None:
                if retry_at is not None:
                    row.next_push_at = retry_at
                else:
                    row.last_push_date = local_day.isoformat()
                    row.next_push_at = next_push_at(row.push_time, row.timezone, now, skip_date=row.last_push_date)
            return retry_at

    def postpone(self, subscriber_id: int, key: str, until: datetime, moved_to: ChatRef | None = None) -> None:
        """A flood wait for this chat: try push ``key`` again at ``until`` (not counted as a failure)."""
        with self.db.session() as session:
            row = self._current(session, subscriber_id, moved_to)
            if row is None:
                return
            delivery = self._delivery(session, row.id, key)
            delivery.status, delivery.error, delivery.next_attempt_at = "failed", "flood control", until
            if row.active and key.startswith(DAILY_KEY):
                row.next_push_at = until

    @staticmethod
    def _current(session: Session, subscriber_id: int, moved_to: ChatRef | None) -> Subscriber | None:
        """The subscriber's row, or the row it was merged into when its group migrated."""
        row = session.get(Subscriber, subscriber_id)
        if row is None and moved_to is not None:
            row = session.scalar(
                select(Subscriber).where(Subscriber.chat_id == moved_to.chat_id, Subscriber.thread_id == moved_to.thread_id)
            )
        return row

    @staticmethod
    def _delivery(session: Session, subscriber_id: int, key: str) -> Delivery:
        row = session.scalar(select(Delivery).where(Delivery.subscriber_id == subscriber_id, Delivery.push_key == key))
        if row is None:
            row = Delivery(subscriber_id=subscriber_id, push_key=key, status="sending", attempts=0)
            session.add(row)
        return row

    def deactivate(self, chat_id: int, reason: str, now: datetime | None = None) -> None:
        """The chat blocked or removed the bot: stop pushing to it (settings kept until
        :func:`bot.maintenance.prune` forgets chats blocked for ``keep_days``)."""
        with self.db.session() as session:
            for row in session.scalars(select(Subscriber).where(Subscriber.chat_id == chat_id)):
                row.active, row.inactive_reason, row.next_push_at = False, reason, None
                row.blocked_at = row.blocked_at or now or utcnow()

    def forget(self, chat_id: int) -> int:
        """``/forget``: delete everything kept about the chat (every topic): its settings,
        follows, held alerts and delivery log. Returns the subscriber rows deleted."""
        with self.db.session() as session:
            ids = list(session.scalars(select(Subscriber.id).where(Subscriber.chat_id == chat_id)))
            delete_subscribers(session, ids)
            return len(ids)

    def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its rows follow the new chat id.

        Where the new chat already has a row for the same topic (someone used the bot in the
        supergroup first), the two are merged into that row: it stays subscribed if either
        was, keeps the old row's settings when it had none of its own, and remembers the
        later push date so that nobody gets the day's push twice.
        """
        with self.db.session() as session:
            for old in session.scalars(select(Subscriber).where(Subscriber.chat_id == old_chat_id)).all():
                new = session.scalar(
                    select(Subscriber).where(Subscriber.chat_id == new_chat_id, Subscriber.thread_id == old.thread_id)
                )
                if new is None:
                    old.chat_id, old.chat_type = new_chat_id, "supergroup"
                    continue
                if old.active and not new.active:
                    for name in (
                        "push_time",
                        "timezone",
                        "news_mode",
                        "next_push_at",
                        "last_news_at",
                        "language",
                        "language_chosen",
                        "region",
                        "alerts",
                    ):
                        setattr(new, name, getattr(old, name))
                    new.active, new.inactive_reason = True, None
                new.last_push_date = max(filter(None, (old.last_push_date, new.last_push_date)), default=None)
                new.alerts = new.alerts or old.alerts
                new.region = new.region or old.region
                kept = set(session.scalars(select(Follow.normalized).where(Follow.subscriber_id == new.id)))
                for follow in session.scalars(select(Follow).where(Follow.subscriber_id == old.id)):
                    if follow.normalized not in kept:
                        follow.subscriber_id = new.id
                session.flush()
                session.delete(old)
                session.flush()

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
                "sent": count(
                    select(func.count()).select_from(Delivery).where(Delivery.created_at >= midnight, Delivery.status == "sent")
                ),
                "failed": count(
                    select(func.count()).select_from(Delivery).where(Delivery.created_at >= midnight, Delivery.status == "failed")
                ),
            }

    def sources(self) -> list[Source]:
        """Source rows with their fetch state, for /sources and /stats."""
        with self.db.session() as session:
            return list(session.scalars(select(Source).order_by(Source.name)))
