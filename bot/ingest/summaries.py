"""The summarize/translate stage of ingestion: recent articles without a summary from their
routed profile are summarized, and translated for readers of the other language where
models.yaml can, in batches, each claimed so that two processes never do the same work."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from sqlalchemy import or_, select, update
from sqlalchemy.orm import load_only, selectinload

from bot.config import Settings
from bot.console import metrics
from bot.storage import Article, Database, Summary
from bot.storage.locks import PROCESS_ID
from bot.storage.models import utcnow
from summarizer import Summarizer
from summarizer.api import UNAVAILABLE
from summarizer.text import EN, ZH_HANS, language_family, strip_title_label

log = logging.getLogger(__name__)

SUMMARY_WINDOW = timedelta(days=14)  # older articles no longer reach digests
PENDING_PAGE = 200  # articles examined per query when looking for missing summaries
SUMMARY_CLAIM = timedelta(minutes=30)  # a batch being summarized is left to its process this long
# What translations are made into: one per language family readers read. Chinese ones are
# stored in Simplified; Traditional readers get them converted (summarizer.text.for_reader).
TRANSLATION_TARGETS = (EN, ZH_HANS)


class SummaryStage:
    """Summaries and translations of stored articles; stops between batches once ``closing`` is set."""

    def __init__(self, settings: Settings, db: Database, summarizer: Summarizer, closing: threading.Event) -> None:
        self.settings = settings
        self.db = db
        self.summarizer = summarizer
        self._closing = closing
        self._lock = threading.Lock()  # one run at a time

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
        with self._lock:
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
        started = time.monotonic()
        results = self.summarizer.summarize_many(
            [found[i][0] for i, _ in articles], [language for _, language in articles], forced, [found[i][1] for i, _ in articles]
        )
        metrics.summarized(results, time.monotonic() - started)
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
        started = time.monotonic()
        results = self.summarizer.translate_many(
            [found[i][2] for i, _ in articles],
            [found[i][1] for i, _ in articles],
            [found[i][0] for i, _ in articles],
            [language for _, language in articles],
            target,
        )
        metrics.summarized(results, time.monotonic() - started, translation=True)
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
