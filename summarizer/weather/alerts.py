"""Weather alerts: bad weather in the coming day of a forecast, warning signals in local news, and their wording.

Pure functions. An alert's :attr:`WeatherAlert.key` names the event (a day and what happens on it) so
that the bot can send it once and again only when its ``level`` rises:

* **forecast** — WMO codes of the daily and hourly forecast for today and tomorrow, graded with the
  China Meteorological Administration's 24-hour amounts where an amount matters (rain: 暴雨 ≥ 50 mm,
  大暴雨 ≥ 100 mm; snow, as water: 暴雪 ≥ 10 mm, 大暴雪 ≥ 20 mm), and a drop of a day's high below
  the day before's;
* **signals** — CMA-style warning signals (暴雨橙色預警, 'red rainstorm warning') named in a news text;
  one cancelled in the same clause (解除…預警, 'warning lifted') is not an alert.

Levels: 1 warning, 2 severe, 3 severest (the only level meant to break quiet hours).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from summarizer.text import ZH_HANS, convert_script, is_chinese
from summarizer.weather.forecast import DayForecast, Forecast

# -- forecast alerts -------------------------------------------------------------------------

_CODE_KINDS: dict[int, str] = {
    95: "thunderstorm",
    96: "hail",
    99: "hail",
    65: "heavy_rain",
    82: "heavy_rain",
    66: "freezing_rain",
    67: "freezing_rain",
    75: "heavy_snow",
    86: "heavy_snow",
}
_FIXED_LEVELS: dict[str, int] = {"hail": 3, "thunderstorm": 2, "freezing_rain": 2}
# kind -> (precipitation_sum in mm at least, level), strongest first; below them level 1
_AMOUNT_LEVELS: dict[str, tuple[tuple[float, int], ...]] = {
    "heavy_rain": ((100.0, 3), (50.0, 2)),
    "heavy_snow": ((20.0, 3), (10.0, 2)),
}
_SUPERSEDES: dict[str, str] = {"hail": "thunderstorm"}  # a hailstorm's alert stands for its thunderstorm
_SEVERE_DROP = 1.5  # a drop more than this many times the threshold is severe

# -- signals ---------------------------------------------------------------------------------

SIGNAL_COLOURS: tuple[str, ...] = ("blue", "yellow", "orange", "red")  # weakest first
_COLOUR_LEVELS: dict[str, int] = {"blue": 1, "yellow": 1, "orange": 2, "red": 3}
_ZH_COLOURS: dict[str, str] = {"蓝": "blue", "黄": "yellow", "橙": "orange", "红": "red"}
_COLOUR_WORDS: dict[str, str] = {colour: zh for zh, colour in _ZH_COLOURS.items()}

# hazard id -> (Simplified Chinese, English) as signals are named
HAZARDS: dict[str, tuple[str, str]] = {
    "typhoon": ("台风", "typhoon"),
    "rainstorm": ("暴雨", "rainstorm"),
    "blizzard": ("暴雪", "blizzard"),
    "cold_wave": ("寒潮", "cold wave"),
    "gale": ("大风", "gale"),
    "sandstorm": ("沙尘暴", "sandstorm"),
    "heat": ("高温", "heat"),
    "drought": ("干旱", "drought"),
    "thunder": ("雷电", "lightning"),
    "thunder_gale": ("雷雨大风", "thunderstorm gale"),
    "hail": ("冰雹", "hail"),
    "frost": ("霜冻", "frost"),
    "fog": ("大雾", "fog"),
    "haze": ("霾", "haze"),
    "icy_roads": ("道路结冰", "icy road"),
    "forest_fire": ("森林火险", "forest fire danger"),
}
# words (Simplified Chinese) and patterns (English) that name a hazard in a signal; the first that
# matches names it (thunderstorm gale before thunderstorm)
_ZH_HAZARD_WORDS: dict[str, str] = {
    **{zh: hazard for hazard, (zh, _) in HAZARDS.items()},
    "雷暴大风": "thunder_gale",
}
_EN_HAZARD_WORDS: dict[str, str] = {
    r"thunderstorm(?:s? and)? gales?": "thunder_gale",
    r"rainstorms?|heavy rain(?:fall|s)?|torrential rains?|downpours?": "rainstorm",
    r"blizzards?|snowstorms?|heavy snow(?:fall)?": "blizzard",
    r"cold waves?|cold snaps?": "cold_wave",
    r"gales?|(?:strong|high|gusty) winds?": "gale",
    r"(?:sand|dust) ?storms?": "sandstorm",
    r"heat ?waves?|high temperatures?|(?:extreme )?heat": "heat",
    r"droughts?": "drought",
    r"thunderstorms?|thunder(?: and lightning)?|lightning": "thunder",
    r"hail(?:storms?)?": "hail",
    r"frost": "frost",
    r"(?:dense |heavy )?fog": "fog",
    r"haze|smog": "haze",
    r"icy roads?|road icing": "icy_roads",
    r"forest fires?(?: danger)?|wildfires?": "forest_fire",
    r"typhoons?|tropical storms?": "typhoon",
}

_ZH_HAZARD = f"(?:{'|'.join(_ZH_HAZARD_WORDS)})"
_ZH_HAZARD_RE = re.compile(_ZH_HAZARD)
_ZH_LIST = rf"{_ZH_HAZARD}(?:[、和及与/]{_ZH_HAZARD})*"  # 暴雨、雷电黄色预警
_ZH_SIGNAL = re.compile(
    rf"(?:(?P<before>[蓝黄橙红])色(?P<hazards_after>{_ZH_LIST})"  # 红色暴雨预警
    rf"|(?P<hazards>{_ZH_LIST})(?P<colour>[蓝黄橙红])?色?)"  # 暴雨红色预警, 暴雨预警（红色）
    r"(?:预警|警报|警告)(?:信号)?"
    r"(?:\s*[（(](?P<bracketed>[蓝黄橙红])色?[）)])?"
    rf"(?:\s*(?:已|被|已被)?(?:升级|提升|调整|降级|降低|变更)(?:为|至|到|成)(?:{_ZH_HAZARD})?(?P<changed>[蓝黄橙红])色)?"
)
_ZH_CANCEL_BEFORE = re.compile(r"(?:解除|撤销|取消)了?(?:(?!预警|警报|信号)[^，。；！？,;!?\n]){0,10}$")
_ZH_CANCEL_AFTER = re.compile(r"(?:已经?|已?于[^，。；！？,;!?\n]{0,10}?|现已|目前已|正式|被|予以)*(?:解除|撤销|取消)")

_EN_HAZARD_RE = re.compile("|".join(f"(?P<h{i}>{word})" for i, word in enumerate(_EN_HAZARD_WORDS)), re.I)
_EN_HAZARD_IDS = list(_EN_HAZARD_WORDS.values())
_EN_HAZARD = f"(?:{'|'.join(_EN_HAZARD_WORDS)})"
_EN_LIST = rf"{_EN_HAZARD}(?:(?:,\s*|,?\s+(?:and|or|&)\s+){_EN_HAZARD})*"
_EN_COLOUR = r"(?:blue|yellow|orange|red)"
_EN_WARNING = r"(?:warning|alert)s?(?:\s+signals?)?|signals?"
_EN_SIGNAL = re.compile(
    rf"\b(?:(?P<colour>{_EN_COLOUR})(?:[- ]level|[- ]coloured)?[- ](?P<hazards>{_EN_LIST})\s+(?:{_EN_WARNING})"  # red rainstorm warning
    rf"|(?P<before>{_EN_COLOUR})(?:[- ]level)?\s+(?:{_EN_WARNING})\s+(?:for|of|over)\s+"  # orange alert for heavy rain
    rf"(?:(?:the|possible|likely|more)\s+)*(?P<hazards_after>{_EN_LIST}))\b"
    rf"(?:\s+(?:was\s+|has\s+been\s+|is\s+)?(?:upgraded|raised|elevated|downgraded|lowered)\s+(?:from\s+{_EN_COLOUR}\s+)?to\s+"
    rf"(?:an?\s+|the\s+)?(?P<changed>{_EN_COLOUR})\b)?",
    re.I,
)
_EN_CANCEL_BEFORE = re.compile(
    r"\b(?:lift(?:ed|s|ing)?|cancel(?:l?ed|s|l?ing)?|withdr(?:ew|awn|aws?)|rescind(?:ed|s)?|called\s+off)"
    r"(?:\s+(?:the|its|their|an?|all|earlier|previous|existing))*\s*$",
    re.I,
)
_EN_GAP = r"(?:(?!\b(?:and|but|while|as|so|after|because|not)\b|warning|alert|signal)[^.;!?\n])"  # no new clause
_EN_CANCEL_AFTER = re.compile(  # 'warning (, issued at 5 am,| for the city) was lifted'
    rf"(?:\s*,{_EN_GAP}{{0,40}}?,|\s+(?:for|in|over|issued|that|which)\b{_EN_GAP}{{0,40}}?)?"
    r"\s+(?:was|were|has\s+been|have\s+been|had\s+been|is|are|been)\s+(?:now\s+|officially\s+)?"
    r"(?:lifted|cancell?ed|withdrawn|rescinded|called\s+off|removed)\b",
    re.I,
)
_LOOKBACK = 40  # characters before a signal searched for a cancelling word
_Mention = tuple[int, tuple[str, ...], str, bool]  # position, hazards, colour, cancelled

# -- wording ---------------------------------------------------------------------------------

# (kind, level) -> (Simplified Chinese after 有, English), then kind -> advice (Simplified Chinese, English)
_PHRASES: dict[tuple[str, int], tuple[str, str]] = {
    ("thunderstorm", 2): ("雷阵雨", "thunderstorms"),
    ("hail", 3): ("雷阵雨伴有冰雹", "thunderstorms with hail"),
    ("freezing_rain", 2): ("冻雨", "freezing rain"),
    ("heavy_rain", 1): ("大雨", "heavy rain"),
    ("heavy_rain", 2): ("暴雨", "torrential rain"),
    ("heavy_rain", 3): ("大暴雨", "extreme rainfall"),
    ("heavy_snow", 1): ("大雪", "heavy snow"),
    ("heavy_snow", 2): ("暴雪", "a snowstorm"),
    ("heavy_snow", 3): ("大暴雪", "a severe snowstorm"),
}
_ADVICE: dict[str, tuple[str, str]] = {
    "thunderstorm": ("注意出行安全", "Take care when travelling."),
    "hail": ("尽量留在室内，注意保护车辆", "Stay indoors if you can and shelter vehicles."),
    "heavy_rain": ("注意防范积水和山洪", "Beware of flooding and flash floods."),
    "freezing_rain": ("道路湿滑，注意出行安全", "Roads may be icy; take care when travelling."),
    "heavy_snow": ("道路可能结冰，注意出行安全", "Roads may be icy; take care when travelling."),
    "cold_snap": ("注意添衣保暖", "Dress warmly."),
    "signal": ("请关注官方发布，注意防范", "Follow official advice and take precautions."),
}


@dataclass(frozen=True)
class WeatherAlert:
    """One alert: what (``kind``, and for signals ``hazard``/``colour``), on which local ``day``, how bad.

    ``details`` holds the facts the wording uses as ``(name, value)`` pairs: ``precipitation`` (mm) for
    rain and snow, ``previous_high``/``high``/``drop`` (whole °C) for a cold snap.
    """

    kind: str
    day: date
    level: int
    hazard: str | None = None
    colour: str | None = None
    details: tuple[tuple[str, int], ...] = ()
    start: str | None = None  # "day" (08-20), "night" (20-08) or "whole" (a day): where an event spanning periods starts
    end_day: date | None = None  # ... and the day and part where it ends
    end: str | None = None

    @property
    def key(self) -> str:
        """The event's identity, the same across forecast refreshes and levels."""
        if self.kind == "signal":
            return f"{self.day.isoformat()}:signal:{self.hazard}"
        return f"{self.day.isoformat()}:{self.kind}"


