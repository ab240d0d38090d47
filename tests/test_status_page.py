"""The status page: served by the real listener from a real database snapshot — sources with
their health and a chart of articles per day, the gate's acceptance, a day of deliveries,
queues, subscribers and processes; escaped, redacted, phone-sized, refreshing itself."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser

import httpx
import pytest

from bot.console.server import Console
from bot.redact import install_redaction
from bot.storage import Article, BotState, Delivery, Source, Subscriber, Summary
from bot.storage.models import utcnow

SECRET_TOKEN = "424242:AAsecret-bot-token-for-the-page"


def noon(now: datetime, days_ago: int) -> datetime:
    """Noon UTC ``days_ago`` days before ``now``'s UTC day (articles per day are UTC days)."""
    return datetime.combine(now.astimezone(UTC).date() - timedelta(days=days_ago), time(12), tzinfo=UTC)


def seed(db, now: datetime) -> None:
    """Three sources (healthy, down with a hostile error, paused), a week of articles, a day of
    summaries and deliveries."""
    with db.session() as session:
        healthy = Source(name="梁平日报", kind="rss", url="http://a.example/feed", last_success_at=now - timedelta(minutes=5),
                         last_attempt_at=now - timedelta(minutes=5), error_count=0, state="active")
        down = Source(name="<script>alert(1)</script>", kind="page", url="http://b.example/", error_count=7,
                      last_success_at=now - timedelta(days=2), last_attempt_at=now - timedelta(minutes=3),
                      last_error=f"http://b.example/ answered 503 <b>bold</b> via bot{SECRET_TOKEN}", state="active")
        paused = Source(name="paused source", kind="rss", url="http://c.example/feed", error_count=0, state="paused")
        session.add_all([healthy, down, paused])
        session.flush()
        n = 0
        for days_ago, count in [(0, 3), (1, 5), (2, 1), (6, 2)]:
            for _ in range(count):
                n += 1
                session.add(Article(source_id=healthy.id, url=f"http://a.example/{n}", canonical_url=f"http://a.example/{n}",
                                    content_hash=f"h{n}", title=f"t{n}", language="zh-Hans", text="正文。",
                                    fetched_at=noon(now, days_ago)))
        session.flush()
        articles = session.query(Article).all()
        for index, article in enumerate(articles[:6]):
            fallback = index >= 2
            session.add(Summary(article_id=article.id, profile="mt5-zh", model="csebuetnlp/mT5_multilingual_XLSum",
                                language="zh-Hans", text="摘要。", fallback=fallback,
                                reason="faithfulness check: number: 12 not in the article" if fallback else None,
                                created_at=now - timedelta(hours=1)))
        subscriber = Subscriber(chat_id=77, language="zh-Hans", push_time="07:30", timezone="Asia/Shanghai", active=True)
        session.add(subscriber)
        session.flush()
        for n, (status, error) in enumerate([("sent", None)] * 4 + [("failed", "BadRequest: message is too long")] * 2):
            session.add(Delivery(subscriber_id=subscriber.id, push_key=f"digest:2026-12-0{n}", status=status, error=error,
                                 created_at=now - timedelta(hours=2)))
        session.add(Delivery(subscriber_id=subscriber.id, push_key="news:x", status="sent", created_at=now - timedelta(hours=1)))
        session.add(Delivery(subscriber_id=subscriber.id, push_key="digest:old", status="failed", error="old failure",
                             created_at=now - timedelta(days=3)))


@pytest.fixture
async def page_console(db, make_settings):
    settings = make_settings('[status]\nlisten = "127.0.0.1:0"\nsource_down_hours = 6\n[region]\nlanguage = "en"\n')
    install_redaction(SECRET_TOKEN)
    seed(db, utcnow())
    console = Console(settings, db, "all")
    await console.start()
    await console.refresh()
    yield console
    await console.stop()


VOID = {"meta", "br", "hr", "img", "link", "input"}


