"""A polite HTTP client: robots.txt, one request in flight per host, retries, size cap,
and a deadline on each whole request.

Every network read of the ingestion goes through :class:`PoliteClient`.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from aiolimiter import AsyncLimiter
from protego import Protego
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from bot.config import FetchSettings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 120.0
ERROR_BODY_BYTES = 2000


class FetchError(Exception):
    """A URL could not be fetched; the message ("URL: reason") says why in one line.

    ``status`` and ``body`` (the first bytes of the answer) are set for HTTP errors.
    """

    def __init__(self, url: str, reason: str, status: int | None = None, body: bytes = b"") -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.body = body


class TransientError(FetchError):
    """A failure worth retrying (timeout, connection error, 429/5xx)."""

    def __init__(self, url: str, reason: str, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(url, reason, status)
        self.retry_after = retry_after


@dataclass
class Response:
    """A fetched resource. ``status`` 304 means the cached copy is still current."""

    url: str
    status: int
    content: bytes
    headers: httpx.Headers

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def charset(self) -> str | None:
        """The charset named in Content-Type, if any."""
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"' ")
        return None


class _HostGate:
    """One request in flight per host, and at least ``delay`` seconds between two starts."""

    def __init__(self, delay: float) -> None:
        self.lock = asyncio.Lock()
        self.limiter = AsyncLimiter(1, delay) if delay > 0 else None


class PoliteClient:
    """Fetches URLs politely; use as ``async with PoliteClient(settings) as client``."""

    def __init__(self, settings: FetchSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._client = httpx.AsyncClient(
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
            follow_redirects=True,
            transport=transport,
        )
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, Protego | None] = {}

    async def __aenter__(self) -> "PoliteClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def get(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        robots: bool = True,
        max_retries: int | None = None,
    ) -> Response:
        """GET ``url`` honouring robots.txt (unless ``robots`` is False, for APIs), with
        conditional headers when validators are given.

        Each attempt must be answered completely (body included) within ``timeout_seconds``;
        at most ``max_retries`` (default: the setting) more attempts follow a transient failure,
        after waits of at most ``MAX_RETRY_AFTER`` seconds each.
        """
        if robots and self.settings.respect_robots and not await self._allowed(url):
            raise FetchError(url, "disallowed by robots.txt")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        retries = self.settings.max_retries if max_retries is None else max_retries
        return await self._get_with_retries(url, headers, retries)

    async def _get_with_retries(self, url: str, headers: dict[str, str], retries: int) -> Response:
        jitter = wait_random_exponential(multiplier=0.5, max=30)

        def wait(state) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, TransientError) and error.retry_after is not None:
                return error.retry_after
            return jitter(state)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(retries + 1),
            wait=wait,
            retry=retry_if_exception_type(TransientError),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._get_once(url, headers)
        raise AssertionError("unreachable")  # pragma: no cover - reraise=True always raises

    async def _get_once(self, url: str, headers: dict[str, str]) -> Response:
        """One attempt, answered completely within ``timeout_seconds`` (the wait for the
        host's turn is not counted)."""
        gate = self._gates.setdefault(_host(url), _HostGate(self.settings.min_delay_seconds))
        async with gate.lock:
            if gate.limiter:
                await gate.limiter.acquire()
            deadline = self.settings.timeout_seconds
            try:
                async with asyncio.timeout(deadline), self._client.stream("GET", url, headers=headers) as response:
                    status = response.status_code
                    if status in RETRY_STATUSES:
                        raise TransientError(url, f"HTTP {status}", _retry_after(response.headers.get("retry-after")), status)
                    if status >= 400:
                        raise FetchError(url, f"HTTP {status}", status, await _read_head(response, ERROR_BODY_BYTES))
                    content = await self._read_capped(url, response)
                    return Response(str(response.url), response.status_code, content, response.headers)
            except httpx.ConnectTimeout as exc:
                raise TransientError(url, f"timed out connecting after {self.settings.connect_timeout_seconds:g}s") from exc
            except (httpx.TimeoutException, TimeoutError) as exc:
                raise TransientError(url, f"timed out: no complete answer within {deadline:g}s") from exc
            except httpx.TransportError as exc:
                raise TransientError(url, f"{type(exc).__name__}: {exc or 'connection failed'}") from exc
            except httpx.InvalidURL as exc:
                raise FetchError(url, f"invalid URL: {exc}") from exc

    async def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        limit = self.settings.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchError(url, f"response of {int(declared)} bytes exceeds the {limit}-byte cap")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(url, f"response exceeds the {limit}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = await self._load_robots(origin)
        robots = self._robots[origin]
        return robots is None or robots.can_fetch(url, self.settings.user_agent)

    async def _load_robots(self, origin: str) -> Protego | None:
        """Parsed robots.txt, or None (everything allowed) when the site has none or it fails."""
        try:
            response = await self._get_once(f"{origin}/robots.txt", {})
        except FetchError as exc:
            log.info("no usable robots.txt at %s (%s): allowing", origin, exc)
            return None
        return Protego.parse(response.content.decode("utf-8", errors="replace"))


async def _read_head(response: httpx.Response, limit: int) -> bytes:
    """The first ``limit`` bytes of the body (an error page need not be read whole)."""
    head = b""
    async for chunk in response.aiter_bytes():
        head += chunk
        if len(head) >= limit:
            break
    return head[:limit]


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped."""
    if not value:
        return None
    if value.strip().isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER)
