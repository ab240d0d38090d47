"""Ingestion that one source cannot hold: whole-request deadlines, sources running on their
own, failed pages retried with backoff, feeds with entity bombs refused."""

from __future__ import annotations

import asyncio
import logging
import threading
import tracemalloc
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import httpx
import pytest
from sqlalchemy import func, select, update

from bot.config import FetchSettings
from bot.ingest import store
from bot.ingest.http import PoliteClient, Response, TransientError
from bot.ingest.pipeline import Ingestor
from bot.ingest.sources import SourceError, parse_feed
from bot.storage import Article, PageRetry, Source, Summary
from bot.storage.models import utcnow
from summarizer import Summarizer
from tests.support.feeds import item, rss2
from tests.support.texts import BODY_ZH
from tests.support.web import LocalServer, Reply

FAST_FETCH = "[fetch]\nmin_delay_seconds = 0\nmax_retries = 0\ntimeout_seconds = 1\n"
ARTICLE_PAGE = (
    "<html><head><title>全文</title></head><body><h1>預制菜產業園新簽約</h1>"
    f"<div class='content'><p>{BODY_ZH}</p></div></body></html>"
)


class DripServer:
    """An HTTP server that sends headers at once, then one body byte every ``interval`` seconds,
    for ever (robots.txt: 404 at once)."""

    def __init__(self, interval: float) -> None:
        self.connections = 0
        self.sent = 0
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                if self.path == "/robots.txt":
                    self.send_error(404)
                    return
                server.connections += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                try:
                    while not server._stop.wait(interval):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        server.sent += 1
                except OSError:  # the client gave up
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/feed.xml"
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def drip():
    instance = DripServer(interval=0.1)
    yield instance
    instance.close()


@pytest.fixture
def other_server():
    """A second loopback host: politeness allows one request in flight per host."""
    instance = LocalServer()
    yield instance
    instance.close()


