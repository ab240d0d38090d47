"""The forecast chart: its pixels (a golden image within tolerance), its glyphs in every reader
language, the cache, and its way to chats through the real Application and the fake Bot API
(sendPhoto with the weather as caption; the chart setting; text alone when Telegram refuses it).

To redraw the golden image after an intended change: ``NEWSBOT_UPDATE_GOLDEN=1 pytest tests/test_weather_chart.py``
and look at ``tests/fixtures/chart/*.png`` before committing it.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import warnings
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.testing.compare import compare_images
from PIL import Image
from telegram import Bot

from bot.config import Settings
from bot.subscriptions import ChatRef, Subscriptions
from bot.telegram.delivery import Deliverer, Photo
from bot.texts import LANGUAGES
from bot.weather_chart import (
    FAMILIES,
    HEIGHT,
    MAX_CHARTS,
    WIDTH,
    Charts,
    chart_labels,
    font_families,
    render_chart,
)
from bot.weather_service import WeatherReport, parse_open_meteo, sample_forecast
from summarizer.weather.forecast import WMO_CODES, Forecast, condition
from tests.support.bot import TOKEN, seen_before, subscriber
from tests.support.data import DEMO, SHANGHAI
from tests.support.web import Reply

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "chart"
START = datetime(2023, 2, 24, 7)  # the sample forecast's first morning, on the region's wall clock
NOW = START.replace(tzinfo=SHANGHAI)
TOLERANCE = 3.0  # RMS over 0-255 per channel: font hinting and antialiasing move a few edge pixels, not lines


def forecast() -> Forecast:
    return sample_forecast(NOW, Settings().region)


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


# -- the picture ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_chart_is_a_png_of_the_expected_size_and_weight(language):
    png = render_chart(forecast(), language, START)
    image = decoded(png)
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    assert len(png) <= 60_000
    assert len(image.convert("RGB").getcolors(1 << 16)) > 8  # drawn, not blank


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_chart_matches_its_golden_image(language, tmp_path):
    actual = tmp_path / f"{language}.png"
    actual.write_bytes(render_chart(forecast(), language, START))
    expected = GOLDEN / f"{language}.png"
    if os.environ.get("NEWSBOT_UPDATE_GOLDEN"):
        expected.write_bytes(actual.read_bytes())
    assert compare_images(str(expected), str(actual), tol=TOLERANCE) is None


def test_the_golden_comparison_sees_a_different_forecast(tmp_path):
    """The tolerance forgives rendering noise, not a chart of other weather."""
    warmer = forecast()
    warmer.hours = [replace(hour, temperature=hour.temperature + 5) for hour in warmer.hours]
    actual = tmp_path / "warmer.png"
    actual.write_bytes(render_chart(warmer, "zh-Hant", START))
    assert compare_images(str(GOLDEN / "zh-Hant.png"), str(actual), tol=TOLERANCE) is not None


def _cmap(family: str) -> set[int]:
    """The characters of the face matplotlib draws for ``family`` (it must find that very face)."""
    font_families("en")  # registers the CJK collection
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    face = TTFont(found.path, fontNumber=found.face_index) if found.path.endswith(".ttc") else TTFont(found.path)
    assert face["name"].getDebugName(1) == family
    return set(face.getBestCmap())


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_label_glyph_is_in_the_languages_font(language):
    """No tofu: each character the chart can write in ``language`` exists in the face drawn for it
    (for English, DejaVu Sans; a Chinese place name falls back to the CJK face, checked as zh)."""
    days = [START.date() + timedelta(days=i) for i in range(7)]  # every weekday
    labels = chart_labels(language, "Liangping", days, sample=False) | chart_labels(language, "Liangping", [], sample=True)
    words = [*labels.values(), *(condition(code, language) for code in WMO_CODES), "0123456789°:-."]
    cmap = _cmap(FAMILIES[language])
    missing = sorted({char for word in words for char in word if not char.isspace() and ord(char) not in cmap})
    assert missing == []


def test_chinese_place_names_are_in_the_fallback_face():
    cmap = _cmap(FAMILIES["zh-Hans"])
    assert all(ord(char) in cmap for char in "梁平區梁平区重慶重庆萬州")


@pytest.mark.parametrize("language", LANGUAGES)
def test_drawing_warns_of_no_missing_glyph(language):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_chart(replace(forecast(), region="梁平區"), language, START)
    assert [str(w.message) for w in caught if "missing from" in str(w.message)] == []


def test_too_few_hours_ahead_draw_no_chart():
    assert render_chart(forecast(), "en", START + timedelta(hours=66)) is None  # 6 of the 72 hours left
    assert render_chart(replace(forecast(), hours=[]), "en", START) is None


# -- forecast hours -----------------------------------------------------------------------


def test_hours_are_read_from_open_meteo_and_survive_storage():
    payload = json.loads((DEMO / "sample-forecast.json").read_text(encoding="utf-8"))
    parsed = parse_open_meteo(payload, Settings().region, NOW)
    assert len(parsed.hours) == 72
    first = parsed.hours[0]
    assert (first.time, first.temperature, first.precipitation_probability) == (START - timedelta(hours=7), 9.8, 10)
    assert first.weather_code == 2
    assert max(h.precipitation for h in parsed.hours) == 1.1
    assert Forecast.from_dict(json.loads(json.dumps(parsed.to_dict()))) == parsed
    stored_before = {key: value for key, value in parsed.to_dict().items() if key != "hours"}  # stored before hours were kept
    assert Forecast.from_dict(stored_before).hours == []


def test_an_answer_without_hourly_temperatures_has_no_hours():
    payload = json.loads((DEMO / "sample-forecast.json").read_text(encoding="utf-8"))
    del payload["hourly"]["temperature_2m"]
    assert parse_open_meteo(payload, Settings().region, NOW).hours == []


# -- the cache ----------------------------------------------------------------------------


def report(data: Forecast | None = None) -> WeatherReport:
    return WeatherReport("梁平區", "open-meteo", data or forecast())


async def test_a_chart_is_drawn_once_per_region_forecast_language_and_hour():
    charts = Charts()
    same = await asyncio.gather(*(charts.chart(report(), "zh-Hant", NOW + timedelta(minutes=m)) for m in (0, 10, 59)))
    assert same[0] is same[1] is same[2] and decoded(same[0]).size == (WIDTH, HEIGHT)
    english = await charts.chart(report(), "en", NOW)
    later = await charts.chart(report(), "zh-Hant", NOW + timedelta(hours=1))
    assert english != same[0] and later != same[0]


@pytest.mark.slow  # draws MAX_CHARTS + 5 charts: `pytest -m "not slow"` leaves it out
async def test_the_cache_keeps_the_newest_charts_only():
    charts = Charts()
    for hour in range(MAX_CHARTS + 5):
        await charts.chart(report(), "en", NOW + timedelta(hours=hour))
    assert len(charts._charts) == MAX_CHARTS


async def test_a_forecast_fetched_again_with_the_same_numbers_reuses_the_chart():
    charts = Charts()
    first = await charts.chart(report(), "en", NOW)
    refetched = replace(forecast(), fetched_at=NOW + timedelta(hours=1))
    assert await charts.chart(report(refetched), "en", NOW + timedelta(minutes=5)) is first
    changed = replace(refetched, hours=[replace(h, precipitation=2.0) for h in refetched.hours])
    assert await charts.chart(report(changed), "en", NOW) != first


async def test_a_chart_that_cannot_be_drawn_is_none_and_logged(caplog):
    """An absurd provider number (JSON's 1e999 reads as infinity) breaks the drawing, not the weather."""
    broken = forecast()
    broken.hours[10] = replace(broken.hours[10], temperature=json.loads("1e999"))
    assert await Charts().chart(report(broken), "en", NOW) is None
    assert "could not draw the weather chart of 梁平區; sending the text alone" in caplog.text


async def test_no_chart_without_hours_or_when_switched_off():
    assert await Charts().chart(report(replace(forecast(), hours=[])), "en", NOW) is None
    assert await Charts().chart(WeatherReport("梁平區", "none", None), "en", NOW) is None
    assert await Charts(enabled=False).chart(report(), "en", NOW) is None


# -- through the Bot API -------------------------------------------------------------------


@pytest.fixture
def hourly_forecast(news_site):
    """The fake Open-Meteo answers with hours (temperatures, precipitation): charts can be drawn."""
    news_site.routes["/v1/forecast"] = Reply((DEMO / "sample-forecast.json").read_bytes())
    return news_site


async def test_weather_in_a_private_chat_is_the_chart_with_the_text_as_caption(hourly_forecast, bot, fake_telegram):
    fake_telegram.user_says(700, "/weather")
    [photo] = await fake_telegram.wait_for_messages(700, 1)
    assert decoded(photo["photo"]).size == (WIDTH, HEIGHT)
    assert photo["text"].startswith("☀️ 天氣\n梁平區天氣：今天多雲轉小雨") and "Open-Meteo" in photo["text"]
    fake_telegram.user_says(700, "/help")  # one chat's updates are answered in order: nothing came between
    assert [m.get("photo") is None for m in await fake_telegram.wait_for_messages(700, 2)] == [False, True]
    assert fake_telegram.messages_to(700)[1]["text"].startswith("可用命令")  # the text went as the caption, not again


async def test_the_chart_can_be_switched_off_in_settings(hourly_forecast, bot, fake_telegram, db):
    fake_telegram.user_says(701, "/settings", language_code="en")
    [view] = await fake_telegram.wait_for_messages(701, 1)
    assert "Weather chart: on" in view["text"]
    buttons = [b["callback_data"] for row in view["reply_markup"]["inline_keyboard"] for b in row]
    assert "chart:off" in buttons
    fake_telegram.user_taps(701, "chart:off", view, language_code="en")
    edited = await fake_telegram.wait_for_edit()
    assert "Weather chart: off" in edited["text"] and subscriber(db, 701).chart is False
    fake_telegram.user_says(701, "/weather", language_code="en")
    reply = (await fake_telegram.wait_for_messages(701, 2))[-1]
    assert "photo" not in reply and reply["text"].startswith("☀️ Weather\n")


async def test_groups_get_no_chart_unless_they_turn_it_on(hourly_forecast, bot, fake_telegram, db):
    fake_telegram.user_says(-800, "/weather", chat_type="supergroup")
    [text] = await fake_telegram.wait_for_messages(-800, 1)
    assert "photo" not in text
    fake_telegram.user_says(-800, "/settings", chat_type="supergroup")
    view = (await fake_telegram.wait_for_messages(-800, 2))[-1]
    fake_telegram.user_taps(-800, "chart:on", view, chat_type="supergroup")
    await fake_telegram.wait_for_edit()
    assert subscriber(db, -800).chart is True
    fake_telegram.user_says(-800, "/weather", chat_type="supergroup")
    assert "photo" in (await fake_telegram.wait_for_messages(-800, 3))[-1]


async def test_the_daily_push_sends_the_chart_then_the_news(hourly_forecast, bot, fake_telegram, db):
    _, services, _ = bot
    await services.ingestor.run()
    seen_before(db, NOW)
    fake_telegram.user_says(702, "/subscribe 07:45")
    await fake_telegram.wait_for_messages(702, 1)
    assert await services.pusher.tick(NOW.replace(minute=45)) == 1
    photo, news = fake_telegram.messages_to(702)[1:]
    assert decoded(photo["photo"]).size == (WIDTH, HEIGHT)
    assert photo["text"].startswith("☀️ 天氣\n梁平區天氣：今天多雲轉小雨")
    assert "📰 新聞" in news["text"] and "梁平區天氣" not in news["text"]  # the weather once, under the chart
    assert await services.pusher.tick(NOW.replace(minute=46)) == 0


async def test_a_flood_wait_on_the_chart_reschedules_the_push_and_sends_it_once(hourly_forecast, bot, fake_telegram, db):
    _, services, _ = bot
    fake_telegram.user_says(704, "/subscribe 07:30")
    await fake_telegram.wait_for_messages(704, 1)
    fake_telegram.flood[704] = 1
    assert await services.pusher.tick(NOW.replace(minute=30)) == 0  # rescheduled, nothing sent
    assert len(fake_telegram.messages_to(704)) == 1
    assert await services.pusher.tick(subscriber(db, 704).next_push_at) == 1
    photo = fake_telegram.messages_to(704)[1]
    assert "photo" in photo and photo["text"].startswith("☀️ 天氣")
    assert [method for method, _, _ in fake_telegram.rejected] == ["sendPhoto"]
    assert await services.pusher.tick(NOW.replace(minute=35)) == 0  # and only once
    assert len([m for m in fake_telegram.messages_to(704) if "photo" in m]) == 1


async def test_a_refused_photo_leaves_the_text(hourly_forecast, bot, fake_telegram):
    fake_telegram.refuse_photos = True
    fake_telegram.user_says(703, "/weather")
    [text] = await fake_telegram.wait_for_messages(703, 1)
    assert "photo" not in text and text["text"].startswith("☀️ 天氣\n梁平區天氣")
    assert [method for method, _, _ in fake_telegram.rejected] == ["sendPhoto"]


async def test_a_long_caption_follows_the_photo_and_an_upload_is_reused(fake_telegram, db, make_settings):
    bot_api = Bot(TOKEN, base_url=fake_telegram.base_url)
    await bot_api.initialize()
    try:
        deliverer = Deliverer(bot_api, Subscriptions(db, make_settings("")))
        png = render_chart(forecast(), "en", START)
        caption = "<b>Weather</b>\n" + "rain " * 220  # over 1,024 characters
        assert (await deliverer.send(ChatRef(900), "the news", photo=Photo(png, caption))).ok
        photo, text = fake_telegram.messages_to(900)
        assert photo["photo"] == png and photo["text"] == ""
        assert text["text"].startswith("Weather\nrain rain") and text["text"].endswith("the news")
        assert (await deliverer.send(ChatRef(901), [], photo=Photo(png, "<i>short</i>"))).ok
        [again] = fake_telegram.messages_to(901)
        assert again["photo"] == "photo-1" and again["text"] == "short"  # the first upload's file id
    finally:
        await bot_api.shutdown()


async def test_a_blocked_chat_is_not_sent_the_text_after_the_photo(fake_telegram, db, make_settings):
    bot_api = Bot(TOKEN, base_url=fake_telegram.base_url)
    await bot_api.initialize()
    try:
        fake_telegram.blocked.add(902)
        deliverer = Deliverer(bot_api, Subscriptions(db, make_settings("")))
        outcome = await deliverer.send(ChatRef(902), "the news", photo=Photo(render_chart(forecast(), "en", START), "x"))
        assert outcome.blocked and fake_telegram.messages_to(902) == []
        assert [method for method, _, _ in fake_telegram.rejected] == ["sendPhoto"]
    finally:
        await bot_api.shutdown()
