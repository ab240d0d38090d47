"""A loopback "hostile web": servers that answer the way careless or malicious sites do, and a
corpus of such answers behind one feed, with the outcome each one must have.

Used by tests/test_hostile_web.py and benchmarks/hostile.py. Every server binds a loopback
address: 127.0.0.1 for the sources, 127.0.0.2 for a "private" host that no link may reach
(Linux routes all of 127/8 to the loopback interface).
"""

from __future__ import annotations

import functools
import gzip
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

ANY = "any"  # a case whose article may be stored or refused: it only has to leave the pass running
BODY_EN = ("The county opened a wetland park by the lake on {name}, officials said on Friday. Migratory birds "
           "returned in record numbers this winter, and volunteers counted more than two thousand cranes. ")


@dataclass
class Answer:
    """What a path answers. ``body`` is bytes or a function giving chunks (sent ``drip`` seconds
    apart); ``length`` is "auto" (the body's), "none" (no Content-Length: the connection's close
    ends it) or a number to declare; ``raw`` replaces the whole answer, status line included."""

    body: bytes | Callable[[], Iterable[bytes]] = b""
    status: int = 200
    headers: list[tuple[str, str | bytes]] = field(default_factory=list)
    length: int | str = "auto"
    drip: float = 0.0
    raw: bytes | None = None


@dataclass
class Asked:
    """A request the server got, and when (``time.monotonic``)."""

    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


