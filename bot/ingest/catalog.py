"""The source catalog: the sources live in the database, one row each.

The config's ``[[sources]]`` are applied at start (:func:`apply_config`): a new entry is added,
an entry that changed in the file is applied again, and one gone from the file is marked
removed, its articles kept. With ``[catalog] managed_in = "database"`` (the default) the
catalog is also edited live (``/source``, ``newsbot sources``); with ``"config"`` the file alone
says which sources there are. Every process reads the active sources at each scheduler tick
(:func:`active_sources`), so a change takes effect without a restart.

:func:`source_health` is what ``/source NAME``, ``newsbot sources list`` and the status page
show: state, last success, last error, articles per day over the last week.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.config import Settings, SourceSettings
from bot.storage import Article, Database, Source
from bot.storage.db import Sessions, advisory_key
from bot.storage.models import utcnow
from summarizer.text import search_form

log = logging.getLogger(__name__)

ACTIVE, PAUSED, REMOVED = "active", "paused", "removed"
CONFIG, DATABASE = "config", "database"  # who added a row: the config file, or /source and the CLI
HEALTH_DAYS = 7  # articles per day are counted over this many days (UTC), today included
CATALOG_LOCK = advisory_key("catalog")  # processes starting together apply the config one at a time


class CatalogError(ValueError):
    """A catalog change that cannot be made; the message says why in one line."""


class ManagedInConfig(CatalogError):
    """The catalog is the config file's (``[catalog] managed_in = "config"``): no live edits."""


class UnknownSource(CatalogError):
    """No source has that name; ``close`` holds the names that come closest."""

    def __init__(self, name: str, close: list[str], known: list[str]) -> None:
        hint = f"did you mean {', '.join(map(repr, close))}?" if close else f"known: {', '.join(map(repr, known)) or 'none'}"
        super().__init__(f"no source named {name!r} ({hint})")
        self.name, self.close = name, close


class NameTaken(CatalogError):
    """A source of that name is in the catalog already."""

    def __init__(self, name: str, url: str) -> None:
        super().__init__(f"a source named {name!r} exists already ({url}): choose another name")
        self.name = name


def check_editable(settings: Settings) -> None:
    """ManagedInConfig unless the catalog may be edited live."""
    if settings.catalog.managed_in == CONFIG:
        where = settings.source_file or "the config file"
        raise ManagedInConfig(
            f'sources are managed in {where} ([catalog] managed_in = "config"): edit its [[sources]] and restart, '
            'or set managed_in = "database" to edit them live'
        )


def entry_hash(config: SourceSettings) -> str:
    """A fingerprint of a ``[[sources]]`` entry: a changed entry is applied again at start."""
    return hashlib.sha256(config.model_dump_json().encode("utf-8")).hexdigest()


def _fill(row: Source, config: SourceSettings) -> None:
    """Copy how the source is read onto its row (validators forgotten when the address changes)."""
    if (row.kind, row.url) != (config.kind, config.url):
        row.etag = row.last_modified = None
    row.kind, row.url = config.kind, config.url
    row.interval_minutes, row.max_articles = config.interval_minutes, config.max_articles
    row.link_pattern, row.language = config.link_pattern, config.language


def _lock(session: Session, db: Database) -> None:
    if db.shared:  # released with the transaction
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATALOG_LOCK})


def apply_config(db: Database, settings: Settings, now: datetime | None = None) -> dict[str, list[str]]:
    """Apply the config's ``[[sources]]`` to the catalog; return the names added, updated and removed.

    An entry is applied when it is new or changed since it was last applied (so a source paused
    live stays paused across restarts until its entry is edited); with ``managed_in = "config"``
    every entry is applied and every row the file does not name is removed. A removed row keeps
    its articles; an entry that comes back revives it.
    """
    now = now or utcnow()
    strict = settings.catalog.managed_in == CONFIG
    changes: dict[str, list[str]] = {"added": [], "updated": [], "removed": []}
    with db.session() as session:
        _lock(session, db)
        rows = {row.name: row for row in session.scalars(select(Source))}
        for config in settings.sources:
            fingerprint = entry_hash(config)
            state = ACTIVE if config.enabled else PAUSED
            row = rows.get(config.name)
            if row is None:
                row = Source(name=config.name, error_count=0)
                session.add(row)
                changes["added"].append(config.name)
            elif row.config_hash != fingerprint or row.origin != CONFIG or (strict and row.state != state):
                changes["updated"].append(config.name)
            else:
                continue
            _fill(row, config)
            row.origin, row.state, row.config_hash, row.changed_at = CONFIG, state, fingerprint, now
        named = {config.name for config in settings.sources}
        for row in rows.values():
            if row.name not in named and row.state != REMOVED and (strict or row.origin == CONFIG):
                row.state, row.config_hash, row.changed_at = REMOVED, None, now
                changes["removed"].append(row.name)
    for what, names in changes.items():
        if names:
            log.info("sources %s from the config: %s", what, ", ".join(names))
    return changes


def to_settings(row: Source) -> SourceSettings:
    """The row as the fetcher reads a source (``enabled`` while it is active)."""
    return SourceSettings(
        name=row.name,
        kind=row.kind,
        url=row.url,
        interval_minutes=row.interval_minutes,
        link_pattern=row.link_pattern,
        max_articles=row.max_articles,
        language=row.language,
        enabled=row.state == ACTIVE,
    )


def active_sources(db: Database) -> list[SourceSettings]:
    """The sources to fetch now, by name; a row that no longer validates (a kind since
    dropped) is left out with a warning."""
    with db.session() as session:
        rows = list(session.scalars(select(Source).where(Source.state == ACTIVE).order_by(Source.name)))
    sources = []
    for row in rows:
        try:
            sources.append(to_settings(row))
        except ValidationError as exc:
            log.warning("source %s is skipped: %s", row.name, exc.errors()[0]["msg"])
    return sources


