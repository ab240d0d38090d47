"""Article extraction: title, date, language and clean text, with weather bulletins set apart.

The page is parsed once. The title and the byline date are read from the tree, the furniture is
pruned from it (:func:`bot.ingest.cleanup.prune_page`), the lead image found
(:func:`bot.ingest.images.lead_image`), and trafilatura extracts from that same
tree, tables included; readability-lxml steps in where trafilatura finds nothing useful. The
extracted lines then go through :func:`bot.ingest.cleanup.clean_segments` and the bulletin parser
of :mod:`summarizer.weather.bulletins`. Paragraphs come out one a line; a data table comes out one row a
line, its cells separated by " | ".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from copy import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

import htmldate
import trafilatura
from lxml import etree
from lxml import html as lxml_html
from readability import Document
from trafilatura.settings import Extractor, use_config

from bot.ingest.cleanup import (
    Segment,
    clean_segments,
    ends_sentence,
    is_meta_line,
    is_title_shaped,
    letters,
    prune_page,
)
from bot.ingest.dates import find_date, parse_local_datetime
from bot.ingest.images import lead_image
from summarizer.text import detect_language
from summarizer.weather.bulletins import Bulletin, parse_bulletins

log = logging.getLogger(__name__)
# trafilatura warns of a page it finds nothing in ("discarding data"); callers say so themselves
logging.getLogger("trafilatura").setLevel(logging.ERROR)

MIN_TEXT_CHARS = 40
# trafilatura's 250-character floor is tuned for alphabetic text: below it, a county news brief of
# two Chinese sentences would be swapped for a dump of the whole page.
TRAFILATURA_CONFIG = use_config()
TRAFILATURA_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "60")
# Built once (reading the configuration is a good share of a call); a copy per page gets its URL.
# Text output, not "python": the text is rendered here from the output tree, tables included.
_OPTIONS = Extractor(config=TRAFILATURA_CONFIG, output_format="txt", comments=False, tables=True, images=False)
_PARSER = lxml_html.HTMLParser(collect_ids=False, remove_comments=True, remove_pis=True)
_DATE_MARK = re.compile(r"time|date|pub|info|byline|meta|source", re.I)
_SHOWING = etree.XPath("//body//*[normalize-space(text()) = $text]")
_TITLE_SUFFIX = re.compile(r"\s*(?:[_|｜—–]|-{1,2})\s*[^_|｜—–-]{1,30}$")
_CLAUSE_END = re.compile(r"[，。！？；：、]|[,;:.!?](?=\s|$)")
_SENTENCE_END = re.compile(r"[。！？]|[.!?](?=\s|$)")
_BYLINE_CHARS = 200  # how much text just under the title is searched for the byline date
_PROSE_CHARS = 150  # a text node this long is a paragraph of the article, not a byline
_TITLE_CHARS, _TITLE_CHARS_LATIN = 40, 70  # a title made from a paragraph's first clause
_HEADER_LINES = 10
_BLOCKS = frozenset({"p", "head", "item", "list", "quote", "table", "code", "div"})  # trafilatura's output tags


@dataclass
class ExtractedArticle:
    """What an article page holds once the furniture is gone."""

    title: str
    text: str
    language: str
    published: datetime | None = None
    canonical_url: str | None = None
    bulletins: list[Bulletin] = field(default_factory=list)
    image: str | None = None  # the lead image's absolute URL (bot.ingest.images)

    def to_dict(self) -> dict:
        """The ``newsbot extract --json`` shape."""
        return {
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "language": self.language,
            "text": self.text,
            "canonical_url": self.canonical_url,
            "image": self.image,
            "bulletins": [b.to_dict() for b in self.bulletins],
        }


def extract_html(page: str, tz: tzinfo, url: str | None = None, language_hint: str | None = None) -> ExtractedArticle:
    """Extract an article from an HTML page (already decoded to text)."""
    tree = _parse(page)
    title, title_element, named = _title(tree)
    published = _byline_date(title_element, tz) if title_element is not None else None
    hint = tree.get("lang") or language_hint
    canonical = tree.xpath("string(//link[@rel='canonical']/@href)") or None
    if (body := tree.find("body")) is not None:
        prune_page(body)
    image = lead_image(tree, url)
    options = copy(_OPTIONS)
    options.url = options.source = url
    result = trafilatura.bare_extraction(tree, options=options)
    segments = _segments(result.body) if result is not None and not isinstance(result, dict) else []
    if sum(letters(line) for segment in segments for line in segment.lines) < MIN_TEXT_CHARS:
        segments = _readability_segments(tree) or segments
    header = _header(segments)
    if header and not named:
        title = header[0]
    if published is None and header:
        published = find_date(header[1], tz)
    if published is None or _day_only(published):
        published = _precise(published, _htmldate(tree, url, tz))
    article = _finish(title, segments, tz, published, hint, canonical)
    article.image = image
    return article


def extract_plain_text(text: str, tz: tzinfo, language_hint: str | None = None) -> ExtractedArticle:
    """Extract from plain text: a first line that isn't a sentence, followed by more, is the title.

    Otherwise (one paragraph, or a first line that reads as prose) all of it is text and the
    title is its first clause, shortened to about forty characters (seventy in Latin script).
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and len(lines[0]) <= 120 and not ends_sentence(lines[0]):
        title, body = lines[0], lines[1:]
    else:
        title, body = (_first_clause(lines[0]) if lines else ""), lines
    return _finish(title, [Segment("text", body)], tz, None, language_hint, None)


