"""End to end, the readers' own features: keyword follows, search, weather alerts, several
regions, channels. The real Application against the fake Bot API and a fake Open-Meteo."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from bot.storage import Delivery, Subscriber
from bot.telegram import push
from summarizer import Summarizer
from tests.fakes.open_meteo import open_meteo_payload, stormy
from tests.fakes.openai import FakeOpenAI
from tests.support.bot import DAY, Clock, say, seen_before
from tests.support.data import SHANGHAI
from tests.support.web import Reply


def real_daytime() -> datetime:
    """Stories are first seen on the real clock: a tick at 10:00 local today, outside quiet hours."""
    return datetime.now(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0)


# -- keyword follows ------------------------------------------------------------------


async def test_a_traditional_follow_alerts_once_on_a_simplified_story_and_not_on_others(start_bot, fake_telegram):
    services = await start_bot()
    answer = await say(fake_telegram, 600, "/follow 高鐵")
    assert answer["text"].startswith("🔔 已關注：高鐵。")
    await say(fake_telegram, 601, "/follow 暴風雪")  # mentioned by no story
    await services.ingestor.run()
    now = real_daytime() + timedelta(days=1)

    assert await services.pusher.tick(now) == 1
    [alert] = fake_telegram.messages_to(600)[1:]
    assert alert["text"].startswith("🔔 關於“高鐵”的新消息\n\n1. 渝西高鐵梁平段")  # the reader's script
    assert "重慶日報" in alert["text"] and 'href="http://127.0.0.1' in alert["html"]
    assert len(fake_telegram.messages_to(601)) == 1  # only the confirmation
    assert await services.pusher.tick(now + timedelta(minutes=1)) == 0  # one alert per story


async def test_several_matching_keywords_give_one_alert_and_quiet_hours_hold_it(start_bot, fake_telegram):
    services = await start_bot()
    await say(fake_telegram, 602, "/follow 高铁, 梁平段, 桥梁")
    await services.ingestor.run()
    night = real_daytime().replace(hour=23) + timedelta(days=1)
    assert await services.pusher.tick(night) == 0  # 22:00-07:00: held, not lost
    assert await services.pusher.tick(night + timedelta(hours=9)) == 1
    assert len(fake_telegram.messages_to(602)) == 2


async def test_follows_lists_with_buttons_that_remove_and_limits_are_explained(start_bot, fake_telegram):
    await start_bot("[follows]\nmax_per_chat = 2\n")
    answer = await say(fake_telegram, 603, "/follow flood, 高鐵, 停電, x", language_code="en")
    assert "Following: flood, 高鐵." in answer["text"]
    assert "“停電” was not added: at most 2 keywords" in answer["text"] and "“x” is too short" in answer["text"]
    listing = await say(fake_telegram, 603, "/follows", language_code="en")
    buttons = [row[0] for row in listing["reply_markup"]["inline_keyboard"]]
    assert [b["text"] for b in buttons] == ["✖ flood", "✖ 高鐵"]
    fake_telegram.user_taps(603, buttons[0]["callback_data"], listing, language_code="en")
    edited = await fake_telegram.wait_for_edit(len(fake_telegram.edits) + 1)
    assert [row[0]["text"] for row in edited["reply_markup"]["inline_keyboard"]] == ["✖ 高鐵"]
    answer = await say(fake_telegram, 603, "/unfollow 高铁", language_code="en")  # the other script removes it too
    assert answer["text"] == "Stopped following: 高鐵."
    assert (await say(fake_telegram, 603, "/follows", language_code="en"))["text"].startswith("You follow no keywords yet.")
    assert (await say(fake_telegram, 603, "/follow", language_code="en"))["text"].startswith("Add the words to follow")


# -- search ---------------------------------------------------------------------------


async def test_search_finds_stories_across_scripts_newest_first_and_helps_when_nothing_matches(start_bot, fake_telegram):
    services = await start_bot()
    await services.ingestor.run()
    found = await say(fake_telegram, 610, "/search 高鐵")
    assert found["text"].startswith("🔎 最近 30 天提到“高鐵”的新聞\n\n1. 渝西高鐵梁平段") and "2. " not in found["text"]
    both = await say(fake_telegram, 610, "/search 預制菜 梁平")
    assert both["text"].count("預制菜") >= 1 and "渝西高鐵" not in both["text"]
    english = await say(fake_telegram, 611, "/search WETLAND", language_code="en")
    assert "Shuanggui Lake" in english["text"]
    assert "Shuanggui" not in (await say(fake_telegram, 611, "/search wet", language_code="en"))["text"]  # whole words
    none = await say(fake_telegram, 610, "/search 暴風雪")
    assert none["text"] == "最近 30 天沒有新聞提到“暴風雪”。試試別的詞或少寫幾個詞；也可以 /follow 暴風雪，有新聞時通知你。"
    assert (await say(fake_telegram, 610, "/search"))["text"].startswith("請寫上要找的詞")


# -- weather alerts -------------------------------------------------------------------


async def test_an_alert_arrives_once_for_a_storm_tomorrow_and_again_only_when_it_worsens(start_bot, fake_telegram, site, monkeypatch):
    monkeypatch.setattr(push, "ALERT_SECONDS", 0)  # look at the forecast every tick
    site.routes["/v1/forecast"] = Reply(json.dumps(stormy()))
    clock = Clock(DAY)
    services = await start_bot(clock=clock)
    assert (await say(fake_telegram, 620, "/alerts on"))["text"].startswith("⛈ 天氣提醒已開啟")
    await say(fake_telegram, 621, "/alerts off")
    afternoon = DAY.replace(hour=15)
    assert await services.pusher.tick(afternoon) == 1
    alert = fake_telegram.messages_to(620)[-1]["text"]
    assert "梁平區" in alert and "明天" in alert and "雷" in alert
    assert len(fake_telegram.messages_to(621)) == 1
    services.weather.settings.weather.cache_minutes = 0  # the next ticks ask the provider again
    assert await services.pusher.tick(afternoon + timedelta(minutes=5)) == 0  # same event: not again
    site.routes["/v1/forecast"] = Reply(json.dumps(stormy("hail")))
    assert await services.pusher.tick(afternoon + timedelta(minutes=10)) == 1  # worse: hail
    site.routes["/v1/forecast"] = Reply(json.dumps(stormy()))
    assert await services.pusher.tick(afternoon + timedelta(minutes=15)) == 0  # eased: nothing
    assert len(fake_telegram.messages_to(620)) == 3


async def test_fine_weather_gives_no_alert_and_quiet_hours_hold_all_but_the_severest(start_bot, fake_telegram, site, monkeypatch):
    monkeypatch.setattr(push, "ALERT_SECONDS", 0)
    services = await start_bot()
    await say(fake_telegram, 622, "/alerts on")
    assert await services.pusher.tick(DAY.replace(hour=15)) == 0  # the default forecast: light rain, then overcast
    services.weather.settings.weather.cache_minutes = 0
    site.routes["/v1/forecast"] = Reply(json.dumps(stormy()))
    assert await services.pusher.tick(DAY.replace(hour=23)) == 0  # a thunderstorm waits for morning
    site.routes["/v1/forecast"] = Reply(json.dumps(stormy("hail")))
    assert await services.pusher.tick(DAY.replace(hour=23, minute=30)) == 1  # hail does not wait
    assert "冰雹" in fake_telegram.messages_to(622)[-1]["text"]


# -- several regions ------------------------------------------------------------------


REGIONS = """
[[regions]]
name = "梁平區"
sources = ["梁平新聞網"]
[[regions]]
name = "Chongqing"
timezone = "Asia/Shanghai"
language = "en"
latitude = 29.56
longitude = 106.55
sources = ["重庆日报"]
"""


async def test_two_regions_each_get_their_own_weather_and_stories(start_bot, fake_telegram, site, db):
    services = await start_bot(REGIONS)
    await services.ingestor.run()
    seen_before(db, DAY)
    await say(fake_telegram, 630, "/subscribe 07:30")
    choose = await say(fake_telegram, 631, "/region", language_code="en")
    assert [row[0]["text"] for row in choose["reply_markup"]["inline_keyboard"]] == ["梁平區", "Chongqing"]
    fake_telegram.user_taps(631, choose["reply_markup"]["inline_keyboard"][1][0]["callback_data"], choose, language_code="en")
    assert (await fake_telegram.wait_for_edit(len(fake_telegram.edits) + 1))["text"].startswith("📍 Region set to Chongqing")
    await say(fake_telegram, 631, "/subscribe 07:30", language_code="en")

    assert await services.pusher.tick(DAY.replace(minute=30)) == 2
    liangping, chongqing = fake_telegram.messages_to(630)[-1]["text"], fake_telegram.messages_to(631)[-1]["text"]
    assert "梁平區天氣" in liangping and "預制菜" in liangping and "渝西高鐵" not in liangping
    assert "Chongqing weather" in chongqing and "渝西高铁" in chongqing and "預制菜" not in chongqing
    asked = {parse_qs(urlsplit(hit.path).query)["latitude"][0] for hit in site.hits_for("/v1/forecast")}
    assert asked == {"30.67", "29.56"}
    latest = await say(fake_telegram, 631, "/latest", language_code="en")
    assert "Shuanggui" in latest["text"] and "預制菜" not in latest["text"]


async def test_a_shared_location_picks_the_nearest_region_and_names_are_found_in_either_script(start_bot, fake_telegram, db):
    await start_bot(REGIONS)
    before = len(fake_telegram.messages_to(632))
    fake_telegram.user_shares_location(632, 29.6, 106.5)
    [answer] = (await fake_telegram.wait_for_messages(632, before + 1))[before:]
    assert answer["text"].startswith("📍 離你最近的是Chongqing（約 7 公里）")
    assert (await say(fake_telegram, 632, "/region 梁平区"))["text"].startswith("📍 地區已設為梁平區")
    assert (await say(fake_telegram, 632, "/region Paris"))["text"] == "沒有叫“Paris”的地區。可選：梁平區、Chongqing。"
    with db.session() as session:
        assert session.scalars(select(Subscriber.region).where(Subscriber.chat_id == 632)).one() == "梁平區"


async def test_one_region_says_so(start_bot, fake_telegram):
    await start_bot()
    assert (await say(fake_telegram, 633, "/region"))["text"] == "本機器人只服務梁平區。"


# -- channels -------------------------------------------------------------------------


async def test_a_channel_gets_exactly_one_digest_a_day_even_across_a_restart(start_bot, fake_telegram, db):
    config = REGIONS + '[[channels]]\nchat_id = -100777\nregion = "Chongqing"\ntime = "07:00"\n'
    services = await start_bot(config, Clock(DAY.replace(hour=6)))
    await services.ingestor.run()
    assert await services.pusher.tick(DAY.replace(hour=6, minute=59)) == 0
    assert await services.pusher.tick(DAY.replace(hour=7)) == 1
    [digest] = fake_telegram.messages_to(-100777)
    assert "Chongqing weather" in digest["text"]
    assert await services.pusher.tick(DAY.replace(hour=7, minute=1)) == 0
    services = await start_bot(config, Clock(DAY.replace(hour=8)))  # a restart syncs the channel: no second digest today
    assert await services.pusher.tick(DAY.replace(hour=9)) == 0
    assert await services.pusher.tick(DAY.replace(hour=7) + timedelta(days=1)) == 1
    assert len(fake_telegram.messages_to(-100777)) == 2
    with db.session() as session:
        keys = session.scalars(select(Delivery.push_key).join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                               .where(Subscriber.chat_id == -100777)).all()
    assert sorted(keys) == ["digest:2023-02-24", "digest:2023-02-25"]


async def test_a_channel_removed_from_the_config_stops(start_bot, fake_telegram, db):
    await start_bot('[[channels]]\nchat_id = -100778\ntime = "07:00"\n')
    services = await start_bot()
    assert await services.pusher.tick(DAY.replace(hour=7, minute=5)) == 0
    with db.session() as session:
        row = session.scalars(select(Subscriber).where(Subscriber.chat_id == -100778)).one()
    assert not row.active and row.inactive_reason == "no longer in [[channels]]"


async def test_a_channel_whose_push_time_passed_while_the_bot_was_down_gets_it_once_on_restart(start_bot, fake_telegram):
    config = '[[channels]]\nchat_id = -100779\ntime = "07:00"\n'
    services = await start_bot(config, Clock(DAY.replace(hour=6)))
    services = await start_bot(config, Clock(DAY.replace(hour=9)))  # down from before 07:00 until 09:00
    assert await services.pusher.tick(DAY.replace(hour=9)) == 1
    assert await services.pusher.tick(DAY.replace(hour=9, minute=1)) == 0


async def test_new_commands_are_in_the_menu_and_help_and_alerts_toggle_in_settings(start_bot, fake_telegram, db):
    await start_bot()
    menus = {params.get("language_code"): [c["command"] for c in params["commands"]]
             for method, params in fake_telegram.calls
             if method == "setMyCommands" and params["scope"]["type"] == "default"}
    for code in (None, "en", "zh"):
        assert {"follow", "unfollow", "follows", "search", "alerts", "region"} <= set(menus[code])
    help_text = (await say(fake_telegram, 640, "/help", language_code="en"))["text"]
    assert all(f"/{name}" in help_text for name in ("follow", "unfollow", "follows", "search", "alerts", "region"))
    view = await say(fake_telegram, 640, "/settings", language_code="en")
    assert "Weather alerts: off" in view["text"]
    button = next(b for row in view["reply_markup"]["inline_keyboard"] for b in row if b["callback_data"] == "alerts:on")
    fake_telegram.user_taps(640, button["callback_data"], view, language_code="en")
    assert "Weather alerts: on" in (await fake_telegram.wait_for_edit(len(fake_telegram.edits) + 1))["text"]
    with db.session() as session:
        assert session.scalars(select(Subscriber.alerts).where(Subscriber.chat_id == 640)).one()


# -- the written lead -----------------------------------------------------------------


@pytest.fixture
def lead_server(tmp_path):
    """An inference server whose profile writes the digests' leads (summaries stay extractive)."""
    server = FakeOpenAI()
    models = tmp_path / "models.yaml"
    models.write_text(f"lead: writer\nprofiles:\n  writer:\n    kind: openai\n    base_url: \"{server.base_url}\"\n"
                      "    model: test-model\n", encoding="utf-8")
    yield server, Summarizer.from_file(models)
    server.close()


