"""Hostile and careless chats against the real Application and the fake Bot API: floods, forged
buttons, group members who are not admins, edited messages and channel posts, oversized
commands, /forget, and chats that blocked the bot."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
import time
from datetime import timedelta

import httpx
import pytest
from hypothesis import given, strategies as st
from sqlalchemy import select

from bot.maintenance import prune
from bot.storage import Delivery, Follow, Subscriber
from bot.telegram.handlers import CALLBACK_PATTERNS, parse_callback
from bot.weather_service import WeatherService
from bot.telegram.runner import WEBHOOK_MAX_BODY_BYTES
from tests.support.bot import DAY, TOKEN, subscriber, update_from
from tests.support.config import write_config
from tests.support.data import DEMO
from tests.support.web import Reply, free_port

GROUP = -100700
ADMIN_MEMBER, PLAIN_MEMBER = 21, 22


async def until(predicate, timeout: float = 15.0) -> None:
    """Poll ``predicate`` (letting the bot's event loop run) until it holds, or fail."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def said(fake, chat_id: int, text: str, **kwargs) -> dict:
    """Send ``text`` and wait for the chat's next message."""
    before = len(fake.messages_to(chat_id))
    fake.user_says(chat_id, text, **kwargs)
    return (await fake.wait_for_messages(chat_id, before + 1))[-1]


def callback_answers(fake) -> list[dict]:
    return [params for method, params in fake.calls if method == "answerCallbackQuery"]


def rows(db, model, chat_id: int) -> list:
    with db.session() as session:
        ids = select(Subscriber.id).where(Subscriber.chat_id == chat_id)
        if model is Subscriber:
            return list(session.scalars(select(Subscriber).where(Subscriber.chat_id == chat_id)))
        return list(session.scalars(select(model).where(model.subscriber_id.in_(ids))))


# -- floods --------------------------------------------------------------------------------


async def test_sixteen_flooding_chats_do_not_starve_a_seventeenth(bot, fake_telegram):
    """Each flooding group's first reply hangs, and many more updates queue behind it: the queued
    updates hold no global slot, so another chat is still answered meanwhile."""
    flooders = [GROUP - n for n in range(16)]
    fake_telegram.held.update(flooders)
    for chat in flooders:
        fake_telegram.user_says(chat, "/help", user_id=PLAIN_MEMBER, chat_type="supergroup")
        for _ in range(20):
            fake_telegram.user_says(chat, "spam", user_id=PLAIN_MEMBER, chat_type="supergroup")
    fake_telegram.user_says(517, "/help")
    await fake_telegram.wait_for_messages(517, 1, timeout=60)  # a deadline for slow machines, not a timing
    assert [m["chat_id"] for m in fake_telegram.sent] == [517]  # every flooding chat is still held
    fake_telegram.release()
    for chat in flooders:
        assert len(await fake_telegram.wait_for_messages(chat, 1, timeout=60)) == 1


# -- forged buttons ------------------------------------------------------------------------


@given(st.text())
def test_callback_data_parses_to_a_known_action_or_none(data):
    parsed = parse_callback(data)
    if parsed is not None:
        action, value = parsed
        assert data == f"{action}:{value}" and CALLBACK_PATTERNS[action].fullmatch(value)


@given(st.sampled_from(["unfollow", "region"]), st.text(min_size=1))
def test_button_ids_are_ascii_digits_that_fit_the_column(action, value):
    parsed = parse_callback(f"{action}:{value}")
    if parsed is not None and parsed[1] != "choose":
        assert parsed[1].isascii() and 0 <= int(parsed[1]) < 2**31


async def test_forged_buttons_are_answered_briefly_and_never_raise(bot, fake_telegram, caplog):
    caplog.set_level(logging.INFO)
    view = await said(fake_telegram, 520, "/settings", language_code="en")
    built = [b["callback_data"] for row in view["reply_markup"]["inline_keyboard"] for b in row]
    assert all(parse_callback(data) for data in built)  # every button the bot sends is one it accepts
    forged = ["unfollow:²", "region:²", "unfollow:" + "9" * 30, "region:99999", "lang:xx", "time:25:00", "time:08:00\n",
              "nonsense", "", "sub:on:off"]
    for data in forged:
        fake_telegram.user_taps(520, data, view, language_code="en")
    await until(lambda: len(callback_answers(fake_telegram)) == len(forged))
    assert {a.get("text") for a in callback_answers(fake_telegram)} == {"This button no longer works; send the command again."}
    fake_telegram.user_taps(520, "lang:zh-Hans", view, language_code="en")  # a real button still works
    assert (await fake_telegram.wait_for_edit())["text"].startswith("⚙️ 设置")
    assert len(fake_telegram.messages_to(520)) == 1 and "error while handling" not in caplog.text
    assert "Traceback" not in caplog.text


# -- groups --------------------------------------------------------------------------------


async def test_a_members_client_language_never_changes_the_groups(bot, fake_telegram, db):
    reply = await said(fake_telegram, GROUP, "/help", user_id=PLAIN_MEMBER, language_code="en", chat_type="supergroup")
    assert reply["text"].startswith("可用命令")  # the region's language, not the member's
    assert subscriber(db, GROUP).language == "zh-Hant"
    await said(fake_telegram, 521, "/help", language_code="en")  # a private chat follows its reader
    assert subscriber(db, 521).language == "en"


async def test_only_admins_change_group_settings_and_typing_a_time_is_per_user(bot, fake_telegram, db):
    fake_telegram.plain_members.add((GROUP, PLAIN_MEMBER))
    view = await said(fake_telegram, GROUP, "/settings", user_id=PLAIN_MEMBER, chat_type="supergroup")
    fake_telegram.user_taps(GROUP, "time:type", view, user_id=PLAIN_MEMBER, chat_type="supergroup")
    fake_telegram.user_taps(GROUP, "lang:en", view, user_id=PLAIN_MEMBER, chat_type="supergroup")
    await until(lambda: len(callback_answers(fake_telegram)) == 2)
    assert [(a["text"], a["show_alert"]) for a in callback_answers(fake_telegram)] == [("在群組裡，只有管理員可以修改訂閱。", True)] * 2
    fake_telegram.user_says(GROUP, "21:15", user_id=ADMIN_MEMBER, chat_type="supergroup")  # nobody armed it for the admin
    assert (await said(fake_telegram, GROUP, "/help", user_id=ADMIN_MEMBER, chat_type="supergroup"))["text"].startswith("可用命令")
    assert len(fake_telegram.messages_to(GROUP)) == 2  # the refusals went to the tapping member only
    assert (subscriber(db, GROUP).push_time, subscriber(db, GROUP).language) == ("07:30", "zh-Hant")

    fake_telegram.user_taps(GROUP, "time:type", view, user_id=ADMIN_MEMBER, chat_type="supergroup")
    assert (await fake_telegram.wait_for_messages(GROUP, 3))[-1]["text"].startswith("請發送新的推送時間")
    fake_telegram.user_says(GROUP, "06:00", user_id=PLAIN_MEMBER, chat_type="supergroup")  # not the one who tapped
    reply = await said(fake_telegram, GROUP, "21:15", user_id=ADMIN_MEMBER, chat_type="supergroup")
    assert reply["text"].startswith("推送時間已設為 21:15")
    assert subscriber(db, GROUP).push_time == "21:15"


async def test_edited_messages_and_channel_posts_are_ignored(bot, fake_telegram):
    fake_telegram.user_edits(522, "/help")
    fake_telegram.channel_posts(-100522, "/frobnicate")
    fake_telegram.channel_posts(-100522, "/subscribe")
    # later updates of the same chats come after them: once these are answered, those were handled
    assert (await said(fake_telegram, 522, "/start"))["text"].startswith("👋 歡迎！")
    assert (await said(fake_telegram, -100522, "/help", chat_type="supergroup"))["text"].startswith("可用命令")
    assert len(fake_telegram.messages_to(522)) == len(fake_telegram.messages_to(-100522)) == 1


# -- amplification ---------------------------------------------------------------------------


async def test_follow_with_two_thousand_words_gets_one_short_reply(bot, fake_telegram, db):
    words = " ".join(f"word{n}" for n in range(2000))
    reply = await said(fake_telegram, 523, f"/follow {words}", language_code="en")
    assert reply["text"] == "At most 20 keywords at once (you gave 2000); nothing was changed."
    await said(fake_telegram, 523, "/help", language_code="en")
    assert len(fake_telegram.messages_to(523)) == 2 and rows(db, Follow, 523) == []


async def test_search_has_a_word_cap_and_a_per_chat_rate(bot, fake_telegram):
    _, _, clock = bot
    assert (await said(fake_telegram, 524, "/search a1 b2 c3 d4 e5 f6", language_code="en"))["text"] == (
        "Search with at most 5 words; please use fewer.")
    for _ in range(3):
        assert (await said(fake_telegram, 524, "/search flood", language_code="en"))["text"].startswith("No story")
    assert (await said(fake_telegram, 524, "/search flood", language_code="en"))["text"] == (
        "Please wait 10 seconds before trying again.")
    fake_telegram.user_says(524, "/search flood", language_code="en")  # told once: now ignored
    await said(fake_telegram, 524, "/help", language_code="en")
    assert len(fake_telegram.messages_to(524)) == 6
    clock.now += timedelta(seconds=10)
    assert (await said(fake_telegram, 524, "/search flood", language_code="en"))["text"].startswith("No story")


async def test_weather_spam_is_rate_limited_per_chat(bot, fake_telegram):
    for _ in range(3):
        assert (await said(fake_telegram, 525, "/weather", language_code="en"))["text"].startswith("☀️ Weather")
    assert (await said(fake_telegram, 525, "/weather", language_code="en"))["text"].startswith("Please wait")
    assert (await said(fake_telegram, 526, "/weather", language_code="en"))["text"].startswith("☀️ Weather")  # others unaffected


async def test_chats_asking_while_the_provider_hangs_share_one_request(server, db, make_settings, caplog):
    gate = threading.Event()

    def hanging(hit):
        gate.wait(30)
        return Reply("unavailable", 503)

    server.routes["/v1/forecast"] = hanging
    service = WeatherService(make_settings(f'[weather]\napi_base_url = "{server.url("/v1")}"\nmax_retries = 0\n'), db)
    caplog.set_level(logging.DEBUG, logger="bot.weather_service")
    asks = [asyncio.create_task(service.report(DAY)) for _ in range(5)]
    try:
        await until(lambda: caplog.text.count("waiting for the provider request under way") == 4)
    finally:
        gate.set()
    reports = await asyncio.gather(*asks)
    assert len(server.hits_for("/v1/forecast")) == 1
    assert all(r.forecast is None and "503" in r.error for r in reports)


# -- personal data -------------------------------------------------------------------------


async def test_forget_asks_then_deletes_everything_about_the_chat(bot, fake_telegram, db):
    await said(fake_telegram, 527, "/subscribe 07:30", language_code="en")
    await said(fake_telegram, 527, "/follow flood", language_code="en")
    with db.session() as session:
        [row] = session.scalars(select(Subscriber).where(Subscriber.chat_id == 527))
        session.add(Delivery(subscriber_id=row.id, push_key="digest:2023-02-24", status="sent", created_at=DAY))
    question = await said(fake_telegram, 527, "/forget", language_code="en")
    assert question["text"].startswith("Delete everything kept about this chat?")
    assert rows(db, Subscriber, 527) and rows(db, Follow, 527) and rows(db, Delivery, 527)  # nothing gone yet
    [[button]] = question["reply_markup"]["inline_keyboard"]
    fake_telegram.user_taps(527, button["callback_data"], question, language_code="en")
    assert (await fake_telegram.wait_for_messages(527, 4))[-1]["text"].startswith("🗑 Everything kept about this chat is deleted.")
    assert rows(db, Subscriber, 527) == rows(db, Follow, 527) == rows(db, Delivery, 527) == []

    await said(fake_telegram, 528, "/follow flood", language_code="en")
    assert (await said(fake_telegram, 528, "/forget yes", language_code="en"))["text"].startswith("🗑")
    assert rows(db, Subscriber, 528) == rows(db, Follow, 528) == []


async def test_a_group_member_who_is_not_an_admin_cannot_forget_the_group(bot, fake_telegram, db):
    fake_telegram.plain_members.add((GROUP, PLAIN_MEMBER))
    await said(fake_telegram, GROUP, "/subscribe 07:30", user_id=ADMIN_MEMBER, chat_type="supergroup")
    refused = await said(fake_telegram, GROUP, "/forget yes", user_id=PLAIN_MEMBER, chat_type="supergroup")
    assert refused["text"] == "在群組裡，只有管理員可以修改訂閱。"
    assert subscriber(db, GROUP).active


def test_chats_blocked_for_keep_days_are_forgotten(db, make_settings):
    from bot.subscriptions import ChatRef, Subscriptions

    subscriptions = Subscriptions(db, make_settings())
    for chat in (1, 2, 3):
        subscriptions.update(ChatRef(chat), "en", DAY, active=True)
    with db.session() as session:
        follow_of_1 = Follow(subscriber_id=subscriptions.get(ChatRef(1), "en").id, keyword="flood", normalized="flood", created_at=DAY)
        session.add(follow_of_1)
    subscriptions.deactivate(1, "blocked", now=DAY - timedelta(days=61))
    subscriptions.deactivate(2, "blocked", now=DAY - timedelta(days=59))
    assert prune(db, 60, DAY)["blocked_chats"] == 1
    with db.session() as session:
        assert sorted(session.scalars(select(Subscriber.chat_id))) == [2, 3]
        assert session.scalars(select(Follow)).all() == []
    subscriptions.get(ChatRef(2), "en")  # chat 2 talks to the bot again: it is no longer counted as blocked
    assert subscriber(db, 2).blocked_at is None and subscriber(db, 2).inactive_reason is None


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
async def test_webhook_refuses_oversized_requests_before_the_secret_and_debug_logs_keep_no_updates(tmp_path, fake_telegram):
    """The real `newsbot -vv run` in webhook mode on the default address (loopback)."""
    port = free_port()
    config = write_config(tmp_path, (
        f'[database]\nurl = "sqlite:///{tmp_path / "news.db"}"\n'
        f'[telegram]\napi_base_url = "{fake_telegram.base_url}"\nwebhook_url = "http://127.0.0.1:{port}/hook"\n'
        f'webhook_port = {port}\n[weather]\napi_base_url = "http://127.0.0.1:9/v1"\n'
    ))
    env = {**os.environ, "NEWSBOT_TELEGRAM_TOKEN": TOKEN, "PYTHONPATH": str(DEMO.parent.parent)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "-vv", "run", "-c", str(config), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/hook"
    private = update_from(904, "/start", 4)
    private["message"]["from"]["first_name"] = private["message"]["chat"]["first_name"] = "Zhang-Private-Name"
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as client:
            while True:  # the server listens right after setWebhook
                try:
                    small = await client.post(url, json=update_from(905, "/start", 5))
                    break
                except httpx.TransportError:
                    assert process.returncode is None and time.monotonic() < deadline, "the webhook server never started"
                    await asyncio.sleep(0.1)
            try:  # refused by its size (400, or the connection closed mid-upload), not by its missing secret (403)
                huge = (await client.post(url, content=b"x" * (WEBHOOK_MAX_BODY_BYTES + 1),
                                          headers={"Content-Type": "application/json"})).status_code
            except httpx.TransportError:
                huge = "closed"
            [params] = [params for method, params in fake_telegram.calls if method == "setWebhook"]
            answered = await client.post(url, json=private, headers={"X-Telegram-Bot-Api-Secret-Token": params["secret_token"]})
        assert small.status_code == 403 and huge in (400, "closed") and answered.status_code == 200
        await fake_telegram.wait_for_messages(904, 1, timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert params["allowed_updates"] == ["message", "callback_query"]
    assert " DEBUG " in stderr.decode()  # -vv: debug lines, but none with an update in it
    assert "Zhang-Private-Name" not in stderr.decode()
