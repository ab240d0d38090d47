"""Weather bulletins found inside news articles: a small grammar for finding, reading, removing them.

District and city observatories (氣象局, 氣象臺/台, 氣象站, 氣象服務中心) issue forecasts that portals
paste into stories, over several lines or on one::

    梁平區氣象局2023年2月24日9時
    發布未來48小時天氣預報
    24日晚上到25日白天,多云轉陰,9-12℃
    25日晚上到26日白天,多云,8-15℃

    XX區氣象臺3月5日16時發布:今天夜間到明天白天,陰天間多雲,6～13℃,偏北風1～2級;6日夜間到7日白天,小雨,5～10℃。

The grammar, built from the named pieces below: a **bulletin** is a header (issuer, issue time,
發布 and a headline such as 未來24小時天氣預報, in the usual orders, over one to three lines) followed
by periods separated by ``;`` ``；`` ``。`` ``,`` or line breaks; a **period** is a label (今天夜間到
明天白天, 6日夜間到7日白天, 今晚, …) followed by items in any order: conditions (陰天間多雲,
多雲轉小雨), a temperature range (氣溫-3～5℃, 零下5到3度) or 最低/最高 value, wind (偏北風1～2級,
微風) and extras (降水概率). :func:`parse_bulletins` returns the text without bulletins and the
bulletins as data; a block with an issuer, 發布/預報 and a time stamp or forecast-like lines is
removed even when none of its periods can be read.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial

from summarizer.text import ZH_HANS, ZH_HANT, convert_script

# -- the grammar's pieces, over text whose full-width digits, letters, spaces and minus signs are folded --
# (one character for one, so that positions found in it are positions in the original)

_HAN = r"[\u4e00-\u9fff]"
_DASH = r"(?:-|~|～|〜|—{1,2}|–|到|至)"
_NUM = r"(?:零下\s*\d{1,2}|-\s*\d{1,2}|\d{1,2}|零)"
_UNIT = r"(?:℃|°C|°c|°|攝氏度|摄氏度|度)"
_TEMP_WORD = r"(?:氣溫|气温|溫度|温度)"
_TEMP_RANGE = rf"(?:{_TEMP_WORD}\s*[:：為为]?\s*)?(?P<a>{_NUM})\s*{_UNIT}?\s*{_DASH}\s*(?P<b>{_NUM})\s*{_UNIT}"
_TEMP_ONE = rf"(?P<side>最低|最高){_TEMP_WORD}?\s*[:：為为]?\s*(?P<v>{_NUM})\s*{_UNIT}"

_SKY = r"(?:晴天|晴朗|晴|多雲|多云|少雲|少云|陰天|阴天|陰|阴)"
_FALL = (
    r"(?:雷陣雨|雷阵雨|陣雨|阵雨|雨夾雪|雨夹雪|凍雨|冻雨|毛毛雨|陣雪|阵雪|冰雹|雷電|雷电"
    r"|(?:(?:小|中|大)到)?(?:特大暴|大暴|暴|大|中|小)(?:雨|雪)|雨|雪)"
)
_HAZE = r"(?:大霧|大雾|濃霧|浓雾|輕霧|轻雾|霧|雾|霾|沙塵|沙尘|揚沙|扬沙|浮塵|浮尘)"
_QUALIFIER = r"(?:局部地區|局部地区|局部|部分地區|部分地区|短時|短时|零星|分散性|分散|間斷性|间断性|有時|有时|偶有|可能有)"
_WEATHER = rf"(?:{_QUALIFIER})*有?(?:{_FALL}|{_SKY}|{_HAZE})"
_CONDITIONS = rf"{_WEATHER}(?:(?:轉|转|間|间|到|或|伴)?{_WEATHER})*"

_DIRECTION = r"(?:偏北|偏南|偏東|偏东|偏西|東北|东北|西北|東南|东南|西南|北|南|東|东|西)"
_FORCE = rf"\d{{1,2}}(?:\s*{_DASH}\s*\d{{1,2}})?\s*(?:級|级)"
_WIND = (
    rf"(?:(?:無持續風向|无持续风向)\s*(?:微風|微风|{_FORCE})|微風|微风"
    rf"|(?:{_DIRECTION}(?:風|风)|風力|风力|風|风)\s*{_FORCE}(?:\s*(?:轉|转)\s*{_FORCE})?"
    rf"(?:\s*[,，]?\s*(?:陣風|阵风)\s*{_FORCE})?|{_DIRECTION}(?:風|风))"
)
_EXTRA = (
    rf"(?:降水概率|降水機率|降水幾率|降水几率|相對濕度|相对湿度)\s*[:：]?\s*\d{{1,3}}\s*%?"
    rf"(?:\s*{_DASH}\s*\d{{1,3}}\s*%)?"
)

_DAY = (
    r"(?:大後天|大后天|後天|后天|今天|今日|明天|明日|今明兩天|今明两天|明後兩天|明后两天"
    r"|(?:\d{1,2}月)?\d{1,2}(?:日|號|号)|(?:周|週|星期)[一二三四五六日天])"
)
_PART = (
    r"(?:白天|夜間|夜间|夜裡|夜里|晚上|晚間|晚间|上午|下午|中午|早晨|早上|凌晨|傍晚|"
    r"前半夜|後半夜|后半夜|夜)"
)
_SHORT = r"(?:今晚|今夜|明晚|明早|今晨|明晨)"
_POINT = rf"(?:{_SHORT}|{_DAY}{_PART}?)"
_HOURS = r"(?:未來|未来)\s*(?P<hours>\d{1,3})\s*(?:小時|小时)"
_LABEL = rf"(?:{_HOURS}|{_POINT}(?:\s*(?:到|至|-|~|～|〜|—)\s*(?:{_POINT}|{_PART}))?)"

_ISSUER = r"[\u4e00-\u9fffA-Za-z]{0,12}?(?:氣象|气象)(?:服務中心|服务中心|臺|台|局|站|中心)"
_STAMP = (
    r"(?:(?P<year>\d{4})\s*年\s*)?(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日號号]\s*"
    r"(?:(?P<ampm>上午|下午|早上|晚上|凌晨|中午|傍晚)?\s*(?P<hour>\d{1,2})\s*"
    r"(?:[時时點点]\s*(?:(?P<minute>\d{1,2})\s*分)?|[:：]\s*(?P<minute2>\d{2})))?"
)
_SPAN = r"(?P<span>\d{1,3}|[一二兩两三四五六七十])\s*(?P<unit>小時|小时|天|日)"
_HEADLINE = rf"的?\s*(?:(?:未來|未来)\s*)?(?:{_SPAN}\s*的?)?{_HAN}{{0,6}}?(?:預報|预报)"
_VERB = r"(?:發布|发布|發佈|发佈)"

_LABEL_RE = re.compile(_LABEL)
_ITEM_RES = (
    ("range", re.compile(_TEMP_RANGE)),
    ("one", re.compile(_TEMP_ONE)),
    ("wind", re.compile(_WIND)),
    ("extra", re.compile(_EXTRA)),
    ("conditions", re.compile(_CONDITIONS)),
)
_ITEM_GAP = re.compile(r"[ \t,，:：、]*")
_PERIOD_END = re.compile(rf"[ \t]*(?:[;；。\n]|\Z|[,，][ \t]*{_LABEL})")
_PERIOD_GAP = re.compile(r"[\s;；。,，]*")
_SEGMENT_END = re.compile(r"[;；。\n]|\Z")
_TERMINATOR = re.compile(r"[ \t]*[;；。]?")
_HEADER = re.compile(
    rf"[ \t]*(?:據|据|由)?(?:(?P<issuer>{_ISSUER})\s*)?(?:{_STAMP}\s*)?(?:(?P<issuer_after>{_ISSUER})\s*)?"
    rf"(?P<verb>{_VERB})?\s*(?P<headline>{_HEADLINE})?"
)
_HEADER_END = re.compile(r"[ \t]*[:：,，]?[ \t]*")
_CANDIDATE = re.compile(r"[\n。！？!?]")
_ITEM_WORD = re.compile(rf"(?:^|[\s,，:：])(?:{_CONDITIONS}|{_WIND}|{_TEMP_WORD}|天氣|天气)(?!{_HAN})")
_NUMERIC_RANGE = re.compile(rf"(?<!\d)\d{{1,2}}\s*{_DASH}\s*-?\d{{1,2}}(?!\d)")
_CONDITIONS_RE = re.compile(_CONDITIONS)
_HAN_RE = re.compile(_HAN)

_WIDTH = str.maketrans(
    {
        **{chr(c): chr(c - 0xFEE0) for c in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))},
        "\u3000": " ",
        "\u2212": "-",
        "\uff0d": "-",
    }
)
_CHINESE_NUMBERS = {"一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "十": 10}
_AFTERNOON = {"下午", "晚上", "傍晚"}
DEFAULT_VALIDITY = timedelta(hours=48)
_MAX_GARBLED_CHARS = 60
_PROSE_CHARS = 4  # a garbled period's remains are fewer Chinese characters than this


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

    def valid_until(self, issued_at: datetime | None = None) -> datetime | None:
        """When this stops being a forecast: the end of its last period, never past a horizon the
        header states (未來24小時), else 48 hours after issue. ``issued_at`` stands in for a bulletin
        that states no issue time (its article's date); None when neither is known."""
        issued = self.issued_at or issued_at
        if issued is None:
            return None
        ends = [end for period in self.periods if (end := _label_end(period.label, issued))]
        limits = [max(ends)] if ends else []
        if horizon := _horizon(self.text):
            limits.append(issued + horizon)
        return min(limits) if limits else issued + DEFAULT_VALIDITY

    def to_dict(self) -> dict:
        """JSON-ready form (``issued_at`` as ISO 8601)."""
        data = asdict(self)
        data["issued_at"] = self.issued_at.isoformat() if self.issued_at else None
        return data


# -- reading ---------------------------------------------------------------------------------


def _number(text: str) -> int:
    """A temperature as written: ``-3``, ``零下5``, ``零``."""
    text = text.replace(" ", "")
    if text.startswith("零下"):
        return -int(text[2:])
    return 0 if text == "零" else int(text)


def _always(match: re.Match[str] | None) -> re.Match[str]:
    """The match of a pattern that matches everywhere (every part optional, or ending in ``\\Z``)."""
    assert match is not None
    return match


def _read_period(text: str, pos: int) -> tuple[Period, int] | None:
    """The period the grammar reads at ``pos`` (label, then items up to a period boundary) and its end.

    Extras (降水概率, 相對濕度) are read so that they do not break a period, and not kept.
    """
    label = _LABEL_RE.match(text, pos)
    if not label:
        return None
    items: dict[str, list[re.Match[str]]] = {name: [] for name, _ in _ITEM_RES}
    end = label.end()
    while True:
        start = _always(_ITEM_GAP.match(text, end)).end()
        item = next(((name, match) for name, regex in _ITEM_RES if (match := regex.match(text, start))), None)
        if item is None:
            break
        items[item[0]].append(item[1])
        end = item[1].end()
    if not (items["range"] or items["one"] or items["conditions"]) or not _PERIOD_END.match(text, end):
        return None
    low = high = None
    for match in items["range"]:
        low, high = sorted((_number(match["a"]), _number(match["b"])))
    for match in items["one"]:
        if match["side"] == "最低":
            low = _number(match["v"])
        else:
            high = _number(match["v"])
    return Period(
        label=label.group(0),
        conditions="，".join(m.group(0) for m in items["conditions"]) or None,
        low=low,
        high=high,
        wind="，".join(m.group(0) for m in items["wind"]) or None,
    ), end


def parse_period(line: str) -> Period | None:
    """Parse one forecast line (``24日晚上到25日白天,多云轉陰,9-12℃``); None if it is not one."""
    text = line.translate(_WIDTH).strip()
    read = _read_period(text, 0)
    if read is None or text[read[1] :].strip(" \t;；。,，"):
        return None
    return read[0]


def _looks_like_period(segment: str) -> bool:
    """A period the grammar cannot read: a label then weather words or hardly any words at all
    (``24日晚上到25日白天,###``), or conditions with a range of numbers."""
    if len(segment) > _MAX_GARBLED_CHARS:
        return False
    if label := _LABEL_RE.match(segment):
        rest = segment[label.end() :]
        if _ITEM_WORD.search(rest) or len(_HAN_RE.findall(rest)) < _PROSE_CHARS:
            return True
    return bool(_CONDITIONS_RE.search(segment) and _NUMERIC_RANGE.search(segment))


def _read_periods(text: str, pos: int) -> tuple[list[Period], int, int]:
    """Periods from ``pos`` on, where they end, and how many period-like segments did not parse."""
    periods: list[Period] = []
    garbled = 0
    end = pos
    while (start := _always(_PERIOD_GAP.match(text, end)).end()) < len(text):
        if read := _read_period(text, start):
            period, stop = read
            periods.append(period)
        else:
            stop = _always(_SEGMENT_END.search(text, start)).start()
            if not _looks_like_period(text[start:stop]):
                break
            garbled += 1
        end = _always(_TERMINATOR.match(text, stop)).end()
    return periods, end, garbled


def _issued_at(header: re.Match[str], reference: datetime | None) -> datetime | None:
    """The header's issue time; a missing year is the one that puts it closest before ``reference``."""
    hour, minute = int(header["hour"] or 0), int(header["minute"] or header["minute2"] or 0)
    if header["ampm"] in _AFTERNOON and hour < 12:
        hour += 12

    def at(year: int) -> datetime | None:
        try:
            return datetime(year, int(header["month"]), int(header["day"]), hour, minute)
        except ValueError:
            return None

    if header["year"]:
        return at(int(header["year"]))
    if reference is not None:  # issued before the end of the reference's day (an article may be dated by day only)
        latest = datetime.combine(reference.date() + timedelta(days=1), time())
        years = (reference.year - 1, reference.year)
        return max((t for year in years if (t := at(year)) and t < latest), default=None)
    return None


def _read_bulletin(text: str, start: int, reference: datetime | None) -> tuple[Bulletin, int] | None:
    """The bulletin (perhaps without readable periods) whose header starts at ``start``, and its end.

    None unless periods follow the header, or the header is plainly a bulletin's (issuer, 發布 or
    預報, and an issue time or period-like lines after it) so that it is removed all the same.
    """
    header = _always(_HEADER.match(text, start))
    issuer = header["issuer"] or header["issuer_after"]
    if not (issuer or header["headline"]):
        return None
    end = header.end()
    while end > start and text[end - 1].isspace():
        end -= 1
    end = _always(_HEADER_END.match(text, end)).end()
    periods, periods_end, garbled = _read_periods(text, end)
    stamped = header["month"] is not None
    if not periods and not (issuer and (header["verb"] or header["headline"]) and (stamped or garbled)):
        return None
    if not (periods or garbled) and text[end : end + 1] not in ("", "\n"):
        return None  # the header runs on into an ordinary sentence
    issued_at = _issued_at(header, reference) if stamped else None
    return Bulletin(issuer, issued_at, periods), periods_end


def _remove(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without ``spans``; a span that is whole lines goes with one line break."""
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        while end < len(text) and text[end] in " \t\u3000":
            end += 1
        if (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n"):
            if start - 1 >= last:
                start -= 1
            elif end < len(text):
                end += 1
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def parse_bulletins(text: str, reference: datetime | None = None) -> tuple[str, list[Bulletin]]:
    """Split ``text`` into the text without weather bulletins and the bulletins read from it.

    A bulletin starts at a line start or after a sentence end. An issue time without a year takes
    the year that puts it closest before ``reference`` (the article's local date, or now; without
    one the issue time is unknown). Times are naive local times. Bulletin-like blocks whose periods cannot be
    read are removed from the text but not returned.
    """
    folded = text.translate(_WIDTH)
    spans: list[tuple[int, int]] = []
    bulletins: list[Bulletin] = []
    cursor = 0
    for start in (0, *(m.end() for m in _CANDIDATE.finditer(folded))):
        if start < cursor or not (found := _read_bulletin(folded, start, reference)):
            continue
        bulletin, cursor = found
        spans.append((start, cursor))
        if bulletin.periods:
            bulletin.text = text[start:cursor].strip()
            bulletins.append(bulletin)
    return _remove(text, spans), bulletins


# -- validity --------------------------------------------------------------------------------

_RELATIVE_DAYS = {
    "今": 0,
    "今天": 0,
    "今日": 0,
    "明": 1,
    "明天": 1,
    "明日": 1,
    "後天": 2,
    "后天": 2,
    "大後天": 3,
    "大后天": 3,
    "今明兩天": 1,
    "今明两天": 1,
    "明後兩天": 2,
    "明后两天": 2,
}
_SHORT_WORDS = {
    "今晚": ("今", "晚上"),
    "今夜": ("今", "夜"),
    "明晚": ("明", "晚上"),
    "明早": ("明", "早上"),
    "今晨": ("今", "早晨"),
    "明晨": ("明", "早晨"),
}
_DAYTIME_ENDS = {"白天": 20, "上午": 12, "中午": 14, "下午": 18, "傍晚": 20, "早晨": 9, "早上": 9, "凌晨": 6}
_NIGHT_END = 8  # a night (夜間, 晚上, 後半夜, …) ends at 08:00 the next day
_WEEKDAYS = "一二三四五六"
_MAX_REACH = timedelta(days=10)  # a label that lands further from its issue date is misread, not a forecast
_POINT_RE = re.compile(rf"(?P<day>{_DAY})?(?P<part>{_PART})?")
_DAY_OF_MONTH = re.compile(r"(?:(?P<month>\d{1,2})月)?(?P<day>\d{1,2})")
_RANGE_SPLIT = re.compile(r"\s*(?:到|至|-|~|～|〜|—)\s*")


def _date_of(day: str, issued: date) -> date | None:
    """The date a label's day word names, counted from the issue date."""
    if day in _RELATIVE_DAYS:
        return issued + timedelta(days=_RELATIVE_DAYS[day])
    if day[-1] in "一二三四五六日天" and not day[0].isdigit():
        weekday = _WEEKDAYS.index(day[-1]) if day[-1] in _WEEKDAYS else 6
        return issued + timedelta(days=(weekday - issued.weekday()) % 7)
    match = _always(_DAY_OF_MONTH.match(day))  # the day word is a day of the month: 5日, 3月5日
    month = int(match["month"]) if match["month"] else None
    for ahead in range(13 if month else 2):
        year, index = divmod(issued.month - 1 + ahead, 12)
        if month is not None and index + 1 != month:
            continue
        try:
            candidate = date(issued.year + year, index + 1, int(match["day"]))
        except ValueError:
            continue
        if candidate >= issued - timedelta(days=1):
            return candidate
    return None


def _label_end(label: str, issued: datetime) -> datetime | None:
    """When the period a label names ends (daytime parts at their hour, nights at 08:00 next day,
    a whole day at midnight), reading relative days from the issue time; None if it names none."""
    match = _LABEL_RE.fullmatch(label.translate(_WIDTH))
    if match is None:
        return None
    if match["hours"]:
        return issued + timedelta(hours=int(match["hours"]))
    day: str | None = None
    part: str | None = None
    point_day: str | None
    for piece in _RANGE_SPLIT.split(match.group(0)):
        if piece in _SHORT_WORDS:
            point_day, part = _SHORT_WORDS[piece]
        else:
            point = _POINT_RE.fullmatch(piece)
            point_day, part = (point["day"], point["part"]) if point else (None, None)
        day = point_day or day
    when = _date_of(day, issued.date()) if day else None
    if when is None or when - issued.date() > _MAX_REACH:
        return None
    if part is None:
        end = datetime.combine(when + timedelta(days=1), time())
    elif part in _DAYTIME_ENDS:
        end = datetime.combine(when, time(_DAYTIME_ENDS[part]))
    elif part == "前半夜":
        end = datetime.combine(when + timedelta(days=1), time())
    else:
        end = datetime.combine(when + timedelta(days=1), time(_NIGHT_END))
    return end.replace(tzinfo=issued.tzinfo)


def _horizon(text: str) -> timedelta | None:
    """The time span a bulletin's header states (未來24小時, 未來三天), if it states one."""
    header = _always(_HEADER.match(text.translate(_WIDTH)))
    if not header["span"]:
        return None
    span = header["span"]
    amount = int(span) if span.isdigit() else _CHINESE_NUMBERS[span]
    return timedelta(hours=amount) if header["unit"] in ("小時", "小时") else timedelta(days=amount)


# -- description -----------------------------------------------------------------------------

_EN_CONDITIONS = [
    ("雷陣雨", "thunderstorms"),
    ("雷阵雨", "thunderstorms"),
    ("雨夾雪", "sleet"),
    ("雨夹雪", "sleet"),
    ("陣雨", "showers"),
    ("阵雨", "showers"),
    ("陣雪", "snow showers"),
    ("阵雪", "snow showers"),
    ("小到中雨", "light to moderate rain"),
    ("中到大雨", "moderate to heavy rain"),
    ("大到暴雨", "heavy rain to rainstorm"),
    ("凍雨", "freezing rain"),
    ("冻雨", "freezing rain"),
    ("毛毛雨", "drizzle"),
    ("冰雹", "hail"),
    ("小雨", "light rain"),
    ("中雨", "moderate rain"),
    ("大雨", "heavy rain"),
    ("暴雨", "rainstorm"),
    ("小雪", "light snow"),
    ("中雪", "moderate snow"),
    ("大雪", "heavy snow"),
    ("多雲", "cloudy"),
    ("多云", "cloudy"),
    ("陰天", "overcast"),
    ("阴天", "overcast"),
    ("晴天", "sunny"),
    ("陰", "overcast"),
    ("阴", "overcast"),
    ("晴", "sunny"),
    ("霧", "fog"),
    ("雾", "fog"),
    ("霾", "haze"),
    ("雨", "rain"),
    ("雪", "snow"),
    ("局部", "locally "),
    ("零星", "scattered "),
    ("偶有", "occasional "),
    ("短時", "brief "),
    ("短时", "brief "),
    ("轉", " then "),
    ("转", " then "),
    ("間", " with "),
    ("间", " with "),
    ("到", " to "),
    ("或", " or "),
    ("有", " with "),
    ("，", ", "),
]
_EN_DIRECTIONS = {
    "偏北": "northerly",
    "偏南": "southerly",
    "偏東": "easterly",
    "偏东": "easterly",
    "偏西": "westerly",
    "東北": "northeast",
    "东北": "northeast",
    "西北": "northwest",
    "東南": "southeast",
    "东南": "southeast",
    "西南": "southwest",
    "北": "north",
    "南": "south",
    "東": "east",
    "东": "east",
    "西": "west",
}
_EN_LABEL_WORDS = [
    (re.compile(r"(\d+)日(白天|上午|下午)"), "day of the {}"),
    (re.compile(r"(\d+)日(晚上|夜間|夜间|夜裡|夜里)"), "night of the {}"),
    (re.compile(r"(\d+)日"), "the {}"),
]
_EN_LABEL_PLAIN = [
    ("今天夜間", "tonight"),
    ("今天夜间", "tonight"),
    ("今晚", "tonight"),
    ("今夜", "tonight"),
    ("今天白天", "today"),
    ("今天", "today"),
    ("明天白天", "tomorrow"),
    ("明天夜間", "tomorrow night"),
    ("明天夜间", "tomorrow night"),
    ("明晚", "tomorrow night"),
    ("明天", "tomorrow"),
    ("後天", "the day after tomorrow"),
    ("后天", "the day after tomorrow"),
    ("白天", "daytime"),
    ("夜間", "night"),
    ("夜间", "night"),
    ("到", " to "),
    ("至", " to "),
]


def _ordinal_in(template: str, match: re.Match[str]) -> str:
    """``template`` with the ordinal of the day ``match`` found (``the {}``: ``the 5th``)."""
    return template.format(_ordinal(match.group(1)))


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
        label = pattern.sub(partial(_ordinal_in, template), label)
    return _english(label, _EN_LABEL_PLAIN)


def _english_wind(wind: str) -> str:
    if re.search(r"微[風风]", wind):
        return "light breeze"
    match = re.search(r"(\S*?)(?:風|风)(?:力)?\s*(\d+(?:\s*[-~～〜到至]\s*\d+)?)\s*(?:級|级)", wind)
    if not match:
        return wind
    direction = _EN_DIRECTIONS.get(match.group(1), "")
    force = re.sub(r"\s*[~～〜到至]\s*", "-", match.group(2))
    return f"{direction} wind force {force}".strip()


def describe_bulletin(bulletin: Bulletin, language: str) -> str:
    """One readable paragraph for a bulletin, in zh-Hant, zh-Hans or English, numbers exact."""
    if language in (ZH_HANT, ZH_HANS):
        issued = (
            f"{bulletin.issued_at.month}月{bulletin.issued_at.day}日{bulletin.issued_at.hour}時" if bulletin.issued_at else ""
        )
        head = f"{bulletin.issuer or '氣象台'}{issued}發布："
        parts = []
        for p in bulletin.periods:
            pieces = [p.label, p.conditions or "", _temperatures(p, "～", "℃"), p.wind or ""]
            parts.append("，".join(x for x in pieces if x))
        return convert_script(head + "；".join(parts) + "。", language)
    issued = (
        f", issued {bulletin.issued_at:%b} {bulletin.issued_at.day} at {bulletin.issued_at:%H:%M}" if bulletin.issued_at else ""
    )
    lines = [f"Forecast from {bulletin.issuer or 'the local weather bureau'}{issued}:"]
    for p in bulletin.periods:
        pieces = [_english(p.conditions or "", _EN_CONDITIONS), _temperatures(p, " to ", "°C")]
        if p.wind:
            pieces.append(_english_wind(p.wind))
        lines.append(f"{_english_label(p.label)}: " + ", ".join(x for x in pieces if x))
    return " ".join(lines[:1]) + " " + "; ".join(lines[1:]) + "."


def _temperatures(period: Period, dash: str, unit: str) -> str:
    """``low{dash}high{unit}``, or the one bound a period states (最低/最高), or nothing."""
    if period.low is not None and period.high is not None:
        return f"{period.low}{dash}{period.high}{unit}"
    if period.low is None and period.high is None:
        return ""
    chinese = unit == "℃"
    if period.low is not None:
        return f"最低{period.low}{unit}" if chinese else f"low {period.low}{unit}"
    return f"最高{period.high}{unit}" if chinese else f"high {period.high}{unit}"
