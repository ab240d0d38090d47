"""Weather alerts: bad weather in the coming day of a forecast, warning signals in news, their wording."""

from datetime import date, datetime, timedelta

import pytest

from summarizer.weather.alerts import HAZARDS, SIGNAL_COLOURS, WeatherAlert, describe_alert, forecast_alerts, signal_alerts
from summarizer.weather.forecast import DayForecast, Forecast
from summarizer.text import ZH_HANS, ZH_HANT, convert_script

TODAY = date(2024, 11, 26)
TOMORROW = TODAY + timedelta(days=1)
REGIONS = {ZH_HANT: "梁平區", ZH_HANS: "梁平区", "en": "Liangping"}


def day(when: date, code: int = 1, high: float = 15.0, **more) -> DayForecast:
    return DayForecast(date=when, weather_code=code, low=high - 8, high=high, **more)


def forecast(*days: DayForecast, fetched: datetime = datetime(2024, 11, 26, 6, 0)) -> Forecast:
    return Forecast(region="liangping", provider="open-meteo", latitude=30.67, longitude=107.8,
                    timezone="Asia/Shanghai", fetched_at=fetched, days=list(days))


def found(alerts: list[WeatherAlert]) -> list[tuple[str, date, int]]:
    return [(a.kind, a.day, a.level) for a in alerts]


# -- forecast alerts -------------------------------------------------------------------------

@pytest.mark.parametrize("tomorrow, expected", [
    pytest.param(day(TOMORROW, 95), [("thunderstorm", 2)], id="storm"),
    pytest.param(day(TOMORROW, 1), [], id="fine"),
    pytest.param(day(TOMORROW, 63, precipitation_sum=80.0), [], id="moderate-rain-code-decides"),
    pytest.param(day(TOMORROW, 96), [("hail", 3)], id="hail-96"),
    pytest.param(day(TOMORROW, 99, day_codes=[95, 99]), [("hail", 3)], id="hail-stands-for-its-storm"),
    pytest.param(day(TOMORROW, 3, day_codes=[3, 3, 95, 3]), [("thunderstorm", 2)], id="hourly-day-storm"),
    pytest.param(day(TOMORROW, 3, night_codes=[2, 96]), [("hail", 3)], id="hourly-night-hail"),
    pytest.param(day(TOMORROW, 65), [("heavy_rain", 1)], id="heavy-rain-no-amount"),
    pytest.param(day(TOMORROW, 65, precipitation_sum=49.9), [("heavy_rain", 1)], id="heavy-rain-49.9mm"),
    pytest.param(day(TOMORROW, 82, precipitation_sum=50.0), [("heavy_rain", 2)], id="violent-showers-50mm"),
    pytest.param(day(TOMORROW, 65, precipitation_sum=120.0), [("heavy_rain", 3)], id="heavy-rain-120mm"),
    pytest.param(day(TOMORROW, 67), [("freezing_rain", 2)], id="freezing-rain"),
    pytest.param(day(TOMORROW, 75, precipitation_sum=6.0), [("heavy_snow", 1)], id="heavy-snow-6mm"),
    pytest.param(day(TOMORROW, 86, precipitation_sum=12.0), [("heavy_snow", 2)], id="snow-showers-12mm"),
    pytest.param(day(TOMORROW, 75, precipitation_sum=25.0), [("heavy_snow", 3)], id="heavy-snow-25mm"),
    pytest.param(day(TOMORROW, 95, day_codes=[65], night_codes=[75]),
                 [("thunderstorm", 2), ("heavy_rain", 1), ("heavy_snow", 1)], id="several-kinds-by-level"),
])
def test_forecast_codes_give_alerts(tomorrow: DayForecast, expected: list[tuple[str, int]]):
    alerts = forecast_alerts(forecast(day(TODAY), tomorrow), TODAY)
    assert found(alerts) == [(kind, TOMORROW, level) for kind, level in expected]
    assert [a.key for a in alerts] == [f"2024-11-27:{kind}" for kind, _ in expected]


@pytest.mark.parametrize("previous_high, high, threshold, expected", [
    pytest.param(21.0, 9.0, 8.0, [("cold_snap", 1)], id="12-below-threshold-8"),
    pytest.param(21.0, 15.0, 8.0, [], id="6-below"),
    pytest.param(21.0, 13.0, 8.0, [("cold_snap", 1)], id="exactly-threshold"),
    pytest.param(21.0, 8.0, 8.0, [("cold_snap", 2)], id="13-is-beyond-1.5x"),
    pytest.param(21.0, 15.0, 5.0, [("cold_snap", 1)], id="configured-threshold"),
    pytest.param(21.4, 13.5, 8.0, [], id="whole-degrees-as-shown-21-14"),
    pytest.param(9.0, 21.0, 8.0, [], id="a-rise-is-no-alert"),
])
def test_cold_snap_against_the_day_before(previous_high, high, threshold, expected):
    alerts = forecast_alerts(forecast(day(TODAY, high=previous_high), day(TOMORROW, high=high)), TODAY, threshold)
    assert found(alerts) == [(kind, TOMORROW, level) for kind, level in expected]