class _Page(HTMLParser):
    """The page's tags (to check it is well formed) and visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.text: list[str] = []
        self.meta: list[dict] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "meta":
            self.meta.append(dict(attrs))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):  # <line/>: opens and closes
        pass

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


async def get_page(console: Console, query: str = "") -> str:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{console.port}/{query}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    return response.text


async def test_the_page_shows_health_gate_deliveries_and_processes(page_console):
    html = await get_page(page_console)
    page = _Page()
    page.feed(html)
    assert page.problems == [] and page.open == []
    text = " ".join(page.text)
    assert {"name": "viewport", "content": "width=device-width,initial-scale=1"} in page.meta
    assert any(m.get("http-equiv") == "refresh" for m in page.meta)
    assert "<script" not in html  # a source's name is text, never markup
    assert "<script>alert(1)</script>" in text
    assert "<b>bold</b>" in text and "<b>bold" not in html
    assert SECRET_TOKEN not in html and "AAsecret" not in html  # the token is redacted from errors
    # per-source status
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    row = lambda name: next(r for r in rows if name in r)  # noqa: E731
    assert "OK" in row("梁平日报") and "down (7×)" in row("&lt;script&gt;") and "paused" in row("paused source")
    # the chart: one bar a day for 7 days, the newest last, counts in titles
    chart = re.search(r"<svg[^>]*aria-label=\"([^\"]*)\"", row("梁平日报"))
    assert chart and chart.group(1) == "2, 0, 0, 0, 1, 5, 3"
    assert row("梁平日报").count("<rect") == 7
    # gate: 2 of 6 accepted, the top reason class
    assert "mt5-zh: 2/6 model (33%)" in text and "faithfulness check: number 4" in text
    # deliveries of the last 24 h only, by kind, and the commonest failure
    assert re.search(r"<td>daily</td><td class=n>4</td><td class=n>2</td>", html)
    assert re.search(r"<td>news</td><td class=n>1</td><td class=n>0</td>", html)
    assert "2×" in text and "message is too long" in text and "old failure" not in text
    # the process serving it
    assert re.search(r"<td>all</td><td>[^<]+:\d+</td>", html)


async def test_the_page_follows_the_language_asked(page_console):
    chinese = await get_page(page_console, "?lang=zh-Hans")
    assert "新闻来源" in chinese and "推送（24 小时）" in chinese
    traditional = await get_page(page_console, "?lang=zh-Hant")
    assert "新聞來源" in traditional
    assert "Sources" in await get_page(page_console, "?lang=xx")  # unknown: the region's language


async def test_before_the_first_snapshot_the_page_says_it_is_reading(db, make_settings):
    console = Console(make_settings('[status]\nlisten = "127.0.0.1:0"\nrefresh_seconds = 3600\n'), db, "bot")
    console.snapshot = None
    await console.start()
    try:
        console.snapshot = None  # as if the first read had not finished
        html = await get_page(console, "?lang=en")
    finally:
        await console.stop()
    assert "Reading the numbers" in html and 'http-equiv="refresh"' in html


async def test_other_processes_are_listed_and_a_silent_one_is_marked(page_console, db):
    now = utcnow()
    with db.session() as session:
        for process, role, beat in [("other-host:41:abc", "worker", now), ("gone-host:7:def", "bot", now - timedelta(minutes=30))]:
            session.add(BotState(key=f"process:{process}", value=json.dumps({
                "role": role, "host": process.split(":")[0], "pid": 41, "started_at": (now - timedelta(hours=3)).isoformat(),
                "beat_at": beat.isoformat(), "errors": 2 if role == "worker" else 0,
                "last_error": "summarizing failed: RuntimeError: out of memory" if role == "worker" else None})))
        session.add(BotState(key="process:unreadable", value="{not json"))
    await page_console.refresh()
    html = await get_page(page_console)
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    worker = next(r for r in rows if "other-host:41" in r)
    assert worker.startswith("<td>worker</td>") and "out of memory" in worker and "silent" not in worker
    gone = next(r for r in rows if "gone-host:41" in r)
    assert "silent" in gone
    async with httpx.AsyncClient() as client:
        scraped = (await client.get(f"http://127.0.0.1:{page_console.port}/metrics")).text
    assert 'newsbot_processes{role="worker"} 1.0' in scraped and 'newsbot_processes{role="bot"}' not in scraped


async def test_the_numbers_refresh_on_their_own(db, make_settings):
    console = Console(make_settings('[status]\nlisten = "127.0.0.1:0"\nrefresh_seconds = 1\n[region]\nlanguage = "en"\n'), db, "worker")
    await console.start()
    try:
        html = ""
        for _ in range(100):  # the first background read
            html = await get_page(console)
            if "No sources yet." in html:
                break
            await asyncio.sleep(0.1)
        assert "No sources yet." in html
        with db.session() as session:
            session.add(Source(name="added later", kind="rss", url="http://d.example/feed", state="active"))
        for _ in range(100):  # a later one, a second on
            html = await get_page(console)
            if "added later" in html:
                break
            await asyncio.sleep(0.1)
        assert "added later" in html and "not fetched yet" in html
    finally:
        await console.stop()