def _finish(
    title: str,
    segments: list[Segment],
    tz: tzinfo,
    published: datetime | None,
    hint: str | None,
    canonical: str | None,
) -> ExtractedArticle:
    lines = _after_title(clean_segments(segments), title.strip())
    reference = (published or datetime.now(tz)).astimezone(tz).replace(tzinfo=None)  # dates a bulletin without a year
    text, bulletins = parse_bulletins("\n".join(lines), reference=reference)
    for bulletin in bulletins:
        if bulletin.issued_at is not None:
            bulletin.issued_at = bulletin.issued_at.replace(tzinfo=tz)
    language = detect_language(f"{title}\n{text}", hint=hint)
    return ExtractedArticle(title.strip(), text.strip(), language, published, canonical, bulletins)


def _after_title(lines: list[str], title: str) -> list[str]:
    """The lines after the headline where the text repeats it under some header lines (no prose)."""
    if title in lines[:_HEADER_LINES]:
        at = lines.index(title)
        if not any(_is_prose(line) for line in lines[:at]):
            return lines[at + 1 :]
    return lines


def _is_prose(line: str) -> bool:
    return letters(line) > 45 or bool(_SENTENCE_END.search(line))


def _parse(page: str) -> lxml_html.HtmlElement:
    """One parse of the page; scripts and styles go, except JSON-LD (htmldate reads dates there)."""
    page = re.sub(r"^\s*<\?xml[^>]*\?>", "", page)  # lxml refuses str input with an encoding declaration
    try:
        tree = lxml_html.document_fromstring(page, parser=_PARSER)
    except (etree.ParserError, ValueError):
        tree = lxml_html.document_fromstring(f"<html><body><pre>{page}</pre></body></html>", parser=_PARSER)
    for junk in tree.xpath("//script[not(@type='application/ld+json')]|//style"):
        junk.drop_tree()
    return tree