def test_cold_snap_details_are_the_shown_numbers():
    [alert] = forecast_alerts(forecast(day(TODAY, high=20.6), day(TOMORROW, high=8.8)), TODAY)
    assert alert.details == (("previous_high", 21), ("high", 9), ("drop", 12))
    assert alert.key == "2024-11-27:cold_snap"


def test_cold_snap_needs_the_day_before_in_the_forecast():
    assert forecast_alerts(forecast(day(TOMORROW, high=-5.0)), TODAY) == []
    assert found(forecast_alerts(forecast(day(TODAY - timedelta(days=1), high=25.0), day(TODAY, high=10.0)), TODAY)) == [
        ("cold_snap", TODAY, 2)]


def test_only_today_and_tomorrow_are_considered():
    days = [day(TODAY - timedelta(days=1), 95), day(TODAY, 1, high=20.0), day(TOMORROW, 2, high=18.0),
            day(TODAY + timedelta(days=2), 96, high=2.0), day(TODAY + timedelta(days=3), 65)]
    assert forecast_alerts(forecast(*days), TODAY) == []
    assert found(forecast_alerts(forecast(*days), TOMORROW)) == [("hail", TODAY + timedelta(days=2), 3),
                                                                   ("cold_snap", TODAY + timedelta(days=2), 2)]


def test_alerts_are_sorted_by_day_then_level():
    alerts = forecast_alerts(forecast(day(TODAY, 65, night_codes=[96]), day(TOMORROW, 67, day_codes=[95])), TODAY)
    assert found(alerts) == [("hail", TODAY, 3), ("heavy_rain", TODAY, 1),
                             ("freezing_rain", TOMORROW, 2), ("thunderstorm", TOMORROW, 2)]


def test_a_refreshed_forecast_gives_the_same_event_key_with_its_new_level():
    first = forecast(day(TODAY), day(TOMORROW, 65, precipitation_sum=20.0), fetched=datetime(2024, 11, 26, 6, 0))
    later = forecast(day(TODAY), day(TOMORROW, 3, day_codes=[82], precipitation_sum=64.0),
                     fetched=datetime(2024, 11, 26, 18, 0))
    [before], [after] = forecast_alerts(first, TODAY), forecast_alerts(later, TODAY)
    assert before.key == after.key == "2024-11-27:heavy_rain"
    assert (before.level, after.level) == (1, 2)
    assert after.details == (("precipitation", 64),)


def test_drop_threshold_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        forecast_alerts(forecast(day(TODAY)), TODAY, drop_threshold=0)


