"""What a URL offers as a source, found by trying it once before it is saved.

A page that names its feed (``<link rel="alternate" type="application/rss+xml">`` or Atom) gives
that feed; a URL that parses as a feed is one; anything else is read as a listing page of
article links. Everything goes through :class:`~bot.ingest.http.PoliteClient` (deadlines,
address guard, size cap, robots.txt); parsing runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from urllib.parse import urljoin

import feedparser
import httpx
from lxml import etree
from lxml import html as lxml_html

from bot.config import FetchSettings, Settings, SourceSettings
from bot.digest import one_line
from bot.ingest.encoding import decode_bytes
from bot.ingest.http import PoliteClient, Response, host_of
from bot.ingest.kinds import KINDS
from bot.ingest.sources import Candidate, SourceError, find_article_links, parse_feed
from bot.storage import Source

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+xml"})
NAME_CHARS = 100  # a name taken from a feed's or page's title is cut to this
SHOWN_TITLES = 3
DEADLINE_SECONDS = 60.0  # the whole discovery (robots.txt, page, feed): an operator is waiting
RETRIES = 1  # one more attempt after a transient failure; the operator can try again later
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


@dataclass
class Discovery:
    """A source found at a URL: its kind and address, a name to give it, what one pass lists."""

    kind: str  # rss | page
    url: str  # the feed, or the listing page
    title: str | None  # the feed's or page's title: the name when none is given
    candidates: list[Candidate]
    via: str  # "alternate" (the page named its feed), "feed", "page", or "given" (the kind was named)

    def titles(self, count: int = SHOWN_TITLES) -> list[str]:
        """The first ``count`` article titles (the link where an item has none)."""
        return [one_line(c.title or c.url) for c in self.candidates[:count]]


def _page_tree(response: Response) -> lxml_html.HtmlElement | None:
    """The HTML tree of ``response``, or None when it is not an HTML page."""
    text = decode_bytes(response.content, response.charset).lstrip()
    if not text or (text.startswith("<?xml") and "<html" not in text[:500].lower()):
        return None
    try:
        return lxml_html.document_fromstring(_XML_DECLARATION.sub("", text, count=1) or "<html></html>")
    except (etree.ParserError, ValueError):
        return None


def alternate_feed(response: Response) -> tuple[str | None, str | None]:
    """The feed an HTML page names in its head (absolute URL), and the page's title."""
    tree = _page_tree(response)
    if tree is None:
        return None, None
    titles = tree.xpath("//title/text()")
    title = one_line(titles[0])[:NAME_CHARS] if titles and one_line(titles[0]) else None
    for link in tree.xpath("//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and kind in FEED_TYPES:
            return urljoin(response.url, link.get("href").strip()), title
    return None, title


def _feed(response: Response) -> tuple[list[Candidate], str | None] | None:
    """The items and title of ``response`` read as a feed; None when it is not one."""
    try:
        candidates = parse_feed(response)
    except SourceError:
        return None
    if not candidates:
        return None
    # parse_feed refused entity declarations: the title is safe to read
    headers = {"content-type": f"application/xml; charset={response.charset or 'utf-8'}"}
    title = feedparser.parse(response.content, response_headers=headers).feed.get("title")
    return candidates, one_line(title)[:NAME_CHARS] if title and one_line(title) else None


async def discover(
    url: str, settings: FetchSettings, transport: httpx.AsyncBaseTransport | None = None, limit: int = 30
) -> Discovery:
    """Find the source at ``url`` and list what one pass gives, within DEADLINE_SECONDS;
    SourceError (or FetchError) with the reason when it offers neither a feed nor article links."""
    if not url.startswith(("http://", "https://")):
        raise SourceError(f"{url}: not a web address (give an http:// or https:// URL)")
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            return await _discover(url, settings, transport, limit)
    except TimeoutError:
        raise SourceError(f"{url}: no complete answer within {DEADLINE_SECONDS:g}s (try again later)") from None


async def _discover(url: str, settings: FetchSettings, transport: httpx.AsyncBaseTransport | None, limit: int) -> Discovery:
    # the operator names the URL, as in [[sources]]: its host may be on the local network
    async with PoliteClient(settings, transport, trusted_hosts=[host_of(url)]) as client:
        response = await client.get(url, max_retries=RETRIES)
        feed_url, page_title = await asyncio.to_thread(alternate_feed, response)
        if feed_url is not None and feed_url != response.url:
            feed_response = await client.get(feed_url, max_retries=RETRIES)
            found = await asyncio.to_thread(_feed, feed_response)
            if found is not None:
                return Discovery("rss", feed_response.url, found[1] or page_title, found[0][:limit], "alternate")
        found = await asyncio.to_thread(_feed, response)
        if found is not None:
            return Discovery("rss", response.url, found[1], found[0][:limit], "feed")
        links = await asyncio.to_thread(find_article_links, response, None, limit)
    if not links:
        raise SourceError(f"{url}: neither a feed nor a page with article links (nothing to fetch)")
    return Discovery("page", response.url, page_title, links, "page")


async def try_source(config: SourceSettings, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Discovery:
    """One listing of ``config`` as its kind reads it (no discovery): what a pass would find,
    within the fetch settings' ``source_budget_seconds``."""
    kind = KINDS[config.kind]
    budget = settings.fetch.source_budget_seconds
    async with PoliteClient(settings.fetch, transport, trusted_hosts=[host_of(config.url)] if kind.web else []) as client:
        try:
            async with asyncio.timeout(budget):
                listing = await kind.list(client, config, Source(), settings)
        except TimeoutError:
            raise SourceError(f"{config.url}: no complete answer within {budget:g}s") from None
    if not listing.candidates:
        raise SourceError(f"{config.url}: one pass found no articles (check the address and the kind)")
    return Discovery(config.kind, config.url, None, listing.candidates, "given")
