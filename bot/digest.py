"""The digest a subscriber gets: the weather, then the newest stories, in the reader's script."""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.config import Settings
from bot.matching import mentions
from bot.storage import Article, Database, Story
from bot.storage.models import TelegraphPage, run_by, utcnow
from bot.texts import name_for_reader, t
from bot.weather_service import WeatherReport
from summarizer import Summarizer
from summarizer.api import FAITHFULNESS
from summarizer.lead import MAX_STORIES, Lead, write_lead
from summarizer.profiles import READER_FAMILIES
from summarizer.text import for_reader, is_chinese, language_family, search_form, strip_title_label

log = logging.getLogger(__name__)

STORY_WINDOW = timedelta(days=14)  # stories not updated for this long no longer reach readers
LEAD_CACHE = 32  # leads kept for editions with the same weather and stories
SEARCH_CANDIDATES = 500  # newest matching articles a search looks at
_STORY_LOADS = (
    selectinload(Story.articles).selectinload(Article.source),
    selectinload(Story.articles).selectinload(Article.summaries),
)
# control characters and lone surrogates (not line breaks or other white space): never shown
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")


def one_line(text: str) -> str:
    """``text`` (a title, a source's name) on one line: every run of white space one space."""
    return " ".join(_INVISIBLE.sub("", text).split())


def without_blank_lines(text: str) -> str:
    """``text`` (a summary) with its lines kept but white space collapsed in each, and no blank lines."""
    return "\n".join(line for line in map(one_line, _INVISIBLE.sub("", text).splitlines()) if line)


@dataclass
class StoryItem:
    """One story for one reader: headline and summary of its lead article (translated, or
    marked as being in its original language), and every source that ran it."""

    title: str
    summary: str
    published: datetime | None
    sources: list[dict[str, str]]
    fallback: bool = False  # the summary is the extractive stand-in for a model
    original_language: str | None = None  # the summary's language (zh, en) when not the reader's: marked
    story_id: int = 0
    article_id: int = 0  # the lead article, whose text "Full text" shows
    image: str | None = None  # the lead article's picture (bot.ingest.images)
    full_text_url: str | None = None  # its Telegraph page, once a reader asked for it (bot.telegraph)

    def __post_init__(self) -> None:
        # feeds put anything in a title; a blank line there once broke a whole day's push
        self.title, self.summary = one_line(self.title), without_blank_lines(self.summary)
        self.sources = [{**source, "name": one_line(source["name"])} for source in self.sources]

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "summary": self.summary,
            "published": self.published.isoformat() if self.published else None,
            "sources": self.sources,
            "fallback": self.fallback,
            "original_language": self.original_language,
            "image": self.image,
            "full_text_url": self.full_text_url,
        }


@dataclass
class Digest:
    """The weather (text and structured report) plus stories, newest first, and the lead a
    model wrote for them (None: no profile writes leads)."""

    language: str
    weather: dict
    stories: list[StoryItem] = field(default_factory=list)
    lead: Lead | None = None

    @property
    def weather_text(self) -> str:
        return self.weather["text"]

    def to_dict(self) -> dict:
        """The ``newsbot digest --json`` shape."""
        return {
            "language": self.language,
            "weather": self.weather,
            "stories": [s.to_dict() for s in self.stories],
            "lead": self.lead.to_dict() if self.lead else None,
        }

    def with_lead(self, summarizer: Summarizer) -> Digest:
        """This digest opened by a lead written from its forecast and top stories, when a
        profile writes leads for its language (checked by the gate; a rejected one is recorded
        as a fallback, and the reader gets the forecast text)."""
        stories = tuple((s.title, s.summary) for s in self.stories[:MAX_STORIES])
        try:
            lead = _LEADS.get(summarizer, self.weather_text, stories, self.language)
        except Exception:  # a bug in the lead's path must not cost the reader the digest
            log.exception("writing the digest's lead failed; the digest goes out without it")
            return self
        self.lead = lead if lead.profile else None
        return self