# -- signals in news -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    pytest.param("區氣象臺發布暴雨藍色預警，請注意防範。", [("rainstorm", "blue")], id="hant-blue"),
    pytest.param("区气象台发布暴雨蓝色预警，请注意防范。", [("rainstorm", "blue")], id="hans-blue"),
    pytest.param("暴雨黃色預警信號生效中", [("rainstorm", "yellow")], id="hant-yellow-signal"),
    pytest.param("梁平区发布大风橙色预警", [("gale", "orange")], id="gale-orange"),
    pytest.param("寒潮紅色預警", [("cold_wave", "red")], id="cold-wave-red"),
    pytest.param("市气象台发布暴雨红色预警信号", [("rainstorm", "red")], id="fabu-red-signal"),
    pytest.param("暴雨预警（橙色）", [("rainstorm", "orange")], id="colour-in-brackets"),
    pytest.param("发布红色暴雨预警", [("rainstorm", "red")], id="colour-first"),
    pytest.param("颱風紅色預警", [("typhoon", "red")], id="typhoon-hant"),
    pytest.param("台风黄色预警", [("typhoon", "yellow")], id="typhoon-hans"),
    pytest.param("雷雨大風黃色預警", [("thunder_gale", "yellow")], id="thunder-gale-not-gale"),
    pytest.param("雷暴大风橙色预警", [("thunder_gale", "orange")], id="thunder-gale-new-name"),
    pytest.param("发布暴雨、雷电黄色预警信号", [("rainstorm", "yellow"), ("thunder", "yellow")], id="hazard-list"),
    pytest.param("高溫橙色預警、乾旱黃色預警、道路結冰藍色預警",
                 [("heat", "orange"), ("drought", "yellow"), ("icy_roads", "blue")], id="several-hazards"),
    pytest.param("暴雨黃色預警……暴雨紅色預警……暴雨橙色預警……暴雨藍色預警", [("rainstorm", "red")], id="highest-colour-kept"),
    pytest.param("大风蓝色预警……大风黄色预警", [("gale", "yellow")], id="yellow-above-blue"),
    pytest.param("暴雨黄色预警信号升级为橙色预警信号", [("rainstorm", "orange")], id="upgraded"),
    pytest.param("将暴雨橙色预警降级为蓝色", [("rainstorm", "blue")], id="downgraded"),
    pytest.param("解除暴雨藍色預警信號", [], id="lifted-before"),
    pytest.param("暴雨蓝色预警信号已于今日8时解除", [], id="lifted-after"),
    pytest.param("解除了此前发布的大雾橙色预警", [], id="lifted-earlier-one"),
    pytest.param("解除暴雨蓝色预警并发布暴雨黄色预警", [("rainstorm", "yellow")], id="lifted-then-new"),
    pytest.param("昨天发布暴雨红色预警，今天解除暴雨红色预警", [], id="issued-then-lifted"),
    pytest.param("暴雨橙色预警目前尚未解除", [("rainstorm", "orange")], id="not-yet-lifted"),
    pytest.param("受暴雨红色预警影响，航班取消", [("rainstorm", "red")], id="other-thing-cancelled"),
    pytest.param("The observatory issued a red rainstorm warning on Tuesday.", [("rainstorm", "red")], id="en-red"),
    pytest.param("An orange alert for heavy rain and thunderstorms is in force.",
                 [("rainstorm", "orange"), ("thunder", "orange")], id="en-alert-for"),
    pytest.param("A yellow warning signal for gales was issued.", [("gale", "yellow")], id="en-signal-for"),
    pytest.param("The yellow rainstorm warning was upgraded to orange.", [("rainstorm", "orange")], id="en-upgraded"),
    pytest.param("The red rainstorm warning was lifted at 9 am.", [], id="en-lifted"),
    pytest.param("The red rainstorm warning, issued at 5 am, has been cancelled.", [], id="en-cancelled"),
    pytest.param("Officials lifted the yellow heat alert.", [], id="en-lifted-before"),
    pytest.param("The red rainstorm warning is in force and flights were cancelled.", [("rainstorm", "red")],
                 id="en-flights-cancelled"),
    pytest.param("全區召開預警工作會議，完善預警發布機制。", [], id="yujing-without-hazard"),
    pytest.param("气象台发布红色预警", [], id="colour-without-hazard"),
    pytest.param("今天有暴雨，气象台发布暴雨预警", [], id="hazard-without-colour"),
    pytest.param("The Red Cross raised an alert about heavy rain.", [], id="en-no-signal"),
])
def test_signals_in_news(text: str, expected: list[tuple[str, str]]):
    alerts = signal_alerts(text, TODAY)
    assert sorted((a.hazard, a.colour) for a in alerts) == sorted(expected)
    assert all(a.kind == "signal" and a.day == TODAY for a in alerts)


@pytest.mark.parametrize("colour, level", [("blue", 1), ("yellow", 1), ("orange", 2), ("red", 3)])
def test_signal_levels_and_keys(colour: str, level: int):
    words = {"blue": "藍", "yellow": "黃", "orange": "橙", "red": "紅"}
    [traditional] = signal_alerts(f"暴雨{words[colour]}色預警", TODAY)
    [simplified] = signal_alerts(convert_script(f"暴雨{words[colour]}色預警", ZH_HANS), TODAY)
    [english] = signal_alerts(f"a {colour} rainstorm warning", TODAY)
    assert traditional == simplified == english
    assert (traditional.level, traditional.colour) == (level, colour)
    assert traditional.key == "2024-11-26:signal:rainstorm"


@pytest.mark.parametrize("hazard", list(HAZARDS))
def test_every_hazard_is_found_by_its_own_names(hazard: str):
    chinese, english = HAZARDS[hazard]
    for text in (f"{chinese}橙色预警", convert_script(f"{chinese}橙色预警", ZH_HANT), f"orange {english} warning"):
        assert [(a.hazard, a.colour) for a in signal_alerts(text, TODAY)] == [(hazard, "orange")], text


def test_signals_are_sorted_by_level():
    alerts = signal_alerts("大雾黄色预警；暴雨红色预警；大风橙色预警", TODAY)
    assert [(a.hazard, a.level) for a in alerts] == [("rainstorm", 3), ("gale", 2), ("fog", 1)]


