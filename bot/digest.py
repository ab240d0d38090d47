"""The digest a subscriber gets: the weather, then the newest stories, in the reader's script."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.storage import Article, Bulletin, Database, Story
from summarizer.text import convert_script, is_chinese
from summarizer.weather import Bulletin as BulletinData
from summarizer.weather import Period, describe_bulletin

WEATHER_UNAVAILABLE = {
    "zh-Hant": "暫無天氣資訊。",
    "zh-Hans": "暂无天气信息。",
    "en": "Weather information is not available right now.",
}


@dataclass
class StoryItem:
    """One story: headline and summary of its lead article, and every source that ran it."""

    title: str
    summary: str
    published: datetime | None
    sources: list[dict[str, str]]

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "summary": self.summary,
            "published": self.published.isoformat() if self.published else None,
            "sources": self.sources,
        }


@dataclass
class Digest:
    """Weather text (and the bulletin it came from) plus stories, newest first."""

    language: str
    weather_text: str
    weather_bulletin: dict | None = None
    stories: list[StoryItem] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The ``newsbot digest --json`` shape."""
        return {
            "language": self.language,
            "weather": {"text": self.weather_text, "bulletin": self.weather_bulletin},
            "stories": [s.to_dict() for s in self.stories],
        }


def for_reader(text: str, text_language: str, reader_language: str) -> str:
    """Chinese text converted to the reader's script; anything else unchanged."""
    if is_chinese(text_language) and is_chinese(reader_language) and text_language != reader_language:
        return convert_script(text, reader_language)
    return text


def build_digest(db: Database, language: str, limit: int, tz: tzinfo, since: datetime | None = None) -> Digest:
    """The digest for a reader of ``language``: newest bulletin, then up to ``limit`` stories.

    Times are given in ``tz``, the region's timezone.
    """
    with db.session() as session:
        bulletin = _newest_bulletin(session, tz)
        stories = _latest_stories(session, limit, since)
        return Digest(
            language=language,
            weather_text=describe_bulletin(bulletin, language) if bulletin else WEATHER_UNAVAILABLE[language],
            weather_bulletin=bulletin.to_dict() if bulletin else None,
            stories=[_story_item(story, language, tz) for story in stories],
        )


def _newest_bulletin(session: Session, tz: tzinfo) -> BulletinData | None:
    row = session.scalars(select(Bulletin).order_by(Bulletin.issued_at.desc().nulls_last(), Bulletin.id.desc()).limit(1)).first()
    if row is None:
        return None
    return BulletinData(
        issuer=row.issuer,
        issued_at=row.issued_at.astimezone(tz) if row.issued_at else None,
        periods=[Period(**p) for p in row.periods],
        text=row.text,
    )


def _latest_stories(session: Session, limit: int, since: datetime | None) -> list[Story]:
    newest = func.max(func.coalesce(Article.published_at, Article.fetched_at))
    query = (
        select(Story)
        .join(Article, Article.story_id == Story.id)
        .where(Article.text != "")
        .group_by(Story.id)
        .order_by(newest.desc(), Story.id.desc())
        .limit(limit)
        .options(selectinload(Story.articles).selectinload(Article.source), selectinload(Story.articles).selectinload(Article.summaries))
    )
    if since is not None:
        query = query.having(func.max(Article.fetched_at) > since)
    return list(session.scalars(query))


def _story_item(story: Story, language: str, tz: tzinfo) -> StoryItem:
    articles = [a for a in story.articles if a.text]
    lead = min(articles, key=lambda a: (a.language != language, a.published_at or a.fetched_at, a.id))
    summary = max(lead.summaries, key=lambda s: s.created_at, default=None)
    return StoryItem(
        title=for_reader(lead.title, lead.language, language),
        summary=for_reader(summary.text, summary.language, language) if summary else "",
        published=lead.published_at.astimezone(tz) if lead.published_at else None,
        sources=[{"name": a.source.name, "url": a.url} for a in sorted(articles, key=lambda a: a is not lead)],
    )


def render_text(digest: Digest) -> str:
    """Plain-text rendering for the terminal."""
    labels = {
        "zh-Hant": ("天氣", "新聞", "來源", "暫無新聞。"),
        "zh-Hans": ("天气", "新闻", "来源", "暂无新闻。"),
        "en": ("Weather", "News", "Source", "No news yet."),
    }[digest.language]
    lines = [f"【{labels[0]}】", digest.weather_text, "", f"【{labels[1]}】"]
    if not digest.stories:
        lines.append(labels[3])
    for number, story in enumerate(digest.stories, 1):
        lines.append(f"{number}. {story.title}")
        if story.summary:
            lines.append(f"   {story.summary}")
        for source in story.sources:
            lines.append(f"   {labels[2]}: {source['name']} {source['url']}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
