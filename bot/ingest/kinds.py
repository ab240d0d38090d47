"""The source kinds: how each lists its candidate articles, and what its failures mean.

A new kind is a listing function (in its own module, or ``bot/ingest/sources.py``) and one entry
in :data:`KINDS`; the config accepts every kind named here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.ingest.sources import Candidate, find_article_links, parse_feed, read_files

if TYPE_CHECKING:
    from bot.config import Settings, SourceSettings
    from bot.ingest.http import PoliteClient, Response
    from bot.storage import Source


@dataclass
class Listing:
    """What a source offers in one pass, with the validators its server gave for the next."""

    candidates: list[Candidate]
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


Lister = Callable[["PoliteClient", "SourceSettings", "Source", "Settings"], Awaitable[Listing]]


@dataclass(frozen=True)
class SourceKind:
    """One kind of source. ``web``: read over HTTP (its host is one the client trusts, and an
    article page that fails waits in the retry queue for a later pass)."""

    name: str
    list: Lister
    web: bool = True


async def _get_listing(client: PoliteClient, config: SourceSettings, state: Source) -> tuple[Listing, Response | None]:
    """The listing page or feed, unless the server says it has not changed (304)."""
    response = await client.get(config.url, etag=state.etag, last_modified=state.last_modified)
    if response.not_modified:
        return Listing([], state.etag, state.last_modified, not_modified=True), None
    return Listing([], response.etag, response.last_modified), response


async def list_feed(client: PoliteClient, config: SourceSettings, state: Source, _settings: Settings) -> Listing:
    """An RSS or Atom feed's items (full content where the feed carries it)."""
    listing, response = await _get_listing(client, config, state)
    if response is not None:
        listing.candidates = (await asyncio.to_thread(parse_feed, response))[: config.max_articles]
    return listing


async def list_page(client: PoliteClient, config: SourceSettings, state: Source, _settings: Settings) -> Listing:
    """The article links of a listing page (each page fetched later)."""
    listing, response = await _get_listing(client, config, state)
    if response is not None:
        listing.candidates = await asyncio.to_thread(find_article_links, response, config.link_pattern, config.max_articles)
    return listing


async def list_files(_client: PoliteClient, config: SourceSettings, _state: Source, settings: Settings) -> Listing:
    """Local files by path, folder or glob (relative to the config file's folder)."""
    return Listing(await asyncio.to_thread(read_files, settings.resolve_path(config.url), config.max_articles))


KINDS: dict[str, SourceKind] = {
    "rss": SourceKind("rss", list_feed),
    "page": SourceKind("page", list_page),
    "files": SourceKind("files", list_files, web=False),
}
