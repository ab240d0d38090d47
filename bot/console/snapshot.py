"""What the console reads from the database, in one pass of bounded, indexed queries.

A :class:`Snapshot` is read in a background thread every ``[status] refresh_seconds`` and
kept: a scrape or a page view only formats the latest one, so neither queries the database
nor waits for it. Reads go through :class:`Reader`: on SQLite a connection of its own that
reads without taking the write lock (the service's sessions begin IMMEDIATE), so a snapshot
never holds up a push being recorded.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, case, create_engine, func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.console.heartbeat import ProcessBeat, processes
from bot.console.metrics import PUSH_KINDS
from bot.gate_report import ProfileAcceptance, acceptance
from bot.ingest.catalog import HEALTH_DAYS, source_health
from bot.ingest.summaries import SUMMARY_WINDOW
from bot.redact import redact
from bot.storage import Article, Database, Delivery, PageRetry, Subscriber, Summary
from bot.storage.db import SQLITE_BUSY_SECONDS
from summarizer.outcomes import WINDOW, reason_class
from summarizer.text import language_family

DAYS = HEALTH_DAYS  # articles per day are shown for this many days (UTC), today included
ERROR_CHARS = 200  # a source's last error, as shown
TOP_ERRORS = 3
RECENT_PUSHES = timedelta(hours=1)  # the delivery failure rate is over this window
PROFILE_ROWS = 4 * WINDOW  # newest summaries read per profile to find its last WINDOW own-language ones


@dataclass(frozen=True)
class SourceHealth:
    """One source of the catalog as the console shows it."""

    name: str
    kind: str
    state: str  # active | paused
    last_success: datetime | None
    last_attempt: datetime | None
    last_error: str | None
    error_count: int  # failed passes since the last success
    failing_since: datetime | None  # while failing: its last success, or when it was added (None: unknown)
    per_day: tuple[int, ...]  # articles stored each of the last DAYS days (UTC), oldest first

    def status(self, now: datetime, down_after: timedelta) -> str:
        """paused, never (not tried yet), ok, failing, or down (failing for ``down_after``)."""
        if self.state != "active":
            return "paused"
        if not self.error_count:
            return "ok" if self.last_success else "never"
        if self.failing_since is not None and now - self.failing_since >= down_after:
            return "down"
        return "failing"


@dataclass(frozen=True)
class Fallbacks:
    """A profile's last summaries (up to :data:`WINDOW`): how many fell back, mostly why."""

    profile: str
    fallen: int
    total: int
    main_reason: str | None


@dataclass(frozen=True)
class Snapshot:
    """Everything the page, the gauges and the alerts show, as of ``taken_at``."""

    taken_at: datetime
    sources: list[SourceHealth]
    gate: list[ProfileAcceptance]
    fallbacks: list[Fallbacks]
    deliveries: dict[tuple[str, str], int]  # (kind, status) → pushes of the last 24 h
    delivery_errors: list[tuple[str, int]]  # the commonest failures of the last 24 h
    recent_pushes: tuple[int, int]  # (failed, settled) over RECENT_PUSHES
    queues: dict[str, int]
    subscribers: dict[tuple[str, str], int]  # (language, region) → active subscriptions
    processes: list[ProcessBeat]
    read_seconds: float = field(default=0.0, compare=False)


class Reader:
    """Sessions for reading only (a :class:`bot.storage.db.Sessions`, as :func:`acceptance` takes)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine: Engine = db.engine
        if not db.shared and ":memory:" not in db.url:  # SQLite: the driver's own transactions read without a lock
            self.engine = create_engine(db.url, pool_size=2, connect_args={"timeout": SQLITE_BUSY_SECONDS})

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (rolled back at the end)."""
        with Session(self.engine) as session:
            yield session

    def close(self) -> None:
        if self.engine is not self.db.engine:
            self.engine.dispose()


def read_snapshot(reader: Reader, settings: Settings, now: datetime) -> Snapshot:
    """Read a snapshot as of ``now``."""
    started = time.perf_counter()
    day = now - timedelta(hours=24)
    gate = acceptance(reader, day)
    sources = source_states(reader, now)
    with reader.session() as session:
        fallbacks = [_fallbacks(session, p.profile) for p in gate]
        deliveries, errors = _deliveries(session, day)
        recent = _recent_pushes(session, now - RECENT_PUSHES)
        queues = _queues(session, now)
        subscribers = _subscribers(session, settings)
        beats = processes(session)
    return Snapshot(
        taken_at=now,
        sources=sources,
        gate=gate,
        fallbacks=fallbacks,
        deliveries=deliveries,
        delivery_errors=errors,
        recent_pushes=recent,
        queues=queues,
        subscribers=subscribers,
        processes=beats,
        read_seconds=time.perf_counter() - started,
    )