# -- wording ---------------------------------------------------------------------------------

STORM = WeatherAlert("thunderstorm", TOMORROW, 2)
COLD = WeatherAlert("cold_snap", TOMORROW, 1, details=(("previous_high", 21), ("high", 9), ("drop", 12)))
RAIN = WeatherAlert("heavy_rain", TODAY, 2, details=(("precipitation", 56),))
SIGNAL = WeatherAlert("signal", TODAY, 2, hazard="rainstorm", colour="orange")


@pytest.mark.parametrize("alert, language, expected", [
    pytest.param(STORM, ZH_HANT, ["梁平區天氣提醒", "明天（11月27日）", "雷陣雨"], id="storm-hant"),
    pytest.param(STORM, ZH_HANS, ["梁平区天气提醒", "明天（11月27日）", "雷阵雨"], id="storm-hans"),
    pytest.param(STORM, "en", ["Weather alert for Liangping", "thunderstorms tomorrow (Nov 27)"], id="storm-en"),
    pytest.param(COLD, ZH_HANT, ["梁平區", "明天（11月27日）", "最高氣溫9℃", "21℃", "低12℃"], id="cold-hant"),
    pytest.param(COLD, ZH_HANS, ["梁平区", "明天（11月27日）", "最高气温9℃", "21℃", "低12℃"], id="cold-hans"),
    pytest.param(COLD, "en", ["Liangping", "tomorrow (Nov 27)", "high 9°C", "12°C below", "21°C"], id="cold-en"),
    pytest.param(RAIN, ZH_HANT, ["梁平區", "今天（11月26日）", "暴雨", "56毫米"], id="rain-hant"),
    pytest.param(RAIN, "en", ["Liangping", "torrential rain today (Nov 26)", "56 mm"], id="rain-en"),
    pytest.param(SIGNAL, ZH_HANT, ["梁平區", "今天（11月26日）", "暴雨橙色預警"], id="signal-hant"),
    pytest.param(SIGNAL, ZH_HANS, ["梁平区", "今天（11月26日）", "暴雨橙色预警"], id="signal-hans"),
    pytest.param(SIGNAL, "en", ["Liangping", "orange rainstorm warning today (Nov 26)"], id="signal-en"),
])
def test_describe_alert_names_region_day_and_facts(alert: WeatherAlert, language: str, expected: list[str]):
    text = describe_alert(alert, language, REGIONS[language], today=TODAY)
    assert text.startswith("⚠️")
    for part in expected:
        assert part in text


@pytest.mark.parametrize("alert", [STORM, COLD, RAIN, SIGNAL], ids=["storm", "cold", "rain", "signal"])
def test_chinese_wording_is_in_the_reader_script(alert: WeatherAlert):
    traditional = describe_alert(alert, ZH_HANT, "梁平区", today=TODAY)  # a region named in the other script too
    simplified = describe_alert(alert, ZH_HANS, "梁平區", today=TODAY)
    assert traditional == convert_script(traditional, ZH_HANT) != convert_script(traditional, ZH_HANS)
    assert simplified == convert_script(simplified, ZH_HANS) == convert_script(traditional, ZH_HANS)


def test_without_today_only_the_date_is_given():
    assert "11月27日有雷" in describe_alert(STORM, ZH_HANS, "梁平区")
    english = describe_alert(STORM, "en", "Liangping")
    assert "thunderstorms on Nov 27." in english and "tomorrow" not in english
    assert "Nov 27" in describe_alert(STORM, "en", "Liangping", today=TODAY - timedelta(days=5))


@pytest.mark.parametrize("code", [95, 96, 65, 82, 66, 75, 86])
@pytest.mark.parametrize("amount", [None, 5.0, 15.0, 60.0, 150.0])
def test_every_forecast_alert_can_be_worded(code: int, amount: float | None):
    [alert] = forecast_alerts(forecast(day(TOMORROW, code, precipitation_sum=amount)), TODAY)
    for language in (ZH_HANT, ZH_HANS, "en"):
        assert REGIONS[language] in describe_alert(alert, language, REGIONS[language], today=TODAY)


@pytest.mark.parametrize("hazard", list(HAZARDS))
def test_every_signal_can_be_worded(hazard: str):
    chinese, english = HAZARDS[hazard]
    for colour in SIGNAL_COLOURS:
        alert = WeatherAlert("signal", TODAY, 1, hazard=hazard, colour=colour)
        assert f"{colour} {english} warning" in describe_alert(alert, "en", "Liangping")
        assert convert_script(chinese, ZH_HANT) in describe_alert(alert, ZH_HANT, "梁平區")
