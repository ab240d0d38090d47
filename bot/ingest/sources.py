"""What each source kind offers before extraction: candidate articles.

``rss`` parses a feed (feedparser) and keeps full content when the feed carries it; a feed
that declares XML entities is refused before feedparser sees it (expanding them can take
gigabytes);
``page`` finds article links on a listing page; ``files`` reads local .html/.txt files (and
gzipped ones, .html.gz/.txt.gz), skipping binary ones and ones larger than ``MAX_FILE_BYTES``.
Article pages are fetched later, and only for candidates not seen before.
"""

from __future__ import annotations

import glob
import logging
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from xml.sax import SAXException
from xml.sax.handler import ContentHandler

import defusedxml.sax
import feedparser
from defusedxml import EntitiesForbidden
from lxml import html as lxml_html

from bot.ingest.encoding import decode_bytes
from bot.ingest.http import Response
from summarizer.text import binary_problem, detect_language, is_chinese, text_length

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_ARTICLE_PATH = re.compile(r"(\d{3,}|/(article|articles|news|content|detail|story|stories|post|posts|a|p)/)", re.I)
_ROOT_START = re.compile(rb"<\w")  # where feedparser's loose parser ends the prolog
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.I)
_TEASER_END = re.compile(r"(\.\.\.|…|\[more\]|閱讀全文|阅读全文|read more)\s*$", re.I)
FILE_SUFFIXES = {".html", ".htm", ".txt"}
GZIP_SUFFIX = ".gz"
MAX_FILE_BYTES = 5_000_000  # a file (a gzipped one once inflated) is read up to this size, as fetch.max_bytes a page

log = logging.getLogger(__name__)


class SourceError(Exception):
    """A source as a whole cannot be read (bad feed, missing folder)."""


@dataclass
class Candidate:
    """A possible article: where it is, and its content when the source already gave it."""

    url: str
    guid: str | None = None
    title: str | None = None
    published_raw: str | None = None
    content: str | None = None
    is_html: bool = True


def parse_feed(response: Response) -> list[Candidate]:
    """Candidates from an RSS 0.9x/1.0/2.0 or Atom feed, decoded robustly.

    CPU-bound (decoding, parsing, language checks): the pipeline runs it in a worker thread.
    """
    text = _XML_DECLARATION.sub(
        '<?xml version="1.0" encoding="utf-8"?>', decode_bytes(response.content, response.charset), count=1
    )
    data = text.encode("utf-8")
    if _declares_entities(data):
        raise SourceError(f"{response.url}: feed declares XML entities (refused)")
    feed = feedparser.parse(data, response_headers={"content-type": "application/xml; charset=utf-8"})
    if not feed.entries and feed.bozo:
        raise SourceError(f"{response.url}: not a readable feed ({feed.get('bozo_exception', 'no entries')})")
    candidates = []
    for entry in feed.entries:
        link = entry.get("link")
        if not link:
            continue
        content = entry.content[0].value if entry.get("content") else entry.get("summary")
        candidates.append(
            Candidate(
                url=urljoin(response.url, link),
                guid=entry.get("id") or None,
                title=entry.get("title"),
                published_raw=entry.get("published") or entry.get("updated") or entry.get("created"),
                content=None if _is_teaser(content or "") else f"<html><body><article>{content}</article></body></html>",
            )
        )
    return candidates


class _PrologRead(Exception):
    """The root element starts: every declaration is behind."""


class _StopAtRoot(ContentHandler):
    def startElement(self, name: str, attrs: object) -> None:
        raise _PrologRead


def _declares_entities(data: bytes) -> bool:
    """Whether either of feedparser's parsers would find entity declarations in ``data``.

    The strict parser (expat) takes them from the DTD, which defusedxml reads up to the root
    element; the loose parser takes every ``<!ENTITY`` line before the first tag, comments
    included, so that part is searched as well.
    """
    root = _ROOT_START.search(data)
    if _ENTITY_DECLARATION.search(data, 0, root.start() if root else len(data)):
        return True
    try:  # an external DTD (RSS 0.91's) is neither fetched nor refused
        defusedxml.sax.parseString(data, _StopAtRoot(), forbid_external=False)
    except EntitiesForbidden:
        return True
    except (_PrologRead, SAXException):  # the root element, or a prolog only the loose parser reads
        pass
    return False


