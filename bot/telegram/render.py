"""Telegram HTML for digests and story lists; every article-derived string is escaped."""

from __future__ import annotations

import html
import re

from bot.digest import Digest, StoryItem, lead_lines
from bot.texts import t

MAX_MESSAGE = 4096


def _link(url: str, name: str) -> str:
    if url.startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(name)}</a>'
    return html.escape(name)


def render_story(number: int, story: StoryItem) -> str:
    """One story: number and bold title, summary, its sources as links."""
    lines = [f"{number}. <b>{html.escape(story.title)}</b>"]
    if story.summary:
        lines.append(html.escape(story.summary))
    lines.append(" · ".join(_link(s["url"], s["name"]) for s in story.sources))
    return "\n".join(lines)


def render_stories(stories: list[StoryItem], language: str, heading: str | None = None) -> str:
    """A list of stories (``/latest``, instant news), with the fallback note when it applies."""
    if not stories:
        return t("no_news", language)
    parts = [f"<b>{html.escape(heading)}</b>"] if heading else []
    parts += [render_story(n, s) for n, s in enumerate(stories, 1)]
    if any(s.fallback for s in stories):
        parts.append(f"<i>{html.escape(t('fallback_note', language))}</i>")
    return "\n\n".join(parts)


def render_weather(text: str, language: str) -> str:
    """The weather block."""
    return f"<b>☀️ {html.escape(t('weather', language))}</b>\n{html.escape(text)}"


def render_digest(digest: Digest) -> str:
    """The daily push: the lead (or the note that it fell back) when a model writes leads, the
    weather, then the stories."""
    opening = [f"<i>{html.escape(line)}</i>" for line in lead_lines(digest)]
    news = render_stories(digest.stories, digest.language, heading=f"📰 {t('news', digest.language)}")
    return "\n\n".join([*opening, render_weather(digest.weather_text, digest.language), news])


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split at paragraph boundaries (blank lines, then lines) into messages under ``limit``.

    Paragraphs are whole HTML units here, so splitting between them keeps tags balanced; a
    single paragraph longer than the limit is cut at line ends, then hard-cut as plain text.
    """
    messages: list[str] = []
    current = ""
    for paragraph in _pieces(text, limit):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= limit:
            current = candidate
        else:
            messages.append(current)
            current = paragraph
    if current:
        messages.append(current)
    return messages


def _pieces(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for paragraph in text.split("\n\n"):
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        line_block = ""
        for line in paragraph.split("\n"):
            if len(line) > limit:  # a pathological line: drop its markup and cut it (escaping grows ≤ 6×)
                plain = html.unescape(re.sub(r"<[^>]+>", "", line))
                step = limit // 6
                chunks = [html.escape(plain[i : i + step]) for i in range(0, len(plain), step)]
            else:
                chunks = [line]
            for chunk in chunks:
                if line_block and len(line_block) + 1 + len(chunk) > limit:
                    pieces.append(line_block)
                    line_block = chunk
                else:
                    line_block = f"{line_block}\n{chunk}" if line_block else chunk
        if line_block:
            pieces.append(line_block)
    return pieces

