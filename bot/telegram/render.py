"""Telegram HTML for digests and story lists; every article-derived string is escaped.

A rendering is a list of *units* (heading, lead, weather, each story, the note), each a
whole piece of HTML with its tags balanced. ``split_message`` packs units into messages and
never cuts inside a tag: Telegram refuses a message whose tags are not closed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.digest import Digest, StoryItem, lead_lines, without_blank_lines
from bot.texts import t

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units
FULL_TEXT_ROW = 4  # numbered "Full text" buttons in a row
_TAG = re.compile(r"<(/?)[a-zA-Z][^<>]*>")
_PARAGRAPH = "\n\n"


def link(url: str, name: str) -> str:
    """``name`` linked to ``url`` (escaped); only the name when the URL is not http(s), such as a local file's."""
    name = name or url
    if url.startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(name)}</a>'
    return html.escape(name)


def render_story(number: int, story: StoryItem) -> str:
    """One story (one unit): number and bold title, summary, its sources as links."""
    lines = [f"{number}. <b>{html.escape(story.title)}</b>"]
    if story.summary:
        lines.append(html.escape(story.summary))
    lines.append(" · ".join(link(s["url"], s["name"]) for s in story.sources))
    return "\n".join(lines)


def render_stories(stories: list[StoryItem], language: str, heading: str | None = None) -> list[str]:
    """A list of stories (``/latest``, instant news) as units: the heading, each story, and the
    fallback note when it applies."""
    if not stories:
        return [html.escape(t("no_news", language))]
    units = [f"<b>{html.escape(without_blank_lines(heading))}</b>"] if heading else []
    units += [render_story(n, s) for n, s in enumerate(stories, 1)]
    if any(s.fallback for s in stories):
        units.append(f"<i>{html.escape(t('fallback_note', language))}</i>")
    return units


def render_weather(text: str, language: str) -> str:
    """The weather block (one unit)."""
    return f"<b>☀️ {html.escape(t('weather', language))}</b>\n{html.escape(without_blank_lines(text))}"


def render_digest(digest: Digest) -> list[str]:
    """The daily push as units: the lead (or the note that it fell back) when a model writes
    leads, the weather, then the stories."""
    opening = [f"<i>{html.escape(without_blank_lines(line))}</i>" for line in lead_lines(digest)]
    news = render_stories(digest.stories, digest.language, heading=f"📰 {t('news', digest.language)}")
    return [*opening, render_weather(digest.weather_text, digest.language), *news]


def full_text_keyboard(stories: Sequence[StoryItem], language: str) -> InlineKeyboardMarkup | None:
    """A "Full text" button for each story: one story's says so, several are numbered as the
    stories are (four in a row)."""
    if len(stories) == 1 and stories[0].story_id:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(t("button_full_text", language), callback_data=f"full:{stories[0].story_id}")]]
        )
    buttons = [
        InlineKeyboardButton(f"📄 {number}", callback_data=f"full:{story.story_id}")
        for number, story in enumerate(stories, 1)
        if story.story_id
    ]
    rows = [buttons[at : at + FULL_TEXT_ROW] for at in range(0, len(buttons), FULL_TEXT_ROW)]
    return InlineKeyboardMarkup(rows) if rows else None


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji or a rare CJK character is 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_message(units: str | Sequence[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Pack HTML ``units`` (a string: its blank-line paragraphs outside tags) into messages of at
    most ``limit`` UTF-16 code units, blank lines between units.

    Messages are cut only between units. A unit longer than the limit is cut at line ends
    outside its tags; a line longer than the limit loses its markup and is cut as plain text.
    """
    if isinstance(units, str):
        units = _cut_outside_tags(units, _PARAGRAPH)
    messages: list[str] = []
    current = ""
    for piece in (piece for unit in units for piece in _fitted(unit, limit)):
        candidate = f"{current}{_PARAGRAPH}{piece}" if current else piece
        if utf16_length(candidate) <= limit:
            current = candidate
        else:
            messages.append(current)
            current = piece
    if current:
        messages.append(current)
    return messages


def _fitted(unit: str, limit: int) -> list[str]:
    """``unit`` as pieces of at most ``limit``, each with balanced tags and some visible text."""
    if utf16_length(unit) <= limit:
        return [unit] if _visible(unit).strip() else []
    pieces: list[str] = []
    block = ""
    for line in _cut_outside_tags(unit, "\n"):
        for chunk in [line] if utf16_length(line) <= limit else _plain_chunks(_visible(line), limit):
            if block and utf16_length(block) + 1 + utf16_length(chunk) > limit:
                pieces.append(block)
                block = chunk
            else:
                block = f"{block}\n{chunk}" if block else chunk
    if block:
        pieces.append(block)
    return [piece for piece in pieces if _visible(piece).strip()]


def _cut_outside_tags(text: str, separator: str) -> list[str]:
    """``text`` cut at every ``separator`` that is not inside an element."""
    parts: list[str] = []
    depth, start, at = 0, 0, 0
    while at < len(text):
        tag = _TAG.match(text, at) if text[at] == "<" else None
        if tag:
            depth = max(depth - 1, 0) if tag[1] else depth + 1
            at = tag.end()
        elif depth == 0 and text.startswith(separator, at):
            parts.append(text[start:at])
            at = start = at + len(separator)
        else:
            at += 1
    parts.append(text[start:])
    return parts


def _visible(fragment: str) -> str:
    """The text of an HTML fragment, without its markup."""
    return html.unescape(_TAG.sub("", fragment))


def _plain_chunks(text: str, limit: int) -> list[str]:
    """Plain ``text`` escaped and cut into chunks of at most ``limit`` code units."""
    chunks: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in text:
        escaped = html.escape(char)
        width = utf16_length(escaped)
        if size + width > limit:
            chunks.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(escaped)
        size += width
    if chunk:
        chunks.append("".join(chunk))
    return chunks