def source_states(reader: Reader, now: datetime) -> list[SourceHealth]:
    """The catalog's sources (removed ones left out) with their fetch state and articles per
    day (:func:`bot.ingest.catalog.source_health`); the one place the console reads source
    state. A failing source that never succeeded counts as failing since it was added."""
    return [
        SourceHealth(
            name=row.name,
            kind=row.kind,
            state=row.state,
            last_success=row.last_success_at,
            last_attempt=row.last_attempt_at,
            last_error=redact(row.last_error)[:ERROR_CHARS] if row.last_error and row.error_count else None,
            error_count=row.error_count,
            failing_since=(row.last_success_at or row.changed_at) if row.error_count else None,
            per_day=tuple(row.articles_per_day),
        )
        for row in source_health(reader, now)
    ]


def _fallbacks(session: Session, profile: str) -> Fallbacks:
    """The profile's last WINDOW summaries in their article's own language (translations left out)."""
    rows = session.execute(
        select(Summary.fallback, Summary.reason, Summary.language, Article.language)
        .join(Article, Summary.article_id == Article.id)
        .where(Summary.profile == profile)
        .order_by(Summary.created_at.desc())
        .limit(PROFILE_ROWS)
    ).all()
    own = [
        (fallback, reason)
        for fallback, reason, language, article in rows
        if language_family(language) == language_family(article)
    ]
    last = own[:WINDOW]
    reasons = Counter(reason_class(reason) for fallback, reason in last if fallback)
    main = reasons.most_common(1)[0][0] if reasons else None
    return Fallbacks(profile, sum(reasons.values()), len(last), main)


def _kind_column():
    return case(*((Delivery.push_key.startswith(prefix), kind) for prefix, kind in PUSH_KINDS.items()), else_="other")


def _deliveries(session: Session, since: datetime) -> tuple[dict[tuple[str, str], int], list[tuple[str, int]]]:
    kind = _kind_column()
    counts = {
        (k, status): count
        for k, status, count in session.execute(
            select(kind, Delivery.status, func.count()).where(Delivery.created_at >= since).group_by(kind, Delivery.status)
        )
    }
    errors = session.execute(
        select(Delivery.error, func.count().label("n"))
        .where(Delivery.created_at >= since, Delivery.status == "failed")
        .group_by(Delivery.error)
        .order_by(func.count().desc())
        .limit(TOP_ERRORS)
    ).all()
    return counts, [(redact(error or "?")[:ERROR_CHARS], n) for error, n in errors]


def _recent_pushes(session: Session, since: datetime) -> tuple[int, int]:
    rows = dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.created_at >= since, Delivery.status.in_(("sent", "failed")))
            .group_by(Delivery.status)
        ).all()
    )
    return rows.get("failed", 0), rows.get("failed", 0) + rows.get("sent", 0)


def _queues(session: Session, now: datetime) -> dict[str, int]:
    count = lambda query: session.scalar(query) or 0  # noqa: E731 - a local shorthand
    return {
        "pending_summaries": count(
            select(func.count())
            .select_from(Article)
            .where(Article.fetched_at >= now - SUMMARY_WINDOW, Article.text != "", ~Article.summaries.any())
        ),
        "due_pushes": count(
            select(func.count()).select_from(Subscriber).where(Subscriber.active, Subscriber.next_push_at <= now)
        ),
        "page_retries": count(select(func.count()).select_from(PageRetry)),
    }


def _subscribers(session: Session, settings: Settings) -> dict[tuple[str, str], int]:
    default = settings.region.name
    counts: Counter[tuple[str, str]] = Counter()
    query = select(Subscriber.language, Subscriber.region, func.count()).where(Subscriber.active)
    for language, region, count in session.execute(query.group_by(Subscriber.language, Subscriber.region)):
        counts[(language, settings.region_for(region).name if region else default)] += count
    return dict(counts)
