"""Open-Meteo forecasts against a fake server on 127.0.0.1, caching, fallbacks and phrasing."""

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.storage import Article, Bulletin, Source, Story
from bot.texts import t
from bot.weather_service import WeatherService
from summarizer.weather.forecast import beaufort, period_conditions, wind_phrase
from tests.fakes.open_meteo import open_meteo_payload
from tests.support.cli import newsbot
from tests.support.config import write_config
from tests.support.data import SHANGHAI
from tests.support.web import Reply

NOW = datetime(2023, 2, 24, 7, 30, tzinfo=SHANGHAI)


@pytest.fixture
def weather_settings(make_settings, server):
    def make(extra: str = ""):
        return make_settings(f'[weather]\napi_base_url = "{server.url("/v1")}"\nmax_retries = 0\ntimeout_seconds = 0.5\n{extra}')
    return make


SEED_PERIODS = [{"label": "24日晚上到25日白天", "conditions": "多云轉陰", "low": 9, "high": 12, "wind": None}]


def add_bulletin(db, issued_at: datetime | None, text: str = "...", periods: list[dict] = SEED_PERIODS,
                 published_at: datetime | None = None) -> None:
    with db.session() as session:
        source = Source(name="lp", kind="files", url="x", error_count=0)
        story = Story()
        article = Article(source=source, story=story, url="file:///a", canonical_url="file:///a", content_hash="h",
                          title="t", language="zh-Hant", text="正文。", published_at=published_at or issued_at)
        session.add(Bulletin(article=article, issuer="梁平區氣象局", issued_at=issued_at, text=text, periods=periods))


async def test_forecast_request_and_phrasing(server, db, weather_settings):
    server.routes["/v1/forecast"] = Reply(json.dumps(open_meteo_payload()), headers={"Content-Type": "application/json"})
    report = await WeatherService(weather_settings(), db).report(NOW)
    query = parse_qs(urlsplit(server.hits_for("/v1/forecast")[0].path).query)
    assert query["timezone"] == ["Asia/Shanghai"] and query["latitude"] == ["30.67"]
    assert set(query["daily"][0].split(",")) >= {"weather_code", "temperature_2m_max", "temperature_2m_min",
                                                   "precipitation_probability_max", "wind_speed_10m_max", "sunrise", "sunset"}
    assert query["hourly"] == ["weather_code,temperature_2m,precipitation,precipitation_probability"]
    assert server.hits_for("/robots.txt") == []  # an API, not a page
    assert report.error is None and not report.stale
    zh_hant, zh_hans, en = (report.text(lang, NOW) for lang in ("zh-Hant", "zh-Hans", "en"))
    assert zh_hant.startswith("梁平區天氣：今天多雲轉小雨，今天夜間小雨轉陰，9～12℃，降水概率80%，東北風3級。明天陰，8～15℃，降水概率20%，北風4級。")
    assert zh_hans.startswith("梁平区天气：今天多云转小雨，今天夜间小雨转阴，9～12℃，降水概率80%，东北风3级。")
    assert en.startswith("梁平區 weather: Today: partly cloudy, then light rain, tonight light rain, then overcast, 9 to 12°C, "
                         "80% chance of rain, NE wind up to 14 km/h. Tomorrow: overcast, 8 to 15°C")
    assert "Open-Meteo.com (CC BY 4.0)" in en and "Open-Meteo.com（CC BY 4.0）" in zh_hant


async def test_evening_report_says_tonight_then_tomorrow(server, db, weather_settings):
    server.routes["/v1/forecast"] = Reply(json.dumps(open_meteo_payload()))
    report = await WeatherService(weather_settings(), db).report(NOW)
    evening = NOW.replace(hour=21)
    assert report.text("en", evening).startswith("梁平區 weather: Tonight: light rain, then overcast, 9 to 12°C")
    assert report.text("zh-Hant", evening).startswith("梁平區天氣：今天夜間小雨轉陰，9～12℃")


async def test_forecast_is_cached_for_the_configured_time(server, db, weather_settings):
    server.routes["/v1/forecast"] = Reply(json.dumps(open_meteo_payload()))
    service = WeatherService(weather_settings("cache_minutes = 60\n"), db)
    await service.report(NOW)
    await service.report(NOW + timedelta(minutes=59))
    assert len(server.hits_for("/v1/forecast")) == 1
    await service.report(NOW + timedelta(minutes=61))
    assert len(server.hits_for("/v1/forecast")) == 2


async def test_bad_request_reason_is_reported_and_bulletin_is_the_fallback(server, db, weather_settings):
    server.routes["/v1/forecast"] = Reply(json.dumps({"error": True, "reason": "Latitude must be in range of -90 to 90°."}), 400,
                                          {"Content-Type": "application/json"})
    add_bulletin(db, datetime(2023, 2, 21, 9, 0, tzinfo=SHANGHAI))
    report = await WeatherService(weather_settings(), db).report(NOW)
    assert report.error == "Open-Meteo refused the request (HTTP 400): Latitude must be in range of -90 to 90°."
    assert report.forecast is None
    assert report.text("zh-Hans", NOW) == "梁平区气象局2月21日9时发布：24日晚上到25日白天，多云转阴，9～12℃。"