async def test_the_digest_opens_with_a_faithful_lead_in_the_reader_s_script(start_bot, fake_telegram, lead_server):
    server, summarizer = lead_server
    server.answer = lambda user: "今天梁平区多云转小雨，最高12°C。预制菜产业园新签约项目12个。"
    services = await start_bot(summarizer=summarizer)
    await services.ingestor.run()
    await say(fake_telegram, 650, "/subscribe 07:30")
    assert await services.pusher.tick(DAY.replace(minute=30)) == 1
    push = fake_telegram.messages_to(650)[-1]["text"]
    assert push.startswith("📝 今天梁平區多雲轉小雨，最高12°C。預製菜產業園新簽約項目12個。\n\n☀️ 天氣\n梁平區天氣：")
    [request] = [r for r in server.requests if r.body]
    assert "梁平" in request.user and "12" in request.user  # written from the forecast and the stories


async def test_a_lead_the_gate_rejects_falls_back_visibly_to_the_forecast(start_bot, fake_telegram, lead_server, caplog):
    server, summarizer = lead_server
    server.answer = lambda user: "今天梁平区晴，最高35°C。"  # 35 is in neither the forecast nor the stories
    caplog.set_level(logging.INFO, logger="summarizer")
    services = await start_bot(summarizer=summarizer)
    await say(fake_telegram, 651, "/subscribe 07:30")
    assert await services.pusher.tick(DAY.replace(minute=30)) == 1
    push = fake_telegram.messages_to(651)[-1]["text"]
    assert push.startswith("ℹ️ 今天模型寫的導語沒有通過事實核對，以下是天氣預報原文。\n\n☀️ 天氣\n梁平區天氣：今天多雲轉小雨")
    assert "35" not in push
    assert "faithfulness check: number 35" in caplog.text


