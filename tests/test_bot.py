"""End to end: the real python-telegram-bot Application against a fake Bot API on 127.0.0.1,
a local news site and a fake Open-Meteo. Time is driven through an injectable clock."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot.storage import Delivery, Subscriber
from bot.telegram.render import split_message
from tests.fakes.telegram import check_html
from tests.support.bot import ADMIN, DAY, TOKEN, Clock, seen_before, stop, subscriber
from tests.support.cli import newsbot
from tests.support.config import write_config
from tests.support.data import ROOT, SHANGHAI


async def test_commands_are_registered_in_three_languages(bot, fake_telegram):
    calls = [params for method, params in fake_telegram.calls
             if method == "setMyCommands" and params["scope"]["type"] == "default"]
    menus = {params.get("language_code"): {c["command"]: c["description"] for c in params["commands"]} for params in calls}
    assert set(menus) == {None, "en", "zh"}
    assert menus[None]["weather"] == "天氣預報" and menus["en"]["weather"] == "Weather forecast"
    assert set(menus["en"]) >= {"start", "subscribe", "unsubscribe", "latest", "weather", "time", "lang", "settings", "sources"}


async def test_start_offers_a_subscribe_button_that_subscribes(bot, fake_telegram, db):
    fake_telegram.user_says(500, "/start")
    [welcome] = await fake_telegram.wait_for_messages(500, 1)
    assert welcome["text"].startswith("👋 歡迎！")
    button = welcome["reply_markup"]["inline_keyboard"][0][0]
    fake_telegram.user_taps(500, button["callback_data"], welcome)
    confirmation = (await fake_telegram.wait_for_messages(500, 2))[-1]
    assert confirmation["text"].startswith("✅ 已訂閱：每天 07:30（Asia/Shanghai）")
    assert subscriber(db, 500).active


async def test_subscribe_then_the_push_arrives_at_the_chosen_time_once(bot, fake_telegram, db):
    _, services, clock = bot
    await services.ingestor.run()
    seen_before(db, DAY)
    fake_telegram.user_says(500, "/subscribe 07:45")
    [reply] = await fake_telegram.wait_for_messages(500, 1)
    assert reply["text"] == "✅ 已訂閱：每天 07:45（Asia/Shanghai）推送天氣和新聞摘要。\n用 /time HH:MM 修改時間，/unsubscribe 退訂。"

    assert await services.pusher.tick(DAY.replace(minute=44)) == 0
    assert await services.pusher.tick(DAY.replace(minute=45)) == 1
    push = fake_telegram.messages_to(500)[-1]
    assert push["text"].startswith("☀️ 天氣\n梁平區天氣：今天多雲轉小雨")
    assert "📰 新聞" in push["text"] and "梁平 “開春第一課”學出幹事創業的新氣象" in push["text"] and "環球觀焦點" not in push["text"]
    assert push["text"].index("天氣") < push["text"].index("新聞")
    assert '<a href="http://127.0.0.1' in push["html"]
    assert await services.pusher.tick(DAY.replace(minute=46)) == 0
    assert await services.pusher.tick(DAY + timedelta(days=1, minutes=45)) == 1  # the next day's push
    assert len(fake_telegram.messages_to(500)) == 3


async def test_restart_mid_day_does_not_repeat_and_a_missed_push_is_caught_up_once(make_bot, fake_telegram, db):
    clock = Clock(DAY)
    first, services = await make_bot(clock)
    fake_telegram.user_says(700, "/subscribe 07:30")
    await fake_telegram.wait_for_messages(700, 1)
    assert await services.pusher.tick(DAY.replace(minute=30)) == 1
    await stop(first)

    second, services = await make_bot(clock)  # restart later the same day
    try:
        assert await services.pusher.tick(DAY.replace(hour=10)) == 0
        # the bot is down over the next push time; when it comes back it pushes once
        late = DAY + timedelta(days=1, hours=3)
        assert await services.pusher.tick(late) == 1
        assert await services.pusher.tick(late + timedelta(minutes=1)) == 0
    finally:
        await stop(second)
    with db.session() as session:
        keys = sorted(d.push_key for d in session.scalars(select(Delivery)))
    assert keys == ["digest:2023-02-24", "digest:2023-02-25"]
    assert len(fake_telegram.messages_to(700)) == 3


async def test_latest_after_ingestion(bot, fake_telegram):
    _, services, _ = bot
    await services.ingestor.run()
    fake_telegram.user_says(501, "/latest 2", language_code="en")
    [message] = await fake_telegram.wait_for_messages(501, 1)
    assert message["text"].startswith("1. ") and "\n\n2. " in message["text"] and "\n\n3. " not in message["text"]
    assert check_html(message["html"])[0] is None


async def test_weather_now(bot, fake_telegram):
    fake_telegram.user_says(502, "/weather", language_code="en")
    [message] = await fake_telegram.wait_for_messages(502, 1)
    assert message["text"].startswith("☀️ Weather\n梁平區 weather: Today: partly cloudy, then light rain")
    assert "Open-Meteo.com (CC BY 4.0)" in message["text"]


async def test_blocked_user_is_deactivated(bot, fake_telegram, db):
    _, services, _ = bot
    fake_telegram.user_says(503, "/subscribe 07:30")
    await fake_telegram.wait_for_messages(503, 1)
    fake_telegram.blocked.add(503)
    assert await services.pusher.tick(DAY.replace(minute=30)) == 0
    row = subscriber(db, 503)
    assert not row.active and "blocked" in row.inactive_reason and row.next_push_at is None
    with db.session() as session:
        [delivery] = session.scalars(select(Delivery)).all()
    assert delivery.status == "failed" and "blocked" in delivery.error
    assert await services.pusher.tick(DAY + timedelta(days=1, minutes=30)) == 0


async def test_a_flood_wait_reschedules_the_chat_and_loses_nothing(bot, fake_telegram, db):
    _, services, _ = bot
    fake_telegram.user_says(504, "/subscribe 07:30")
    await fake_telegram.wait_for_messages(504, 1)
    fake_telegram.flood[504] = 2
    assert await services.pusher.tick(DAY.replace(minute=30)) == 0  # rescheduled, not slept on
    row = subscriber(db, 504)
    assert DAY.replace(minute=30, second=1) <= row.next_push_at <= DAY.replace(minute=30, second=5)
    assert await services.pusher.tick(DAY.replace(minute=30, second=1)) == 0  # wait not over yet
    assert await services.pusher.tick(row.next_push_at) == 0  # flooded once more
    assert await services.pusher.tick(subscriber(db, 504).next_push_at) == 1
    assert len([r for r in fake_telegram.rejected if r[1]["chat_id"] == 504]) == 2
    assert fake_telegram.messages_to(504)[-1]["text"].startswith("☀️ 天氣")
    assert await services.pusher.tick(DAY.replace(minute=35)) == 0  # and only once


async def test_group_migrated_to_supergroup_follows_the_new_id(bot, fake_telegram, db):
    _, services, _ = bot
    fake_telegram.user_says(-200, "/subscribe 07:30", user_id=9, chat_type="group")
    await fake_telegram.wait_for_messages(-200, 1)
    fake_telegram.migrations[-200] = -100200
    assert await services.pusher.tick(DAY.replace(minute=30)) == 1
    assert fake_telegram.messages_to(-100200)[-1]["text"].startswith("☀️ 天氣")
    assert subscriber(db, -100200).active


async def test_in_groups_only_admins_change_the_subscription(bot, fake_telegram, db):
    fake_telegram.plain_members.add((-100400, 11))
    fake_telegram.user_says(-100400, "/subscribe 08:00", user_id=11, chat_type="supergroup")
    [refused] = await fake_telegram.wait_for_messages(-100400, 1)
    assert refused["text"] == "在群組裡，只有管理員可以修改訂閱。"
    assert not subscriber(db, -100400).active
    fake_telegram.user_says(-100400, "/latest", user_id=11, chat_type="supergroup")  # reading is for everyone
    assert (await fake_telegram.wait_for_messages(-100400, 2))[-1]["text"] == "暫時還沒有新聞。"
    fake_telegram.user_says(-100400, "/subscribe 08:00", user_id=12, chat_type="supergroup")
    assert (await fake_telegram.wait_for_messages(-100400, 3))[-1]["text"].startswith("✅ 已訂閱：每天 08:00")


async def test_forum_topics_keep_their_thread(bot, fake_telegram, db):
    _, services, _ = bot
    fake_telegram.user_says(-100300, "/subscribe 07:30", user_id=10, chat_type="supergroup", thread_id=7)
    [reply] = await fake_telegram.wait_for_messages(-100300, 1)
    assert reply["thread_id"] == 7
    assert await services.pusher.tick(DAY.replace(minute=30)) == 1
    assert fake_telegram.messages_to(-100300)[-1]["thread_id"] == 7
    assert subscriber(db, -100300).thread_id == 7


@pytest.mark.parametrize(
    "command, expected",
    [
        ("/time 25:99", "時間格式不對：請用 24 小時制 HH:MM，例如 /time 07:30。"),
        ("/time", "時間格式不對：請用 24 小時制 HH:MM，例如 /time 07:30。"),
        ("/latest abc", "請給一個 1 到 20 之間的數字，例如 /latest 5。"),
        ("/lang xx", "不支持這個語言。可選：/lang zh-Hant（繁體）、/lang zh-Hans（簡體）、/lang en（English）。"),
        ("/frobnicate", "我不認識這個命令。發送 /help 查看可用命令。"),
        ("hello", "想看新聞請發送 /latest，天氣請發送 /weather，全部命令見 /help。"),
        ("/stats", "這個命令只對管理員開放。"),
    ],
)
async def test_bad_input_gets_a_helpful_reply(bot, fake_telegram, command, expected):
    fake_telegram.user_says(505, command)
    [message] = await fake_telegram.wait_for_messages(505, 1)
    assert message["text"] == expected


async def test_language_follows_lang_then_telegram(bot, fake_telegram, db):
    fake_telegram.user_says(506, "/help", language_code="zh-hans")
    assert (await fake_telegram.wait_for_messages(506, 1))[-1]["text"].startswith("可用命令：\n/subscribe [HH:MM] 订阅每日推送")
    fake_telegram.user_says(506, "/lang en", language_code="zh-hans")
    assert (await fake_telegram.wait_for_messages(506, 2))[-1]["text"] == "Language set to English."
    fake_telegram.user_says(506, "/help", language_code="zh-hans")
    assert (await fake_telegram.wait_for_messages(506, 3))[-1]["text"].startswith("Commands:")


async def test_settings_keyboard_changes_language_and_time(bot, fake_telegram, db):
    fake_telegram.user_says(507, "/settings")
    [view] = await fake_telegram.wait_for_messages(507, 1)
    assert view["text"].startswith("⚙️ 設定\n推送時間：07:30（Asia/Shanghai）")
    buttons = [b["callback_data"] for row in view["reply_markup"]["inline_keyboard"] for b in row]
    assert {"time:08:00", "time:type", "lang:en", "mode:instant", "sub:on"} <= set(buttons)
    fake_telegram.user_taps(507, "lang:en", view)
    assert (await fake_telegram.wait_for_edit())["text"].startswith("⚙️ Settings\nPush time: 07:30")
    fake_telegram.user_taps(507, "time:type", view)
    assert (await fake_telegram.wait_for_messages(507, 2))[-1]["text"] == "Send the new push time as HH:MM, for example 07:30."
    fake_telegram.user_says(507, "21:15")
    assert (await fake_telegram.wait_for_messages(507, 3))[-1]["text"].startswith("Push time set to 21:15")
    row = subscriber(db, 507)
    assert (row.language, row.push_time, row.active) == ("en", "21:15", False)


async def test_instant_news_outside_quiet_hours(bot, fake_telegram, db):
    _, services, _ = bot
    fake_telegram.user_says(508, "/subscribe 07:30")
    await fake_telegram.wait_for_messages(508, 1)
    now = datetime.now(SHANGHAI)  # stories are first seen on the real clock
    with db.session() as session:
        row = session.scalars(select(Subscriber).where(Subscriber.chat_id == 508)).one()
        row.news_mode, row.last_news_at, row.next_push_at = "instant", now - timedelta(hours=1), now + timedelta(days=30)
        row.photos = False  # one message (tests/test_telegraph.py sends the stories with their pictures)
    await services.ingestor.run()
    quiet = (now + timedelta(days=1)).replace(hour=23, minute=0)
    assert await services.pusher.tick(quiet) == 0  # 22:00–07:00: nothing
    daytime = quiet + timedelta(hours=13)
    assert await services.pusher.tick(daytime) == 1
    news = fake_telegram.messages_to(508)[-1]["text"]
    assert news.startswith("🆕 新消息\n\n1. ") and "4. " in news
    assert await services.pusher.tick(daytime + timedelta(minutes=1)) == 0  # each story once


async def test_admin_stats_and_fetch(bot, fake_telegram):
    fake_telegram.user_says(ADMIN, "/fetch", language_code="en")
    messages = await fake_telegram.wait_for_messages(ADMIN, 2)
    assert messages[-1]["text"] == "Fetch done: 4 new article(s), 0 error(s)."
    fake_telegram.user_says(ADMIN, "/stats", language_code="en")
    stats = (await fake_telegram.wait_for_messages(ADMIN, 3))[-1]["text"]
    assert stats.startswith("📊 Stats\nSubscribers: 1 (0 active)")
    assert "• 梁平新聞網: " in stats
    fake_telegram.user_says(ADMIN, "/sources", language_code="en")
    assert "• 梁平新聞網: last fetched" in (await fake_telegram.wait_for_messages(ADMIN, 4))[-1]["text"]


async def test_errors_reach_the_user_without_details_and_the_token_never_reaches_the_log(bot, fake_telegram, db, caplog):
    _, services, _ = bot
    caplog.set_level(logging.DEBUG)
    await services.ingestor.run()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE summaries"))
    fake_telegram.user_says(509, "/latest")
    [message] = await fake_telegram.wait_for_messages(509, 1)
    assert message["text"] == "抱歉，出了點問題，請稍後再試。"
    assert "error while handling an update" in caplog.text
    assert TOKEN not in caplog.text


def test_long_messages_split_at_paragraphs_with_valid_html():
    paragraphs = [f"{n}. <b>標題 {n}</b>\n" + "梁平&amp;重慶" * 120 + f'\n<a href="http://x/{n}">來源</a>' for n in range(20)]
    parts = split_message("\n\n".join(paragraphs))
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert all(check_html(p)[0] is None for p in parts)
    assert "\n\n".join(parts) == "\n\n".join(paragraphs)
    huge = split_message("<b>x</b>" + "長" * 10000)
    assert all(len(p) <= 4096 and check_html(p)[0] is None for p in huge)


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
async def test_run_without_token_exits_2(tmp_path):
    result = newsbot("run", cwd=tmp_path)
    assert result.returncode == 2 and "no Telegram bot token" in result.stderr


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
async def test_newsbot_run_polls_sources_answers_and_stops_cleanly(tmp_path, fake_telegram, news_site):
    """The real `newsbot run` process: its jobs ingest the local site, it answers, SIGTERM stops it."""
    import asyncio
    import os
    import signal
    import sys

    config = write_config(tmp_path, (
        f'[telegram]\napi_base_url = "{fake_telegram.base_url}"\n'
        f'[weather]\napi_base_url = "{news_site.url("/v1")}"\nmax_retries = 0\n'
        "[fetch]\nmin_delay_seconds = 0\n"
        f'[[sources]]\nname = "梁平新聞網"\nkind = "page"\nurl = "{news_site.url("/list.html")}"\n'
    ))
    env = {**os.environ, "NEWSBOT_TELEGRAM_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "-c", str(config), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        fake_telegram.user_says(800, "/start")
        assert (await fake_telegram.wait_for_messages(800, 1, timeout=60))[0]["text"].startswith("👋 歡迎！")
        for attempt in range(60):  # the poll-sources job runs a second after start
            fake_telegram.user_says(800, "/latest 1")
            latest = (await fake_telegram.wait_for_messages(800, 2 + attempt, timeout=30))[-1]["text"]
            if latest.startswith("1. "):
                break
            await asyncio.sleep(0.5)
        assert latest.startswith("1. ")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert TOKEN not in stderr.decode()


def test_article_text_is_escaped_in_html():
    from bot.digest import StoryItem
    from bot.telegram.render import render_stories

    story = StoryItem(title="<script>alert(1)</script> & 梁平", summary="a < b > c", published=None,
                      sources=[{"name": "x<y", "url": 'http://e.example/a?b=1&c="2"'}, {"name": "本地檔案", "url": "file:///tmp/a.html"}],
                      fallback=True)
    rendered = "\n\n".join(render_stories([story], "en"))
    assert check_html(rendered)[0] is None
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 梁平" in rendered and "a &lt; b &gt; c" in rendered
    assert '<a href="http://e.example/a?b=1&amp;c=&quot;2&quot;">x&lt;y</a> · 本地檔案' in rendered
    assert rendered.endswith("<i>ℹ️ Some summaries are excerpts of the article (the summarization model is not ready).</i>")