def _title(tree: lxml_html.HtmlElement) -> tuple[str, lxml_html.HtmlElement | None, bool]:
    """The headline, the element that shows it, and whether the page names it as such.

    og:title or the CMS's ArticleTitle, else an <h1> (one the <title> repeats first), else the
    <title> less its site-name suffixes, as far as an element of the page shows it. A <title>
    that no element shows is a guess (the third value is False).
    """
    h1s = [(h1, _squash(h1.text_content())) for h1 in tree.iter("h1")]
    h1s = [(h1, text) for h1, text in h1s if text]
    page_title = _squash(tree.findtext(".//title") or "")
    declared = _squash(tree.xpath("string(//meta[@property='og:title' or @name='ArticleTitle']/@content)"))
    if declared:
        element = next((h1 for h1, text in h1s if text == declared), None)
        if element is None:
            element = _showing(tree, declared)
        return declared, element if element is not None else (h1s[0][0] if h1s else None), True
    if h1s:
        h1, text = next(((h1, text) for h1, text in h1s if text in page_title), h1s[0])
        return text, h1, True
    candidates = [page_title]
    while (match := _TITLE_SUFFIX.search(candidates[-1])) and match.start() >= 4:
        candidates.append(candidates[-1][: match.start()])
    for candidate in candidates:
        if (element := _showing(tree, candidate)) is not None:
            return candidate, element, True
    return candidates[min(1, len(candidates) - 1)], None, False


def _showing(tree: lxml_html.HtmlElement, text: str) -> lxml_html.HtmlElement | None:
    """The first element of the body whose own text is ``text``."""
    found = _SHOWING(tree, text=text) if text else []
    return found[0] if found else None


def _squash(text: str) -> str:
    return " ".join(text.split())


def _byline_date(title_element: lxml_html.HtmlElement, tz: tzinfo) -> datetime | None:
    """The byline's date: in the short lines just under the title, else in the first element after
    it marked as a date (<time>, or a class or id like time, date, pubtime, info, byline, meta),
    looking past one paragraph of prose at most (a standfirst) and skipping the dates of list items.
    A day without its time ("Posted on January 14, 2024") takes the time of a ``<time datetime>``
    of the byline that stamps the same day.
    """
    day = find_date("\n".join(_lines_under(title_element)), tz)
    if day is not None and not _day_only(day):
        return day
    paragraphs = 0
    for element in _following(title_element):
        text = element.text or ""
        paragraphs += len(text) > _PROSE_CHARS
        if paragraphs > 1:
            return day
        if element.tag != "time" and not _DATE_MARK.search(f"{element.get('class', '')} {element.get('id', '')}"):
            continue
        if _in_list(element):
            continue
        if (stamp := element.get("datetime")) and (published := parse_local_datetime(stamp, tz)):
            return _precise(day, published)
        content = element.text_content()
        if day is None and len(content) <= _BYLINE_CHARS and (published := find_date(content, tz)):
            day = published
            if not _day_only(day):
                return day
    return day


def _day_only(value: datetime) -> bool:
    """Whether a date came without its time of day (read as midnight)."""
    return value.hour == value.minute == value.second == 0


def _precise(day: datetime | None, stamp: datetime | None) -> datetime | None:
    """``stamp`` where it gives the time of ``day`` (the same day, with a time) or there's no ``day``."""
    if day is None or (stamp is not None and stamp.date() == day.date() and not _day_only(stamp)):
        return stamp
    return day


def _in_list(element: lxml_html.HtmlElement) -> bool:
    """Whether ``element`` or its parent is one of several alike siblings (the items of a list)."""
    for node in (element, element.getparent()):
        if node is None:
            break
        parent = node.getparent()
        if parent is not None and sum(s.tag == node.tag and s.get("class") == node.get("class") for s in parent) > 2:
            return True
    return False


def _lines_under(element: lxml_html.HtmlElement) -> Iterator[str]:
    """The short lines that follow ``element`` in the page, up to the first paragraph of prose."""
    seen = 0
    for text in _text_after(element):
        text = text.strip()
        if not text:
            continue
        if len(text) > _PROSE_CHARS or "。" in text or seen > _BYLINE_CHARS:
            return
        seen += len(text)
        yield text


def _text_after(element: lxml_html.HtmlElement) -> Iterator[str]:
    """The text after ``element`` in document order."""
    node: lxml_html.HtmlElement | None = element
    while node is not None and node.tag != "body":
        yield node.tail or ""
        for sibling in node.itersiblings():
            yield from sibling.itertext()
            yield sibling.tail or ""
        node = node.getparent()


