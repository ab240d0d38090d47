"""A polite HTTP client: robots.txt, one request in flight per host, retries, size cap,
and a deadline on each whole request.

Every network read of the ingestion goes through :class:`PoliteClient`. It also stands up to
hostile servers: bodies are inflated in bounded steps and counted against the size cap as
they inflate (one content coding at most), redirects are followed one hop at a time, and no
hop may reach a loopback, private, link-local or reserved address unless its host is trusted
(a configured source's host, or one listed in ``[fetch] allow_hosts``).
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import socket
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
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
MAX_REDIRECTS = 10
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309: after five, robots.txt counts as unavailable (allowed)
ROBOTS_TTL = 24 * 3600.0  # seconds a robots.txt answer is kept (RFC 9309: at most a day)
ROBOTS_ERROR_TTL = 300.0  # an unreachable robots.txt (5xx, network) disallows this long, then is asked again
ROBOTS_CACHE_SIZE = 1000  # origins whose robots.txt is kept; the least recently used go first
MAX_VALIDATOR_LENGTH = 200  # longer ETag/Last-Modified values are not kept
INFLATE_STEP = 65_536  # a compressed body is inflated at most this many bytes at a time
# window bits of the content codings read; br and zstd are not (no decoder is installed)
_CODINGS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
ACCEPT_ENCODING = "gzip, deflate"


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
        """The ETag, if it is one worth keeping (see :func:`usable_validator`)."""
        return usable_validator(self.headers.get("etag"))

    @property
    def last_modified(self) -> str | None:
        """The Last-Modified date, if it is one worth keeping (see :func:`usable_validator`)."""
        return usable_validator(self.headers.get("last-modified"))

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


@dataclass
class _Robots:
    """What robots.txt of an origin says: its rules (None: everything allowed), or why nothing
    may be fetched for now; kept until ``expires`` (monotonic time)."""

    rules: Protego | None
    refusal: str | None
    expires: float


class _Decoder:
    """Inflates a body sent with one content coding (or none) in steps of INFLATE_STEP bytes,
    so that the caller can stop at its cap however well the body compresses."""

    def __init__(self, url: str, coding: str | None) -> None:
        self.url = url
        self.coding = coding
        self._inflater = zlib.decompressobj(_CODINGS[coding]) if coding else None
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of the next raw ``data``, a step at a time."""
        if self._inflater is None:
            yield data
            return
        while not self._inflater.eof:
            try:
                piece = self._inflater.decompress(data, INFLATE_STEP)
            except zlib.error as exc:
                if self.coding == "deflate" and not self._started:  # raw deflate, without the zlib header
                    self._inflater, self._started = zlib.decompressobj(-zlib.MAX_WBITS), True
                    continue
                raise FetchError(self.url, f"corrupt {self.coding} body: {exc}") from None
            self._started = True
            data = self._inflater.unconsumed_tail
            if piece:
                yield piece
            if not data and len(piece) < INFLATE_STEP:  # a full step may leave output pending
                return

    def finish(self) -> None:
        """FetchError if a compressed body stopped before its end."""
        if self._inflater is not None and self._started and not self._inflater.eof:
            raise FetchError(self.url, f"corrupt {self.coding} body: it ends early")


def usable_validator(value: str | None) -> str | None:
    """``value`` if it can be kept and sent back as a cache validator (printable ASCII, at most
    MAX_VALIDATOR_LENGTH characters), else None: an odd one would break every later request."""
    if value and len(value) <= MAX_VALIDATOR_LENGTH and value.isascii() and value.isprintable():
        return value
    return None


def host_of(url: str) -> str:
    """The host name of ``url`` as the client compares it (lower case, IDNA decoded, no port)."""
    try:
        return httpx.URL(url).host.lower()
    except httpx.InvalidURL:
        return ""