def forecast_alerts(forecast: Forecast, today: date, drop_threshold: float = 8.0) -> list[WeatherAlert]:
    """Alerts for today and tomorrow from the daily and hourly WMO codes and the day-to-day highs.

    Thunderstorm 2, hail 3 (standing for its thunderstorm), freezing rain 2; heavy rain or snow 1,
    raised by the day's precipitation_sum (see the module's grades). A cold snap is a high, in whole
    °C as readers see it, at least ``drop_threshold`` below the day before's (which must be in the
    forecast): level 1, level 2 beyond 1.5 times the threshold.

    One storm is one alert: weather of one kind in periods that follow each other (a day's
    08–20 "day", its 20–08 "night") is one event, kept on the day it starts, with ``start``,
    ``end_day`` and ``end`` naming its periods when it reaches past a day's daytime; a day's daily
    code that only repeats the small hours of the night before adds nothing. One alert per event,
    sorted by day, then level from the highest.
    """
    if drop_threshold <= 0:
        raise ValueError("drop_threshold must be positive")
    highs = {day.date: round(day.high) for day in forecast.days}
    strongest: dict[str, WeatherAlert] = {}
    for alert in _period_alerts(forecast, today):
        if alert.key not in strongest or alert.level > strongest[alert.key].level:
            strongest[alert.key] = alert
    for day in forecast.days:
        if not today <= day.date <= today + timedelta(days=1):
            continue
        previous = highs.get(day.date - timedelta(days=1))
        if previous is not None and previous - highs[day.date] >= drop_threshold:
            drop = previous - highs[day.date]
            level = 2 if drop > _SEVERE_DROP * drop_threshold else 1
            details = (("previous_high", previous), ("high", highs[day.date]), ("drop", drop))
            strongest[f"{day.date.isoformat()}:cold_snap"] = WeatherAlert("cold_snap", day.date, level, details=details)
    return sorted(strongest.values(), key=lambda a: (a.day, -a.level, a.kind))


