"""The whole story inside Telegram: an article's clean text published as a Telegraph page
(telegra.ph, which Telegram opens in Instant View), or sent into the chat when Telegraph is
switched off (``[telegraph] enabled``) or unreachable.

- One Telegraph account per installation: ``createAccount`` on first use, its access token kept
  in ``bot_state`` (two processes racing both use the one stored first; a token Telegraph no
  longer knows is replaced once).
- A page per article and reader script, made on a reader's first tap and kept
  (:class:`bot.storage.models.TelegraphPage`): never while a digest is being sent.
- ``createPage`` gets the Node format (paragraphs, the lead image as a figure, the source link)
  kept under Telegraph's 64 KB; a longer text is cut at a paragraph end and says so.
- Every request has a deadline (``[telegraph] timeout_seconds``, the body included), transient
  failures (network, 429/5xx, a short flood wait) are retried ``max_retries`` times with
  backoff, and answers larger than :data:`MAX_ANSWER_BYTES` are refused. After a failure
  Telegraph is left alone for :data:`PAUSE_AFTER_FAILURE` seconds: taps meanwhile get the text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from bot.config import Settings
from bot.digest import lead_article, page_language
from bot.ingest.http import RETRY_STATUSES
from bot.storage import Article, BotState, Database, Story
from bot.storage.models import TelegraphPage
from bot.texts import name_for_reader, t
from summarizer.text import for_reader, strip_title_label

log = logging.getLogger(__name__)

TOKEN_KEY = "telegraph_access_token"
SHORT_NAME = "newsbot"
CONTENT_BYTES = 60_000  # the Node array as JSON (UTF-8), below Telegraph's 64 KB with room to spare
TITLE_CHARS, AUTHOR_CHARS, AUTHOR_URL_CHARS = 256, 128, 512  # Telegraph's limits
MAX_ANSWER_BYTES = 1_000_000
MAX_FLOOD_WAIT = 10  # seconds: a longer FLOOD_WAIT is not waited out (the reader gets the text in the chat)
PAUSE_AFTER_FAILURE = 60.0  # seconds Telegraph is not asked after it failed: taps get the text at once
_FLOOD_WAIT = re.compile(r"FLOOD_WAIT_(\d+)")

Node = str | dict  # Telegraph's Node: text, or {"tag", "attrs"?, "children"?}


class TelegraphError(Exception):
    """Telegraph could not be used for now; the message says why in one line."""


class _Transient(TelegraphError):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _TokenRefused(TelegraphError):
    """Telegraph does not know the stored access token (ACCESS_TOKEN_INVALID)."""


@dataclass
class FullText:
    """One article's whole text for one reader: in the reader's script (Chinese), with its lead
    image and source; ``url`` is its Telegraph page when there is one."""

    article_id: int
    language: str  # the page's script (see bot.digest.page_language)
    title: str
    paragraphs: list[str]
    source_name: str
    source_url: str
    image: str | None = None
    url: str | None = None


def page_content(text: FullText) -> list[Node]:
    """The Telegraph Node array of ``text``: the lead image, the paragraphs that fit in
    :data:`CONTENT_BYTES` (then a note that the rest is at the source), and the source link."""
    name: Node = text.source_name
    if text.source_url.startswith(("http://", "https://")):  # not a local file's path
        name = {"tag": "a", "attrs": {"href": text.source_url}, "children": [text.source_name]}
    source = {"tag": "p", "children": [f"{t('source', text.language)}: ", name]}
    note = {"tag": "p", "children": [{"tag": "em", "children": [t("full_text_cut", text.language)]}]}
    head = [{"tag": "figure", "children": [{"tag": "img", "attrs": {"src": text.image}}]}] if text.image else []
    budget = CONTENT_BYTES - _size([*head, source, note])
    body: list[Node] = []
    for paragraph in text.paragraphs:
        node = {"tag": "p", "children": [paragraph]}
        cost = _size([node]) - 1  # the brackets of a one-node array, less the comma it adds
        if cost > budget:
            return [*head, *body, note, source]
        body.append(node)
        budget -= cost
    return [*head, *body, source]


def _size(nodes: list[Node]) -> int:
    return len(json.dumps(nodes, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


class TelegraphClient:
    """The two Telegraph API methods newsbot uses, with deadlines, retries and a size cap."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings.telegraph
        self.user_agent = settings.fetch.user_agent
        self.transport = transport

    async def create_account(self, author_name: str) -> str:
        """A new account's access token."""
        result = await self._call("createAccount", {"short_name": SHORT_NAME, "author_name": author_name[:AUTHOR_CHARS]})
        token = result.get("access_token") if isinstance(result, dict) else None
        if not isinstance(token, str) or not token:
            raise TelegraphError("Telegraph createAccount answered without an access token")
        return token

    async def create_page(self, token: str, title: str, author_name: str, author_url: str, content: list[Node]) -> str:
        """Publish a page; its URL."""
        fields = {
            "access_token": token,
            "title": title[:TITLE_CHARS],
            "author_name": author_name[:AUTHOR_CHARS],
            "content": json.dumps(content, ensure_ascii=False, separators=(",", ":")),
            "return_content": "false",
        }
        if len(author_url) <= AUTHOR_URL_CHARS and author_url.startswith(("http://", "https://")):
            fields["author_url"] = author_url
        result = await self._call("createPage", fields)
        url = result.get("url") if isinstance(result, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise TelegraphError("Telegraph createPage answered without a page URL")
        return url

    async def _call(self, method: str, fields: dict[str, str]) -> dict:
        jitter = wait_random_exponential(multiplier=0.5, max=5)

        def wait(state) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, _Transient) and error.retry_after is not None:
                return error.retry_after
            return jitter(state)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_retries + 1),
            wait=wait,
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        async with httpx.AsyncClient(
            headers={"User-Agent": self.user_agent},
            timeout=self.settings.timeout_seconds,
            transport=self.transport,
            follow_redirects=False,
        ) as client:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(client, method, fields)
        raise AssertionError("unreachable")  # pragma: no cover - reraise=True always raises

    async def _attempt(self, client: httpx.AsyncClient, method: str, fields: dict[str, str]) -> dict:
        """One request, answered completely within the deadline."""
        url = f"{self.settings.api_base_url.rstrip('/')}/{method}"
        deadline = self.settings.timeout_seconds
        try:
            async with asyncio.timeout(deadline):
                async with client.stream("POST", url, data=fields) as response:
                    if response.status_code in RETRY_STATUSES:
                        raise _Transient(f"Telegraph {method}: HTTP {response.status_code}")
                    body = b""
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_ANSWER_BYTES:
                            raise TelegraphError(f"Telegraph {method}: answer larger than {MAX_ANSWER_BYTES} bytes")
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise _Transient(f"Telegraph {method}: no complete answer within {deadline:g}s") from exc
        except httpx.TransportError as exc:
            raise _Transient(f"Telegraph {method}: {type(exc).__name__}: {exc or 'connection failed'}") from exc
        except httpx.InvalidURL as exc:
            raise TelegraphError(f"Telegraph {method}: invalid URL {url}: {exc}") from exc
        except httpx.HTTPError as exc:  # an undecodable answer and the like
            raise TelegraphError(f"Telegraph {method}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise TelegraphError(f"Telegraph {method}: HTTP {response.status_code}")
        return _result(method, body)


def _result(method: str, body: bytes) -> dict:
    """The ``result`` of a Telegraph answer; its ``error`` raised (a short flood wait as transient)."""
    try:
        answer = json.loads(body)
    except ValueError:
        raise TelegraphError(f"Telegraph {method}: the answer is not JSON") from None
    if not isinstance(answer, dict):
        raise TelegraphError(f"Telegraph {method}: unexpected answer")
    if answer.get("ok") is True:
        return answer.get("result") or {}
    error = str(answer.get("error") or "unknown error")[:200]
    if error == "ACCESS_TOKEN_INVALID":
        raise _TokenRefused(f"Telegraph {method}: {error}")
    if (flood := _FLOOD_WAIT.fullmatch(error)) and int(flood[1]) <= MAX_FLOOD_WAIT:
        raise _Transient(f"Telegraph {method}: {error}", retry_after=float(flood[1]))
    raise TelegraphError(f"Telegraph {method}: {error}")


class FullTexts:
    """Stories' whole texts for readers, with their Telegraph pages (made on first request)."""

    def __init__(self, settings: Settings, db: Database, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.db = db
        self.client = TelegraphClient(settings, transport)
        self._making: dict[tuple[int, str], asyncio.Future[str]] = {}  # pages being made now, shared by their askers
        self._token_lock = asyncio.Lock()
        self._paused_until = 0.0  # monotonic time: Telegraph failed, it is not asked before then

    async def get(self, story_id: int, language: str) -> FullText | None:
        """The whole text of the story's lead article for a reader of ``language``, with its
        Telegraph page (made now when there is none and Telegraph is enabled; ``url`` stays None
        when Telegraph is off or failed: the caller sends the text). None: the story is gone."""
        text = await asyncio.to_thread(self._load, story_id, language)
        if text is None or text.url is not None or not self.settings.telegraph.enabled:
            return text
        if time.monotonic() < self._paused_until:
            return text
        key = (text.article_id, text.language)
        making = self._making.get(key)
        if making is None:
            making = asyncio.ensure_future(self._publish(text))
            self._making[key] = making
            making.add_done_callback(lambda _: self._making.pop(key, None))
        try:
            text.url = await asyncio.shield(making)
        except TelegraphError as exc:
            self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE
            log.warning("Telegraph is unavailable, the full text goes into the chat (for %gs): %s", PAUSE_AFTER_FAILURE, exc)
        return text

    async def _publish(self, text: FullText) -> str:
        content = page_content(text)
        token = await self._token()
        try:
            url = await self.client.create_page(token, text.title, text.source_name, text.source_url, content)
        except _TokenRefused:
            token = await self._token(refused=token)
            url = await self.client.create_page(token, text.title, text.source_name, text.source_url, content)
        return await asyncio.to_thread(self._store_page, text, url)

    async def _token(self, refused: str | None = None) -> str:
        """The stored access token, or a new account's (once per installation, or after
        Telegraph refused ``refused``)."""
        async with self._token_lock:
            stored = await asyncio.to_thread(self._stored_token)
            if stored is not None and stored != refused:
                return stored
            author = self.settings.telegraph.author_name or self.settings.region.name
            token = await self.client.create_account(author)
            return await asyncio.to_thread(self._store_token, token, refused)

    # -- database work, run in worker threads ------------------------------------------

    def _load(self, story_id: int, language: str) -> FullText | None:
        with self.db.session() as session:
            story = session.scalar(
                select(Story).where(Story.id == story_id).options(selectinload(Story.articles).selectinload(Article.source))
            )
            articles = [a for a in story.articles if a.text] if story else []
            if not articles:
                return None
            lead = lead_article(articles, language)
            script = page_language(lead.language, language)
            url = session.scalar(
                select(TelegraphPage.url).where(TelegraphPage.article_id == lead.id, TelegraphPage.language == script)
            )
            text = for_reader(lead.text, lead.language, script)
            return FullText(
                article_id=lead.id,
                language=script,
                title=for_reader(strip_title_label(lead.title), lead.language, script) or lead.url,
                paragraphs=[line.strip() for line in text.splitlines() if line.strip()],
                source_name=name_for_reader(lead.source.name, language),
                source_url=lead.url,
                image=lead.image,
                url=url,
            )

    def _store_page(self, text: FullText, url: str) -> str:
        """Keep the page's URL; when another process stored one first, that one is used."""
        try:
            with self.db.session() as session:
                session.add(TelegraphPage(article_id=text.article_id, language=text.language, url=url))
        except IntegrityError:
            with self.db.session() as session:
                return session.scalars(
                    select(TelegraphPage.url).where(
                        TelegraphPage.article_id == text.article_id, TelegraphPage.language == text.language
                    )
                ).one()
        return url

    def _stored_token(self) -> str | None:
        with self.db.session() as session:
            row = session.get(BotState, TOKEN_KEY)
            return row.value if row else None

    def _store_token(self, token: str, refused: str | None) -> str:
        """Keep ``token`` (replacing ``refused``); when another process stored one first, that one."""
        try:
            with self.db.session() as session:
                row = session.get(BotState, TOKEN_KEY)
                if row is None:
                    session.add(BotState(key=TOKEN_KEY, value=token))
                elif row.value == refused:
                    row.value = token
                else:
                    return row.value
        except IntegrityError:
            with self.db.session() as session:
                return session.get_one(BotState, TOKEN_KEY).value
        return token
