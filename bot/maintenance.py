"""Housekeeping of the service's own data: pruning old rows, the generated webhook secret."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Delete, and_, delete, exists, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from bot.storage import (
    Article,
    BotState,
    Bulletin,
    Database,
    Delivery,
    FollowHit,
    ForecastRecord,
    PageRetry,
    Subscriber,
    Summary,
    WeatherEvent,
)
from bot.subscriptions import delete_subscribers

BATCH = 500  # rows per transaction: a large backlog never holds long locks or huge IN lists
WEBHOOK_SECRET_KEY = "webhook_secret"


def prune(db: Database, keep_days: int, now: datetime) -> dict[str, int]:
    """Forget what is older than ``keep_days``; returns the rows touched per table.

    Deleted: deliveries, page retries, follow hits and weather events created before the cutoff, forecasts fetched before it
    (the newest forecast of each place always stays, as the fallback when the provider fails).
    Articles published (else fetched) before the cutoff, and stored for at least ``keep_days``
    (a back-dated article fetched today is news to the readers: it is not emptied before they see
    it), lose their text, signature, bulletins and summaries; the rows stay, so their canonical
    URL, guid and content hash keep the article from being ingested again. Chats that blocked or
    removed the bot before the cutoff are forgotten with everything kept about them. Works on
    SQLite and PostgreSQL, in batches of :data:`BATCH` rows.
    """
    if keep_days < 1:
        raise ValueError(f"keep_days must be at least 1, got {keep_days}")
    cutoff = now - timedelta(days=keep_days)
    newer = aliased(ForecastRecord)
    superseded = exists().where(
        newer.provider == ForecastRecord.provider,
        newer.latitude == ForecastRecord.latitude,
        newer.longitude == ForecastRecord.longitude,
        newer.fetched_at > ForecastRecord.fetched_at,
    )
    counts = {
        "deliveries": _delete(db, Delivery, Delivery.created_at < cutoff),
        "page_retries": _delete(db, PageRetry, PageRetry.created_at < cutoff),
        "forecasts": _delete(db, ForecastRecord, ForecastRecord.fetched_at < cutoff, superseded),
        "follow_hits": _delete(db, FollowHit, FollowHit.created_at < cutoff),
        "weather_events": _delete(db, WeatherEvent, WeatherEvent.created_at < cutoff),
        "blocked_chats": _forget_blocked(db, cutoff),
    }
    counts.update(_empty_articles(db, cutoff))
    return counts


def _delete(
    db: Database, model: type[Delivery | PageRetry | ForecastRecord | FollowHit | WeatherEvent], *conditions: ColumnElement[bool]
) -> int:
    deleted = 0
    while True:
        with db.session() as session:
            ids = session.scalars(select(model.id).where(*conditions).order_by(model.id).limit(BATCH)).all()
            if ids:
                session.execute(delete(model).where(model.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < BATCH:
            return deleted


def _forget_blocked(db: Database, cutoff: datetime) -> int:
    forgotten = 0
    while True:
        with db.session() as session:
            ids = session.scalars(
                select(Subscriber.id)
                .where(Subscriber.blocked_at < cutoff, ~Subscriber.managed)
                .order_by(Subscriber.id)
                .limit(BATCH)
            ).all()
            delete_subscribers(session, list(ids))
        forgotten += len(ids)
        if len(ids) < BATCH:
            return forgotten


def _deleted(session: Session, statement: Delete) -> int:
    """Run a DELETE; how many rows it removed (the result of a DML statement is a CursorResult)."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount


def _empty_articles(db: Database, cutoff: datetime) -> dict[str, int]:
    counts = {"articles": 0, "summaries": 0, "bulletins": 0}
    old = and_(func.coalesce(Article.published_at, Article.fetched_at) < cutoff, Article.fetched_at < cutoff)
    has_body = or_(Article.text != "", Article.signature.is_not(None), Article.summaries.any(), Article.bulletins.any())
    last_id = 0
    while True:
        with db.session() as session:
            ids = session.scalars(
                select(Article.id).where(old, has_body, Article.id > last_id).order_by(Article.id).limit(BATCH)
            ).all()
            if ids:
                counts["summaries"] += _deleted(session, delete(Summary).where(Summary.article_id.in_(ids)))
                counts["bulletins"] += _deleted(session, delete(Bulletin).where(Bulletin.article_id.in_(ids)))
                session.execute(update(Article).where(Article.id.in_(ids)).values(text="", signature=None, search_text=None))
        counts["articles"] += len(ids)
        if len(ids) < BATCH:
            return counts
        last_id = ids[-1]


def webhook_secret(db: Database, configured: str = "") -> str:
    """The configured webhook secret, else the one generated on first use and kept in ``bot_state``.

    The generated one is 43 characters of ``A-Za-z0-9_-`` (what Telegram allows) and stays the
    same across restarts; when two processes race to create it, both use the one stored first.
    """
    if configured:
        return configured
    with db.session() as session:
        stored = session.get(BotState, WEBHOOK_SECRET_KEY)
        if stored is not None:
            return stored.value
    secret = secrets.token_urlsafe(32)
    try:
        with db.session() as session:
            session.add(BotState(key=WEBHOOK_SECRET_KEY, value=secret))
    except IntegrityError:
        with db.session() as session:
            return session.get_one(BotState, WEBHOOK_SECRET_KEY).value
    return secret