def _kinds(codes: Iterable[int]) -> set[str]:
    """The alert kinds of weather codes (hail standing for its thunderstorm)."""
    kinds = {_CODE_KINDS[code] for code in codes if code in _CODE_KINDS}
    return kinds - {_SUPERSEDES[kind] for kind in kinds if kind in _SUPERSEDES}


def _period_alerts(forecast: Forecast, today: date) -> list[WeatherAlert]:
    """The code alerts: each kind's runs of consecutive periods, starting today or tomorrow."""
    periods: list[tuple[DayForecast, str, set[str]]] = []  # (day, "day" | "night" | "whole", kinds)
    night_before: set[str] = set()
    for day in forecast.days:
        by_day, by_night = _kinds(day.day_codes), _kinds(day.night_codes)
        if not day.day_codes and not day.night_codes:
            periods.append((day, "whole", _kinds([day.weather_code])))
        else:  # the daily code's kinds not seen in the hours, unless the night before's small hours had them
            periods.append((day, "day", by_day | (_kinds([day.weather_code]) - by_night - night_before)))
            periods.append((day, "night", by_night))
        night_before = by_night
    alerts = []
    for kind in sorted({kind for _, _, kinds in periods for kind in kinds}):
        index = 0
        while index < len(periods):
            if kind not in periods[index][2]:
                index += 1
                continue
            run = [periods[index]]
            while (
                index + 1 < len(periods) and kind in periods[index + 1][2] and "whole" not in (run[-1][1], periods[index + 1][1])
            ):
                index += 1
                run.append(periods[index])
            index += 1
            first, last = run[0], run[-1]
            if not today <= first[0].date <= today + timedelta(days=1):
                continue
            alert = max((_code_alert(kind, day.date, day.precipitation_sum) for day, _, _ in run), key=lambda a: a.level)
            alert = WeatherAlert(kind, first[0].date, alert.level, details=alert.details)
            if last[0].date != first[0].date or "night" in (first[1], last[1]):
                alert = replace(alert, start=first[1], end_day=last[0].date, end=last[1])
            alerts.append(alert)
    return alerts


