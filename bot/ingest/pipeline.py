"""Ingestion: fetch each source, extract, dedupe, group, store; summarize what is new.

Each source runs as its own task within a time budget, so one hanging source never holds
the others; a source is never run twice at once. Network I/O is async; parsing, extraction,
database writes and summarization run in worker threads so that the bot's event loop is
never blocked. Article pages that fail are retried with backoff on later passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

import httpx
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import load_only, selectinload

from bot.config import Settings, SourceSettings
from bot.ingest.dates import parse_local_datetime
from bot.ingest.dedup import Signature, StoryIndex, canonical_url, content_hash, text_signature
from bot.ingest.encoding import decode_bytes
from bot.ingest.extract import ExtractedArticle, extract_html, extract_plain_text
from bot.ingest.http import FetchError, PoliteClient, Response, host_of
from bot.ingest.sources import Candidate, SourceError, find_article_links, parse_feed, read_files
from bot.storage import Article, Bulletin, Database, PageRetry, Source, Story, Summary
from bot.storage.locks import PROCESS_ID
from bot.storage.models import utcnow
from summarizer import Summarizer
from summarizer.api import UNAVAILABLE
from summarizer.text import EN, ZH_HANS, language_family, search_form, strip_title_label

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=24)
SUMMARY_WINDOW = timedelta(days=14)  # older articles no longer reach digests
PENDING_PAGE = 200  # articles examined per query when looking for missing summaries
SUMMARY_CLAIM = timedelta(minutes=30)  # a batch being summarized is left to its process this long
INDEX_MAX_AGE = 300.0  # seconds before the story index is read again (other processes store too)
PAGE_RETRY_FIRST = timedelta(minutes=5)  # then doubling per failure
PAGE_RETRY_MAX_DELAY = timedelta(hours=6)
PAGE_RETRY_ATTEMPTS = 6  # a page that failed this often is given up
PAGE_RETRIES_PER_SOURCE = 100  # beyond this, the oldest retries of a source are dropped
# What translations are made into: one per language family readers read. Chinese ones are
# stored in Simplified; Traditional readers get them converted (summarizer.text.for_reader).
TRANSLATION_TARGETS = (EN, ZH_HANS)


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
    """Runs sources (each as its own task) and summarizes what they stored.

    ``poll_due`` starts the sources that are due in the background (the scheduler's job);
    ``run`` fetches and waits for the reports (``newsbot fetch``, ``/fetch``). Both share one
    task per source, so a source never runs twice at once. ``close`` stops everything.
    """

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
        self._summary_lock = threading.Lock()  # one summarization at a time
        self._closing = threading.Event()
        self._tasks: dict[str, asyncio.Task[SourceReport]] = {}  # at most one per configured source
        self._summary_task: asyncio.Task[None] | None = None
        self._summaries_wanted = False
        self._client: PoliteClient | None = None
        self._client_users = 0
        self._index: StoryIndex | None = None
        self._index_built = 0.0

    @property
    def running(self) -> frozenset[str]:
        """Names of the sources being fetched now."""
        return frozenset(name for name, task in self._tasks.items() if not task.done())

    def selected(self, only: str | None = None) -> list[SourceSettings]:
        """The enabled sources, or just the one named ``only``; ValueError if there is none such."""
        sources = [s for s in self.settings.sources if s.enabled and (only is None or s.name == only)]
        if only is not None and not sources:
            known = ", ".join(repr(s.name) for s in self.settings.sources) or "none"
            raise ValueError(f"no enabled source named {only!r} (configured: {known})")
        return sources

    async def poll_due(self) -> None:
        """Start every due source that is not running yet as a background task; don't wait.

        Such a task logs its errors, and when it stored something asks for summaries, made
        in the background too.
        """
        idle = [s for s in self.selected() if s.name not in self.running]
        if not idle or self._closing.is_set():
            return
        ids = await asyncio.to_thread(self._sync_sources, idle)
        due = await asyncio.to_thread(self._due, list(ids.values()))
        for config in idle:
            if ids[config.name] in due and config.name not in self.running and not self._closing.is_set():
                self._start(config, ids[config.name], background=True)

    async def run(
        self,
        only: str | None = None,
        on_source_done: Callable[[SourceReport], None] | None = None,
    ) -> list[SourceReport]:
        """Fetch the enabled sources (or the one named ``only``), store what is new, summarize it,
        and return the reports. A source already running (from ``poll_due``) is waited for."""
        sources = self.selected(only)
        ids = await asyncio.to_thread(self._sync_sources, sources)
        tasks = [
            self._tasks[s.name] if s.name in self.running else self._start(s, ids[s.name], background=False) for s in sources
        ]

        async def wait(task: asyncio.Task[SourceReport]) -> SourceReport:
            report = await asyncio.shield(task)
            if on_source_done:
                on_source_done(report)
            return report

        reports = list(await asyncio.gather(*(wait(t) for t in tasks)))
        if any(not r.skipped for r in reports):  # skipped: another process was fetching them all
            await asyncio.to_thread(self.summarize_pending)
        return reports

    async def close(self) -> None:
        """On shutdown: cancel the running sources, let background summarizing finish the batch
        it is on (so no worker thread outlives the database), and wait for both."""
        self._closing.set()
        sources = list(self._tasks.values())
        for task in sources:
            task.cancel()
        await asyncio.gather(*sources, *([self._summary_task] if self._summary_task else []), return_exceptions=True)

    # -- source tasks ----------------------------------------------------------------------

    def _start(self, config: SourceSettings, source_id: int, background: bool) -> asyncio.Task[SourceReport]:
        task = asyncio.create_task(self._pass(config, source_id, background), name=f"source {config.name}")
        self._tasks[config.name] = task
        task.add_done_callback(partial(self._forget, config.name))
        return task

    def _forget(self, name: str, task: asyncio.Task[SourceReport]) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]

    async def _pass(self, config: SourceSettings, source_id: int, background: bool) -> SourceReport:
        if not await asyncio.to_thread(self._claim_source, source_id):
            log.info("source %s is being fetched by another process", config.name)
            return SourceReport(config.name, skipped=True)
        try:
            async with self._shared_client() as client:
                report = await self._run_source(client, config, source_id)
        finally:
            await asyncio.to_thread(self._release_source, source_id)
        if background:  # nobody waits for this report
            for error in report.errors:
                log.warning("source %s: %s", config.name, error)
            if report.new:
                self._request_summaries()
        return report

    @contextlib.asynccontextmanager
    async def _shared_client(self) -> AsyncIterator[PoliteClient]:
        """One client for the sources running together, so that host politeness holds across
        them; closed (with its robots.txt cache) when the last of them ends."""
        if self._client is None:
            sources = [host_of(s.url) for s in self.settings.sources if s.kind != "files"]
            self._client = PoliteClient(self.settings.fetch, self.transport, trusted_hosts=sources)
        client = self._client
        self._client_users += 1
        try:
            yield client
        finally:
            self._client_users -= 1
            if self._client_users == 0 and self._client is client:
                self._client = None
                await client.close()

    async def _run_source(self, client: PoliteClient, config: SourceSettings, source_id: int) -> SourceReport:
        report = SourceReport(config.name)
        state = await asyncio.to_thread(self._load_source, source_id)
        budget = self.settings.fetch.source_budget_seconds
        try:
            async with asyncio.timeout(budget):
                listing = await self._list(client, config, state)
                report.not_modified = listing.not_modified
                todo = await asyncio.to_thread(self._unseen, source_id, listing.candidates)
                if config.kind != "files":  # failed pages wait in the retry queue
                    todo += await asyncio.to_thread(self._due_retries, source_id, config.max_articles)
                for candidate in todo:
                    await self._ingest_candidate(client, config, source_id, candidate, report)
        except TimeoutError:
            report.errors.append(f"{config.url}: source pass cut off after {budget:g}s")
        except (FetchError, SourceError, OSError) as exc:
            report.errors.append(str(exc))
        except Exception as exc:  # a broken source never stops the others
            log.exception("source %s failed", config.name)
            report.errors.append(f"{type(exc).__name__}: {exc}")
        else:
            await asyncio.to_thread(self._record_success, source_id, config, listing)
            return report
        await asyncio.to_thread(self._record_failure, source_id, config, report.errors[-1])
        return report

    async def _list(self, client: PoliteClient, config: SourceSettings, state: Source) -> _Listing:
        if config.kind == "files":
            return _Listing(await asyncio.to_thread(read_files, self.settings.resolve_path(config.url), config.max_articles))
        response = await client.get(config.url, etag=state.etag, last_modified=state.last_modified)
        if response.not_modified:
            return _Listing([], state.etag, state.last_modified, not_modified=True)
        if config.kind == "rss":
            candidates = (await asyncio.to_thread(parse_feed, response))[: config.max_articles]
        else:
            candidates = await asyncio.to_thread(find_article_links, response, config.link_pattern, config.max_articles)
        return _Listing(candidates, response.etag, response.last_modified)

    async def _ingest_candidate(
        self, client: PoliteClient, config: SourceSettings, source_id: int, candidate: Candidate, report: SourceReport
    ) -> None:
        """Fetch (when needed), extract and store one candidate; a failure is reported and,
        for web sources, queued for a retry with backoff."""
        try:
            # one attempt: a failed page is retried on later passes, not by holding this one
            page = await client.get(candidate.url, max_retries=0) if candidate.content is None else None
            extracted = await asyncio.to_thread(self._extract, candidate, config, page)
            report.new += await asyncio.to_thread(self._store, source_id, candidate, extracted)
            return
        except (FetchError, SourceError, OSError, ValueError) as exc:
            error = str(exc)
        except Exception as exc:  # one odd page must not stop the source
            log.exception("unexpected error on %s", candidate.url)
            error = f"{candidate.url}: {type(exc).__name__}: {exc}"
        report.errors.append(error)
        if config.kind != "files":
            try:
                await asyncio.to_thread(self._page_failed, source_id, candidate, error)
            except Exception:  # the queue refusing one page must not stop the pass
                log.exception("could not queue %s for a retry", candidate.url)

    def _extract(self, candidate: Candidate, config: SourceSettings, page: Response | None) -> ExtractedArticle:
        tz = self.settings.region.tz
        content = decode_bytes(page.content, page.charset) if page is not None else candidate.content
        assert content is not None
        if candidate.is_html:
            extracted = extract_html(content, tz, url=candidate.url, language_hint=config.language)
        else:
            extracted = extract_plain_text(content, tz, language_hint=config.language)
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

    def _due(self, source_ids: list[int]) -> set[int]:
        with self.db.session() as session:
            return set(
                session.scalars(
                    select(Source.id).where(
                        Source.id.in_(source_ids), or_(Source.next_fetch_at.is_(None), Source.next_fetch_at <= utcnow())
                    )
                )
            )

    def _claim_source(self, source_id: int) -> bool:
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

    def _release_source(self, source_id: int) -> None:
        with self.db.session() as session:
            row = session.get_one(Source, source_id)
            if row.claimed_by == PROCESS_ID:
                row.claimed_by = row.claimed_until = None

    def request_fetch(self) -> None:
        """Make every enabled source due now (the bot role asks the workers for a pass)."""
        with self.db.session() as session:
            names = [s.name for s in self.selected()]
            session.execute(update(Source).where(Source.name.in_(names)).values(next_fetch_at=utcnow()))

    def _load_source(self, source_id: int) -> Source:
        with self.db.session() as session:
            return session.get_one(Source, source_id)

    def _unseen(self, source_id: int, candidates: list[Candidate]) -> list[Candidate]:
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

    def _due_retries(self, source_id: int, limit: int) -> list[Candidate]:
        """Failed pages of this source whose next attempt is due, soonest first."""
        with self.db.session() as session:
            rows = session.scalars(
                select(PageRetry)
                .where(PageRetry.source_id == source_id, PageRetry.next_attempt_at <= utcnow())
                .order_by(PageRetry.next_attempt_at, PageRetry.id)
                .limit(limit)
            )
            return [Candidate(url=r.url, guid=r.guid, title=r.title, published_raw=r.published_raw) for r in rows]

    def _page_failed(self, source_id: int, candidate: Candidate, error: str) -> None:
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

    def _store(self, source_id: int, candidate: Candidate, extracted: ExtractedArticle) -> int:
        """Store one extracted article unless this source already has it; 1 if stored."""
        with self._store_lock, self.db.session() as session:
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
            title = " ".join((extracted.title or extracted.text[:40]).split())  # one line: feeds put blank lines in titles
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

    # -- summaries ---------------------------------------------------------------------------

    def _request_summaries(self) -> None:
        """Summarize in the background; a request while that runs gives one more run after it."""
        self._summaries_wanted = True
        if self._summary_task is None or self._summary_task.done():
            self._summary_task = asyncio.create_task(self._summarize_while_wanted(), name="summaries")

    async def _summarize_while_wanted(self) -> None:
        while self._summaries_wanted and not self._closing.is_set():
            self._summaries_wanted = False
            try:
                await asyncio.to_thread(self.summarize_pending)
            except Exception:
                log.exception("summarizing failed")

    def summarize_pending(self) -> int:
        """Summarize recent articles that lack a summary from their routed profile, then
        translate them for readers of the other language where models.yaml can; the number of
        summaries and translations made.

        One run at a time. Articles are read a page at a time and summarized (translated) in
        batches of the profile's ``batch_size``, with no database transaction open; each batch
        is then stored in its own short transaction, so what is done stays done.

        Nothing is summarized twice: a summary is kept per (article, profile, model, revision,
        language). An extractive stand-in written while a model's weights were missing is
        redone once the weights are there; a summary that failed the faithfulness check stays
        as it is. Translations are made only by a profile whose weights are here, once per
        article and target (:data:`TRANSLATION_TARGETS`), again only when the article's own
        summary changed since; a rejected one is stored empty, marked, and readers get the
        original.
        """
        forced = self.settings.summarizer.profile or None
        translators = _Translators(self.summarizer)
        done = 0
        with self._summary_lock:
            after = 0
            while not self._closing.is_set():
                start = after
                pending, after, more = self._pending_page(
                    start, lambda article: [(article.id, article.language)] if self._needs_summary(article, forced) else []
                )
                batches: dict[str, list[tuple[int, str]]] = {}
                for article_id, language in pending:
                    batches.setdefault(self.summarizer.profile_for(language, forced), []).append((article_id, language))
                done += self._run_batches(batches, partial(self._summarize_batch, forced=forced))
                wanted, _, _ = self._pending_page(start, partial(self._needs_translations, translators=translators))
                for target in TRANSLATION_TARGETS:
                    batches = {}
                    for article_id, language, wanted_target, name in wanted:
                        if wanted_target == target:
                            batches.setdefault(name, []).append((article_id, language))
                    done += self._run_batches(batches, partial(self._translate_batch, target=target))
                if not more:
                    break
        return done

    def _run_batches(self, batches: dict[str, list[tuple[int, str]]], run: Callable[[list[tuple[int, str]]], int]) -> int:
        """``run`` on each profile's articles, its ``batch_size`` at a time, until closing; the sum
        of what the runs return."""
        done = 0
        for name, articles in batches.items():
            size = self.summarizer.config.profiles[name].batch_size
            for start in range(0, len(articles), size):
                if self._closing.is_set():
                    return done
                batch = articles[start : start + size]
                mine = self._claim_articles([article_id for article_id, _ in batch])
                try:
                    done += run([item for item in batch if item[0] in mine]) if mine else 0
                finally:
                    self._release_articles(mine)
        return done

    def _claim_articles(self, article_ids: list[int]) -> set[int]:
        """Claim articles for summarizing here; those another live process is summarizing are left out."""
        now = utcnow()
        with self.db.session() as session:
            rows = session.scalars(
                select(Article)
                .where(Article.id.in_(article_ids))
                .options(load_only(Article.id, Article.summary_claimed_by, Article.summary_claimed_until))
                .with_for_update()
            ).all()
            mine = set()
            for row in rows:
                if (
                    self.db.shared
                    and row.summary_claimed_by not in (None, PROCESS_ID)
                    and row.summary_claimed_until is not None
                    and row.summary_claimed_until > now
                ):
                    continue
                row.summary_claimed_by, row.summary_claimed_until = PROCESS_ID, now + SUMMARY_CLAIM
                mine.add(row.id)
            return mine

    def _release_articles(self, article_ids: set[int]) -> None:
        if article_ids:
            with self.db.session() as session:
                session.execute(
                    update(Article)
                    .where(Article.id.in_(article_ids), Article.summary_claimed_by == PROCESS_ID)
                    .values(summary_claimed_by=None, summary_claimed_until=None)
                )

    def _pending_page(self, after: int, wanted: Callable[[Article], list]) -> tuple[list, int, bool]:
        """What ``wanted`` asks for each of one page of PENDING_PAGE articles after id
        ``after`` that may need work (recent, or never summarized); the page's last id;
        whether more pages follow."""
        since = utcnow() - SUMMARY_WINDOW
        with self.db.session() as session:
            articles = session.scalars(
                select(Article)
                .where(Article.id > after, Article.text != "", or_(Article.fetched_at >= since, ~Article.summaries.any()))
                .options(load_only(Article.id, Article.language), selectinload(Article.summaries))
                .order_by(Article.id)
                .limit(PENDING_PAGE)
            ).all()
            pending = [item for article in articles for item in wanted(article)]
        return pending, articles[-1].id if articles else after, len(articles) == PENDING_PAGE

    def _summarize_batch(self, articles: list[tuple[int, str]], forced: str | None) -> int:
        with self.db.session() as session:
            rows = session.execute(
                select(Article.id, Article.text, Article.title).where(Article.id.in_([i for i, _ in articles]))
            )
            found: dict[int, tuple[str, str]] = {article_id: (text, title) for article_id, text, title in rows}
        articles = [(i, language) for i, language in articles if found.get(i, ("", ""))[0]]
        if not articles:
            return 0
        results = self.summarizer.summarize_many(
            [found[i][0] for i, _ in articles], [language for _, language in articles], forced, [found[i][1] for i, _ in articles]
        )
        with self.db.session() as session:
            for (article_id, _), result in zip(articles, results):
                row = self._summary_row(session, article_id, result.profile, result.model, result.revision, result.language)
                row.text, row.fallback, row.reason = result.summary, result.fallback, result.reason
                row.created_at = utcnow()
        return len(articles)

    def _translate_batch(self, articles: list[tuple[int, str]], target: str) -> int:
        """Translate the own summaries (and titles) of ``articles`` for readers of ``target``."""
        with self.db.session() as session:
            rows = session.scalars(
                select(Article).where(Article.id.in_([i for i, _ in articles])).options(selectinload(Article.summaries))
            )
            found = {a.id: (a.text, strip_title_label(a.title), own.text) for a in rows if (own := a.own_summary())}
        articles = [(i, language) for i, language in articles if i in found]
        if not articles:
            return 0
        results = self.summarizer.translate_many(
            [found[i][2] for i, _ in articles],
            [found[i][1] for i, _ in articles],
            [found[i][0] for i, _ in articles],
            [language for _, language in articles],
            target,
        )
        made = [(article_id, r) for (article_id, _), r in zip(articles, results) if not (r.reason or "").startswith(UNAVAILABLE)]
        with self.db.session() as session:  # a model that would not load made nothing: readers get the original
            for article_id, result in made:
                row = self._summary_row(session, article_id, result.profile, result.model, result.revision, result.language)
                row.text, row.title, row.fallback, row.reason = result.summary, result.title, result.fallback, result.reason
                row.created_at = utcnow()
        return len(made)

    @staticmethod
    def _summary_row(session, article_id: int, profile: str, model: str, revision: str, language: str) -> Summary:
        """The stored row of this key, or a new one added to ``session``."""
        key = {"article_id": article_id, "profile": profile, "model": model, "revision": revision, "language": language}
        row = session.scalar(select(Summary).filter_by(**key))
        if row is None:
            row = Summary(**key)
            session.add(row)
        return row

    def _needs_summary(self, article: Article, forced: str | None) -> bool:
        name = self.summarizer.profile_for(article.language, forced)
        model, revision = self.summarizer.produces(name)
        family = language_family(article.language)
        rows = [s for s in article.summaries if s.profile == name and language_family(s.language) == family]
        if not rows:
            return True
        if any(s.model == model and s.revision == revision for s in rows):
            return False
        waiting_for_weights = all(s.fallback and (s.reason or "").startswith(UNAVAILABLE) for s in rows)
        return waiting_for_weights and self.summarizer.available(name)

    def _needs_translations(self, article: Article, translators: _Translators) -> list[tuple[int, str, str, str]]:
        """(id, language, target, profile) for each target whose readers need a translation of
        ``article`` that an available profile can make and has not made since its own summary."""
        own = article.own_summary()
        if own is None:
            return []
        wanted = []
        for target in TRANSLATION_TARGETS:
            name = translators.get(article.language, target)
            if name is None:
                continue
            model, revision = self.summarizer.produces(name)
            made = [
                s for s in article.summaries if (s.profile, s.model, s.revision, s.language) == (name, model, revision, target)
            ]
            if made and made[0].created_at >= own.created_at:
                continue
            wanted.append((article.id, article.language, target, name))
        return wanted


class _Translators:
    """The translating profile of each (language, target) pair whose weights are here, looked up
    once per summarizing run."""

    def __init__(self, summarizer: Summarizer) -> None:
        self.summarizer = summarizer
        self._names: dict[tuple[str, str], str | None] = {}

    def get(self, language: str, target: str) -> str | None:
        """The profile for articles in ``language`` read in ``target``; None: none configured or
        its weights are missing (readers then get the original, marked), or the same language."""
        key = (language_family(language), target)
        if key not in self._names:
            name = self.summarizer.translator_for(language, target)
            self._names[key] = name if name and self.summarizer.available(name) else None
        return self._names[key]
