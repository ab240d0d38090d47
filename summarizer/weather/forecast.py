"""Forecast data and its phrasing: WMO weather codes in CMA words (Chinese) or plain English.

Pure functions over :class:`Forecast`; the provider client lives in ``bot/weather_service.py``.
Numbers are never rounded differently between languages: temperatures are whole °C,
wind is Beaufort force (級) in Chinese and km/h in English.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from summarizer.text import ZH_HANS, ZH_HANT, convert_script, is_chinese

OPEN_METEO_CREDIT = {
    ZH_HANS: "天气数据：Open-Meteo.com（CC BY 4.0）",
    ZH_HANT: "天氣資料：Open-Meteo.com（CC BY 4.0）",
    "en": "Weather data by Open-Meteo.com (CC BY 4.0)",
}

# WMO 4677 codes as used by Open-Meteo -> (Simplified Chinese in CMA vocabulary, English)
WMO_CODES: dict[int, tuple[str, str]] = {
    0: ("晴", "clear"),
    1: ("晴间多云", "mainly clear"),
    2: ("多云", "partly cloudy"),
    3: ("阴", "overcast"),
    45: ("雾", "fog"),
    48: ("冻雾", "freezing fog"),
    51: ("毛毛雨", "light drizzle"),
    53: ("毛毛雨", "drizzle"),
    55: ("毛毛雨", "heavy drizzle"),
    56: ("冻雨", "freezing drizzle"),
    57: ("冻雨", "freezing drizzle"),
    61: ("小雨", "light rain"),
    63: ("中雨", "rain"),
    65: ("大雨", "heavy rain"),
    66: ("冻雨", "freezing rain"),
    67: ("冻雨", "freezing rain"),
    71: ("小雪", "light snow"),
    73: ("中雪", "snow"),
    75: ("大雪", "heavy snow"),
    77: ("米雪", "snow grains"),
    80: ("阵雨", "light showers"),
    81: ("阵雨", "showers"),
    82: ("强阵雨", "violent showers"),
    85: ("阵雪", "snow showers"),
    86: ("强阵雪", "heavy snow showers"),
    95: ("雷阵雨", "thunderstorms"),
    96: ("雷阵雨伴有冰雹", "thunderstorms with hail"),
    99: ("雷阵雨伴有冰雹", "thunderstorms with hail"),
}
_COMPASS_ZH = ["北", "东北", "东", "东南", "南", "西南", "西", "西北"]
_COMPASS_EN = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"]
_BEAUFORT_KMH = [1, 6, 12, 20, 29, 39, 50, 62, 75, 89, 103, 118]  # lower bounds of force 1..12


@dataclass
class DayForecast:
    """One day of a forecast; ``day_codes``/``night_codes`` are hourly codes for 08–20 and 20–08."""

    date: date
    weather_code: int
    low: float
    high: float
    precipitation_probability: int | None = None
    precipitation_sum: float | None = None
    wind_speed_max: float | None = None  # km/h
    wind_direction: int | None = None  # degrees
    sunrise: str | None = None
    sunset: str | None = None
    day_codes: list[int] = field(default_factory=list)
    night_codes: list[int] = field(default_factory=list)


@dataclass
class HourForecast:
    """One hour of a forecast, at ``time`` on the region's wall clock (naive, as the provider gives it)."""

    time: datetime
    temperature: float | None = None  # °C
    precipitation: float | None = None  # mm in the hour before
    precipitation_probability: int | None = None  # %
    weather_code: int | None = None


@dataclass
class Forecast:
    """A provider's forecast for the region; ``hours`` is empty when the provider gave none
    (and in forecasts stored before hours were kept)."""

    region: str
    provider: str
    latitude: float
    longitude: float
    timezone: str
    fetched_at: datetime
    days: list[DayForecast]
    hours: list[HourForecast] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        data = asdict(self)
        data["fetched_at"] = self.fetched_at.isoformat()
        for day in data["days"]:
            day["date"] = day["date"].isoformat()
        for hour in data["hours"]:
            hour["time"] = hour["time"].isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Forecast:
        """Inverse of :meth:`to_dict`."""
        days = [DayForecast(**{**d, "date": date.fromisoformat(d["date"])}) for d in data["days"]]
        hours = [HourForecast(**{**h, "time": datetime.fromisoformat(h["time"])}) for h in data.get("hours", [])]
        return cls(**{**data, "fetched_at": datetime.fromisoformat(data["fetched_at"]), "days": days, "hours": hours})