def _code_alert(kind: str, day: date, precipitation: float | None) -> WeatherAlert:
    """The alert a weather code's ``kind`` gives, graded by the day's precipitation where that matters."""
    if kind in _FIXED_LEVELS:
        return WeatherAlert(kind, day, _FIXED_LEVELS[kind])
    if precipitation is None:
        return WeatherAlert(kind, day, 1)
    level = next((level for minimum, level in _AMOUNT_LEVELS[kind] if precipitation >= minimum), 1)
    return WeatherAlert(kind, day, level, details=(("precipitation", round(precipitation)),))


def signal_alerts(text: str, day: date) -> list[WeatherAlert]:
    """Warning signals named in a news ``text`` (either Chinese script, or English) dated ``day``.

    Read in order: each signal raises its hazard to its colour (or the colour it is changed to,
    升级为橙色 / 'upgraded to red'); one cancelled in its clause (解除…预警, 'was lifted') clears the
    hazard until it is named again. One alert per hazard, highest level first.
    """
    simplified = convert_script(text, ZH_HANS)
    mentions = sorted([*_zh_mentions(simplified), *_en_mentions(simplified)])
    colours: dict[str, str] = {}
    for _, hazards, colour, cancelled in mentions:
        for hazard in hazards:
            if cancelled:
                colours.pop(hazard, None)
            else:
                colours[hazard] = max(colours.get(hazard, colour), colour, key=SIGNAL_COLOURS.index)
    order = list(HAZARDS)
    ranked = sorted(colours.items(), key=lambda item: (-_COLOUR_LEVELS[item[1]], order.index(item[0])))
    return [WeatherAlert("signal", day, _COLOUR_LEVELS[colour], hazard=hazard, colour=colour) for hazard, colour in ranked]


