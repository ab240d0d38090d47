"""Alerts to admins, end to end: the real Application against the fake Bot API, problems put
in the real database, one merged message to each admin's private chat, nothing repeated
within the hour, a message when they clear, the bot token redacted."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from bot.console.admin_alerts import REPEAT, Entry, plan
from bot.storage import Article, Delivery, Source, Subscriber, Summary
from bot.storage.models import utcnow
from bot.telegram.app import build_application
from summarizer import Summarizer
from tests.fakes.telegram import FakeTelegram
from tests.support.bot import Clock

TOKEN = "654321:ADMIN-alerts-token-never-shown"
ADMINS = (4001, 4002)


@pytest.fixture
def fake_telegram():
    fake = FakeTelegram(TOKEN)
    yield fake
    fake.close()


@pytest.fixture
async def app(db, fake_telegram, make_settings):
    settings = make_settings(
        f'[telegram]\ntoken = "{TOKEN}"\napi_base_url = "{fake_telegram.base_url}"\nadmins = [{ADMINS[0]}, {ADMINS[1]}]\n'
        '[weather]\nprovider = "none"\n[region]\nlanguage = "en"\n'
        "[status]\nrefresh_seconds = 3600\nsource_down_hours = 6\n"
    )
    application = build_application(settings, db, Summarizer(), schedule=False)
    await application.initialize()
    await application.post_init(application)
    await application.start()
    yield application
    await application.stop()
    await application.shutdown()
    await application.post_shutdown(application)


def break_things(db, now: datetime) -> None:
    """A source down for 8 hours, a profile falling back 8 times in 12, 10 of 25 pushes failed."""
    with db.session() as session:
        source = Source(name="梁平日报", kind="rss", url="http://feed.example/rss", error_count=5, state="active",
                        last_success_at=now - timedelta(hours=8), last_attempt_at=now - timedelta(minutes=2),
                        last_error="http://feed.example/rss: HTTP 503")
        session.add(source)
        session.flush()
        for n in range(12):
            article = Article(source_id=source.id, url=f"http://x/{n}", canonical_url=f"http://x/{n}", content_hash=str(n),
                              title="t", language="zh-Hans", text="正文。", fetched_at=now - timedelta(hours=2))
            session.add(article)
            session.flush()
            session.add(Summary(article_id=article.id, profile="mt5-zh", model="m", language="zh-Hans", text="s",
                                fallback=n < 8, reason="model unavailable: no weights" if n < 8 else None,
                                created_at=now - timedelta(hours=1, minutes=n)))
        subscriber = Subscriber(chat_id=9, language="en", push_time="07:30", timezone="Asia/Shanghai", active=True)
        session.add(subscriber)
        session.flush()
        for n in range(25):
            session.add(Delivery(subscriber_id=subscriber.id, push_key=f"news:{n}", status="failed" if n < 10 else "sent",
                                 error="timed out" if n < 10 else None, created_at=now - timedelta(minutes=10)))


def messages(fake: FakeTelegram, chat: int) -> list[str]:
    return [m["text"] for m in fake.messages_to(chat)]


async def test_admins_get_one_merged_alert_then_a_cleared_message(app, db, fake_telegram):
    console = app.bot_data["console"]
    clock = Clock(utcnow())
    console.clock = clock
    await console.refresh()  # after the start's own refresh (one at a time): all is well
    assert fake_telegram.messages_to(ADMINS[0]) == []
    break_things(db, clock.now)
    logging.getLogger("bot.telegram.handlers").error(
        "error while handling an update", exc_info=RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")
    )
    await console.refresh()
    for admin in ADMINS:
        [alert] = await fake_telegram.wait_for_messages(admin, 1)
        assert alert["text"].startswith("⚠️ newsbot has problems:")
        text = alert["text"]
        assert "source 梁平日报 has been failing for over 6 h: http://feed.example/rss: HTTP 503" in text
        assert "profile mt5-zh: 8 of its last 12 summaries fell back to extracts (mostly: model unavailable)" in text
        assert "pushes: 10 of 25 failed in the last hour" in text
        assert "1 unhandled error(s) in the last hour" in text and "RuntimeError" in text
        assert TOKEN not in text and "ADMIN-alerts-token" not in text and "<redacted>" in text

    await console.refresh()  # the same problems: nothing new is said
    assert [len(messages(fake_telegram, admin)) for admin in ADMINS] == [1, 1]

    # the source recovers and the failed pushes age out of the hour; the rest goes on
    with db.session() as session:
        session.execute(update(Source).values(error_count=0, last_error=None, last_success_at=clock.now))
    clock.now += REPEAT + timedelta(minutes=1)
    await console.refresh()
    [_, cleared] = await fake_telegram.wait_for_messages(ADMINS[0], 2)
    assert cleared["text"].startswith("✅ Cleared:")
    assert "梁平日报" in cleared["text"] and "pushes: 10 of 25" in cleared["text"]
    assert "mt5-zh" not in cleared["text"] and "⚠️" not in cleared["text"]

    # it fails again within the hour of the last word about it: told only when that hour is over
    with db.session() as session:
        session.execute(update(Source).values(error_count=3, last_error="HTTP 500", last_success_at=clock.now - timedelta(hours=7)))
    clock.now += timedelta(minutes=20)
    await console.refresh()
    assert len(messages(fake_telegram, ADMINS[0])) == 2
    clock.now += REPEAT
    await console.refresh()
    [*_, again] = await fake_telegram.wait_for_messages(ADMINS[0], 3)
    assert again["text"].startswith("⚠️") and "梁平日报" in again["text"] and "HTTP 500" in again["text"]
    assert "mt5-zh" not in again["text"]  # still announced: not repeated


async def test_no_admins_no_alerts(db, fake_telegram, make_settings):
    settings = make_settings(f'[telegram]\ntoken = "{TOKEN}"\napi_base_url = "{fake_telegram.base_url}"\n[weather]\nprovider = "none"\n')
    application = build_application(settings, db, Summarizer(), schedule=False)
    await application.initialize()
    await application.post_init(application)
    try:
        assert application.bot_data["console"].alerts is None
        assert await application.bot_data["console"].refresh() is None  # nothing shows a snapshot: only the heartbeat
    finally:
        await application.shutdown()
        await application.post_shutdown(application)


def test_plan_says_nothing_twice_within_the_hour():
    start = datetime(2026, 1, 1, 8, 0)
    state: dict[str, Entry] = {}
    assert plan(state, {"a": "A"}, start) == (["A"], [])
    assert plan(state, {"a": "A", "b": "B"}, start + timedelta(minutes=1)) == (["B"], [])
    assert plan(state, {"b": "B"}, start + timedelta(minutes=30)) == ([], [])  # a cleared: too soon to say
    assert plan(state, {"b": "B"}, start + timedelta(minutes=61)) == ([], ["A"])
    assert plan(state, {"a": "A2", "b": "B"}, start + timedelta(minutes=90)) == ([], [])  # back: too soon
    assert plan(state, {"a": "A2", "b": "B"}, start + timedelta(minutes=122)) == (["A2"], [])
    assert plan(state, {}, start + timedelta(minutes=200)) == ([], ["A2", "B"])
    assert plan(state, {}, start + timedelta(minutes=400)) == ([], []) and state == {}  # forgotten