def condition(code: int, language: str) -> str:
    """Words for one WMO weather code."""
    simplified, english = WMO_CODES.get(code, ("天气不明", "unknown weather"))
    if is_chinese(language):
        return convert_script(simplified, language)
    return english


def period_conditions(codes: list[int], language: str) -> str | None:
    """ "A轉B" / "A, then B" for a period: the most significant code of each half."""
    if not codes:
        return None
    middle = max(len(codes) // 2, 1)
    first, second = max(codes[:middle]), max(codes[middle:] or codes[:middle])
    if condition(first, language) == condition(second, language):
        return condition(first, language)
    if is_chinese(language):
        return condition(first, language) + convert_script("转", language) + condition(second, language)
    return f"{condition(first, language)}, then {condition(second, language)}"


def beaufort(speed_kmh: float) -> int:
    """Beaufort force for a wind speed in km/h."""
    return sum(speed_kmh >= bound for bound in _BEAUFORT_KMH)


def wind_phrase(speed_kmh: float | None, direction: int | None, language: str) -> str | None:
    """ "东北风3级" in Chinese, "NE wind up to 20 km/h" in English."""
    if speed_kmh is None:
        return None
    sector = round((direction or 0) / 45) % 8
    if is_chinese(language):
        where = _COMPASS_ZH[sector] if direction is not None else ""
        return convert_script(f"{where}风{beaufort(speed_kmh)}级", language)
    where = f"{_COMPASS_EN[sector]} " if direction is not None else ""
    return f"{where}wind up to {round(speed_kmh)} km/h"


def _temperatures(day: DayForecast, language: str) -> str:
    low, high = round(day.low), round(day.high)
    return f"{low}～{high}℃" if is_chinese(language) else f"{low} to {high}°C"


def _rain(day: DayForecast, language: str) -> str | None:
    if day.precipitation_probability is None:
        return None
    if is_chinese(language):
        return convert_script(f"降水概率{day.precipitation_probability}%", language)
    return f"{day.precipitation_probability}% chance of rain"


def describe_forecast(forecast: Forecast, language: str, today: date, evening: bool = False) -> str:
    """Today (day and night), or only tonight in the ``evening``, then tomorrow, with the credit."""
    days = {d.date: d for d in forecast.days}
    current = days.get(today) or (forecast.days[0] if forecast.days else None)
    if current is None:
        return ""
    following = next((d for d in forecast.days if d.date > current.date), None)
    zh = is_chinese(language)
    words = {
        "today": "今天" if zh else "Today",
        "tonight": "今天夜间" if zh else "tonight",
        "tonight_only": "今天夜间" if zh else "Tonight",
        "tomorrow": "明天" if zh else "Tomorrow",
    }
    sentences = []
    parts = []
    if not evening:
        day_words = period_conditions(current.day_codes, language) or condition(current.weather_code, language)
        parts.append(f"{words['today']}{'' if zh else ': '}{day_words}")
        night = period_conditions(current.night_codes, language)
        if night:
            parts.append(f"{words['tonight']}{'' if zh else ' '}{night}")
    else:
        night = period_conditions(current.night_codes, language) or condition(current.weather_code, language)
        parts.append(f"{words['tonight_only']}{'' if zh else ': '}{night}")
    parts += [
        x
        for x in (
            _temperatures(current, language),
            _rain(current, language),
            wind_phrase(current.wind_speed_max, current.wind_direction, language),
        )
        if x
    ]
    sentences.append(("，" if zh else ", ").join(parts))
    if following is not None:
        conditions = period_conditions(following.day_codes, language) or condition(following.weather_code, language)
        more = [
            x
            for x in (
                _temperatures(following, language),
                _rain(following, language),
                wind_phrase(following.wind_speed_max, following.wind_direction, language),
            )
            if x
        ]
        sentences.append(
            f"{words['tomorrow']}{'' if zh else ': '}{conditions}" + ("，" if zh else ", ") + ("，" if zh else ", ").join(more)
        )
    end = "。" if zh else ". "
    text = end.join(sentences) + end.strip()
    return convert_script(text, language) if zh else text