def listed_sources(db: Database, include_removed: bool = False) -> list[Source]:
    """The catalog's rows by name (removed ones only when asked)."""
    query = select(Source).order_by(Source.name)
    if not include_removed:
        query = query.where(Source.state != REMOVED)
    with db.session() as session:
        return list(session.scalars(query))


def _find(session: Session, name: str) -> Source:
    """The row called ``name``: exactly, else the one name equal to it once script, width and
    case are folded (``梁平区`` finds ``梁平區``); UnknownSource naming the closest ones otherwise."""
    rows = list(session.scalars(select(Source)))
    exact = [row for row in rows if row.name == name]
    folded = [row for row in rows if search_form(row.name) == search_form(name)]
    found = exact or folded
    if len(found) == 1:
        return found[0]
    names = [row.name for row in rows if row.state != REMOVED]
    raise UnknownSource(name, difflib.get_close_matches(name, names, n=3, cutoff=0.5), names)


def find_source(db: Database, name: str) -> Source:
    """The catalog row called ``name`` (see :func:`_find`)."""
    with db.session() as session:
        return _find(session, name)


def add_source(db: Database, config: SourceSettings, now: datetime | None = None) -> Source:
    """Add a source live (due at once; paused when ``config.enabled`` is false). A removed source of the same name comes back with the
    new address, its articles kept; any other of that name is CatalogError."""
    now = now or utcnow()
    with db.session() as session:
        _lock(session, db)
        row = session.scalar(select(Source).where(Source.name == config.name))
        if row is not None and row.state != REMOVED:
            raise NameTaken(config.name, row.url)
        if row is None:
            row = Source(name=config.name, error_count=0)
            session.add(row)
        _fill(row, config)
        row.origin, row.state, row.config_hash, row.changed_at = DATABASE, ACTIVE if config.enabled else PAUSED, None, now
        row.next_fetch_at, row.error_count, row.last_error = None, 0, None
        session.flush()
        return row


def set_state(db: Database, name: str, state: str, now: datetime | None = None) -> Source:
    """Pause, resume (``active``) or remove a source; resuming makes it due at once. Returns the row."""
    now = now or utcnow()
    with db.session() as session:
        row = _find(session, name)
        if row.state != state:
            row.state, row.changed_at = state, now
            if state == ACTIVE:
                row.next_fetch_at = None
        return row


def import_sources(db: Database, entries: list[SourceSettings], now: datetime | None = None) -> tuple[list[str], list[str]]:
    """Add each entry that is not in the catalog (a removed one comes back); return the names
    added and the names skipped because a source of that name exists."""
    added, skipped = [], []
    for entry in entries:
        try:
            add_source(db, entry, now)
        except CatalogError:
            skipped.append(entry.name)
        else:
            added.append(entry.name)
    return added, skipped


@dataclass
class SourceHealth:
    """How one source is doing. ``status``: ok, failing, new (never fetched yet), paused or
    removed; ``articles_per_day``: articles stored on each of ``days`` (UTC, oldest first)."""

    name: str
    kind: str
    url: str
    state: str
    origin: str
    status: str
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    error_count: int
    days: list[date]
    articles_per_day: list[int]
    changed_at: datetime | None = None  # when it was added, or last changed (state, settings)

    @property
    def last_error_at(self) -> datetime | None:
        """When the current run of failures last failed (None while it succeeds)."""
        return self.last_attempt_at if self.error_count else None

    def to_dict(self) -> dict:
        """The ``newsbot sources list --json`` shape of one source."""
        return {
            "name": self.name,
            "kind": self.kind,
            "url": self.url,
            "state": self.state,
            "origin": self.origin,
            "status": self.status,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
            "error_count": self.error_count,
            "articles_per_day": {day.isoformat(): count for day, count in zip(self.days, self.articles_per_day)},
        }


def _status(row: Source) -> str:
    if row.state != ACTIVE:
        return row.state
    if row.error_count:
        return "failing"
    return "ok" if row.last_success_at else "new"


def source_health(db: Sessions, now: datetime, include_removed: bool = False, name: str | None = None) -> list[SourceHealth]:
    """The health of every source in the catalog (or of the one called ``name``), by name.

    Two queries whatever the number of sources: the rows, and the articles of the last
    HEALTH_DAYS days counted per source and day in the database (the fetch-time index).
    """
    today = now.astimezone(UTC).date()
    days = [today - timedelta(days=back) for back in range(HEALTH_DAYS - 1, -1, -1)]
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC)
    with db.session() as session:
        if name is not None:
            rows = [_find(session, name)]
        else:
            query = select(Source).order_by(Source.name)
            rows = list(session.scalars(query if include_removed else query.where(Source.state != REMOVED)))
        day = func.date(Article.fetched_at)
        counts: dict[tuple[int, str], int] = {}
        per_day = select(Article.source_id, day, func.count()).where(Article.fetched_at >= since).group_by(Article.source_id, day)
        if name is not None:
            per_day = per_day.where(Article.source_id == rows[0].id)
        for source_id, on, count in session.execute(per_day):
            counts[(source_id, str(on))] = count
    return [
        SourceHealth(
            name=row.name,
            kind=row.kind,
            url=row.url,
            state=row.state,
            origin=row.origin,
            status=_status(row),
            last_success_at=row.last_success_at,
            last_attempt_at=row.last_attempt_at,
            last_error=row.last_error,
            error_count=row.error_count or 0,
            days=days,
            articles_per_day=[counts.get((row.id, d.isoformat()), 0) for d in days],
            changed_at=row.changed_at,
        )
        for row in rows
    ]
