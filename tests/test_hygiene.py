"""Hygiene: pruning old data, the webhook secret, token redaction, and chat input that used to slip
through (unicode digits, the already-selected settings button, commands for other bots)."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import signal
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import func, select

from bot.ingest.pipeline import Ingestor
from bot.maintenance import BATCH, prune, webhook_secret
from bot.redact import REDACTED, Redactor
from bot.storage import Article, BotState, Bulletin, Database, Delivery, ForecastRecord, PageRetry, Source, Subscriber, Summary
from summarizer import Summarizer
from tests.support.bot import TOKEN, update_from
from tests.support.config import write_config
from tests.support.data import DEMO
from tests.support.web import free_port

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


# -- pruning ---------------------------------------------------------------------------------

def add_article(session, source: Source, key: str, published: datetime | None, fetched: datetime) -> Article:
    article = Article(
        source=source, url=f"http://news.example/{key}", canonical_url=f"http://news.example/{key}", guid=key,
        content_hash=f"hash-{key}", title=key, published_at=published, fetched_at=fetched, language="en",
        text=f"body of {key}", signature=b"minhash",
        summaries=[Summary(profile="extractive", model="textrank", revision="", language="en", text="s")],
        bulletins=[Bulletin(issuer="met office", issued_at=fetched, periods=[], text="b")],
    )
    session.add(article)
    return article


def forecast(provider: str, latitude: float, fetched: datetime) -> ForecastRecord:
    return ForecastRecord(provider=provider, latitude=latitude, longitude=107.8, fetched_at=fetched, data={})


def test_prune_deletes_old_rows_and_empties_old_articles_but_keeps_their_keys(db):
    with db.session() as session:
        source = Source(name="s", kind="rss", url="http://news.example/feed", error_count=0)
        subscriber = Subscriber(chat_id=1, language="en", push_time="07:30", timezone="Asia/Shanghai")
        session.add_all([source, subscriber])
        session.flush()
        add_article(session, source, "old", days_ago(400), days_ago(61))
        add_article(session, source, "undated", None, days_ago(90))
        add_article(session, source, "recent", days_ago(59), days_ago(61))  # published within keep_days
        add_article(session, source, "back-dated", days_ago(400), days_ago(1))  # fetched lately: not read yet
        session.add_all([
            Delivery(subscriber_id=subscriber.id, push_key="digest:old", status="sent", created_at=days_ago(61)),
            Delivery(subscriber_id=subscriber.id, push_key="digest:new", status="sent", created_at=days_ago(59)),
            PageRetry(source_id=source.id, url="u1", canonical_url="u1", next_attempt_at=NOW, created_at=days_ago(70)),
            PageRetry(source_id=source.id, url="u2", canonical_url="u2", next_attempt_at=NOW, created_at=days_ago(2)),
            # place A: only old forecasts; the newest of them stays as the fallback
            forecast("open-meteo", 30.0, days_ago(80)), forecast("open-meteo", 30.0, days_ago(70)),
            # place B: an old and a fresh one
            forecast("open-meteo", 31.0, days_ago(75)), forecast("open-meteo", 31.0, days_ago(1)),
        ])

    counts = prune(db, 60, NOW)

    assert counts == {"deliveries": 1, "page_retries": 1, "forecasts": 2, "follow_hits": 0, "weather_events": 0,
                      "blocked_chats": 0, "articles": 2, "summaries": 2, "bulletins": 2}
    with db.session() as session:
        articles = {a.guid: a for a in session.scalars(select(Article))}
        assert {key: (a.text, a.signature) for key, a in articles.items()} == {
            "old": ("", None), "undated": ("", None), "recent": ("body of recent", b"minhash"),
            "back-dated": ("body of back-dated", b"minhash")}
        assert {a.content_hash for a in articles.values()} == {"hash-old", "hash-undated", "hash-recent", "hash-back-dated"}
        with_body = sorted([articles["recent"].id, articles["back-dated"].id])
        assert sorted(session.scalars(select(Summary.article_id))) == sorted(session.scalars(select(Bulletin.article_id))) == with_body
        assert session.scalars(select(Delivery.push_key)).all() == ["digest:new"]
        assert session.scalars(select(PageRetry.url)).all() == ["u2"]
        kept = session.execute(select(ForecastRecord.latitude, ForecastRecord.fetched_at).order_by(ForecastRecord.latitude)).all()
        assert kept == [(30.0, days_ago(70)), (31.0, days_ago(1))]
    assert set(prune(db, 60, NOW).values()) == {0}  # nothing left to do


def test_prune_works_through_more_rows_than_one_batch(db):
    with db.session() as session:
        subscriber = Subscriber(chat_id=2, language="en", push_time="07:30", timezone="Asia/Shanghai")
        session.add(subscriber)
        session.flush()
        session.add_all(Delivery(subscriber_id=subscriber.id, push_key=f"k{n}", status="sent", created_at=days_ago(100))
                        for n in range(BATCH + 3))
    assert prune(db, 60, NOW)["deliveries"] == BATCH + 3
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_prune_refuses_keep_days_below_one(db):
    with pytest.raises(ValueError, match="at least 1"):
        prune(db, 0, NOW)


async def test_pruned_articles_are_not_ingested_again(db, make_settings):
    settings = make_settings(f'[[sources]]\nname = "lp"\nkind = "files"\nurl = "{DEMO / "liangping"}"\n')
    ingestor = Ingestor(settings, db, Summarizer())
    [first] = await ingestor.run()
    assert first.new > 0
    assert prune(db, 60, datetime.now(timezone.utc))["articles"] == 0  # from 2023, but fetched just now
    counts = prune(db, 60, datetime.now(timezone.utc) + timedelta(days=61))
    assert counts["articles"] == first.new and counts["summaries"] >= first.new
    [second] = await Ingestor(settings, db, Summarizer()).run()
    assert (second.new, second.errors) == (0, [])
    with db.session() as session:
        assert set(session.scalars(select(Article.text))) == {""}
        assert session.scalar(select(func.count()).select_from(Summary)) == 0


# -- the webhook secret ------------------------------------------------------------------------

def test_generated_webhook_secret_is_stored_once_and_reused(db):
    secret = webhook_secret(db)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,256}", secret)
    assert webhook_secret(db) == secret
    with db.session() as session:
        assert [(row.key, row.value) for row in session.scalars(select(BotState))] == [("webhook_secret", secret)]
    assert webhook_secret(db, "configured-secret_1") == "configured-secret_1"


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
async def test_webhook_mode_answers_only_updates_with_the_secret(tmp_path, fake_telegram):
    """The real `newsbot run` in webhook mode: Telegram is told a generated secret, and updates
    without it, or with a wrong one, are refused with 403 and never answered."""
    port = free_port()
    database = f"sqlite:///{tmp_path / 'news.db'}"
    config = write_config(tmp_path, (
        f'[database]\nurl = "{database}"\n'
        f'[telegram]\napi_base_url = "{fake_telegram.base_url}"\nwebhook_url = "http://127.0.0.1:{port}/hook"\n'
        f'webhook_listen = "127.0.0.1"\nwebhook_port = {port}\n'
        '[weather]\napi_base_url = "http://127.0.0.1:9/v1"\n'
    ))
    env = {**os.environ, "NEWSBOT_TELEGRAM_TOKEN": TOKEN, "PYTHONPATH": str(DEMO.parent.parent)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "-c", str(config), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/hook"
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as client:
            while True:  # the server listens right after setWebhook
                try:
                    missing = await client.post(url, json=update_from(901, "/start", 1))
                    break
                except httpx.TransportError:
                    assert process.returncode is None and time.monotonic() < deadline, "the webhook server never started"
                    await asyncio.sleep(0.1)
            [params] = [params for method, params in fake_telegram.calls if method == "setWebhook"]
            secret = params["secret_token"]
            wrong = await client.post(url, json=update_from(902, "/start", 2), headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            right = await client.post(url, json=update_from(903, "/start", 3), headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        assert (missing.status_code, wrong.status_code, right.status_code) == (403, 403, 200)
        [welcome] = await fake_telegram.wait_for_messages(903, 1, timeout=60)
        assert welcome["text"].startswith("👋 Welcome!")
        assert fake_telegram.messages_to(901) == fake_telegram.messages_to(902) == []
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert params["url"] == url and re.fullmatch(r"[A-Za-z0-9_-]{32,256}", secret)
    assert TOKEN not in stderr.decode() and secret not in stderr.decode()
    stored = Database(database)
    try:
        assert webhook_secret(stored) == secret  # generated once, kept for the next start
    finally:
        stored.close()


# -- redaction -------------------------------------------------------------------------------

def test_redactor_covers_message_arguments_and_traceback():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(Redactor(TOKEN))
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError:
            logger.exception("calling %s failed", f"https://api.telegram.org/bot{TOKEN}/getMe")
        logger.error("escaped form %s", TOKEN.replace(":", "%3A"), stack_info=True)
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert f"calling https://api.telegram.org/bot{REDACTED}/getMe failed" in output
    assert f"RuntimeError: The token `{REDACTED}` was rejected by the server." in output
    assert "Traceback (most recent call last)" in output and "Stack (most recent call last)" in output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output


# -- chat input ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "command, expected",
    [
        ("/latest ²", "Give a number from 1 to 20, for example /latest 5."),
        ("/latest ①", "Give a number from 1 to 20, for example /latest 5."),
        ("/latest ٣", "Give a number from 1 to 20, for example /latest 5."),
        ("/latest ２１", "Give a number from 1 to 20, for example /latest 5."),
        ("/latest ３", "No news yet."),  # full-width digits, as Chinese input methods type them
        ("/time ２５:００", "That is not a time: use 24-hour HH:MM, for example /time 07:30."),
        ("/time ⁰⁷:³⁰", "That is not a time: use 24-hour HH:MM, for example /time 07:30."),
        ("/time ٠٧:٣٠", "That is not a time: use 24-hour HH:MM, for example /time 07:30."),
        ("/time ０８：１５", "Push time set to 08:15 (Asia/Shanghai). Send /subscribe to start receiving it."),
        ("/subscribe ¹⁰:⁰⁰", "That is not a time: use 24-hour HH:MM, for example /time 07:30."),
    ],
)
async def test_unicode_digits_get_a_helpful_reply(bot, fake_telegram, command, expected):
    fake_telegram.user_says(510, command, language_code="en")
    [message] = await fake_telegram.wait_for_messages(510, 1)
    assert message["text"] == expected


async def test_tapping_the_selected_setting_is_not_an_error(bot, fake_telegram):
    fake_telegram.user_says(511, "/settings", language_code="en")
    [view] = await fake_telegram.wait_for_messages(511, 1)
    assert "• 07:30" in [b["text"] for row in view["reply_markup"]["inline_keyboard"] for b in row]
    fake_telegram.user_taps(511, "time:07:30", view, language_code="en")  # already the push time
    await fake_telegram.wait_for(lambda _: any("message is not modified" in r[2] for r in fake_telegram.rejected))
    fake_telegram.user_says(511, "/help", language_code="en")
    await fake_telegram.wait_for(lambda sent: any(m["chat_id"] == 511 and m["text"].startswith("Commands:") for m in sent))
    assert [m["text"].split("\n")[0] for m in fake_telegram.messages_to(511)] == ["⚙️ Settings", "Commands:"]
    fake_telegram.user_taps(511, "time:08:00", view, language_code="en")  # a real change still edits the view
    assert "Push time: 08:00" in (await fake_telegram.wait_for_edit())["text"]


async def test_commands_for_another_bot_are_ignored_in_groups(bot, fake_telegram):
    group = -100600
    for text in ("/start@otherbot", "/frobnicate@otherbot", "/latest@other_bot 3"):
        fake_telegram.user_says(group, text, user_id=21, chat_type="group", language_code="en")
    fake_telegram.user_says(group, "/frobnicate@newsbot_test_bot", user_id=21, chat_type="group", language_code="en")
    fake_telegram.user_says(group, "/help@NewsBot_Test_Bot", user_id=21, chat_type="group", language_code="en")
    # a group speaks the region's language (zh-Hant here), whatever a member's client says
    await fake_telegram.wait_for(lambda sent: any(m["chat_id"] == group and m["text"].startswith("可用命令：") for m in sent))
    assert [m["text"].split("\n")[0] for m in fake_telegram.messages_to(group)] == [
        "我不認識這個命令。發送 /help 查看可用命令。", "可用命令："]
