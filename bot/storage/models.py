"""SQLAlchemy ORM models. Times are stored as UTC and come back timezone-aware."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    or_,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from summarizer.text import bounded, language_family

ARTICLE_TEXT_CHARS = 100_000  # an article's text is kept up to here: 5x what a summarizer reads by default
IMAGE_URL_CHARS = 2000  # a lead image with a longer URL is not kept (bot.ingest.images)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class CleanText(TypeDecorator):
    """Text without NUL characters: PostgreSQL refuses them in any text (SQLite keeps them)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return value.replace("\x00", "") if value else value


class BoundedString(TypeDecorator):
    """A ``VARCHAR(length)`` that every value fits: a longer one is cut to ``length`` characters
    (PostgreSQL refuses it; SQLite would keep it whole); NUL characters are dropped as in
    :class:`CleanText`. For values only shown or parsed."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        value = value.replace("\x00", "")
        return value if len(value) <= self.length else self.overflow(value)

    def overflow(self, value: str) -> str | None:
        """What is stored for a value longer than ``length``."""
        return value[: self.length]


class KeyString(BoundedString):
    """A bounded string that identifies something (unique, or looked up): a longer value keeps
    its start and a hash of the whole, so two long values that share that start stay distinct.
    Lookups bind the same way: comparing with the long value finds its row."""

    cache_ok = True
    HASH_CHARS = 16

    def overflow(self, value: str) -> str:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[: self.HASH_CHARS]
        return f"{value[: self.length - self.HASH_CHARS - 1]}~{digest}"


class ValidatorString(BoundedString):
    """A bounded HTTP validator (ETag, Last-Modified): a cut one would never match, so a longer
    value is not kept and the next request is simply unconditional."""

    cache_ok = True

    def overflow(self, value: str) -> None:
        return None


class BoundedText(CleanText):
    """:class:`CleanText` kept to ``limit`` characters, cut at the last sentence end before it."""

    cache_ok = True

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        value = super().process_bind_param(value, dialect)
        return None if value is None else bounded(value, self.limit)


class Base(DeclarativeBase):
    """Declarative base of all models."""


class Source(Base):
    """A source of the catalog: how it is read, its state, and its fetch state (conditional GET
    validators, backoff). A removed source keeps its row, and so its articles."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(KeyString(200), unique=True)
    kind: Mapped[str] = mapped_column(BoundedString(20))
    url: Mapped[str] = mapped_column(CleanText)
    etag: Mapped[str | None] = mapped_column(ValidatorString(500))
    last_modified: Mapped[str | None] = mapped_column(ValidatorString(100))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(CleanText)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(KeyString(100))  # the process fetching it now
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its claim lapses then (a crashed process)
    # the catalog (bot/ingest/catalog.py): how the source is read, and whether it is
    state: Mapped[str] = mapped_column(KeyString(20), default="active", server_default="active")  # active | paused | removed
    origin: Mapped[str] = mapped_column(KeyString(20), default="config", server_default="config")  # config | database
    interval_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    link_pattern: Mapped[str | None] = mapped_column(CleanText)
    max_articles: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    language: Mapped[str | None] = mapped_column(KeyString(20))
    config_hash: Mapped[str | None] = mapped_column(KeyString(64))  # the [[sources]] entry last applied
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # added, edited, paused, resumed or removed