def _zh_mentions(text: str) -> list[_Mention]:
    """Signals in Simplified Chinese text."""
    mentions = []
    for match in _ZH_SIGNAL.finditer(text):
        colour = match["changed"] or match["bracketed"] or match["before"] or match["colour"]
        if colour is None:
            continue
        hazards = tuple(_ZH_HAZARD_WORDS[word] for word in _ZH_HAZARD_RE.findall(match["hazards"] or match["hazards_after"]))
        cancelled = bool(
            _ZH_CANCEL_BEFORE.search(text, max(0, match.start() - _LOOKBACK), match.start())
            or _ZH_CANCEL_AFTER.match(text, match.end())
        )
        mentions.append((match.start(), hazards, _ZH_COLOURS[colour], cancelled))
    return mentions


def _en_mentions(text: str) -> list[_Mention]:
    """Signals in English text."""
    mentions = []
    for match in _EN_SIGNAL.finditer(text):
        colour = (match["changed"] or match["before"] or match["colour"]).lower()
        words = _EN_HAZARD_RE.finditer(match["hazards"] or match["hazards_after"])
        hazards = tuple(_en_hazard(word) for word in words)
        cancelled = bool(
            _EN_CANCEL_BEFORE.search(text, max(0, match.start() - _LOOKBACK), match.start())
            or _EN_CANCEL_AFTER.match(text, match.end())
        )
        mentions.append((match.start(), hazards, colour, cancelled))
    return mentions


def _en_hazard(word: re.Match[str]) -> str:
    """The hazard an English hazard word names (its group in ``_EN_HAZARD_RE`` is ``h<index>``)."""
    assert word.lastgroup is not None  # every alternative is a named group
    return _EN_HAZARD_IDS[int(word.lastgroup[1:])]


def _signal(alert: WeatherAlert) -> tuple[str, str]:
    """A signal alert's hazard and colour (a signal always names both)."""
    assert alert.hazard is not None and alert.colour is not None
    return alert.hazard, alert.colour