Route = Answer | Callable[[Asked], Answer]


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up mid-answer are expected here: no traceback for them on stderr."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class HostileServer:
    """A threaded HTTP/1.1 server on ``host`` that answers each path as programmed (an Answer,
    or a function of the request giving one), header bytes and all; unknown paths (robots.txt
    too) get 404. ``hits`` lists the requests."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Asked] = []
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                asked = Asked(self.path, {k.lower(): v for k, v in self.headers.items()})
                server.hits.append(asked)
                self.close_connection = True
                route = server.routes.get(self.path.split("?")[0], Answer(b"not found", 404))
                answer = route(asked) if callable(route) else route
                try:
                    self.wfile.write(answer.raw if answer.raw is not None else _head(answer))
                    if answer.raw is None:
                        server._send_body(self.wfile, answer)
                except OSError:  # the client gave up
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = _QuietServer((host, 0), Handler)
        self.base = f"http://{host}:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str) -> str:
        return self.base + path

    def hits_for(self, path: str) -> list[Asked]:
        return [h for h in self.hits if h.path.split("?")[0] == path]

    def _send_body(self, out, answer: Answer) -> None:
        chunks = [answer.body] if isinstance(answer.body, bytes) else answer.body()
        for chunk in chunks:
            out.write(chunk)
            out.flush()
            if answer.drip and self._stop.wait(answer.drip):
                return

    def close(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def _head(answer: Answer) -> bytes:
    headers: list[tuple[str, str | bytes]] = [("Content-Type", "text/html; charset=utf-8"), ("Connection", "close")]
    names = {name.lower() for name, _ in answer.headers}
    headers = [h for h in headers if h[0].lower() not in names] + answer.headers
    if answer.length == "auto" and isinstance(answer.body, bytes):
        headers.append(("Content-Length", str(len(answer.body))))
    elif isinstance(answer.length, int):
        headers.append(("Content-Length", str(answer.length)))
    lines = [f"HTTP/1.1 {answer.status} Hostile\r\n".encode()]
    lines += [name.encode() + b": " + (value if isinstance(value, bytes) else value.encode("latin-1")) + b"\r\n"
              for name, value in headers]
    return b"".join(lines) + b"\r\n"


@functools.cache
def gzip_bomb(size: int, layers: int = 1, coding: str = "gzip") -> bytes:
    """``size`` zero bytes gzipped (or, for coding "deflate", zlib-wrapped) ``layers`` times:
    each layer shrinks the one below ~1000-fold at first, so two make a 2 GB bomb a few KB."""
    if layers > 1:
        return gzip.compress(gzip_bomb(size, layers - 1, coding), 9)
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS)
    step = bytes(1 << 20)
    parts = [compressor.compress(step) for _ in range(size >> 20)]
    return b"".join([*parts, compressor.compress(bytes(size % (1 << 20))), compressor.flush()])


def article_html(name: str, size: int = 0) -> str:
    """An article page whose text names ``name`` (so no two pages hash alike); ``size`` pads it
    with more paragraphs to about that many bytes."""
    paragraph = BODY_EN.format(name=name) * 3
    paragraphs = [paragraph] * max(1, size // len(paragraph.encode()))
    body = "".join(f"<p>{escape(p)} ({n})</p>" for n, p in enumerate(paragraphs))
    return f"<html><head><title>{escape(name)}</title></head><body><article><h1>{escape(name)}</h1>{body}</article></body></html>"


def page(name: str, charset: str = "utf-8", encoding: str = "utf-8", **answer) -> Answer:
    """An ordinary article page, its text encoded in ``encoding`` and declared as ``charset``."""
    headers = [("Content-Type", f"text/html; charset={charset}"), *answer.pop("headers", [])]
    return Answer(article_html(name).encode(encoding), headers=headers, **answer)


def _slow_drip() -> Iterable[bytes]:
    while True:
        yield b" "


@dataclass
class Case:
    """One hostile item of the feed: the link it gives, and the error its article must fail
    with (a substring), None when it must be stored, or ANY."""

    name: str
    url: str
    expect: str | None


def build_corpus(web: HostileServer, private: HostileServer, bomb_size: int, big_article: int = 0) -> list[Case]:
    """Program ``web`` with the hostile pages (and ``private`` with a page that must never be
    asked for); the cases, in feed order."""
    private.routes["/secret"] = page("intranet secret")
    gz = gzip.compress(article_html("gzip page").encode())
    raw_deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = raw_deflate.compress(article_html("raw deflate page").encode()) + raw_deflate.flush()
    gbk = article_html("梁平區 GBK page").encode("gbk")
    long_name = "long title " + "x" * 100_000
    pages: dict[str, tuple[Answer, str | None]] = {
        "gzip bomb": (Answer(gzip_bomb(bomb_size), headers=[("Content-Encoding", "gzip")]), "byte cap once decompressed"),
        "stacked gzip bomb": (Answer(gzip_bomb(bomb_size, 2), headers=[("Content-Encoding", "gzip, gzip")]),
                              "stacked content encodings refused"),
        "stacked codings in two headers": (Answer(gzip.compress(gz), headers=[("Content-Encoding", "gzip"), ("Content-Encoding", "gzip")]),
                                           "stacked content encodings refused"),
        "404 with a bomb for a body": (Answer(gzip_bomb(bomb_size), 404, [("Content-Encoding", "gzip")]), "HTTP 404"),
        "brotli": (Answer(b"\x0b\x02\x80hello\x03", headers=[("Content-Encoding", "br")]), "unsupported content encoding 'br'"),
        "corrupt gzip": (Answer(b"\x1f\x8b\x08\x00" + b"not really gzip" * 10, headers=[("Content-Encoding", "gzip")]),
                         "corrupt gzip body"),
        "gzip cut short": (Answer(gz[: len(gz) // 2], headers=[("Content-Encoding", "gzip")]), "ends early"),
        "body cut short": (Answer(b"<html><body><p>half", length=100_000), "RemoteProtocolError"),
        "slow drip": (Answer(_slow_drip, length="none", drip=0.2), "timed out"),
        "huge header": (Answer(b"<p>x</p>", headers=[("X-Junk", "j" * 300_000)]), "RemoteProtocolError"),
        "not HTTP": (Answer(raw=b"SSH-2.0-OpenSSH_9.6\r\n\r\n"), "RemoteProtocolError"),
        "empty page": (Answer(b""), "no article text found"),
        "redirect loop": (Answer(status=302, headers=[("Location", "/redirect-loop")]), "more than 10 redirects"),
        "redirect to a private host": (Answer(status=302, headers=[("Location", private.url("/secret"))]),
                                       "refused: 127.0.0.2 is a non-public address"),
        "redirect to the cloud metadata service": (Answer(status=301, headers=[("Location", "http://169.254.169.254/latest/meta-data/")]),
                                                   "refused: 169.254.169.254 is a non-public address"),
        "redirect to a file": (Answer(status=302, headers=[("Location", "file:///etc/passwd")]), "unsupported URL scheme 'file'"),
        "charset=base64": (page("base64 charset", charset="base64"), None),
        "charset=rot13": (page("rot13 charset", charset="rot13"), None),
        "charset=zlib": (page("zlib charset", charset="zlib"), None),
        "charset=punycode": (page("punycode charset", charset="punycode"), None),
        "charset=undefined": (page("undefined charset", charset="undefined"), None),
        "NUL in a header": (page("NUL charset", charset="utf-8\x00"), "RemoteProtocolError"),
        "unknown charset": (page("unknown charset", charset="x-no-such-thing"), None),
        "GBK served as UTF-8": (Answer(gbk, headers=[("Content-Type", "text/html; charset=utf-8")]), None),
        "gzip page": (Answer(gz, headers=[("Content-Encoding", "gzip")]), None),
        "raw deflate page": (Answer(deflated, headers=[("Content-Encoding", "deflate")]), None),
        "odd header bytes": (page("odd headers", headers=[("ETag", b'"caf\xc3\xa9\xff"'), ("X-Title", b"\xfe\xff caf\xc3\xa9")]), None),
        "long title": (Answer(article_html(long_name).encode()), ANY),
        "binary junk": (Answer(bytes(range(256)) * 64, headers=[("Content-Type", "text/html")]), "not text: it holds NUL bytes"),
        "a PDF": (Answer(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", headers=[("Content-Type", "application/pdf")]),
                  "not text: it is a PDF document"),
        "an image": (Answer(b"\x89PNG\r\n\x1a\n" + bytes(200), headers=[("Content-Type", "image/png")]),
                     "not text: it is a PNG image"),
    }
    if big_article:
        pages["big article"] = (Answer(article_html("big article", big_article).encode()), None)
    cases = []
    for name, (answer, expect) in pages.items():
        path = "/" + "".join(c if c.isalnum() else "-" for c in name.lower())
        web.routes[path] = answer
        cases.append(Case(name, web.url(path), expect))
    web.routes["/long-link"] = page("long link")
    cases += [
        Case("link to a private host", private.url("/secret"), "refused: 127.0.0.2 is a non-public address"),
        Case("link to localhost", f"http://localhost:{web.port}/gzip-page", "refused: localhost is at non-public address"),
        Case("long link", web.url("/long-link?q=" + "y" * 5000), ANY),
    ]
    return cases


def ordinary_pages(web: HostileServer, count: int = 3) -> list[str]:
    """Program ``web`` with ``count`` ordinary article pages; their URLs."""
    urls = []
    for n in range(count):
        web.routes[f"/ordinary/{n}.html"] = page(f"ordinary page {n}")
        urls.append(web.url(f"/ordinary/{n}.html"))
    return urls


def feed(links: list[str], full: int = 3) -> bytes:
    """An RSS feed: ``full`` ordinary items that carry their text, then a teaser item per link
    (its page is fetched)."""
    items = [
        f"<item><title>ordinary item {n}</title><link>http://news.example/full/{n}.html</link><guid>full-{n}</guid>"
        f"<pubDate>Fri, 24 Feb 2023 10:00:00 GMT</pubDate><description>{escape(BODY_EN.format(name=f'item {n}') * 3)}"
        "</description></item>"
        for n in range(full)
    ]
    items += [
        f"<item><title>teaser {n}</title><link>{escape(link)}</link><guid>teaser-{n}</guid>"
        "<pubDate>Fri, 24 Feb 2023 10:00:00 GMT</pubDate><description>More soon…</description></item>"
        for n, link in enumerate(links)
    ]
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>hostile</title>"
            f"<link>http://news.example/</link><description>d</description>{''.join(items)}</channel></rss>").encode()
