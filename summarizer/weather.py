"""Weather bulletins found inside news articles: detection, parsing, removal.

A Chinese district portal often ends a story with the local meteorological bureau's
forecast, e.g.::

    梁平區氣象局2023年2月24日9時
    發布未來48小時天氣預報
    24日晚上到25日白天,多云轉陰,9-12℃
    25日晚上到26日白天,多云,8-15℃

:func:`parse_bulletins` returns the text without such blocks plus the blocks as data.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime

from summarizer.text import ZH_HANS, ZH_HANT, convert_script

_ISSUER = re.compile(r"([\u4e00-\u9fff]{2,12}?(?:氣象|气象)(?:局|台|臺|站|中心))")
_ISSUED_AT = re.compile(
    r"(?:(?P<y>\d{4})年)?(?P<m>\d{1,2})月(?P<d>\d{1,2})日\s*(?P<h>\d{1,2})?(?:[時时點点]|:(?P<min>\d{2}))?"
)
_HEADER_HINT = re.compile(r"(?:氣象|气象|天氣預報|天气预报|天氣|天气)")
_FORECAST_HINT = re.compile(r"(?:預報|预报|發布|发布)")
_TEMPERATURE = re.compile(
    r"(?:氣溫|气温|溫度|温度)?\s*(?P<low>[-−零]?\d{1,2})\s*(?:℃|°C|°|度)?\s*"
    r"(?:-|~|～|〜|—|–|到|至)\s*(?P<high>[-−]?\d{1,2})\s*(?:℃|°C|°|度)"
)
_DAY_WORDS = re.compile(r"(?:日|白天|晚上|夜間|夜间|夜裡|夜里|今天|明天|後天|后天|上午|下午|凌晨|傍晚|今晚|明晚)")
_WIND = re.compile(r"(?:風|风)")
_CONDITION_CHARS = re.compile(r"[晴雲云陰阴雨雪霧雾霾沙塵尘雹轉转]")
_SEGMENT_SPLIT = re.compile(r"[,，;；、:：\s]+")


@dataclass
class Period:
    """One forecast period of a bulletin."""

    label: str
    conditions: str | None
    low: int | None
    high: int | None
    wind: str | None = None


@dataclass
class Bulletin:
    """A weather forecast bulletin issued by a local bureau."""

    issuer: str | None
    issued_at: datetime | None
    periods: list[Period] = field(default_factory=list)
    text: str = ""

    def to_dict(self) -> dict:
        """JSON-ready form (``issued_at`` as ISO 8601)."""
        data = asdict(self)
        data["issued_at"] = self.issued_at.isoformat() if self.issued_at else None
        return data


def _normalise(line: str) -> str:
    return unicodedata.normalize("NFKC", line).replace("−", "-").strip()


def parse_period(line: str) -> Period | None:
    """Parse one forecast line (``24日晚上到25日白天,多云轉陰,9-12℃``); None if it is not one."""
    text = _normalise(line)
    temperature = _TEMPERATURE.search(text)
    if not temperature:
        return None
    before, after = text[: temperature.start()], text[temperature.end() :]
    segments = [s for s in _SEGMENT_SPLIT.split(before) if s]
    label_parts: list[str] = []
    conditions: list[str] = []
    wind: list[str] = []
    for segment in segments:
        if _WIND.search(segment):
            wind.append(segment)
        elif not label_parts and _DAY_WORDS.search(segment):
            label_parts.append(segment)
        elif _CONDITION_CHARS.search(segment) and not _DAY_WORDS.search(segment):
            conditions.append(segment)
        elif _DAY_WORDS.search(segment) and not conditions:
            label_parts.append(segment)
    for segment in (s for s in _SEGMENT_SPLIT.split(after) if s):
        if _WIND.search(segment):
            wind.append(segment)
        elif _CONDITION_CHARS.search(segment):
            conditions.append(segment)
    if not label_parts:
        return None
    low, high = (int(temperature.group(k).replace("零", "0")) for k in ("low", "high"))
    return Period(
        label="".join(label_parts),
        conditions="，".join(conditions) or None,
        low=min(low, high),
        high=max(low, high),
        wind="，".join(wind) or None,
    )


def _parse_issued_at(text: str, default_year: int | None) -> datetime | None:
    match = _ISSUED_AT.search(text)
    if not match:
        return None
    year = int(match["y"]) if match["y"] else default_year
    if year is None:
        return None
    try:
        return datetime(year, int(match["m"]), int(match["d"]), int(match["h"] or 0), int(match["min"] or 0))
    except ValueError:
        return None


def _is_header(line: str) -> bool:
    return bool(_HEADER_HINT.search(line)) and (bool(_ISSUER.search(line)) or bool(_FORECAST_HINT.search(line)))


def parse_bulletins(text: str, default_year: int | None = None) -> tuple[str, list[Bulletin]]:
    """Split ``text`` into the text without weather bulletins and the bulletins found.

    A bulletin is one to three header lines (issuer, issue time, "發布未來48小時天氣預報")
    followed by period lines with a temperature range. Times are naive local times.
    """
    lines = text.splitlines()
    keep: list[str] = []
    bulletins: list[Bulletin] = []
    i = 0
    while i < len(lines):
        header_end = i
        while header_end < len(lines) and header_end - i < 3 and _is_header(_normalise(lines[header_end])) \
                and not parse_period(lines[header_end]):
            header_end += 1
        periods: list[Period] = []
        j = header_end
        while j < len(lines) and (period := parse_period(lines[j])):
            periods.append(period)
            j += 1
        if header_end > i and periods:
            header = " ".join(_normalise(line) for line in lines[i:header_end])
            issuer = _ISSUER.search(header)
            bulletins.append(
                Bulletin(
                    issuer=issuer.group(1) if issuer else None,
                    issued_at=_parse_issued_at(header, default_year),
                    periods=periods,
                    text="\n".join(line.strip() for line in lines[i:j]),
                )
            )
            i = j
            continue
        keep.append(lines[i])
        i += 1
    return "\n".join(keep), bulletins


_EN_CONDITIONS = [
    ("雷陣雨", "thunderstorms"), ("雷阵雨", "thunderstorms"), ("雨夾雪", "sleet"), ("雨夹雪", "sleet"),
    ("陣雨", "showers"), ("阵雨", "showers"), ("小到中雨", "light to moderate rain"), ("中到大雨", "moderate to heavy rain"),
    ("小雨", "light rain"), ("中雨", "moderate rain"), ("大雨", "heavy rain"), ("暴雨", "rainstorm"),
    ("小雪", "light snow"), ("中雪", "moderate snow"), ("大雪", "heavy snow"), ("多雲", "cloudy"), ("多云", "cloudy"),
    ("陰", "overcast"), ("阴", "overcast"), ("晴", "sunny"), ("霧", "fog"), ("雾", "fog"), ("霾", "haze"),
    ("局部", "locally "), ("轉", " then "), ("转", " then "), ("，", ", "), ("有", ""),
]
_EN_DIRECTIONS = {
    "偏北": "northerly", "偏南": "southerly", "偏東": "easterly", "偏东": "easterly", "偏西": "westerly",
    "東北": "northeast", "东北": "northeast", "西北": "northwest", "東南": "southeast", "东南": "southeast",
    "西南": "southwest", "北": "north", "南": "south", "東": "east", "东": "east", "西": "west",
}
_EN_LABEL_WORDS = [
    (re.compile(r"(\d+)日(白天|上午|下午)"), "day of the {}"), (re.compile(r"(\d+)日(晚上|夜間|夜间|夜裡|夜里)"), "night of the {}"),
    (re.compile(r"(\d+)日"), "the {}"),
]
_EN_LABEL_PLAIN = [("今天夜間", "tonight"), ("今天夜间", "tonight"), ("今晚", "tonight"), ("今天白天", "today"), ("今天", "today"),
                   ("明天白天", "tomorrow"), ("明天夜間", "tomorrow night"), ("明天夜间", "tomorrow night"), ("明天", "tomorrow"),
                   ("後天", "the day after tomorrow"), ("后天", "the day after tomorrow"), ("到", " to "), ("至", " to ")]


def _ordinal(day: str) -> str:
    n = int(day)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _english(text: str, table: list[tuple[str, str]]) -> str:
    for source, target in table:
        text = text.replace(source, target)
    return " ".join(text.split())


def _english_label(label: str) -> str:
    for pattern, template in _EN_LABEL_WORDS:
        label = pattern.sub(lambda m: template.format(_ordinal(m.group(1))), label)
    return _english(label, _EN_LABEL_PLAIN)


def _english_wind(wind: str) -> str:
    match = re.search(r"(\S*?)(?:風|风)\s*(\d+(?:[-~～到]\d+)?)\s*(?:級|级)", wind)
    if not match:
        return wind
    direction = _EN_DIRECTIONS.get(match.group(1), "")
    force = re.sub(r"[~～到]", "-", match.group(2))
    return f"{direction} wind force {force}".strip()


def describe_bulletin(bulletin: Bulletin, language: str) -> str:
    """One readable paragraph for a bulletin, in zh-Hant, zh-Hans or English, numbers exact."""
    if language in (ZH_HANT, ZH_HANS):
        issued = f"{bulletin.issued_at.month}月{bulletin.issued_at.day}日{bulletin.issued_at.hour}時" if bulletin.issued_at else ""
        head = f"{bulletin.issuer or '氣象台'}{issued}發布："
        parts = []
        for p in bulletin.periods:
            pieces = [p.label, p.conditions or "", f"{p.low}～{p.high}℃" if p.low is not None else "", p.wind or ""]
            parts.append("，".join(x for x in pieces if x))
        return convert_script(head + "；".join(parts) + "。", language)
    issued = f", issued {bulletin.issued_at:%b} {bulletin.issued_at.day} at {bulletin.issued_at:%H:%M}" if bulletin.issued_at else ""
    lines = [f"Forecast from {bulletin.issuer or 'the local weather bureau'}{issued}:"]
    for p in bulletin.periods:
        pieces = [_english(p.conditions or "", _EN_CONDITIONS), f"{p.low} to {p.high}°C" if p.low is not None else ""]
        if p.wind:
            pieces.append(_english_wind(p.wind))
        lines.append(f"{_english_label(p.label)}: " + ", ".join(x for x in pieces if x))
    return " ".join(lines[:1]) + " " + "; ".join(lines[1:]) + "."