async def test_outage_uses_the_stored_forecast_and_says_when_it_is_from(server, db, weather_settings):
    server.routes["/v1/forecast"] = Reply(json.dumps(open_meteo_payload()))
    service = WeatherService(weather_settings("cache_minutes = 30\nmax_stale_hours = 12\n"), db)
    await service.report(NOW)
    server.routes["/v1/forecast"] = Reply("down", 503)
    later = NOW + timedelta(hours=2)
    report = await service.report(later)
    assert report.stale and report.error == "Open-Meteo unavailable: HTTP 503"
    assert "（天氣服務暫時無法連接，以上為2月24日07:30的預報）" in report.text("zh-Hant", later)
    assert "this forecast is from Feb 24, 07:30" in report.text("en", later)
    too_late = await service.report(NOW + timedelta(hours=13))
    assert too_late.forecast is None and too_late.text("en", later) == t("weather_unavailable", "en")


@pytest.mark.parametrize(
    "reply, message",
    [
        (Reply("{not json", headers={"Content-Type": "application/json"}), "malformed JSON"),
        (Reply(json.dumps({"latitude": 1}), headers={"Content-Type": "application/json"}), "lacks usable daily"),
        (Reply(json.dumps(open_meteo_payload()), delay=1.0), "timed out"),
    ],
)
async def test_provider_failures_never_crash(server, db, weather_settings, reply, message):
    server.routes["/v1/forecast"] = reply
    report = await WeatherService(weather_settings(), db).report(NOW)
    assert message in report.error
    for language in ("zh-Hant", "zh-Hans", "en"):
        assert report.text(language, NOW) == t("weather_unavailable", language)


async def test_recent_bulletin_is_shown_beside_the_forecast(server, db, weather_settings):
    server.routes["/v1/forecast"] = Reply(json.dumps(open_meteo_payload()))
    add_bulletin(db, NOW - timedelta(hours=2))
    text = (await WeatherService(weather_settings(), db).report(NOW)).text("zh-Hant", NOW)
    assert text.splitlines()[0].startswith("梁平區天氣：") and text.splitlines()[-1].startswith("梁平區氣象局2月24日5時發布")


async def test_old_bulletin_is_not_shown_beside_the_forecast(server, db, weather_settings):
    server.routes["/v1/forecast"] = Reply(json.dumps(open_meteo_payload()))
    add_bulletin(db, NOW - timedelta(days=2))
    text = (await WeatherService(weather_settings(), db).report(NOW)).text("zh-Hant", NOW)
    assert "氣象局" not in text


async def test_provider_none_makes_no_request(server, db, weather_settings):
    report = await WeatherService(weather_settings('provider = "none"\n'), db).report(NOW)
    assert server.hits == [] and report.forecast is None and report.error is None


SEED_ISSUED = datetime(2023, 2, 24, 9, 0, tzinfo=SHANGHAI)  # its last period, 24日晚上到25日白天, ends 25 Feb 20:00


@pytest.mark.parametrize("now", [datetime(2023, 2, 25, 21, 0, tzinfo=SHANGHAI), datetime(2024, 3, 6, 8, 0, tzinfo=SHANGHAI)],
                         ids=["an-hour-late", "a-year-late"])
async def test_expired_bulletin_is_never_the_current_forecast(server, db, weather_settings, now):
    server.routes["/v1/forecast"] = Reply("down", 503)
    add_bulletin(db, SEED_ISSUED)
    report = await WeatherService(weather_settings(), db).report(now)
    assert report.forecast is None and report.bulletins == []
    assert report.text("zh-Hant", now) == t("weather_unavailable", "zh-Hant") + "\n最近一次氣象臺預報發布於 2023年2月24日，已過期。"
    assert report.text("zh-Hans", now).endswith("最近一次气象台预报发布于 2023年2月24日，已过期。")
    assert report.text("en", now).endswith("The last weather bureau forecast was issued on February 24, 2023 and has expired.")
    document = report.to_dict("zh-Hant", now)
    assert document["stale"] is True and document["bulletins"] == []
    assert document["expired_bulletin"]["issued_at"] == "2023-02-24T09:00:00+08:00"
    assert document["expired_bulletin"]["valid_until"] == "2023-02-25T20:00:00+08:00"
    assert "9～12℃" not in document["text"]