async def eventually(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    """Wait, without blocking the event loop, until ``condition`` holds; fail after ``limit`` s."""
    for _ in range(int(limit / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"never happened: {what}")


def count(db, model, *where) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def source_row(db, name: str) -> Source:
    with db.session() as session:
        return session.scalars(select(Source).where(Source.name == name)).one()


def retries(db) -> list[PageRetry]:
    with db.session() as session:
        return list(session.scalars(select(PageRetry).order_by(PageRetry.id)))


def make_retries_due(db) -> None:
    """What time does to the retry queue: every queued page is due now."""
    with db.session() as session:
        session.execute(update(PageRetry).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


# -- deadlines ---------------------------------------------------------------------------------


async def test_a_dripping_answer_meets_the_whole_request_deadline(drip):
    settings = FetchSettings(min_delay_seconds=0, max_retries=0, timeout_seconds=1, allow_hosts=["127.0.0.1"])
    async with PoliteClient(settings) as client:
        with pytest.raises(TransientError) as caught:
            await client.get(drip.url)
    assert str(caught.value) == f"{drip.url}: timed out: no complete answer within 1s"
    assert drip.sent >= 3  # bytes kept coming: no single read ever waited long


async def test_dripping_source_fails_with_a_clear_reason_and_backs_off(drip, server, db, make_settings):
    server.routes["/feed.xml"] = Reply(rss2(item("a1", "標題", BODY_ZH, "2023-02-24 18:13:29")))
    settings = make_settings(
        f'[[sources]]\nname = "drip"\nkind = "rss"\nurl = "{drip.url}"\ninterval_minutes = 10\n'
        f'[[sources]]\nname = "fine"\nkind = "rss"\nurl = "{server.url("/feed.xml")}"\n' + FAST_FETCH
    )
    reports = {r.name: r for r in await Ingestor(settings, db, Summarizer()).run()}
    assert reports["drip"].errors == [f"{drip.url}: timed out: no complete answer within 1s"]
    assert (reports["fine"].new, reports["fine"].errors) == (1, [])
    row = source_row(db, "drip")
    assert row.error_count == 1 and row.last_error == reports["drip"].errors[0]
    assert row.next_fetch_at - row.last_attempt_at == timedelta(minutes=20)


async def test_a_source_over_its_budget_is_cut_off(drip, db, make_settings):
    settings = make_settings(
        f'[[sources]]\nname = "drip"\nkind = "rss"\nurl = "{drip.url}"\n'
        "[fetch]\nmin_delay_seconds = 0\nmax_retries = 0\ntimeout_seconds = 30\nsource_budget_seconds = 1\n"
    )
    [report] = await Ingestor(settings, db, Summarizer()).run()
    assert report.errors == [f"{drip.url}: source pass cut off after 1s"]
    assert source_row(db, "drip").error_count == 1


# -- sources on their own ----------------------------------------------------------------------


async def test_poll_due_stores_a_fast_source_while_slow_ones_hang(drip, server, other_server, db, make_settings):
    server.routes["/list.html"] = Reply('<a href="/news/slow.html">慢</a>')
    server.routes["/news/slow.html"] = Reply(ARTICLE_PAGE, delay=30)
    other_server.routes["/feed.xml"] = Reply(rss2(item("a1", "預制菜產業園新簽約", BODY_ZH, "2023-02-24 18:13:29")))
    settings = make_settings(
        f'[[sources]]\nname = "drip"\nkind = "rss"\nurl = "{drip.url}"\n'
        f'[[sources]]\nname = "hanging page"\nkind = "page"\nurl = "{server.url("/list.html")}"\n'
        f'[[sources]]\nname = "fast"\nkind = "rss"\nurl = "{other_server.url("/feed.xml")}"\n'
        "[fetch]\nmin_delay_seconds = 0\nmax_retries = 0\ntimeout_seconds = 60\n"
    )
    ingestor = Ingestor(settings, db, Summarizer())
    try:
        await ingestor.poll_due()
        assert ingestor.running == {"drip", "hanging page", "fast"}  # started, not waited for

        await eventually(lambda: count(db, Summary) == 1, "the fast source's article stored and summarized")
        await eventually(lambda: server.hits_for("/news/slow.html"), "the slow article page requested")
        await eventually(lambda: drip.sent >= 2, "the feed dripping")
        assert server.hits_for("/news/slow.html")[0].end == 0  # still hanging
        assert drip.connections == 1
        assert ingestor.running == {"drip", "hanging page"}
        with db.session() as session:
            assert session.scalars(select(Article.title)).all() == ["預制菜產業園新簽約"]

        await ingestor.poll_due()  # a running source is not started twice; the fast one is not due
        assert drip.connections == 1 and len(server.hits_for("/news/slow.html")) == 1
        assert len(other_server.hits_for("/feed.xml")) == 1
    finally:
        await ingestor.close()
    assert ingestor.running == frozenset()


async def test_run_waits_for_a_source_that_poll_due_started(server, db, make_settings):
    server.routes["/feed.xml"] = Reply(rss2(item("a1", "標題", BODY_ZH, "2023-02-24 18:13:29")), delay=0.5)
    settings = make_settings(f'[[sources]]\nname = "feed"\nkind = "rss"\nurl = "{server.url("/feed.xml")}"\n' + FAST_FETCH)
    ingestor = Ingestor(settings, db, Summarizer())
    await ingestor.poll_due()
    [report] = await ingestor.run()
    assert report.new == 1 and len(server.hits_for("/feed.xml")) == 1  # one fetch, shared
    assert count(db, Summary) == 1
    await ingestor.close()


# -- failed pages retried ----------------------------------------------------------------------


async def test_a_failed_page_is_retried_while_the_feed_answers_304(server, db, make_settings):
    page_up = False

    def feed(hit):
        if hit.headers.get("if-none-match") == '"f1"':
            return Reply(status=304)
        teaser = f"""<item><title>預制菜產業園新簽約</title><link>{server.url('/article/1.html')}</link><guid>t1</guid>
<pubDate>2023-02-24 18:13:29</pubDate><description>梁平區今年計劃新建標準化廠房……</description></item>"""
        return Reply(rss2(teaser), headers={"ETag": '"f1"'})

    server.routes["/feed.xml"] = feed
    server.routes["/article/1.html"] = lambda hit: Reply(ARTICLE_PAGE) if page_up else Reply("down", 503)
    settings = make_settings(f'[[sources]]\nname = "feed"\nkind = "rss"\nurl = "{server.url("/feed.xml")}"\n'
                             "[fetch]\nmin_delay_seconds = 0\nmax_retries = 2\ntimeout_seconds = 5\n")
    ingestor = Ingestor(settings, db, Summarizer())

    [first] = await ingestor.run()
    assert first.new == 0 and first.errors == [f"{server.url('/article/1.html')}: HTTP 503"]
    assert len(server.hits_for("/article/1.html")) == 1  # one attempt per pass: the queue retries, not the pass
    [queued] = retries(db)
    assert (queued.attempts, queued.guid, queued.last_error) == (1, "t1", first.errors[0])
    assert timedelta(minutes=4) < queued.next_attempt_at - utcnow() <= timedelta(minutes=5)
    assert source_row(db, "feed").error_count == 0  # the feed itself is fine

    [second] = await ingestor.run()  # 304, and the retry is not due yet
    assert second.not_modified and len(server.hits_for("/article/1.html")) == 1

    make_retries_due(db)
    page_up = True
    [third] = await ingestor.run()
    assert (third.not_modified, third.new, third.errors) == (True, 1, [])
    assert retries(db) == []
    with db.session() as session:
        article = session.scalars(select(Article)).one()
    assert (article.guid, article.title) == ("t1", "預制菜產業園新簽約") and "冷鏈班列" in article.text


async def test_a_hanging_page_costs_one_deadline_and_waits_in_the_queue(server, db, make_settings):
    server.routes["/list.html"] = Reply('<a href="/news/1.html">慢</a><a href="/news/2.html">快</a>')
    server.routes["/news/1.html"] = Reply(ARTICLE_PAGE, delay=3)
    server.routes["/news/2.html"] = Reply(ARTICLE_PAGE.replace("20萬", "30萬"))
    settings = make_settings(f'[[sources]]\nname = "portal"\nkind = "page"\nurl = "{server.url("/list.html")}"\n'
                             "[fetch]\nmin_delay_seconds = 0\nmax_retries = 3\ntimeout_seconds = 1\n")
    [report] = await Ingestor(settings, db, Summarizer()).run()
    slow = server.url("/news/1.html")
    assert report.new == 1 and report.errors == [f"{slow}: timed out: no complete answer within 1s"]
    assert len(server.hits_for("/news/1.html")) == 1
    assert [(r.url, r.attempts) for r in retries(db)] == [(slow, 1)]


async def test_page_retries_back_off_and_are_given_up(server, db, make_settings, caplog):
    server.routes["/list.html"] = Reply('<a href="/news/gone.html">x</a>')
    settings = make_settings(f'[[sources]]\nname = "portal"\nkind = "page"\nurl = "{server.url("/list.html")}"\n' + FAST_FETCH)
    ingestor = Ingestor(settings, db, Summarizer())
    delays = []
    for _ in range(store.PAGE_RETRY_ATTEMPTS - 1):
        await ingestor.run()
        [row] = retries(db)
        delays.append(round((row.next_attempt_at - utcnow()) / timedelta(minutes=1)))
        make_retries_due(db)
    assert delays == [5, 10, 20, 40, 80]
    with caplog.at_level(logging.WARNING, logger="bot.ingest.store"):
        [report] = await ingestor.run()
    assert "HTTP 404" in report.errors[0] and retries(db) == []
    assert len(server.hits_for("/news/gone.html")) == store.PAGE_RETRY_ATTEMPTS
    assert any(f"after {store.PAGE_RETRY_ATTEMPTS} attempts: " in r.message for r in caplog.records)
    [again] = await ingestor.run()  # given up: the listing offers it as new again, a fresh start
    assert [r.attempts for r in retries(db)] == [1] and again.errors


async def test_page_retries_per_source_are_bounded(server, db, make_settings, monkeypatch):
    monkeypatch.setattr(store, "PAGE_RETRIES_PER_SOURCE", 2)
    server.routes["/list.html"] = Reply("".join(f'<a href="/news/{n}.html">{n}</a>' for n in range(3)))
    settings = make_settings(f'[[sources]]\nname = "portal"\nkind = "page"\nurl = "{server.url("/list.html")}"\n' + FAST_FETCH)
    await Ingestor(settings, db, Summarizer()).run()
    assert [r.url for r in retries(db)] == [server.url("/news/1.html"), server.url("/news/2.html")]


# -- XML entities ------------------------------------------------------------------------------

BIG = "梁" * 20_000
QUADRATIC = f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE rss [
<!ENTITY a "{BIG}">
]>
<rss version="2.0"><channel><title>t</title><link>http://x/</link><description>d</description>
<item><title>t</title><link>http://x/1</link><description>{"&a;" * 50_000}</description></item></channel></rss>"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
<!ENTITY lol "lol">
""" + "\n".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1 if n > 1 else "") + ";") * 10}">' for n in range(1, 10)) + """
]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>t</title><link>http://x/1</link></item></channel></rss>"""
BOMBS = {
    "quadratic": QUADRATIC,
    "billion laughs": LAUGHS,
    "junk before the declaration": "PHP Warning: headers already sent\n" + QUADRATIC,
    "declaration in a comment": QUADRATIC.replace('<!ENTITY a', '<!--\n<!ENTITY a').replace('">\n]>', '">\n-->\n]>'),
    "tag in a comment first": QUADRATIC.replace("<!DOCTYPE rss [\n", "<!DOCTYPE rss [\n<!-- <b> -->\n"),
}


@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
async def test_feeds_declaring_entities_are_refused(bomb, server, db, make_settings):
    server.routes["/bomb.xml"] = Reply(bomb, headers={"Content-Type": "application/rss+xml"})
    server.routes["/feed.xml"] = Reply(rss2(item("a1", "標題", BODY_ZH, "2023-02-24 18:13:29")))
    settings = make_settings(f'[[sources]]\nname = "bomb"\nkind = "rss"\nurl = "{server.url("/bomb.xml")}"\n'
                             f'[[sources]]\nname = "fine"\nkind = "rss"\nurl = "{server.url("/feed.xml")}"\n')
    reports = {r.name: r for r in await Ingestor(settings, db, Summarizer()).run()}
    assert reports["bomb"].errors == [f"{server.url('/bomb.xml')}: feed declares XML entities (refused)"]
    assert reports["fine"].new == 1
    assert source_row(db, "bomb").error_count == 1


def test_refusing_an_entity_bomb_takes_little_memory():
    response = Response("http://x/bomb.xml", 200, QUADRATIC.encode("utf-8"), httpx.Headers())
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match="feed declares XML entities"):
            parse_feed(response)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(response.content) < 300_000 and peak < 10_000_000  # expanded, it would be 3 GB


def test_an_external_dtd_alone_is_still_read():
    feed = rss2(item("a1", "標題", BODY_ZH, "2023-02-24 18:13:29")).replace(
        "<rss", '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss', 1)
    [candidate] = parse_feed(Response("http://x/feed.xml", 200, feed.encode("utf-8"), httpx.Headers()))
    assert candidate.guid == "a1" and "冷鏈班列" in candidate.content
