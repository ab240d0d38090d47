"""Official warnings as alerts (tests/fixtures/cap served from loopback), one stream with the
forecast alerts, and one storm as one alert."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.config import ConfigError, RegionSettings
from bot.telegram import push
from bot.warnings_service import WARNING_KEY, WarningsService, warning_lines
from bot.weather_service import parse_open_meteo
from summarizer.text import ZH_HANS, ZH_HANT
from summarizer.weather.alerts import describe_alert, forecast_alerts
from tests.fakes.open_meteo import open_meteo_payload, stormy
from tests.support.bot import Clock, say
from tests.support.cli import newsbot
from tests.support.config import write_config
from tests.support.data import SHANGHAI
from tests.support.web import Hit, Reply

D = date(2023, 2, 24)


def storm_payload(hours_today_night: range, hours_tomorrow: range) -> dict:
    """Open-Meteo's answer with thunderstorm hours (code 95) on D+1 (``hours_tomorrow``), the daily
    codes computed as Open-Meteo does: the worst hour of each calendar day."""
    payload = open_meteo_payload(D)
    codes = payload["hourly"]["weather_code"]
    for hour in hours_tomorrow:
        codes[24 + hour] = 95
    for hour in hours_today_night:
        codes[hour] = 95
    payload["daily"]["weather_code"] = [max(codes[i * 24:(i + 1) * 24], key=lambda c: (c == 95, c)) for i in range(3)]
    return payload


def alerts_at(payload: dict, today: date = D):
    forecast = parse_open_meteo(payload, RegionSettings(), datetime(2023, 2, 24, 15, tzinfo=SHANGHAI))
    return forecast_alerts(forecast, today)


def test_a_thunderstorm_after_midnight_is_one_alert_for_tonight():
    alerts = alerts_at(storm_payload(range(0), range(0, 4)))  # 00:00-03:59 on D+1: the night of D
    assert [(a.kind, a.day) for a in alerts] == [("thunderstorm", D)]
    [alert] = alerts
    text = describe_alert(alert, ZH_HANT, "梁平區", today=D)
    assert "今天夜間" in text and "明天" not in text
    assert "tonight" in describe_alert(alert, "en", "Liangping", today=D)


def test_a_storm_from_tonight_into_tomorrow_is_one_alert_worded_by_its_periods():
    alerts = alerts_at(storm_payload(range(21, 24), range(0, 12)))  # 21:00 D to 11:59 D+1
    [alert] = alerts
    assert alert.key == f"{D.isoformat()}:thunderstorm"
    assert "今天夜間到明天白天（2月24日—25日）有雷陣雨" in describe_alert(alert, ZH_HANT, "梁平區", today=D)
    assert "今天夜间到明天白天（2月24日—25日）有雷阵雨" in describe_alert(alert, ZH_HANS, "梁平区", today=D)
    assert "thunderstorms tonight into tomorrow (Feb 24–25)" in describe_alert(alert, "en", "Liangping", today=D)


def test_a_storm_by_day_only_keeps_the_day_wording():
    [alert] = alerts_at(storm_payload(range(0), range(13, 16)))  # tomorrow afternoon
    assert alert.day == D + timedelta(days=1)
    assert "明天（2月25日）有雷陣雨" in describe_alert(alert, ZH_HANT, "梁平區", today=D)


# -- official warnings, from loopback ------------------------------------------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cap"
CAP_DOCUMENTS = {"thunder": "cma-thunder-alert.xml", "extended": "cma-thunder-extended.xml",
                 "raised": "cma-thunder-raised.xml", "cancel": "cma-thunder-cancel.xml", "frost": "dwd-frost-de.xml"}


def serve_index(server, *names: str) -> str:
    """An Atom index (MeteoAlarm's shape) of the named CAP documents, served with them; its URL."""
    server.routes["/cap/index.atom"] = Reply(index_text(server, names), headers={"Content-Type": "application/atom+xml"})
    for name in names:
        server.routes[f"/cap/{name}.xml"] = Reply((FIXTURES / CAP_DOCUMENTS[name]).read_bytes(),
                                                   headers={"Content-Type": "application/cap+xml"})
    return server.url("/cap/index.atom")


def serve_hko(server, shift: timedelta = timedelta(0), only: tuple[str, ...] | None = None) -> str:
    """HKO's weather.php answering warnsum and warningInfo in its three languages (times moved by ``shift``)."""

    def answer(hit: Hit) -> Reply:
        query = parse_qs(urlsplit(hit.path).query)
        kind = {"warnsum": "warnsum", "warningInfo": "warninginfo"}[query["dataType"][0]]
        data = json.loads((FIXTURES / f"hko-{kind}-{query['lang'][0]}.json").read_text(encoding="utf-8"))
        if kind == "warnsum":
            data = {code: {key: moved(value, shift) if key.endswith("Time") else value for key, value in warning.items()}
                    for code, warning in data.items() if only is None or code in only}
        return Reply(json.dumps(data, ensure_ascii=False), headers={"Content-Type": "application/json"})

    server.routes["/weatherAPI/opendata/weather.php"] = answer
    return server.url("/weatherAPI/opendata/weather.php")


def moved(stamp: str, shift: timedelta) -> str:
    return (datetime.fromisoformat(stamp) + shift).isoformat()


AT_3PM = datetime(2023, 2, 24, 15, tzinfo=SHANGHAI)


async def test_a_cap_index_is_read_once_and_matched_by_polygon(db, server, make_settings):
    settings = make_settings(f'[[warnings]]\nkind = "cap"\nurl = "{serve_index(server, "thunder", "frost")}"\n')
    service = WarningsService(settings, db)
    [announcement] = await service.announcements(AT_3PM)  # the frost warning is Germany's
    assert announcement.region.name == "梁平區" and not announcement.lifted and not announcement.urgent
    assert announcement.push_key.startswith(WARNING_KEY) and len(announcement.push_key) <= 100
    text = announcement.describe(ZH_HANT, "梁平區", D)
    assert text.startswith("⚠️ 官方預警｜梁平區\n梁平區氣象臺發佈雷電黃色預警信號\n雷電 · 較重\n生效時間：2月24日 20:00至2月25日 08:00")
    assert announcement.describe("en", "Liangping", D).startswith("⚠️ Official warning | Liangping\nYellow thunder")
    [in_force] = await service.in_force(AT_3PM, settings.region)
    assert in_force.identifier == "50015541600000_20230224140000"
    await service.announcements(AT_3PM + timedelta(minutes=1))  # not due yet
    await service.announcements(AT_3PM + timedelta(minutes=10))  # read again: the documents are known
    assert len(server.hits_for("/cap/thunder.xml")) == 1 and len(server.hits_for("/cap/index.atom")) == 2
    assert await service.in_force(datetime(2023, 2, 25, 8, 1, tzinfo=SHANGHAI), settings.region) == []  # expired


async def test_geocodes_match_and_a_warning_in_another_language_is_shown_as_its_original(db, server, make_settings):
    settings = make_settings(f'[region]\nname = "Oberhavel"\ntimezone = "Europe/Berlin"\nlanguage = "en"\n'
                             f'latitude = 52.75\nlongitude = 13.2\nwarning_geocodes = ["EMMA_ID:DE413"]\n'
                             f'[[warnings]]\nkind = "cap"\nurl = "{serve_index(server, "thunder", "frost")}"\n')
    [announcement] = await WarningsService(settings, db).announcements(AT_3PM)
    text = announcement.describe("en", "Oberhavel", D)
    assert text.startswith("⚠️ Official warning | Oberhavel\n(original, in de-DE)\nAmtliche WARNUNG vor FROST\nFROST · minor\n")
    assert "In force: Feb 24 22:00 until Feb 25 10:00" in text and "Issued by Deutscher Wetterdienst" in text


async def test_hko_warnings_end_when_hko_stops_listing_them(db, server, make_settings):
    url = serve_hko(server)
    settings = make_settings(f'[region]\nname = "香港"\ntimezone = "Asia/Hong_Kong"\nlanguage = "zh-Hant"\n'
                             f'latitude = 22.30\nlongitude = 114.17\n[[warnings]]\nkind = "hko"\nurl = "{url}"\n')
    service = WarningsService(settings, db)
    morning = datetime(2023, 2, 24, 9, tzinfo=SHANGHAI)
    rain, storm = await service.in_force(morning, settings.region)
    assert (rain.series, storm.series) == ("hko:WRAIN", "hko:WTS")
    assert warning_lines([rain], ZH_HANT, settings.region.tz) == [
        "⚠️ 生效中的官方預警：", "• 暴雨警告信號（較重）至另行通知：黃色暴雨警告信號"]
    serve_hko(server, only=("WTS",))  # the rainstorm signal is cancelled
    later = morning + timedelta(minutes=10)
    announcements = await service.announcements(later)
    assert {(a.chain.shown.series, a.lifted) for a in announcements} == {("hko:WRAIN", True), ("hko:WTS", False)}
    lifted = next(a for a in announcements if a.lifted)
    assert lifted.describe(ZH_HANT, "香港", D) == "✅ 香港：暴雨警告信號已解除。"
    assert lifted.describe("en", "Hong Kong", D) == "✅ Hong Kong: Rainstorm Warning Signal is lifted."
    serve_hko(server)  # listed again as it was (a gap in the feed): in force again, the same warning
    assert [w.identifier for w in await service.in_force(later + timedelta(minutes=5), settings.region)] == [
        rain.identifier, storm.identifier]
    serve_hko(server, only=("WTS",))
    await service.announcements(later + timedelta(minutes=10))
    serve_hko(server, shift=timedelta(minutes=20))  # issued again later: a new warning, not the lifted one
    again = await service.announcements(later + timedelta(minutes=15))
    rain_chains = {a.chain.key for a in again if a.chain.shown.series == "hko:WRAIN"}
    assert len(rain_chains) == 2 and lifted.chain.key in rain_chains


async def test_a_feed_that_fails_is_logged_and_the_rest_goes_on(db, server, make_settings, caplog):
    server.routes["/broken.atom"] = Reply("<html>oops</html>")
    server.routes["/down.atom"] = Reply("busy", 503)
    settings = make_settings(f'[[warnings]]\nkind = "cap"\nurl = "{server.url("/broken.atom")}"\nname = "broken"\n'
                             f'[[warnings]]\nkind = "cap"\nurl = "{server.url("/down.atom")}"\nname = "down"\n'
                             f'[[warnings]]\nkind = "cap"\nurl = "{serve_index(server, "thunder")}"\n')
    assert len(await WarningsService(settings, db).announcements(AT_3PM)) == 1
    assert "warnings feed broken: not an Atom or RSS index" in caplog.text
    assert "warnings feed down:" in caplog.text


async def test_exercises_are_never_announced_nor_fetched_again_and_links_to_private_hosts_are_refused(
        db, server, make_settings, caplog):
    url = serve_index(server, "thunder")
    server.routes["/cap/thunder.xml"] = Reply((FIXTURES / "cma-thunder-alert.xml").read_bytes().replace(
        b"<status>Actual</status>", b"<status>Exercise</status>"))
    elsewhere = server.url("/cap/frost.xml").replace("127.0.0.1", "localhost")  # the same server, by another name
    server.routes["/cap/index.atom"] = Reply(index_text(server, ["thunder"]).replace(
        "</feed>", f'<entry><id>{elsewhere}</id><title>x</title><updated>2023-02-24T14:00:00+08:00</updated>'
                   f'<link href="{elsewhere}" type="application/cap+xml"/></entry></feed>'))
    server.routes["/cap/frost.xml"] = Reply((FIXTURES / "dwd-frost-de.xml").read_bytes())
    settings = make_settings(f'[region]\nwarning_geocodes = ["EMMA_ID:DE413"]\n[[warnings]]\nkind = "cap"\nurl = "{url}"\n')
    service = WarningsService(settings, db)
    caplog.set_level(logging.INFO, "bot.warnings_service")
    assert await service.announcements(AT_3PM) == []
    assert await service.announcements(AT_3PM + timedelta(minutes=10)) == []
    assert len(server.hits_for("/cap/thunder.xml")) == 1 and server.hits_for("/cap/frost.xml") == []
    [refusal] = [r.getMessage() for r in caplog.records if "localhost" in r.getMessage()]  # asked once
    assert "refused: localhost is at non-public address" in refusal


async def test_a_feed_may_be_kept_to_some_regions(db, server, make_settings):
    settings = make_settings('[[regions]]\nname = "梁平區"\n[[regions]]\nname = "梁平鎮"\nlatitude = 30.68\nlongitude = 107.79\n'
                             f'[[warnings]]\nkind = "cap"\nregions = ["梁平鎮"]\nurl = "{serve_index(server, "thunder")}"\n')
    assert [a.region.name for a in await WarningsService(settings, db).announcements(AT_3PM)] == ["梁平鎮"]


@pytest.mark.parametrize("entry, message", [
    ('kind = "cap"', "key 'warnings.0.url': a cap feed needs the URL"),
    ('kind = "rss"\nurl = "x"', "key 'warnings.0.kind'"),
    ('kind = "hko"\nregions = ["Nowhere"]', "key 'warnings.0.regions': no region named 'Nowhere' (known: 梁平區)"),
])
def test_bad_warnings_config_is_explained(make_settings, entry, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        make_settings(f"[[warnings]]\n{entry}\n")


# -- end to end: the real Application against the fake Bot API -------------------------------


async def test_an_official_warning_reaches_alerts_on_chats_once_and_replaces_the_forecasts_guess(
        start_bot, fake_telegram, site, monkeypatch):
    monkeypatch.setattr(push, "ALERT_SECONDS", 0)  # look every tick
    site.routes["/v1/forecast"] = Reply(json.dumps(stormy()))  # code 95 tomorrow: the guess
    documents = ["thunder"]
    url = serve_index(site, *CAP_DOCUMENTS)
    site.routes["/cap/index.atom"] = lambda hit: Reply(
        index_text(site, documents), headers={"Content-Type": "application/atom+xml"})
    services = await start_bot(f'[[warnings]]\nkind = "cap"\nurl = "{url}"\n')
    await say(fake_telegram, 700, "/alerts on")
    await say(fake_telegram, 701, "/alerts on", language_code="en")
    await say(fake_telegram, 702, "/alerts off")

    assert await services.pusher.tick(AT_3PM) == 2  # the warning, and no "thunderstorms tomorrow" beside it
    warning = fake_telegram.messages_to(700)[-1]["text"]
    assert warning.startswith("⚠️ 官方預警｜梁平區\n梁平區氣象臺發佈雷電黃色預警信號\n雷電 · 較重")
    assert "Thunder and Lightning · moderate" in fake_telegram.messages_to(701)[-1]["text"]
    assert len(fake_telegram.messages_to(702)) == 1  # alerts off: the reply only

    documents.append("extended")  # the same severity and area, later expiry: not again
    assert await services.pusher.tick(AT_3PM + timedelta(hours=1, minutes=10)) == 0
    documents.append("raised")  # Severe now: again, as an update
    assert await services.pusher.tick(AT_3PM + timedelta(hours=3, minutes=10)) == 2
    assert fake_telegram.messages_to(700)[-1]["text"].startswith("⚠️ 預警更新｜梁平區\n梁平區氣象臺發佈雷電橙色預警信號")
    documents.append("cancel")  # lifted at 06:00, during quiet hours: the short message waits for morning
    assert await services.pusher.tick(datetime(2023, 2, 25, 6, 5, tzinfo=SHANGHAI)) == 0
    await say(fake_telegram, 703, "/alerts on")  # too late to have heard the warning: no "lifted" either
    assert await services.pusher.tick(datetime(2023, 2, 25, 7, 5, tzinfo=SHANGHAI)) == 2
    assert fake_telegram.messages_to(700)[-1]["text"] == "✅ 梁平區：雷電已解除。"
    assert fake_telegram.messages_to(701)[-1]["text"] == "✅ 梁平區: Thunder and Lightning is lifted."
    assert await services.pusher.tick(datetime(2023, 2, 25, 7, 15, tzinfo=SHANGHAI)) == 0
    assert [len(fake_telegram.messages_to(chat)) for chat in (700, 701, 702, 703)] == [4, 4, 1, 1]


async def test_a_severe_warning_goes_through_quiet_hours_and_weather_shows_it_first(start_bot, fake_telegram, site, monkeypatch):
    monkeypatch.setattr(push, "ALERT_SECONDS", 0)
    url = serve_index(site, "thunder", "extended", "raised")
    services = await start_bot(f'[[warnings]]\nkind = "cap"\nurl = "{url}"\n', clock=Clock(datetime(2023, 2, 24, 23, tzinfo=SHANGHAI)))
    await say(fake_telegram, 710, "/alerts on")
    assert await services.pusher.tick(datetime(2023, 2, 24, 23, tzinfo=SHANGHAI)) == 1  # Severe: not held
    assert fake_telegram.messages_to(710)[-1]["text"].startswith("⚠️ 預警更新｜梁平區")
    weather = (await say(fake_telegram, 710, "/weather"))["text"]  # the chart's caption, or the text
    assert weather.index("⚠️ 生效中的官方預警：\n• 雷電（嚴重）至2月25日 10:00") < weather.index("梁平區天氣")
    report = await services.weather.report(datetime(2023, 2, 24, 23, tzinfo=SHANGHAI))
    text = report.text(ZH_HANT, datetime(2023, 2, 24, 23, tzinfo=SHANGHAI))
    assert text.startswith("⚠️ 生效中的官方預警：\n• 雷電（嚴重）至2月25日 10:00：梁平區氣象臺發佈雷電橙色預警信號\n")
    [shown] = report.to_dict("en", datetime(2023, 2, 24, 23, tzinfo=SHANGHAI))["warnings"]
    assert {k: shown[k] for k in ("identifier", "event", "severity", "onset", "expires", "headline", "language")} == {
        "identifier": "50015541600000_20230224180000", "event": "Thunder and Lightning", "severity": "Severe",
        "onset": "2023-02-24T20:00:00+08:00", "expires": "2023-02-25T10:00:00+08:00",
        "headline": "Orange thunder and lightning warning for Liangping", "language": "en"}


def index_text(server, names) -> str:
    entries = "".join(
        f'<entry><id>{server.url(f"/cap/{name}.xml")}</id><title>{name}</title><updated>2023-02-24T14:00:00+08:00</updated>'
        f'<link href="/cap/{name}.xml" type="application/cap+xml"/></entry>'
        for name in names
    )
    return (f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>warnings</title>'
            f"<updated>2023-02-24T14:00:00+08:00</updated>{entries}</feed>")


async def test_a_storm_announced_as_tonight_into_tomorrow_is_not_announced_again_tomorrow(start_bot, fake_telegram, site, monkeypatch):
    monkeypatch.setattr(push, "ALERT_SECONDS", 0)
    site.routes["/v1/forecast"] = Reply(json.dumps(storm_payload(range(21, 24), range(0, 12))))
    services = await start_bot()
    await say(fake_telegram, 720, "/alerts on")
    assert await services.pusher.tick(AT_3PM) == 1
    assert "今天夜間到明天白天（2月24日—25日）有雷陣雨" in fake_telegram.messages_to(720)[-1]["text"]
    services.weather.settings.weather.cache_minutes = 0  # tomorrow's forecast starts tomorrow: the night before is gone
    tomorrow = open_meteo_payload(D + timedelta(days=1))
    for hour in range(12):
        tomorrow["hourly"]["weather_code"][hour] = 95
    tomorrow["daily"]["weather_code"][0] = 95
    site.routes["/v1/forecast"] = Reply(json.dumps(tomorrow))
    assert await services.pusher.tick(datetime(2023, 2, 25, 7, 30, tzinfo=SHANGHAI)) == 0  # the same storm
    assert len(fake_telegram.messages_to(720)) == 2


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_weather_json_has_the_warnings_in_force(tmp_path, server):
    shift = datetime.now(SHANGHAI) - timedelta(hours=1) - datetime(2023, 2, 24, 8, 15, tzinfo=SHANGHAI)
    url = serve_hko(server, shift=shift)
    config = write_config(tmp_path, f'[region]\nname = "香港"\ntimezone = "Asia/Hong_Kong"\nlanguage = "zh-Hant"\n'
                                    f'latitude = 22.30\nlongitude = 114.17\n[[warnings]]\nkind = "hko"\nurl = "{url}"\n')
    result = newsbot("weather", "-c", str(config), "--json", "--lang", "en", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [(w["event"], w["severity"], w["language"]) for w in document["warnings"]] == [
        ("Rainstorm Warning Signal", "Moderate", "en"), ("Thunderstorm Warning", "Moderate", "en")]
    assert document["warnings"][1]["expires"] == moved("2023-02-24T11:00:00+08:00", shift)
    assert document["text"].startswith("⚠️ Official warnings in force:\n• Rainstorm Warning Signal (moderate) until further notice")
    assert document["texts"]["zh-Hant"].startswith("⚠️ 生效中的官方預警：\n• 暴雨警告信號（較重）")