def _is_teaser(content: str) -> bool:
    """True when a feed item carries only the start of the article."""
    text = lxml_html.fromstring(f"<div>{content}</div>").text_content().strip() if content.strip() else ""
    if not text or _TEASER_END.search(text):
        return True
    language = detect_language(text)
    return text_length(text, language) < (150 if is_chinese(language) else 80)


def find_article_links(response: Response, link_pattern: str | None, limit: int) -> list[Candidate]:
    """Article links on a listing page: same host, matching ``link_pattern`` (or article-like paths).

    CPU-bound like :func:`parse_feed`: run it in a worker thread.
    """
    page = decode_bytes(response.content, response.charset)
    tree = lxml_html.document_fromstring(_XML_DECLARATION.sub("", page) or "<html></html>")
    tree.make_links_absolute(response.url, resolve_base_href=True)
    host = urlsplit(response.url).netloc.lower()
    pattern = re.compile(link_pattern) if link_pattern else None
    seen: set[str] = set()
    candidates: list[Candidate] = []
    for anchor in tree.xpath("//a[@href]"):
        url = anchor.get("href").split("#")[0]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != host or url in seen or url == response.url:
            continue
        wanted = pattern.search(url) if pattern else _ARTICLE_PATH.search(parts.path)
        if not wanted:
            continue
        seen.add(url)
        title = " ".join(anchor.text_content().split()) or None
        candidates.append(Candidate(url=url, title=title))
        if len(candidates) >= limit:
            break
    return candidates


def read_files(pattern: Path, limit: int) -> list[Candidate]:
    """Candidates from local files matching a path or glob (newest names last)."""
    matches = sorted(glob.glob(str(pattern), recursive=True)) if glob.has_magic(str(pattern)) else [str(pattern)]
    if pattern.is_dir():
        matches = sorted(str(p) for p in pattern.iterdir())
    files = [Path(m) for m in matches if _text_suffix(Path(m)) in FILE_SUFFIXES and Path(m).is_file()]
    if not files:
        raise SourceError(f"{pattern}: no .html, .htm or .txt files found (gzipped or not)")
    candidates = []
    for path in files[-limit:]:
        try:
            data = _read_file(path)
        except (OSError, SourceError) as exc:
            log.warning("skipping %s: %s", path, exc)
            continue
        problem = binary_problem(data)
        if problem:
            log.warning("skipping %s: not text: %s", path, problem)
            continue
        is_html = _text_suffix(path) != ".txt"
        candidates.append(Candidate(url=path.resolve().as_uri(), content=decode_bytes(data), is_html=is_html))
    return candidates


def _text_suffix(path: Path) -> str:
    """The suffix that says what a file holds: .html for page.html and for page.html.gz."""
    suffixes = [s.lower() for s in path.suffixes]
    return suffixes[-2] if suffixes[-1:] == [GZIP_SUFFIX] and len(suffixes) > 1 else (suffixes or [""])[-1]


def _read_file(path: Path) -> bytes:
    """The bytes of a file, inflated when gzipped; SourceError past MAX_FILE_BYTES (counted as
    it inflates, so a gzip bomb costs no more) or for a corrupt gzip file."""
    with path.open("rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) <= MAX_FILE_BYTES and path.suffix.lower() == GZIP_SUFFIX:
        data = _gunzip(data)
    if len(data) > MAX_FILE_BYTES:
        raise SourceError(f"larger than {MAX_FILE_BYTES} bytes{' once inflated' if path.suffix.lower() == GZIP_SUFFIX else ''}")
    return data


def _gunzip(data: bytes) -> bytes:
    """``data`` inflated (every gzip member), at most MAX_FILE_BYTES + 1 bytes of it."""
    inflated = bytearray()
    while data and len(inflated) <= MAX_FILE_BYTES:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            inflated += inflater.decompress(data, MAX_FILE_BYTES + 1 - len(inflated))
        except zlib.error as exc:
            raise SourceError(f"corrupt gzip file: {exc}") from None
        if not inflater.eof and not inflater.unconsumed_tail:
            raise SourceError("corrupt gzip file: it ends early")
        data = inflater.unused_data
    return bytes(inflated)