SIGNAL_PAGE = """<html><head><title>梁平區氣象臺發布暴雨橙色預警信號</title>
<meta name="pubdate" content="{day}"></head><body><article><h1>梁平區氣象臺發布暴雨橙色預警信號</h1>
<p>梁平區氣象臺{month}月{date}日發布暴雨橙色預警信號：預計未來6小時內，我區大部分地方將出現50毫米以上降雨，
並伴有雷電和短時大風。請相關單位和人員做好防範工作，注意防範山洪、地質災害和城市內澇。</p>
<p>區防汛抗旱指揮部已啟動應急響應，各鎮街要加強巡查，及時轉移危險區域群眾，確保人民群眾生命財產安全。</p>
</article></body></html>"""


async def test_a_warning_signal_in_the_news_is_an_alert(start_bot, fake_telegram, site, monkeypatch):
    monkeypatch.setattr(push, "ALERT_SECONDS", 0)
    issued = datetime.now(SHANGHAI) - timedelta(hours=1)  # articles are stored on the real clock
    site.routes["/a/list.html"] = Reply('<a href="/a/news/9.html">9</a><a href="/a/news/8.html">8</a>')
    site.routes["/a/news/9.html"] = Reply(SIGNAL_PAGE.format(day=issued.date(), month=issued.month, date=issued.day))
    elsewhere = SIGNAL_PAGE.replace("梁平區", "廣東省").replace("我區", "我省").replace("暴雨橙色", "暴雨紅色")
    site.routes["/a/news/8.html"] = Reply(elsewhere.format(day=issued.date(), month=issued.month, date=issued.day))
    site.routes["/v1/forecast"] = Reply(json.dumps(open_meteo_payload(issued.date())))  # fine weather
    services = await start_bot(clock=Clock(issued))
    await say(fake_telegram, 660, "/alerts on", language_code="en")
    await services.ingestor.run()
    afternoon = issued.replace(hour=17, minute=0)  # the signal's day, outside quiet hours
    assert await services.pusher.tick(afternoon) == 1
    alert = fake_telegram.messages_to(660)[-1]["text"]
    assert "orange rainstorm warning" in alert.lower()  # the province's red signal, reposted, is not this town's
    assert await services.pusher.tick(afternoon + timedelta(minutes=1)) == 0


