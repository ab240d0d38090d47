"""Article extraction: title, date, language and clean text, with weather bulletins set apart.

trafilatura first; readability-lxml where trafilatura finds nothing useful; then the
boilerplate pass of :mod:`bot.ingest.cleanup` and the bulletin parser of :mod:`summarizer.weather`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from readability import Document

from bot.ingest.cleanup import clean_lines, strip_html_furniture
from bot.ingest.dates import find_date, parse_local_datetime
from summarizer.text import detect_language
from summarizer.weather import Bulletin, parse_bulletins

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 40
_DATE_META = (
    "article:published_time", "og:published_time", "pubdate", "publishdate", "publish_date",
    "PubDate", "datePublished", "dc.date", "DC.date.issued", "date", "firstpublishedtime",
)
_DATE_CONTAINER = re.compile(r"(date|time|info|pub|source|meta|byline)", re.I)
_TITLE_SUFFIX = re.compile(r"\s*[-_|｜—–]\s*[^-_|｜—–]{1,30}$")


@dataclass
class ExtractedArticle:
    """What an article page holds once the furniture is gone."""

    title: str
    text: str
    language: str
    published: datetime | None = None
    canonical_url: str | None = None
    bulletins: list[Bulletin] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The ``newsbot extract --json`` shape."""
        return {
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "language": self.language,
            "text": self.text,
            "canonical_url": self.canonical_url,
            "bulletins": [b.to_dict() for b in self.bulletins],
        }


def extract_html(
    page: str, tz: tzinfo, url: str | None = None, language_hint: str | None = None
) -> ExtractedArticle:
    """Extract an article from an HTML page (already decoded to text)."""
    tree = _parse(page)
    published = _published(tree, tz)
    lang_attr = tree.get("lang") or language_hint
    canonical = tree.xpath("string(//link[@rel='canonical']/@href)") or None
    title = _title(tree)
    strip_html_furniture(tree)
    cleaned_page = lxml_html.tostring(tree, encoding="unicode")
    result = trafilatura.bare_extraction(
        cleaned_page, url=url, with_metadata=True, include_comments=False, include_tables=False,
        include_images=False, deduplicate=False, as_dict=False,
    )
    body = (result.text if result is not None else "") or ""
    if len(body.strip()) < MIN_TEXT_CHARS:
        body = _readability_text(cleaned_page) or body
    if not published and result is not None and result.date:
        published = parse_local_datetime(result.date, tz)
    if not title and result is not None:
        title = result.title or ""
    return _finish(title, body, tz, published, lang_attr, canonical)


def extract_plain_text(text: str, tz: tzinfo, language_hint: str | None = None) -> ExtractedArticle:
    """Extract from plain text: the first non-empty line is the title."""
    lines = [line for line in text.splitlines() if line.strip()]
    title = lines[0].strip() if lines else ""
    return _finish(title, "\n".join(lines[1:]), tz, None, language_hint, None)


def _finish(
    title: str, body: str, tz: tzinfo, published: datetime | None, hint: str | None, canonical: str | None
) -> ExtractedArticle:
    lines = body.splitlines()
    if lines and title and lines[0].strip() == title.strip():
        lines = lines[1:]
    default_year = published.astimezone(tz).year if published else None
    text, bulletins = parse_bulletins(clean_lines("\n".join(lines)), default_year=default_year)
    for bulletin in bulletins:
        if bulletin.issued_at is not None:
            bulletin.issued_at = bulletin.issued_at.replace(tzinfo=tz)
    language = detect_language(f"{title}\n{text}", hint=hint)
    return ExtractedArticle(title.strip(), text.strip(), language, published, canonical, bulletins)


def _parse(page: str) -> lxml_html.HtmlElement:
    page = re.sub(r"^\s*<\?xml[^>]*\?>", "", page)  # lxml refuses str input with an encoding declaration
    try:
        tree = lxml_html.document_fromstring(page)
    except (etree.ParserError, ValueError):
        tree = lxml_html.document_fromstring(f"<html><body><pre>{page}</pre></body></html>")
    for junk in tree.xpath("//script|//style|//noscript|//iframe"):
        junk.drop_tree()
    return tree


def _title(tree: lxml_html.HtmlElement) -> str:
    """The page's headline: og:title, else the first <h1>, else <title> minus the site name."""
    for candidate in (
        tree.xpath("string(//meta[@property='og:title']/@content)"),
        tree.xpath("string((//h1)[1])"),
    ):
        if candidate and candidate.strip():
            return " ".join(candidate.split())
    title = " ".join(tree.xpath("string(//title)").split())
    return _TITLE_SUFFIX.sub("", title) if _TITLE_SUFFIX.search(title) else title


def _published(tree: lxml_html.HtmlElement, tz: tzinfo) -> datetime | None:
    """Publication time from meta tags, <time>, or a byline element near the headline."""
    for name in _DATE_META:
        for value in tree.xpath(f"//meta[@property='{name}' or @name='{name}' or @itemprop='{name}']/@content"):
            if parsed := parse_local_datetime(value, tz):
                return parsed
    for value in tree.xpath("//time/@datetime"):
        if parsed := parse_local_datetime(value, tz):
            return parsed
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in {"html", "body", "ul", "ol", "li", "a"}:
            continue
        marker = f"{element.get('class', '')} {element.get('id', '')}"
        if _DATE_CONTAINER.search(marker) and len(element.text_content()) < 200:
            if parsed := find_date(element.text_content(), tz):
                return parsed
    return None


def _readability_text(page: str) -> str:
    try:
        summary = Document(page).summary(html_partial=True)
    except Exception as exc:  # readability raises bare Exceptions on odd markup
        log.debug("readability failed: %s", exc)
        return ""
    fragment = lxml_html.fragment_fromstring(summary, create_parent="div")
    blocks = fragment.xpath("//p|//h2|//h3|//li|//blockquote")
    lines = [" ".join(b.text_content().split()) for b in blocks] if blocks else [fragment.text_content()]
    return "\n".join(line for line in lines if line)