def blocked_address(address: str) -> bool:
    """True for an address no untrusted request may reach: loopback, private, link-local,
    shared, multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class PoliteClient:
    """Fetches URLs politely; use as ``async with PoliteClient(settings) as client``.

    Requests to ``trusted_hosts`` (the hosts the operator configured, such as the sources') and
    to ``settings.allow_hosts`` may reach any address; every other request and redirect hop is
    refused when its host resolves to a non-public address.
    """

    def __init__(
        self,
        settings: FetchSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        trusted_hosts: Iterable[str] = (),
    ) -> None:
        self.settings = settings
        self._client = httpx.AsyncClient(
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            timeout=httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
            follow_redirects=False,  # each hop is checked, see _follow
            transport=transport,
        )
        self._gates: dict[str, _HostGate] = {}
        self._robots: OrderedDict[str, _Robots] = OrderedDict()
        self._trusted = {host.lower() for host in (*settings.allow_hosts, *trusted_hosts) if host}

    async def __aenter__(self) -> PoliteClient:
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
        if robots and self.settings.respect_robots:
            await self._check_robots(url)
        headers = {}
        if etag := usable_validator(etag):  # one stored before validators were checked is dropped
            headers["If-None-Match"] = etag
        if last_modified := usable_validator(last_modified):
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

    async def _get_once(self, url: str, headers: dict[str, str], max_redirects: int = MAX_REDIRECTS) -> Response:
        """One attempt, answered completely within ``timeout_seconds`` (the wait for the
        host's turn is not counted)."""
        gate = self._gates.setdefault(_host(url), _HostGate(self.settings.min_delay_seconds))
        async with gate.lock:
            if gate.limiter:
                await gate.limiter.acquire()
            deadline = self.settings.timeout_seconds
            try:
                async with asyncio.timeout(deadline):
                    return await self._follow(url, headers, max_redirects)
            except httpx.ConnectTimeout as exc:
                raise TransientError(url, f"timed out connecting after {self.settings.connect_timeout_seconds:g}s") from exc
            except (httpx.TimeoutException, TimeoutError) as exc:
                raise TransientError(url, f"timed out: no complete answer within {deadline:g}s") from exc
            except httpx.TransportError as exc:
                raise TransientError(url, f"{type(exc).__name__}: {exc or 'connection failed'}") from exc
            except httpx.InvalidURL as exc:
                raise FetchError(url, f"invalid URL: {exc}") from exc

    async def _follow(self, url: str, headers: dict[str, str], max_redirects: int) -> Response:
        """GET ``url``, following at most ``max_redirects`` redirects; every hop is checked."""
        hop = url
        for _ in range(max_redirects + 1):
            await self._check_address(url, hop)
            async with self._client.stream("GET", hop, headers=headers) as response:
                self._check_peer(url, hop, response)
                if response.has_redirect_location:
                    hop = str(response.url.join(response.headers["location"]))
                    continue
                status = response.status_code
                if status in RETRY_STATUSES:
                    raise TransientError(url, f"HTTP {status}", _retry_after(response.headers.get("retry-after")), status)
                if status >= 400:
                    raise FetchError(url, f"HTTP {status}", status, await self._read_head(url, response))
                content = await self._read_capped(url, response)
                return Response(str(response.url), status, content, response.headers)
        raise FetchError(url, f"more than {max_redirects} redirects (last to {hop})")

    async def _check_address(self, url: str, hop: str) -> None:
        """FetchError unless ``hop`` is http(s) and its host is trusted or resolves to public
        addresses only (all of them are checked)."""
        target = httpx.URL(hop)
        if target.scheme not in ("http", "https"):
            raise FetchError(url, f"unsupported URL scheme {target.scheme!r} in {hop}")
        host = target.host.lower()
        if host in self._trusted:
            return
        try:
            addresses = {str(ipaddress.ip_address(host))}
        except ValueError:
            name = target.raw_host.decode("ascii")
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(name, target.port or 0, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError) as exc:
                raise TransientError(url, f"ConnectError: cannot resolve {host}: {exc}") from None
            addresses = {str(info[4][0]) for info in infos}
        if refused := sorted(a for a in addresses if blocked_address(a)):
            raise FetchError(url, _refusal(url, hop, host, refused[0]))

    def _check_peer(self, url: str, hop: str, response: httpx.Response) -> None:
        """FetchError when the connection actually went to a non-public address (the name
        resolved differently when connecting: DNS rebinding), unless the host is trusted."""
        host = response.url.host.lower()
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if host in self._trusted or not peer:
            return
        if peer[0] not in self._trusted and blocked_address(str(peer[0])):
            raise FetchError(url, _refusal(url, hop, host, str(peer[0])))

    async def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        """The decoded body; FetchError once it grows past ``max_bytes`` (counted as it inflates)."""
        limit = self.settings.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchError(url, f"response of {int(declared)} bytes exceeds the {limit}-byte cap")
        decoder = _decoder(url, response)
        body = bytearray()
        async for raw in response.aiter_raw():
            for piece in decoder.decode(raw):
                body += piece
                if len(body) > limit:
                    inflated = " once decompressed" if decoder.coding else ""
                    raise FetchError(url, f"response exceeds the {limit}-byte cap{inflated}")
        decoder.finish()
        return bytes(body)

    async def _read_head(self, url: str, response: httpx.Response) -> bytes:
        """The first ERROR_BODY_BYTES bytes of an error page's body, as far as they decode."""
        head = bytearray()
        try:
            decoder = _decoder(url, response)
            async for raw in response.aiter_raw():
                for piece in decoder.decode(raw):
                    head += piece
                    if len(head) >= ERROR_BODY_BYTES:
                        return bytes(head[:ERROR_BODY_BYTES])
        except FetchError:
            pass
        return bytes(head)

    async def _check_robots(self, url: str) -> None:
        """FetchError unless robots.txt of the origin allows ``url`` (read once per origin and
        kept, see :meth:`_load_robots`)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        robots = self._robots.get(origin)
        if robots is None or robots.expires <= time.monotonic():
            robots = self._robots[origin] = await self._load_robots(origin)
        self._robots.move_to_end(origin)
        while len(self._robots) > ROBOTS_CACHE_SIZE:
            self._robots.popitem(last=False)
        if robots.refusal:
            raise TransientError(url, robots.refusal)
        if robots.rules is not None and not robots.rules.can_fetch(url, self.settings.user_agent):
            raise FetchError(url, "disallowed by robots.txt")

    async def _load_robots(self, origin: str) -> _Robots:
        """robots.txt as RFC 9309 reads it: 2xx gives its rules; 4xx, too many redirects or a
        body that cannot be read allow everything; 5xx or a network failure disallow everything
        for ROBOTS_ERROR_TTL seconds, then it is asked again."""
        now = time.monotonic()
        try:
            response = await self._get_once(f"{origin}/robots.txt", {}, ROBOTS_MAX_REDIRECTS)
        except FetchError as exc:
            if isinstance(exc, TransientError) or (exc.status or 0) >= 500:
                log.info("robots.txt at %s unreachable (%s): not fetching from there for now", origin, exc.reason)
                return _Robots(None, f"robots.txt unreachable ({exc.reason}); tried again later", now + ROBOTS_ERROR_TTL)
            log.info("no usable robots.txt at %s (%s): allowing", origin, exc.reason)
            return _Robots(None, None, now + ROBOTS_TTL)
        try:
            rules = Protego.parse(response.content.decode("utf-8", errors="replace"))
        except Exception as exc:  # a third-party parser on hostile text: whatever it raises, allow
            log.info("unreadable robots.txt at %s (%s: %s): allowing", origin, type(exc).__name__, exc)
            rules = None
        return _Robots(rules, None, now + ROBOTS_TTL)


def _decoder(url: str, response: httpx.Response) -> _Decoder:
    """A decoder for the body's Content-Encoding; FetchError for stacked or unknown codings."""
    header = response.headers.get("content-encoding", "")
    codings = [c for c in (part.strip().lower() for part in header.split(",")) if c and c != "identity"]
    if len(codings) > 1:
        raise FetchError(url, f"stacked content encodings refused ({header.strip()})")
    if codings and codings[0] not in _CODINGS:
        raise FetchError(url, f"unsupported content encoding {codings[0]!r}")
    return _Decoder(url, codings[0] if codings else None)


def _refusal(url: str, hop: str, host: str, address: str) -> str:
    """Why a request to ``hop`` (``url`` or a redirect from it) is refused, and what allows it."""
    where = "" if hop == url else f"redirected to {hop}: "
    what = f"{host} is a non-public address" if host == address else f"{host} is at non-public address {address}"
    return f"{where}refused: {what} (list the host in [fetch] allow_hosts to allow it)"


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