def _following(element: lxml_html.HtmlElement) -> Iterator[lxml_html.HtmlElement]:
    """The elements after ``element`` in document order, its own descendants left out."""
    node: lxml_html.HtmlElement | None = element
    while node is not None and node.tag != "body":
        for sibling in node.itersiblings():
            yield sibling
            yield from sibling.iterdescendants()
        node = node.getparent()


def _htmldate(tree: lxml_html.HtmlElement, url: str | None, tz: tzinfo) -> datetime | None:
    # htmldate refuses dates after its max_date (by default the machine's date: a page from a
    # region ahead of UTC, dated today there, would be refused and a month's first day guessed)
    tomorrow = (datetime.now(tz) + timedelta(days=1)).strftime("%Y-%m-%d")
    found = htmldate.find_date(
        tree,
        url=url,
        extensive_search=False,
        original_date=True,
        deferred_url_extractor=True,
        outputformat="%Y-%m-%dT%H:%M:%S%z",
        max_date=tomorrow,
    )
    return parse_local_datetime(found, tz)


def _header(segments: list[Segment]) -> tuple[str, str] | None:
    """A headline line followed by a meta line ("發布時間：… 瀏覽次數：…") at the top of the text."""
    lines = [line for segment in segments[:2] if segment.kind == "text" for line in segment.lines][:2]
    if len(lines) == 2 and is_title_shaped(lines[0]) and is_meta_line(lines[1]):
        return lines[0], lines[1]
    return None


def _first_clause(paragraph: str) -> str:
    """A title made from a paragraph: its first clause, cut at a word where it is too long."""
    clause = _CLAUSE_END.split(paragraph, maxsplit=1)[0].strip()
    limit = _TITLE_CHARS_LATIN if clause.isascii() else _TITLE_CHARS
    if len(clause) <= limit:
        return clause
    cut = clause[:limit]
    return f"{cut.rsplit(' ', 1)[0] if ' ' in cut else cut}…"


def _segments(body: etree._Element) -> list[Segment]:
    """trafilatura's output tree as lines: paragraphs, headings and list items; table rows apart."""
    segments: list[Segment] = []
    for block in body:
        if block.tag == "table":
            segments.append(Segment("table", [line for row in block.iter("row") if (line := _row(row))]))
        else:
            segments.append(Segment("text", _lines(block)))
    return segments


def _lines(element: etree._Element) -> list[str]:
    parts: list[str] = []
    _flatten(element, parts)
    return [line for line in (_squash(line) for line in "".join(parts).split("\n")) if line]


def _flatten(element: etree._Element, parts: list[str]) -> None:
    if element.tag == "row":
        parts.append(f"\n{_row(element)}\n")
        return
    breaks = element.tag in _BLOCKS
    parts.append("\n" if breaks else "")
    parts.append(element.text or "")
    for child in element:
        _flatten(child, parts)
        parts.append(child.tail or "")
    parts.append("\n" if breaks or element.tag == "lb" else "")


def _row(row: etree._Element) -> str:
    """A table row on one line, cells separated by " | " (empty cells at its end left out)."""
    cells = [" ".join(_lines(cell)) for cell in row.iterfind("cell")]
    while cells and not cells[-1]:
        cells.pop()
    return " | ".join(cells)


def _readability_segments(tree: lxml_html.HtmlElement) -> list[Segment]:
    try:
        summary = Document(lxml_html.tostring(tree, encoding="unicode")).summary(html_partial=True)
        fragment = lxml_html.fragment_fromstring(summary, create_parent="div")
    except Exception as exc:  # readability raises bare Exceptions on odd markup, lxml asserts on empty ones
        log.debug("readability failed: %s", exc)
        return []
    blocks = fragment.xpath("//p|//h2|//h3|//li|//blockquote") or [fragment]
    return [Segment("text", [line for block in blocks if (line := _squash(block.text_content()))])]