class Story(Base):
    """A group of articles about the same story, from one or more sources."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # checked against the follows
    articles: Mapped[list[Article]] = relationship(back_populates="story", order_by="Article.id")


class Article(Base):
    """One stored article: clean text, metadata and its dedup keys."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("source_id", "canonical_url", name="uq_article_source_url"),
        Index("ix_article_source_guid", "source_id", "guid"),
        Index("ix_article_source_hash", "source_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)
    url: Mapped[str] = mapped_column(CleanText)
    canonical_url: Mapped[str] = mapped_column(KeyString(2000))
    guid: Mapped[str | None] = mapped_column(KeyString(2000))
    content_hash: Mapped[str] = mapped_column(KeyString(64))
    title: Mapped[str] = mapped_column(CleanText)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    language: Mapped[str] = mapped_column(KeyString(20))
    text: Mapped[str] = mapped_column(BoundedText(ARTICLE_TEXT_CHARS))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    # title and text, normalized (bot.matching) for search and follows
    search_text: Mapped[str | None] = mapped_column(BoundedText(ARTICLE_TEXT_CHARS))
    image: Mapped[str | None] = mapped_column(BoundedString(IMAGE_URL_CHARS))  # the lead image's absolute URL
    summary_claimed_by: Mapped[str | None] = mapped_column(KeyString(100))  # the process summarizing it now
    summary_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    source: Mapped[Source] = relationship()
    story: Mapped[Story | None] = relationship(back_populates="articles")
    summaries: Mapped[list[Summary]] = relationship(back_populates="article", cascade="all, delete-orphan")
    bulletins: Mapped[list[Bulletin]] = relationship(back_populates="article", cascade="all, delete-orphan")

    def own_summary(self) -> Summary | None:
        """The summary in the article's own language that readers get: a model's before an
        extractive stand-in, then the newest (None: none with text)."""
        own = [s for s in self.summaries if s.text and language_family(s.language) == language_family(self.language)]
        return max(own, key=lambda s: (not s.fallback, s.created_at), default=None)

    def translation(self, language: str) -> Summary | None:
        """The newest accepted translation for readers of ``language`` (None: none, or the
        article is in that language)."""
        family = language_family(language)
        if family == language_family(self.language):
            return None
        rows = [s for s in self.summaries if s.text and not s.fallback and language_family(s.language) == family]
        return max(rows, key=lambda s: s.created_at, default=None)


def run_by(sources: frozenset[str] | None) -> ColumnElement[bool]:
    """Articles run by one of ``sources`` (a region's, see ``Settings.region_sources``: with the
    sources no region lists); every article for None."""
    if sources is None:
        return true()
    listed = getattr(sources, "listed", None)
    if listed is None:
        return Article.source.has(Source.name.in_(sources))
    return Article.source.has(or_(Source.name.in_(sources), Source.name.not_in(listed)))


class Summary(Base):
    """A summary of one article by one profile and model revision, in the article's language or,
    translated (with its ``title``), in another; never computed twice.

    A translation that was rejected is kept, empty, with ``fallback`` and the reason, so that it
    is not tried again until the article's own summary changes.
    """

    __tablename__ = "summaries"
    __table_args__ = (UniqueConstraint("article_id", "profile", "model", "revision", "language", name="uq_summary_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    profile: Mapped[str] = mapped_column(KeyString(100))
    model: Mapped[str] = mapped_column(KeyString(300))
    revision: Mapped[str] = mapped_column(KeyString(100), default="")
    language: Mapped[str] = mapped_column(KeyString(20))
    text: Mapped[str] = mapped_column(CleanText)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(CleanText)
    title: Mapped[str | None] = mapped_column(CleanText)  # translations: the article's title, translated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)  # /stats reads a day of them

    article: Mapped[Article] = relationship(back_populates="summaries")


class Bulletin(Base):
    """A weather bulletin found in an article (issuer, local issue time, periods as JSON)."""

    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str | None] = mapped_column(BoundedString(200))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    periods: Mapped[list] = mapped_column(JSON)
    text: Mapped[str] = mapped_column(CleanText)

    article: Mapped[Article] = relationship(back_populates="bulletins")


class ForecastRecord(Base):
    """A forecast as the provider gave it, kept as a cache and as the fallback when it fails."""

    __tablename__ = "forecasts"
    __table_args__ = (Index("ix_forecast_place_time", "provider", "latitude", "longitude", "fetched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(KeyString(50))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict] = mapped_column(JSON)


class Subscriber(Base):
    """A chat (private, group, or one forum topic) and its settings and push state."""

    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("chat_id", "thread_id", name="uq_subscriber_chat_thread"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    thread_id: Mapped[int] = mapped_column(Integer, default=0)  # forum topic; 0 = none
    chat_type: Mapped[str] = mapped_column(BoundedString(20), default="private")
    language: Mapped[str] = mapped_column(KeyString(20))
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    push_time: Mapped[str] = mapped_column(BoundedString(5))
    timezone: Mapped[str] = mapped_column(BoundedString(64))
    news_mode: Mapped[str] = mapped_column(KeyString(10), default="daily")  # daily | instant
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    next_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_push_date: Mapped[str | None] = mapped_column(BoundedString(10))  # local date of the last daily push
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_news_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # instant mode: stories sent up to here
    inactive_reason: Mapped[str | None] = mapped_column(CleanText)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when it blocked or removed the bot
    region: Mapped[str | None] = mapped_column(KeyString(200))  # None: the first configured region
    alerts: Mapped[bool] = mapped_column(Boolean, default=False)  # weather alerts wanted
    managed: Mapped[bool] = mapped_column(Boolean, default=False)  # a [[channels]] entry: the config owns it
    chart: Mapped[bool | None] = mapped_column(Boolean)  # the forecast chart; None: on in private chats, off elsewhere
    photos: Mapped[bool | None] = mapped_column(Boolean)  # news with its picture; None: on in private chats only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Follow(Base):
    """A keyword a chat follows: new stories that mention it are sent at once."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("subscriber_id", "normalized", name="uq_follow_keyword"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    keyword: Mapped[str] = mapped_column(BoundedString(100))  # as the reader typed it
    normalized: Mapped[str] = mapped_column(KeyString(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowHit(Base):
    """A new story that matched a chat's follows, waiting to be sent (quiet hours hold it)."""

    __tablename__ = "follow_hits"
    __table_args__ = (UniqueConstraint("subscriber_id", "story_id", name="uq_follow_hit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    keyword: Mapped[str] = mapped_column(BoundedString(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class WeatherEvent(Base):
    """A weather alert event of one region (e.g. tomorrow's thunderstorm) and the worst level
    announced so far: an event is announced again only when it worsens."""

    __tablename__ = "weather_events"
    __table_args__ = (UniqueConstraint("region", "event_key", name="uq_weather_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(KeyString(200))
    event_key: Mapped[str] = mapped_column(KeyString(200))
    level: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the last day the event reaches (a storm from tonight into tomorrow): tomorrow's alert of its kind is this event
    until: Mapped[str | None] = mapped_column(BoundedString(10))


class WarningRecord(Base):
    """A warning message an official feed published (CAP ``<alert>`` or HKO warning), kept whole
    as JSON. ``chain`` is the identifier of the first message of its chain (updates and the
    cancel share it); ``ended_at`` is set when the feed dropped a warning it only lists in force."""

    __tablename__ = "official_warnings"
    __table_args__ = (
        UniqueConstraint("source", "identifier", name="uq_official_warning"),
        Index("ix_official_warning_chain", "chain"),
        Index("ix_official_warning_fetched", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(KeyString(200))
    identifier: Mapped[str] = mapped_column(KeyString(300))
    chain: Mapped[str] = mapped_column(KeyString(300))
    series: Mapped[str | None] = mapped_column(KeyString(100))
    url: Mapped[str | None] = mapped_column(KeyString(2000))
    msg_type: Mapped[str] = mapped_column(KeyString(10))
    sent: Mapped[datetime] = mapped_column(UTCDateTime)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict] = mapped_column(JSON)


class Delivery(Base):
    """One push to one subscriber; the key makes pushes idempotent.

    ``sending`` is written before the message goes out and ``sent`` right after, so a
    crash between the two resends only what was in flight.
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("subscriber_id", "push_key", name="uq_delivery_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    push_key: Mapped[str] = mapped_column(KeyString(100))
    status: Mapped[str] = mapped_column(KeyString(20))  # sending | sent | failed
    error: Mapped[str | None] = mapped_column(CleanText)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(KeyString(100))  # the process that marked it sending
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # wall clock: its claim lapses then (a crashed process)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class PageRetry(Base):
    """An article page that failed to fetch or extract, retried with backoff on later passes
    (even while its listing answers 304)."""

    __tablename__ = "page_retries"
    __table_args__ = (UniqueConstraint("source_id", "canonical_url", name="uq_page_retry_source_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(CleanText)
    canonical_url: Mapped[str] = mapped_column(KeyString(2000))
    guid: Mapped[str | None] = mapped_column(KeyString(2000))
    title: Mapped[str | None] = mapped_column(CleanText)
    published_raw: Mapped[str | None] = mapped_column(BoundedString(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(CleanText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TelegraphPage(Base):
    """An article's text published on Telegraph (Instant View) for readers of one language
    (the script it was written in), made on a reader's first tap on "Full text"."""

    __tablename__ = "telegraph_pages"
    __table_args__ = (UniqueConstraint("article_id", "language", name="uq_telegraph_page"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(KeyString(20))
    url: Mapped[str] = mapped_column(CleanText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BotState(Base):
    """Small named values the service keeps for itself (e.g. a generated webhook secret)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(KeyString(100), primary_key=True)
    value: Mapped[str] = mapped_column(CleanText)
