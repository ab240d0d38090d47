"""The status page in a real browser: headless Chromium (Debian's ``chromium``) loads it from
the real listener, takes a phone-sized screenshot, and any console message (a script error,
a Content-Security-Policy violation) fails the test. Skipped when chromium is not installed.

``STATUS_SCREENSHOT=docs/status-page.png`` also copies the screenshot there (the one the
documentation shows)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import struct
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.console.server import Console
from bot.storage import Article, Delivery, Source, Subscriber, Summary
from bot.storage.models import utcnow
from tests.support.web import Reply

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
WIDTH, HEIGHT = 480, 1500  # a phone's width; tall enough for the whole page
CONSOLE_LINE = re.compile(r":CONSOLE[:(]\d*\)?\]\s*(.*)")


@dataclass
class Visit:
    screenshot: bytes
    console: list[str]  # the page's console messages
    log: str


async def visit(url: str, folder: Path) -> Visit:
    """Load ``url`` in headless Chromium; its screenshot and console messages."""
    shot = folder / "page.png"
    command = [
        CHROMIUM, "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
        f"--user-data-dir={folder / 'profile'}", "--enable-logging=stderr", "--v=0",
        f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}", url,
    ]
    if os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to sandbox itself as root (CI containers)
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 90)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    log = output.decode("utf-8", "replace")
    assert shot.exists(), f"chromium made no screenshot (exit {process.returncode}):\n{log[-2000:]}"
    return Visit(shot.read_bytes(), [m.group(1) for m in CONSOLE_LINE.finditer(log)], log)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def seed(db) -> None:
    """A realistic morning: five sources (one down, one paused), a week of articles, summaries
    that mostly pass the gate, a day of pushes with a few failures."""
    now = utcnow()
    plan = [
        ("梁平区融媒体中心", "page", [14, 11, 16, 9, 12, 15, 13], 0, None, "active"),
        ("重庆日报", "rss", [31, 28, 35, 30, 27, 33, 22], 0, None, "active"),
        ("Chongqing Daily English", "rss", [6, 8, 5, 7, 9, 4, 6], 0, None, "active"),
        ("梁平气象", "page", [3, 2, 4, 3, 0, 0, 0], 12, "https://qx.example/list.html: HTTP 503 Service Unavailable", "active"),
        ("万州新闻网", "rss", [5, 4, 6, 0, 0, 0, 0], 0, None, "paused"),
    ]
    with db.session() as session:
        n = 0
        for name, kind, per_day, errors, error, state in plan:
            source = Source(name=name, kind=kind, url=f"https://{kind}.example/{len(name)}", error_count=errors, last_error=error,
                            last_success_at=now - (timedelta(days=3) if errors else timedelta(minutes=7)),
                            last_attempt_at=now - timedelta(minutes=7), state=state)
            session.add(source)
            session.flush()
            for days_ago, count in enumerate(reversed(per_day)):
                for _ in range(count):
                    n += 1
                    session.add(Article(source_id=source.id, url=f"https://x.example/{n}", canonical_url=f"https://x.example/{n}",
                                        content_hash=f"{n}", title=f"title {n}", language="zh-Hans" if n % 5 else "en",
                                        text="正文。", fetched_at=now - timedelta(days=days_ago, minutes=20)))
        session.flush()
        articles = session.query(Article).order_by(Article.id.desc()).limit(60).all()
        for index, article in enumerate(articles):
            english = article.language == "en"
            fallback = index % 7 == 0
            session.add(Summary(article_id=article.id, profile="distilbart-en" if english else "mt5-zh", model="m",
                                language=article.language, text="s", fallback=fallback,
                                reason="faithfulness check: number: 3" if fallback and index % 2 else
                                ("model unavailable: weights missing" if fallback else None),
                                created_at=now - timedelta(hours=index % 20)))
        subscriber = Subscriber(chat_id=5, language="zh-Hans", push_time="07:30", timezone="Asia/Shanghai", active=True)
        session.add(subscriber)
        session.flush()
        for k in range(140):
            failed = k % 45 == 0
            session.add(Delivery(subscriber_id=subscriber.id, push_key=("digest:" if k % 3 else "news:") + str(k),
                                 status="failed" if failed else "sent", error="forbidden: bot was blocked by the user" if failed else None,
                                 created_at=now - timedelta(hours=k % 23)))


async def test_chromium_loads_the_page_without_console_errors(db, make_settings, tmp_path):
    seed(db)
    settings = make_settings('[status]\nlisten = "127.0.0.1:0"\n[region]\nname = "梁平區"\nlanguage = "zh-Hans"\n')
    console = Console(settings, db, "all")
    await console.start()
    try:
        await console.refresh()
        result = await visit(f"http://127.0.0.1:{console.port}/?lang=en", tmp_path)
    finally:
        await console.stop()
    assert result.console == [], result.log[-3000:]
    width, height = png_size(result.screenshot)
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(result.screenshot) > 20_000  # a page was drawn, not a blank one
    if target := os.environ.get("STATUS_SCREENSHOT"):
        Path(target).write_bytes(result.screenshot)


async def test_the_check_catches_a_script_error(server, tmp_path):
    # the same visit on a page whose script fails: the check must see it
    server.routes["/broken.html"] = Reply("<html><body><p>x</p><script>throw new Error('boom in page')</script></body></html>")
    result = await visit(server.url("/broken.html"), tmp_path)
    assert any("boom in page" in message for message in result.console)