class _LeadCache:
    """Leads already written, by (weather text, stories, language): editions that share them
    share the lead. A model that was unavailable is asked again next time; at most ``size`` kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._leads: OrderedDict[tuple, Lead] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, summarizer: Summarizer, weather: str, stories: tuple[tuple[str, str], ...], language: str) -> Lead:
        key = (summarizer, weather, stories, language)
        with self._lock:
            if key in self._leads:
                self._leads.move_to_end(key)
                return self._leads[key]
        lead = write_lead(summarizer, weather, stories, language)
        if lead.text or (lead.reason or "").startswith(FAITHFULNESS):
            with self._lock:
                self._leads[key] = lead
                while len(self._leads) > self.size:
                    self._leads.popitem(last=False)
        return lead


_LEADS = _LeadCache(LEAD_CACHE)


def build_digest(
    db: Database,
    language: str,
    limit: int,
    weather: WeatherReport,
    now: datetime,
    since: datetime | None = None,
    sources: frozenset[str] | None = None,
) -> Digest:
    """The digest for a reader of ``language`` at ``now`` (aware, region time): the weather,
    then up to ``limit`` stories first seen by ``now`` (and after ``since``, when given; only
    from ``sources``, when given: the reader's region)."""
    stories = story_items(db, language, limit, now.tzinfo, since, now, sources, until=now)
    return Digest(language=language, weather=weather.to_dict(language, now), stories=stories)


def story_items(
    db: Database,
    language: str,
    limit: int,
    tz: tzinfo | None,
    since: datetime | None = None,
    now: datetime | None = None,
    sources: frozenset[str] | None = None,
    until: datetime | None = None,
) -> list[StoryItem]:
    """The newest ``limit`` stories for a reader of ``language`` (first seen after ``since``, and by
    ``until``; run by one of ``sources`` when given), among those updated within
    :data:`STORY_WINDOW` of ``now``.

    A push bounds its stories with ``until``, the time its cursor then moves to: a story stored
    while the push is being built waits for the next push rather than coming twice.
    """
    horizon = (now or utcnow()) - STORY_WINDOW
    with db.session() as session:
        stories = _latest_stories(session, limit, since, until, horizon, sources)
        return _with_pages(session, [_story_item(story, language, tz) for story in stories], language)


def story_item(db: Database, story_id: int, language: str, tz: tzinfo | None) -> StoryItem | None:
    """One story for a reader of ``language`` (None: gone, or no article with text)."""
    with db.session() as session:
        story = session.scalar(select(Story).where(Story.id == story_id).options(*_STORY_LOADS))
        if story is None or not any(a.text for a in story.articles):
            return None
        return _with_pages(session, [_story_item(story, language, tz)], language)[0]


class Stories:
    """The stories readers ask for in chat (``/latest``, ``/search``); safe to call from worker threads."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def latest(self, language: str, limit: int, now: datetime, region: str | None = None) -> list[StoryItem]:
        """The newest ``limit`` stories of ``region`` for a reader of ``language``."""
        tz = self.settings.region_for(region).tz
        return story_items(self.db, language, limit, tz, None, now, self.settings.region_sources(region))

    def search(self, language: str, keywords: list[str], now: datetime, region: str | None = None) -> list[StoryItem]:
        """Stories of the last ``[search] window_days`` whose title or text mentions every keyword
        (script-, case- and width-insensitive; whole words for Latin keywords), newest first."""
        forms = [form for form in map(search_form, keywords) if form]
        if not forms:
            return []
        window, limit = timedelta(days=self.settings.search.window_days), self.settings.search.max_results
        newest = func.coalesce(Article.published_at, Article.fetched_at)
        query = (
            select(Article.story_id, Article.search_text)
            .where(
                Article.story_id.is_not(None),
                Article.fetched_at >= now - window,
                Article.search_text.is_not(None),
                run_by(self.settings.region_sources(region)),
                *(Article.search_text.contains(form, autoescape=True) for form in forms),
            )
            .order_by(newest.desc(), Article.id.desc())
            .limit(SEARCH_CANDIDATES)
        )
        found: list[int] = []
        with self.db.session() as session:
            for story_id, text in session.execute(query):
                assert story_id is not None and text is not None  # the query's where
                if story_id not in found and all(mentions(text, form) for form in forms):
                    found.append(story_id)
                    if len(found) == limit:
                        break
            stories = {s.id: s for s in session.scalars(select(Story).where(Story.id.in_(found)).options(*_STORY_LOADS))}
            tz = self.settings.region_for(region).tz
            return _with_pages(session, [_story_item(stories[i], language, tz) for i in found if i in stories], language)


def newest_story_at(db: Database, now: datetime) -> datetime | None:
    """When the newest story within :data:`STORY_WINDOW` was first seen, by ``now`` (None: no stories)."""
    with db.session() as session:
        return session.scalar(
            select(func.max(Story.first_seen_at)).where(Story.updated_at >= now - STORY_WINDOW, Story.first_seen_at <= now)
        )


def _latest_stories(
    session: Session,
    limit: int,
    since: datetime | None,
    until: datetime | None,
    horizon: datetime,
    sources: frozenset[str] | None = None,
) -> list[Story]:
    newest = func.max(func.coalesce(Article.published_at, Article.fetched_at))
    query = (
        select(Story)
        .join(Article, Article.story_id == Story.id)
        .where(Story.updated_at >= horizon, Article.text != "")
        .group_by(Story.id)
        .order_by(newest.desc(), Story.id.desc())
        .limit(limit)
        .options(*_STORY_LOADS)
    )
    if since is not None:
        query = query.where(Story.first_seen_at > since)
    if until is not None:
        query = query.where(Story.first_seen_at <= until)
    return list(session.scalars(query.where(run_by(sources))))


def _story_item(story: Story, language: str, tz: tzinfo | None) -> StoryItem:
    """The story for a reader of ``language``: its lead article (the reader's language first)
    with its summary translated for that reader when one was made (stored at ingestion), else
    its own summary, marked with its language when that is not the reader's; the title likewise
    (without aggregator labels); Chinese in the reader's script, source names too."""
    articles = [a for a in story.articles if a.text]
    family = language_family(language)
    lead = lead_article(articles, language)
    own, translation = lead.own_summary(), lead.translation(language)
    title, title_language = strip_title_label(lead.title), lead.language
    if translation is not None:
        summary, summary_language = translation.text, translation.language
        if translation.title:
            title, title_language = translation.title, translation.language
    else:
        summary, summary_language = (own.text, own.language) if own else ("", lead.language)
    summary = for_reader(summary, summary_language, language)
    original = language_family(summary_language) if summary and language_family(summary_language) != family else None
    if original:
        name = t(f"language_{original}", language) if original in READER_FAMILIES else original
        marker = t("in_original", language, language=name)
        summary += marker if is_chinese(language) else f" {marker}"
    return StoryItem(
        title=for_reader(title, title_language, language),
        summary=summary,
        published=lead.published_at.astimezone(tz) if lead.published_at else None,
        sources=[
            {"name": name_for_reader(a.source.name, language), "url": a.url}
            for a in sorted(articles, key=lambda a: a is not lead)
        ],
        fallback=bool(own and own.fallback),
        original_language=original,
        story_id=story.id,
        article_id=lead.id,
        image=lead.image or next((a.image for a in articles if a.image), None),
    )


def lead_article(articles: list[Article], language: str) -> Article:
    """The article of a story that a reader of ``language`` gets: one in the reader's language
    family first, then script, then the earliest."""
    family = language_family(language)
    return min(
        articles,
        key=lambda a: (language_family(a.language) != family, a.language != language, a.published_at or a.fetched_at, a.id),
    )


def page_language(article_language: str, reader_language: str) -> str:
    """The language a story's whole text is shown in: a Chinese article in a Chinese reader's
    script, any other as written (a Telegraph page is kept per article and this language)."""
    return reader_language if is_chinese(article_language) and is_chinese(reader_language) else article_language


def _with_pages(session: Session, items: list[StoryItem], language: str) -> list[StoryItem]:
    """``items`` with the Telegraph pages already made for their lead articles (one query)."""
    leads = {item.article_id: item for item in items}
    if not leads:
        return items
    rows = session.execute(
        select(Article.id, Article.language, TelegraphPage.language, TelegraphPage.url)
        .join(TelegraphPage, TelegraphPage.article_id == Article.id)
        .where(Article.id.in_(leads))
    )
    for article_id, article_language, script, url in rows:
        if script == page_language(article_language, language):
            leads[article_id].full_text_url = url
    return items


def lead_lines(digest: Digest) -> list[str]:
    """What opens the digest: the model's lead, or the note that it fell back (nothing without a lead profile)."""
    lead = digest.lead
    if lead is None:
        return []
    if lead.text:
        return [f"📝 {lead.text}"]
    return [t("lead_rejected" if (lead.reason or "").startswith(FAITHFULNESS) else "lead_unavailable", digest.language)]


def render_text(digest: Digest) -> str:
    """Plain-text rendering for the terminal."""
    language = digest.language
    opening = lead_lines(digest)
    lines = [
        *opening,
        *([""] if opening else []),
        f"【{t('weather', language)}】",
        digest.weather_text,
        "",
        f"【{t('news', language)}】",
    ]
    if not digest.stories:
        lines.append(t("no_news", language))
    for number, story in enumerate(digest.stories, 1):
        lines.append(f"{number}. {story.title}")
        if story.summary:
            lines.append(f"   {story.summary}")
        for source in story.sources:
            lines.append(f"   {t('source', language)}: {source['name']} {source['url']}")
        lines.append("")
    if any(story.fallback for story in digest.stories):
        lines.append(t("fallback_note", language))
    return "\n".join(lines).rstrip() + "\n"