def describe_alert(alert: WeatherAlert, language: str, region: str, *, today: date | None = None) -> str:
    """The alert for a reader in zh-Hant, zh-Hans or English (any other language): region, day
    (today/tomorrow relative to ``today`` when given, and the date), what, and advice."""
    facts = dict(alert.details)
    if is_chinese(language):
        when = _span_zh(alert, today) if alert.start else _day_zh(alert.day, today)
        advice = _ADVICE[alert.kind][0]
        if alert.kind == "cold_snap":
            what = f"{when}气温明显下降，最高气温{facts['high']}℃，比前一天的{facts['previous_high']}℃低{facts['drop']}℃"
        elif alert.kind == "signal":
            hazard, colour = _signal(alert)
            what = f"{when}有{HAZARDS[hazard][0]}{_COLOUR_WORDS[colour]}色预警"
        else:
            amount = f"（预计降水{facts['precipitation']}毫米）" if "precipitation" in facts else ""
            what = f"{when}有{_PHRASES[alert.kind, alert.level][0]}{amount}"
        return convert_script(f"⚠️ {region}天气提醒：{what}，{advice}。", language)
    when = _span_en(alert, today) if alert.start else _day_en(alert.day, today)
    advice = _ADVICE[alert.kind][1]
    if alert.kind == "cold_snap":
        what = (
            f"temperatures fall sharply {when}: high {facts['high']}°C, "
            f"{facts['drop']}°C below the day before's {facts['previous_high']}°C"
        )
    elif alert.kind == "signal":
        hazard, colour = _signal(alert)
        what = f"{colour} {HAZARDS[hazard][1]} warning {when}"
    else:
        amount = f", about {facts['precipitation']} mm" if "precipitation" in facts else ""
        what = f"{_PHRASES[alert.kind, alert.level][1]} {when}{amount}"
    return f"⚠️ Weather alert for {region}: {what}. {advice}"


def _day_zh(day: date, today: date | None) -> str:
    """今天（2月24日）, or the date alone when it is neither today nor tomorrow."""
    relative = _relative_day(day, today, ("今天", "明天"))
    return f"{relative}（{day.month}月{day.day}日）" if relative else f"{day.month}月{day.day}日"


def _day_en(day: date, today: date | None) -> str:
    relative = _relative_day(day, today, ("today", "tomorrow"))
    return f"{relative} ({day:%b} {day.day})" if relative else f"on {day:%b} {day.day}"


def _span_zh(alert: WeatherAlert, today: date | None) -> str:
    """An event by its periods: 今天夜间（2月24日）, 今天夜间到明天白天（2月24日—25日）."""
    end_day = alert.end_day or alert.day

    def part(day: date, name: str | None, repeat_day: bool = True) -> str:
        relative = _relative_day(day, today, ("今天", "明天")) or f"{day.month}月{day.day}日"
        return (relative if repeat_day else "") + {"day": "白天", "night": "夜间"}.get(name or "", "")

    dates = f"{alert.day.month}月{alert.day.day}日"
    if end_day != alert.day:
        dates += "—" + (f"{end_day.day}日" if end_day.month == alert.day.month else f"{end_day.month}月{end_day.day}日")
    start = part(alert.day, alert.start)
    if (end_day, alert.end) == (alert.day, alert.start):
        return f"{start}（{dates}）"
    return f"{start}到{part(end_day, alert.end, end_day != alert.day)}（{dates}）"


def _span_en(alert: WeatherAlert, today: date | None) -> str:
    """An event by its periods: tonight (Feb 24), tonight into tomorrow (Feb 24–25)."""
    end_day = alert.end_day or alert.day

    def part(day: date, name: str | None) -> str:
        relative = _relative_day(day, today, ("today", "tomorrow"))
        if relative:
            return {"today": "tonight", "tomorrow": "tomorrow night"}.get(relative, relative) if name == "night" else relative
        return f"the night of {day:%b} {day.day}" if name == "night" else f"{day:%b} {day.day}"

    dates = f"{alert.day:%b} {alert.day.day}"
    if end_day != alert.day:
        dates += "–" + (f"{end_day.day}" if end_day.month == alert.day.month else f"{end_day:%b} {end_day.day}")
    start, end = part(alert.day, alert.start), part(end_day, alert.end)
    if (end_day, alert.end) == (alert.day, alert.start):
        return f"{start} ({dates})"
    joint = "and" if end_day == alert.day else "into"
    return f"{start} {joint} {end} ({dates})"


def _relative_day(day: date, today: date | None, words: tuple[str, str]) -> str | None:
    """``words[0]`` for today, ``words[1]`` for tomorrow, else None."""
    if today is None:
        return None
    return {today: words[0], today + timedelta(days=1): words[1]}.get(day)
