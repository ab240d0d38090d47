"""One ingestion pass: fetch every source, extract, dedupe, group, store, summarize.

Network I/O is async; extraction, database writes and summarization run in worker threads
so that the bot's event loop is never blocked. One failing source never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

import httpx
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from bot.config import Settings, SourceSettings
from bot.ingest.dates import parse_local_datetime
from bot.ingest.dedup import Signature, StoryIndex, canonical_url, content_hash, text_signature
from bot.ingest.encoding import decode_bytes
from bot.ingest.extract import ExtractedArticle, extract_html, extract_plain_text
from bot.ingest.http import FetchError, PoliteClient
from bot.ingest.sources import Candidate, SourceError, find_article_links, parse_feed, read_files
from bot.storage import Article, Bulletin, Database, Source, Story, Summary
from bot.storage.models import utcnow
from summarizer import Summarizer
from summarizer.api import UNAVAILABLE

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=24)
SUMMARY_WINDOW = timedelta(days=14)  # older articles no longer reach digests


@dataclass
class SourceReport:
    """What one source gave in a pass."""

    name: str
    new: int = 0
    errors: list[str] = field(default_factory=list)
    not_modified: bool = False
    skipped: bool = False

    def to_dict(self) -> dict:
        """The ``newsbot fetch --json`` shape of one source."""
        return {"name": self.name, "new": self.new, "errors": self.errors, "not_modified": self.not_modified}


@dataclass
class _Listing:
    candidates: list[Candidate]
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


class Ingestor:
    """Runs ingestion passes over the configured sources."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        summarizer: Summarizer,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.summarizer = summarizer
        self.transport = transport
        self._store_lock = threading.Lock()
        self._pass_lock = asyncio.Lock()  # the scheduler and /fetch never run two passes at once
        self._index: StoryIndex | None = None

    def selected(self, only: str | None = None) -> list[SourceSettings]:
        """The enabled sources, or just the one named ``only``; ValueError if there is none such."""
        sources = [s for s in self.settings.sources if s.enabled and (only is None or s.name == only)]
        if only is not None and not sources:
            known = ", ".join(repr(s.name) for s in self.settings.sources) or "none"
            raise ValueError(f"no enabled source named {only!r} (configured: {known})")
        return sources

    async def run(
        self,
        only: str | None = None,
        due_only: bool = False,
        on_source_done: Callable[[SourceReport], None] | None = None,
    ) -> list[SourceReport]:
        """Fetch the enabled sources (or the one named ``only``) and store what is new."""
        async with self._pass_lock:
            return await self._run(only, due_only, on_source_done)

    async def _run(
        self, only: str | None, due_only: bool, on_source_done: Callable[[SourceReport], None] | None
    ) -> list[SourceReport]:
        sources = self.selected(only)
        ids = await asyncio.to_thread(self._sync_sources, sources)
        self._index = None

        async def one(source: SourceSettings) -> SourceReport:
            report = await self._run_source(client, source, ids[source.name], due_only)
            if on_source_done:
                on_source_done(report)
            return report

        async with PoliteClient(self.settings.fetch, self.transport) as client:
            reports = list(await asyncio.gather(*(one(s) for s in sources)))
        if any(not r.skipped for r in reports):  # the per-minute poll usually finds nothing due
            await asyncio.to_thread(self.summarize_pending)
        return reports

    async def _run_source(self, client: PoliteClient, config: SourceSettings, source_id: int, due_only: bool) -> SourceReport:
        report = SourceReport(config.name)
        state = await asyncio.to_thread(self._load_source, source_id)
        if due_only and state.next_fetch_at and state.next_fetch_at > utcnow():
            report.skipped = True
            return report
        try:
            listing = await self._list(client, config, state)
            report.not_modified = listing.not_modified
            fresh = await asyncio.to_thread(self._unseen, source_id, listing.candidates)
            for candidate in fresh:
                try:
                    report.new += await self._ingest_candidate(client, config, source_id, candidate)
                except (FetchError, SourceError, OSError, ValueError) as exc:
                    report.errors.append(str(exc))
                except Exception as exc:  # one odd page must not stop the source
                    log.exception("unexpected error on %s", candidate.url)
                    report.errors.append(f"{candidate.url}: {type(exc).__name__}: {exc}")
        except (FetchError, SourceError, OSError) as exc:
            report.errors.append(str(exc))
            await asyncio.to_thread(self._record_failure, source_id, config, str(exc))
            return report
        except Exception as exc:  # a broken source never stops the others
            log.exception("source %s failed", config.name)
            report.errors.append(f"{type(exc).__name__}: {exc}")
            await asyncio.to_thread(self._record_failure, source_id, config, report.errors[-1])
            return report
        await asyncio.to_thread(self._record_success, source_id, config, listing)
        return report

    async def _list(self, client: PoliteClient, config: SourceSettings, state: Source) -> _Listing:
        if config.kind == "files":
            return _Listing(await asyncio.to_thread(read_files, self.settings.resolve_path(config.url), config.max_articles))
        response = await client.get(config.url, etag=state.etag, last_modified=state.last_modified)
        if response.not_modified:
            return _Listing([], state.etag, state.last_modified, not_modified=True)
        if config.kind == "rss":
            candidates = parse_feed(response)[: config.max_articles]
        else:
            candidates = find_article_links(response, config.link_pattern, config.max_articles)
        return _Listing(candidates, response.etag, response.last_modified)

    async def _ingest_candidate(self, client: PoliteClient, config: SourceSettings, source_id: int, candidate: Candidate) -> int:
        if candidate.content is None:
            response = await client.get(candidate.url)
            candidate.content = decode_bytes(response.content, response.charset)
        extracted = await asyncio.to_thread(self._extract, candidate, config)
        return await asyncio.to_thread(self._store, source_id, candidate, extracted)

    def _extract(self, candidate: Candidate, config: SourceSettings) -> ExtractedArticle:
        tz = self.settings.region.tz
        assert candidate.content is not None
        if candidate.is_html:
            extracted = extract_html(candidate.content, tz, url=candidate.url, language_hint=config.language)
        else:
            extracted = extract_plain_text(candidate.content, tz, language_hint=config.language)
        if candidate.title and not extracted.title:
            extracted.title = candidate.title.strip()
        feed_date = parse_local_datetime(candidate.published_raw, tz)
        if feed_date is not None:
            extracted.published = feed_date
        if not extracted.text and not extracted.bulletins:
            raise ValueError(f"{candidate.url}: no article text found")
        return extracted

    # -- database work, run in worker threads ------------------------------------------

    def _sync_sources(self, sources: list[SourceSettings]) -> dict[str, int]:
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

    def _load_source(self, source_id: int) -> Source:
        with self.db.session() as session:
            return session.get_one(Source, source_id)

    def _unseen(self, source_id: int, candidates: list[Candidate]) -> list[Candidate]:
        with self.db.session() as session:
            fresh = []
            for candidate in candidates:
                conditions = [Article.canonical_url == canonical_url(candidate.url)]
                if candidate.guid:
                    conditions.append(Article.guid == candidate.guid)
                if not session.scalar(select(exists().where(Article.source_id == source_id, or_(*conditions)))):
                    fresh.append(candidate)
            return fresh

    def _story_index(self, session) -> StoryIndex:
        if self._index is None:
            window = timedelta(hours=self.settings.fetch.group_window_hours)
            self._index = StoryIndex(window)
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

    def _store(self, source_id: int, candidate: Candidate, extracted: ExtractedArticle) -> int:
        """Store one extracted article unless this source already has it; 1 if stored."""
        with self._store_lock, self.db.session() as session:
            urls = {canonical_url(candidate.url)}
            if extracted.canonical_url and extracted.canonical_url.startswith(("http://", "https://")):
                urls.add(canonical_url(extracted.canonical_url))
            digest = content_hash(extracted.title, extracted.text)
            duplicate = session.scalar(
                select(exists().where(
                    Article.source_id == source_id,
                    or_(Article.canonical_url.in_(urls), Article.content_hash == digest),
                ))
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
            article = Article(
                source_id=source_id,
                story=story,
                url=candidate.url,
                canonical_url=canonical_url(candidate.url),
                guid=candidate.guid,
                content_hash=digest,
                title=extracted.title or extracted.text[:40],
                published_at=published,
                fetched_at=now,
                language=extracted.language,
                text=extracted.text,
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

    def _record_success(self, source_id: int, config: SourceSettings, listing: _Listing) -> None:
        with self.db.session() as session:
            row = session.get_one(Source, source_id)
            now = utcnow()
            row.last_attempt_at = row.last_success_at = now
            row.etag, row.last_modified = listing.etag, listing.last_modified
            row.error_count, row.last_error = 0, None
            row.next_fetch_at = now + timedelta(minutes=config.interval_minutes)

    def _record_failure(self, source_id: int, config: SourceSettings, error: str) -> None:
        """Count the failure and back off: the interval doubles per failure, up to a day."""
        with self.db.session() as session:
            row = session.get_one(Source, source_id)
            now = utcnow()
            row.last_attempt_at = now
            row.last_error = error
            row.error_count = (row.error_count or 0) + 1
            backoff = timedelta(minutes=config.interval_minutes) * 2 ** min(row.error_count, 10)
            row.next_fetch_at = now + min(backoff, MAX_BACKOFF)

    def summarize_pending(self) -> int:
        """Summarize recent articles that lack a summary from their routed profile.

        Nothing is summarized twice: a summary is kept per (article, profile, model, revision).
        An extractive stand-in written while a model's weights were missing is redone once
        the weights are there; a summary that failed the faithfulness check stays as it is.
        """
        forced = self.settings.summarizer.profile or None
        since = utcnow() - SUMMARY_WINDOW
        with self.db.session() as session:
            articles = session.scalars(
                select(Article)
                .where(Article.text != "", or_(Article.fetched_at >= since, ~Article.summaries.any()))
                .options(selectinload(Article.summaries))
                .order_by(Article.id)
            ).all()
            pending = [a for a in articles if self._needs_summary(a, forced)]
            if not pending:
                return 0
            results = self.summarizer.summarize_many([a.text for a in pending], [a.language for a in pending], forced)
            for article, result in zip(pending, results):
                key = (result.profile, result.model, result.revision)
                row = next((s for s in article.summaries if (s.profile, s.model, s.revision) == key), None)
                if row is None:
                    row = Summary(article_id=article.id, profile=result.profile, model=result.model, revision=result.revision)
                    session.add(row)
                row.language, row.text, row.fallback, row.reason = result.language, result.summary, result.fallback, result.reason
                row.created_at = utcnow()
            return len(pending)

    def _needs_summary(self, article: Article, forced: str | None) -> bool:
        name = self.summarizer.profile_for(article.language, forced)
        model, revision = self.summarizer.produces(name)
        rows = [s for s in article.summaries if s.profile == name]
        if not rows:
            return True
        if any(s.model == model and s.revision == revision for s in rows):
            return False
        waiting_for_weights = all(s.fallback and (s.reason or "").startswith(UNAVAILABLE) for s in rows)
        return waiting_for_weights and self.summarizer.available(name)
