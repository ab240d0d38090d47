"""The fetch stage of ingestion: one source's pass, from its listing to stored articles."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from bot.config import Settings, SourceSettings
from bot.console import metrics
from bot.ingest.dates import parse_local_datetime
from bot.ingest.encoding import decode_bytes
from bot.ingest.extract import ExtractedArticle, extract_html, extract_plain_text
from bot.ingest.http import FetchError, PoliteClient, Response
from bot.ingest.kinds import KINDS
from bot.ingest.sources import Candidate, SourceError
from bot.ingest.store import ArticleStore
from summarizer.text import binary_problem

log = logging.getLogger(__name__)


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


class SourceFetcher:
    """Runs one source's pass through the store; parsing and database work in worker threads."""

    def __init__(self, settings: Settings, store: ArticleStore) -> None:
        self.settings = settings
        self.store = store

    async def run(self, client: PoliteClient, config: SourceSettings, source_id: int) -> SourceReport:
        """One pass of one source within its time budget: list, keep the unseen candidates (and,
        for web sources, the failed pages due again), fetch, extract and store each; then record
        the outcome (success, or a failure that backs the source off)."""
        report = SourceReport(config.name)
        state = await asyncio.to_thread(self.store.load_source, source_id)
        kind = KINDS[config.kind]
        budget = self.settings.fetch.source_budget_seconds
        try:
            async with asyncio.timeout(budget):
                listing = await kind.list(client, config, state, self.settings)
                report.not_modified = listing.not_modified
                todo = await asyncio.to_thread(self.store.unseen, source_id, listing.candidates)
                if kind.web:  # failed pages wait in the retry queue
                    todo += await asyncio.to_thread(self.store.due_retries, source_id, config.max_articles)
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
            await asyncio.to_thread(self.store.record_success, source_id, config, listing)
            metrics.fetched(config.name, "not_modified" if report.not_modified else "ok", report.new)
            return report
        await asyncio.to_thread(self.store.record_failure, source_id, config, report.errors[-1])
        metrics.fetched(config.name, "error", report.new)
        return report

    async def _ingest_candidate(
        self, client: PoliteClient, config: SourceSettings, source_id: int, candidate: Candidate, report: SourceReport
    ) -> None:
        """Fetch (when needed), extract and store one candidate; a failure is reported and,
        for web sources, queued for a retry with backoff."""
        try:
            # one attempt: a failed page is retried on later passes, not by holding this one
            page = await client.get(candidate.url, max_retries=0) if candidate.content is None else None
            extracted = await asyncio.to_thread(self._extract, candidate, config, page)
            report.new += await asyncio.to_thread(self.store.store, source_id, candidate, extracted)
            return
        except (FetchError, SourceError, OSError, ValueError) as exc:
            error = str(exc)
        except Exception as exc:  # one odd page must not stop the source
            log.exception("unexpected error on %s", candidate.url)
            error = f"{candidate.url}: {type(exc).__name__}: {exc}"
        report.errors.append(error)
        if KINDS[config.kind].web:
            try:
                await asyncio.to_thread(self.store.page_failed, source_id, candidate, error)
            except Exception:  # the queue refusing one page must not stop the pass
                log.exception("could not queue %s for a retry", candidate.url)

    @metrics.EXTRACTION_SECONDS.time()
    def _extract(self, candidate: Candidate, config: SourceSettings, page: Response | None) -> ExtractedArticle:
        tz = self.settings.region.tz
        problem = binary_problem(page.content) if page is not None else None
        if problem:  # a link to a PDF, an image, an archive: no article to extract
            raise ValueError(f"{candidate.url}: not text: {problem}")
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