async def test_a_configured_channel_s_settings_are_not_changed_from_the_chat(start_bot, fake_telegram, db):
    await start_bot('[[channels]]\nchat_id = -100780\ntime = "07:00"\n')
    fake_telegram.user_says(-100780, "/time 09:00", chat_type="supergroup", user_id=42)
    [answer] = await fake_telegram.wait_for_messages(-100780, 1)
    assert "[[channels]]" in answer["text"]
    with db.session() as session:
        assert session.scalars(select(Subscriber.push_time).where(Subscriber.chat_id == -100780)).one() == "07:00"


async def test_a_setting_that_is_not_the_schedule_keeps_a_due_push_due(start_bot, fake_telegram, db):
    await start_bot()
    await say(fake_telegram, 670, "/subscribe 07:00")
    with db.session() as session:
        due = session.scalars(select(Subscriber.next_push_at).where(Subscriber.chat_id == 670)).one()
    for command in ("/lang en", "/alerts on", "/follow 高鐵"):
        await say(fake_telegram, 670, command)
    with db.session() as session:
        assert session.scalars(select(Subscriber.next_push_at).where(Subscriber.chat_id == 670)).one() == due
    await say(fake_telegram, 670, "/time 08:00", language_code="en")
    with db.session() as session:
        assert session.scalars(select(Subscriber.next_push_at).where(Subscriber.chat_id == 670)).one() != due


async def test_locations_in_groups_and_live_location_updates_get_no_answer(start_bot, fake_telegram):
    await start_bot(REGIONS)
    fake_telegram.user_shares_location(-100781, 29.6, 106.5, chat_type="group")
    fake_telegram.user_says(-100781, "/help", chat_type="group")  # one chat's updates are handled in order
    [answer] = await fake_telegram.wait_for_messages(-100781, 1)
    assert answer["text"].startswith("可用命令")
