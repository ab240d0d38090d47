"""The store stage of ingestion: sources' rows (claims, due times, outcomes and backoff),
deduplication of candidates, the retry queue of failed article pages, and storing an article
in its story (grouped across outlets). Every method is database work, run in a worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import delete, exists, or_, select, update

from bot.config import Settings, SourceSettings
from bot.digest import one_line
from bot.ingest.dedup import Signature, StoryIndex, canonical_url, content_hash, text_signature
from bot.ingest.extract import ExtractedArticle
from bot.ingest.kinds import Listing
from bot.ingest.sources import Candidate
from bot.storage import Article, Bulletin, Database, PageRetry, Source, Story
from bot.storage.locks import PROCESS_ID
from bot.storage.models import utcnow
from summarizer.text import search_form

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=24)
INDEX_MAX_AGE = 300.0  # seconds before the story index is read again (other processes store too)
PAGE_RETRY_FIRST = timedelta(minutes=5)  # then doubling per failure
PAGE_RETRY_MAX_DELAY = timedelta(hours=6)
PAGE_RETRY_ATTEMPTS = 6  # a page that failed this often is given up
PAGE_RETRIES_PER_SOURCE = 100  # beyond this, the oldest retries of a source are dropped


class ArticleStore:
    """Sources, candidates, retries and articles in the database."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._lock = threading.Lock()  # one article stored at a time: the story index is shared
        self._index: StoryIndex | None = None
        self._index_built = 0.0

    def request_fetch(self, names: list[str]) -> None:
        """Make the sources named ``names`` due now (the bot role asks the workers for a pass)."""
        with self.db.session() as session:
            session.execute(update(Source).where(Source.name.in_(names)).values(next_fetch_at=utcnow()))

    def sync_sources(self, sources: list[SourceSettings]) -> dict[str, int]:
        """Create or update the rows of the configured sources; return their ids by name."""
        with self.db.session() as session:
            ids = {}
            for config in sources:
                row = session.scalar(select(Source).where(Source.name == config.name))
                if row is None:
                    row = Source(name=config.name, kind=config.kind, url=config.url, error_count=0)
                    session.add(row)
                elif (row.kind, row.url) != (config.kind, config.url):
                    row.kind, row.url, row.etag, row.last_modified = config.kind, config.url, None, None
                session.flush()
                ids[config.name] = row.id
            return ids

    def due(self, source_ids: list[int]) -> set[int]:
        with self.db.session() as session:
            return set(
                session.scalars(
                    select(Source.id).where(
                        Source.id.in_(source_ids), or_(Source.next_fetch_at.is_(None), Source.next_fetch_at <= utcnow())
                    )
                )
            )

    def claim_source(self, source_id: int) -> bool:
        """Claim the source for this process's pass; False while another process holds it.

        A claim lapses after the pass's budget (plus a minute), so a process that died
        leaves nothing stuck; with SQLite (one process) an older claim is a dead run's.
        """
        with self.db.session() as session:
            row = session.get_one(Source, source_id, with_for_update=True)
            now = utcnow()
            if (
                self.db.shared
                and row.claimed_by not in (None, PROCESS_ID)
                and row.claimed_until is not None
                and row.claimed_until > now
            ):
                return False
            row.claimed_by = PROCESS_ID
            row.claimed_until = now + timedelta(seconds=self.settings.fetch.source_budget_seconds + 60)
            return True

    def release_source(self, source_id: int) -> None:
        with self.db.session() as session:
            row = session.get_one(Source, source_id)
            if row.claimed_by == PROCESS_ID:
                row.claimed_by = row.claimed_until = None

    def load_source(self, source_id: int) -> Source:
        with self.db.session() as session:
            return session.get_one(Source, source_id)

    def unseen(self, source_id: int, candidates: list[Candidate]) -> list[Candidate]:
        """Candidates this source has neither stored nor queued for a retry."""
        with self.db.session() as session:
            fresh = []
            for candidate in candidates:
                url = canonical_url(candidate.url)
                conditions = [Article.canonical_url == url]
                if candidate.guid:
                    conditions.append(Article.guid == candidate.guid)
                stored = exists().where(Article.source_id == source_id, or_(*conditions))
                queued = exists().where(PageRetry.source_id == source_id, PageRetry.canonical_url == url)
                if not session.scalar(select(stored | queued)):
                    fresh.append(candidate)
            return fresh

    def due_retries(self, source_id: int, limit: int) -> list[Candidate]:
        """Failed pages of this source whose next attempt is due, soonest first."""
        with self.db.session() as session:
            rows = session.scalars(
                select(PageRetry)
                .where(PageRetry.source_id == source_id, PageRetry.next_attempt_at <= utcnow())
                .order_by(PageRetry.next_attempt_at, PageRetry.id)
                .limit(limit)
            )
            return [Candidate(url=r.url, guid=r.guid, title=r.title, published_raw=r.published_raw) for r in rows]

    def page_failed(self, source_id: int, candidate: Candidate, error: str) -> None:
        """Queue a failed page for another attempt (backoff doubling from PAGE_RETRY_FIRST),
        or give it up after PAGE_RETRY_ATTEMPTS; a source keeps PAGE_RETRIES_PER_SOURCE at most."""
        url = canonical_url(candidate.url)
        with self.db.session() as session:
            row = session.scalar(select(PageRetry).where(PageRetry.source_id == source_id, PageRetry.canonical_url == url))
            if row is None:
                row = PageRetry(
                    source_id=source_id,
                    url=candidate.url,
                    canonical_url=url,
                    guid=candidate.guid,
                    title=candidate.title,
                    published_raw=(candidate.published_raw or "")[:200] or None,
                    attempts=0,
                )
                session.add(row)
            row.attempts += 1
            row.last_error = error
            if row.attempts >= PAGE_RETRY_ATTEMPTS:
                log.warning("giving up on %s after %d attempts: %s", candidate.url, row.attempts, error)
                session.delete(row)
                return
            row.next_attempt_at = utcnow() + min(PAGE_RETRY_FIRST * 2 ** (row.attempts - 1), PAGE_RETRY_MAX_DELAY)
            session.flush()
            oldest = session.scalars(
                select(PageRetry.id)
                .where(PageRetry.source_id == source_id)
                .order_by(PageRetry.created_at.desc(), PageRetry.id.desc())
                .offset(PAGE_RETRIES_PER_SOURCE)
            ).all()
            if oldest:
                log.warning("source %d: dropping %d old page retries beyond %d", source_id, len(oldest), PAGE_RETRIES_PER_SOURCE)
                session.execute(delete(PageRetry).where(PageRetry.id.in_(oldest)))

    def _story_index(self, session) -> StoryIndex:
        """The index of recent stories, read again from the database every INDEX_MAX_AGE seconds."""
        if self._index is None or time.monotonic() - self._index_built > INDEX_MAX_AGE:
            window = timedelta(hours=self.settings.fetch.group_window_hours)
            self._index = StoryIndex(window)
            self._index_built = time.monotonic()
            since = utcnow() - 2 * window
            rows = session.execute(
                select(Article.id, Article.story_id, Article.published_at, Article.fetched_at, Article.signature).where(
                    Article.signature.is_not(None),
                    Article.story_id.is_not(None),
                    or_(Article.published_at >= since, Article.fetched_at >= since),
                )
            )
            for article_id, story_id, published, fetched, signature in rows:
                self._index.add(article_id, story_id, published or fetched, Signature.from_bytes(signature))
        return self._index

    def store(self, source_id: int, candidate: Candidate, extracted: ExtractedArticle) -> int:
        """Store one extracted article unless this source already has it; 1 if stored."""
        with self._lock, self.db.session() as session:
            urls = {canonical_url(candidate.url)}
            session.execute(delete(PageRetry).where(PageRetry.source_id == source_id, PageRetry.canonical_url.in_(urls)))
            if extracted.canonical_url and extracted.canonical_url.startswith(("http://", "https://")):
                urls.add(canonical_url(extracted.canonical_url))
            digest = content_hash(extracted.title, extracted.text)
            duplicate = session.scalar(
                select(
                    exists().where(
                        Article.source_id == source_id,
                        or_(Article.canonical_url.in_(urls), Article.content_hash == digest),
                    )
                )
            )
            if duplicate:
                return 0
            now = utcnow()
            published = extracted.published or now
            index = self._story_index(session)
            signature = text_signature(extracted.text, extracted.language) if extracted.text else None
            story_id = index.find_story(published, signature) if signature else None
            story = session.get(Story, story_id) if story_id else None
            if story is None:
                story = Story(first_seen_at=now, updated_at=now)
                session.add(story)
            else:
                story.updated_at = now
                story.matched_at = None  # matched against the follows again, with this article (once per chat still)
            title = one_line(extracted.title or extracted.text[:40])  # feeds put blank lines in titles
            article = Article(
                source_id=source_id,
                story=story,
                url=candidate.url,
                canonical_url=canonical_url(candidate.url),
                guid=candidate.guid,
                content_hash=digest,
                title=title,
                search_text=search_form(f"{title}\n{extracted.text}"),
                published_at=published,
                fetched_at=now,
                language=extracted.language,
                text=extracted.text,
                image=extracted.image,
                signature=signature.to_bytes() if signature else None,
                bulletins=[
                    Bulletin(
                        issuer=b.issuer,
                        issued_at=b.issued_at,
                        periods=[vars(p) for p in b.periods],
                        text=b.text,
                    )
                    for b in extracted.bulletins
                ],
            )
            session.add(article)
            session.flush()
            if signature:
                index.add(article.id, story.id, published, signature)
            return 1

    def record_success(self, source_id: int, config: SourceSettings, listing: Listing) -> None:
        with self.db.session() as session:
            row = session.get_one(Source, source_id)
            now = utcnow()
            row.last_attempt_at = row.last_success_at = now
            row.etag, row.last_modified = listing.etag, listing.last_modified
            row.error_count, row.last_error = 0, None
            row.next_fetch_at = now + timedelta(minutes=config.interval_minutes)

    def record_failure(self, source_id: int, config: SourceSettings, error: str) -> None:
        """Count the failure and back off: the interval doubles per failure, up to a day. The
        stored validators are forgotten, so that a bad one cannot fail every later pass."""
        with self.db.session() as session:
            row = session.get_one(Source, source_id)
            now = utcnow()
            row.last_attempt_at = now
            row.last_error = error
            row.etag = row.last_modified = None  # the next attempt asks unconditionally
            row.error_count = (row.error_count or 0) + 1
            backoff = timedelta(minutes=config.interval_minutes) * 2 ** min(row.error_count, 10)
            row.next_fetch_at = now + min(backoff, MAX_BACKOFF)