async def test_valid_bulletin_is_still_the_fallback(server, db, weather_settings):
    server.routes["/v1/forecast"] = Reply("down", 503)
    add_bulletin(db, SEED_ISSUED)
    now = datetime(2023, 2, 25, 19, 0, tzinfo=SHANGHAI)
    report = await WeatherService(weather_settings(), db).report(now)
    assert report.text("zh-Hant", now) == "梁平區氣象局2月24日9時發布：24日晚上到25日白天，多雲轉陰，9～12℃。"
    document = report.to_dict("en", now)
    assert document["stale"] is False and document["expired_bulletin"] is None
    assert document["bulletins"][0]["valid_until"] == "2023-02-25T20:00:00+08:00"


@pytest.mark.parametrize("hours, shown", [(23, True), (25, False)])
async def test_a_24_hour_bulletin_is_valid_24_hours(server, db, weather_settings, hours, shown):
    server.routes["/v1/forecast"] = Reply("down", 503)
    issued = datetime(2023, 3, 5, 16, 0, tzinfo=SHANGHAI)
    add_bulletin(db, issued, text="重慶市氣象臺2023年3月5日16時發布未來24小時天氣預報：今天夜間到明天白天，多雲，8～14℃。",
                 periods=[{"label": "今天夜間到明天白天", "conditions": "多雲", "low": 8, "high": 14, "wind": None}])
    report = await WeatherService(weather_settings('provider = "none"\n'), db).report(issued + timedelta(hours=hours))
    assert bool(report.bulletins) is shown and report.stale is not shown


async def test_undated_bulletin_is_read_from_its_article_date(server, db, weather_settings):
    published = datetime(2023, 3, 5, 18, 0, tzinfo=SHANGHAI)
    add_bulletin(db, None, periods=[{"label": "今天夜間", "conditions": "陰", "low": 6, "high": 13, "wind": None}],
                 published_at=published)
    service = WeatherService(weather_settings('provider = "none"\n'), db)
    assert (await service.report(published + timedelta(hours=10))).bulletins != []
    late = await service.report(published + timedelta(days=1))
    assert late.bulletins == [] and late.text("en", published) == t("weather_unavailable", "en")


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_weather_json_never_offers_an_old_bulletin_as_current(tmp_path):
    from bot.storage import Database

    config = write_config(tmp_path, "")
    db = Database(f"sqlite:///{tmp_path / 'news.db'}")
    add_bulletin(db, SEED_ISSUED)
    db.close()
    result = newsbot("weather", "-c", str(config), "--json", cwd=tmp_path)  # Open-Meteo unreachable
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["stale"] is True and document["bulletins"] == [] and document["days"] == []
    assert document["texts"]["zh-Hant"].endswith("最近一次氣象臺預報發布於 2023年2月24日，已過期。")


def test_wind_scales_and_period_phrasing():
    assert [beaufort(v) for v in (0, 5, 6, 19, 20, 61, 62, 118, 150)] == [0, 1, 2, 3, 4, 7, 8, 12, 12]
    assert wind_phrase(14.0, 45, "zh-Hant") == "東北風3級" and wind_phrase(14.0, 45, "en") == "NE wind up to 14 km/h"
    assert period_conditions([0, 0, 95, 95], "zh-Hans") == "晴转雷阵雨"
    assert period_conditions([3, 3, 3], "en") == "overcast"
    assert period_conditions([], "en") is None


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_weather_json_has_structure_and_every_language(tmp_path, server):
    server.routes["/v1/forecast"] = Reply(json.dumps(open_meteo_payload(datetime.now(timezone.utc).astimezone(SHANGHAI).date())))
    config = write_config(tmp_path, "")
    result = newsbot("weather", "-c", str(config), "--json", cwd=tmp_path, env={"NEWSBOT_WEATHER_API_BASE_URL": server.url("/v1")})
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["region"] == "梁平區" and document["provider"] == "open-meteo"
    first = document["days"][0]
    assert (first["conditions"], first["low"], first["high"], first["precipitation_probability"]) == ("小雨", 9, 12, 80)
    assert first["wind"] == {"speed_kmh": 14.0, "direction_deg": 45, "beaufort": 3, "text": "東北風3級"}
    assert set(document["texts"]) == {"zh-Hant", "zh-Hans", "en"} and document["text"] == document["texts"]["zh-Hant"]
    assert document["bulletins"] == []


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_digest_leads_with_the_forecast(tmp_path, server):
    server.routes["/v1/forecast"] = Reply(json.dumps(open_meteo_payload(datetime.now(timezone.utc).astimezone(SHANGHAI).date())))
    result = newsbot("digest", "--fetch", "--lang", "en", cwd=tmp_path,
                     env={"NEWSBOT_WEATHER_API_BASE_URL": server.url("/v1"), "NEWSBOT_WEATHER_PROVIDER": "open-meteo"})
    assert result.returncode == 0, result.stderr
    weather = result.stdout.split("\n\n")[0]
    assert weather.startswith("【Weather】\n梁平區 weather: ")
    assert "9 to 12°C" in weather and "Weather data by Open-Meteo.com (CC BY 4.0)" in weather
