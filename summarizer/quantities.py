"""Numbers, quantities and dates as a faithfulness check compares them: by value, whatever way
they are written (full-width digits, thousands separators, Chinese numerals, scale words:
1.8萬 = 18,000 = eighteen thousand; shares: 兩成 = 20 % = a fifth = one in five), with the unit
they count (km or m, 萬元 or 億元, °C) and the weekdays a text names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"萬": 10**4, "万": 10**4, "億": 10**8, "亿": 10**8}
_CN_NUMERAL = "零〇一二兩两三四五六七八九十百千萬万億亿"
_EN_SMALL = {
    word: n
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen".split()
    )
}
_EN_TENS = {word: 10 * n for n, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_EN_ORDINALS = {
    word: n
    for n, word in enumerate("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split(), 1)
}
_EN_MONTHS = {
    word: n
    for n, word in enumerate("january february march april may june july august september october november december".split(), 1)
}
_EN_MONTHS.update({word[:3]: n for word, n in list(_EN_MONTHS.items())} | {"sept": 9})
_EN_SCALES = {
    "hundred": 100,
    "thousand": 10**3,
    "k": 10**3,
    "million": 10**6,
    "m": 10**6,
    "mn": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "b": 10**9,
}
_EN_SHARES = {
    "half": Fraction(1, 2),
    "halves": Fraction(1, 2),
    "third": Fraction(1, 3),
    "thirds": Fraction(1, 3),
    "quarter": Fraction(1, 4),
    "quarters": Fraction(1, 4),
    "fifth": Fraction(1, 5),
    "fifths": Fraction(1, 5),
    "tenth": Fraction(1, 10),
    "tenths": Fraction(1, 10),
}
_EN_COUNTS = {"dozen": 12, "dozens": 12, "couple": 2, "pair": 2, "score": 20}
# Words that write numbers and shares: checked as quantities, not as wording.
NUMBER_WORDS = frozenset(
    [
        *_EN_SMALL,
        *_EN_TENS,
        *_EN_SCALES,
        *_EN_SHARES,
        *_EN_COUNTS,
        *_EN_ORDINALS,
        "percent",
        "cent",
        "per",
        "pct",
        "hundred",
        "twice",
        "double",
        "triple",
    ]
)
WEEKDAYS = {
    **{w: i for i, w in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())},
    **{f"星期{c}": i for i, c in enumerate("一二三四五六日")},
    "星期天": 6,
    **{f"周{c}": i for i, c in enumerate("一二三四五六日")},
    "周天": 6,
    **{f"週{c}": i for i, c in enumerate("一二三四五六日")},
    "週天": 6,
    **{f"禮拜{c}": i for i, c in enumerate("一二三四五六日")},
    **{f"礼拜{c}": i for i, c in enumerate("一二三四五六日")},
}
# Units, each to a canonical name; longer spellings first so that the regex takes them whole.
APPROXIMATE = 0.05
_UNITS = {
    "千瓦时": "kWh",
    "千瓦時": "kWh",
    "kwh": "kWh",
    "千瓦": "kW",
    "kw": "kW",
    "kilowatts": "kW",
    "兆瓦": "MW",
    "mw": "MW",
    "km": "km",
    "kms": "km",
    "kilometre": "km",
    "kilometres": "km",
    "kilometer": "km",
    "kilometers": "km",
    "公里": "km",
    "千米": "km",
    "m": "m",
    "metre": "m",
    "metres": "m",
    "meter": "m",
    "meters": "m",
    "米": "m",
    "cm": "cm",
    "centimetres": "cm",
    "centimeters": "cm",
    "厘米": "cm",
    "mm": "mm",
    "millimetres": "mm",
    "毫米": "mm",
    "miles": "mile",
    "mile": "mile",
    "kg": "kg",
    "kilograms": "kg",
    "kilos": "kg",
    "公斤": "kg",
    "千克": "kg",
    "tonnes": "t",
    "tonne": "t",
    "tons": "t",
    "ton": "t",
    "吨": "t",
    "噸": "t",
    "斤": "jin",
    "hectares": "ha",
    "hectare": "ha",
    "ha": "ha",
    "公顷": "ha",
    "公頃": "ha",
    "acres": "acre",
    "acre": "acre",
    "亩": "mu",
    "畝": "mu",
    "平方米": "m2",
    "square metres": "m2",
    "square meters": "m2",
    "square-metre": "m2",
    "square-meter": "m2",
    "square metre": "m2",
    "square meter": "m2",
    "sq m": "m2",
    "平方公里": "km2",
    "square kilometres": "km2",
    "square kilometers": "km2",
    "°c": "C",
    "℃": "C",
    "degrees celsius": "C",
    "°f": "F",
    "℉": "F",
    "degrees fahrenheit": "F",
    "percentage points": "pp",
    "个百分点": "pp",
    "個百分點": "pp",
    "百分点": "pp",
    "百分點": "pp",
    "%": "%",
    "percent": "%",
    "per cent": "%",
    "pct": "%",
    "成": "%",
    "hours": "h",
    "hour": "h",
    "hrs": "h",
    "小时": "h",
    "小時": "h",
    "minutes": "min",
    "minute": "min",
    "mins": "min",
    "分钟": "min",
    "分鐘": "min",
    "days": "day",
    "day": "day",
    "天": "day",
    "weeks": "week",
    "week": "week",
    "个月": "month",
    "個月": "month",
    "months": "month",
    "month": "month",
    "years": "year",
    "year": "year",
    "人次": "visits",
    "户": "household",
    "戶": "household",
    "households": "household",
    "homes": "household",
    "人": "person",
    "residents": "person",
    "people": "person",
    "美元": "USD",
    "元": "CNY",
    "yuan": "CNY",
    "mph": "mph",
    "square feet": "ft2",
    "square-foot": "ft2",
    "square foot": "ft2",
    "sq ft": "ft2",
    "feet": "ft",
    "ft": "ft",
}
CURRENCIES = frozenset({"CNY", "USD"})
_UNIT_WORDS = sorted(_UNITS, key=len, reverse=True)
_UNIT = "|".join(re.escape(u) for u in _UNIT_WORDS)
_EN_NUMBER_WORD = "|".join(sorted([*_EN_SMALL, *_EN_TENS], key=len, reverse=True))
_SCALE = r"萬|万|億|亿|千(?![瓦克米])|百|hundred|thousand|million|billion|bn|mn|m|k|b"
# A quantity: a number (digits, Chinese numerals, English number words), an optional scale
# word, an optional unit. English scale letters (m, k, bn) only right after the digits.
_EN_PHRASE = rf"\b(?:{_EN_NUMBER_WORD})(?:(?:[- ]|\sand\s)(?:{_EN_NUMBER_WORD}|hundred|thousand|million|billion)\b)*"
_QUANTITY = re.compile(
    rf"(?P<approx>(?:about|around|almost|nearly|roughly|some|over|more than|近|约|約|逾|超过|超過|将近|將近)\s?)?"
    rf"(?P<number>\d+(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|(?:[{_CN_NUMERAL}](?![瓦克米]))+(?:[点點][{_CN_NUMERAL}]+)?"
    rf"|{_EN_PHRASE})"
    rf"(?:\s?(?P<scale>{_SCALE})(?![a-z]))?"
    rf"(?:[\s-]?(?P<unit>{_UNIT})(?![a-z]))?",
    re.I,
)
_SHARE = re.compile(
    rf"\b(?:(?P<count>one|two|three|four|a|an)[ -](?P<part>half|halves|thirds?|quarters?|fifths?|tenths?)"
    rf"|(?P<num>one|two|three|\d+) (?:in|out of) (?P<den>{_EN_NUMBER_WORD}|\d+)"
    rf"|(?P<whole>{_EN_NUMBER_WORD}|\d+) and a half)\b",
    re.I,
)
_COUNT_WORD = re.compile(r"\b(?:a |two |three )?(dozens?|couple|pair)\b", re.I)
_CN_HALF = re.compile(r"一半|半数|半數")  # 三成 and the like: a numeral with the unit 成
_DATE_CONTEXT = re.compile(r"^\s?(?:月|日|号|號|时|時|点|點|a\.?m\.?|p\.?m\.?|o'clock)|^(?:st|nd|rd|th)\b", re.I)
_MONTH_WORD = re.compile(r"\b(" + "|".join(sorted(_EN_MONTHS, key=len, reverse=True)) + r")\b\.?", re.I)
_WEEKDAY = re.compile("|".join(sorted(WEEKDAYS, key=len, reverse=True)), re.I)
_MONTHS = "|".join(_EN_MONTHS)
_MONTH_BEFORE = re.compile(rf"(?:{_MONTHS})\.?\s$", re.I)
_MONTH_AFTER = re.compile(rf"(?:st|nd|rd|th)?\s(?:of\s)?(?:{_MONTHS})\b", re.I)
_ORDINAL = re.compile(r"\b(" + "|".join(_EN_ORDINALS) + r")\b", re.I)
_MULTIPLIERS = {**_CN_BIG, "千": 1000, "百": 100, **_EN_SCALES}


@dataclass(frozen=True)
class Quantity:
    """One number as written: the values it may stand for, the unit it counts (canonical name,
    None when none is written) and whether it is part of a date or time."""

    text: str
    values: frozenset[str]
    unit: str | None = None
    date: bool = False
    approximate: bool = False  # "nearly 97", "兩成多": within APPROXIMATE of the article's figure


def canonical(value: float | Fraction | int | str) -> str:
    """A value as compared: "18000", "36.5", "0.2"."""
    if isinstance(value, str):
        value = float(value.replace(",", ""))
    return f"{float(value):.6f}".rstrip("0").rstrip(".")


def chinese_numeral(text: str) -> int | None:
    """Value of a Chinese numeral (二十四, 一百二十, 一萬八千, 三億); None when it is not one."""
    total, section, current = 0, 0, 0
    seen = False
    for char in text:
        if char in _CN_DIGITS:
            current, seen = _CN_DIGITS[char], True
        elif char in _CN_UNITS:
            section += (current or 1) * _CN_UNITS[char]
            current, seen = 0, True
        elif char in _CN_BIG:
            if not seen:
                return None
            total += (section + current) * _CN_BIG[char]
            section, current = 0, 0
        else:
            return None
    return total + section + current if seen else None


def _digits(number: str) -> float:
    """1,234.5 → 1234.5; a second decimal point and what follows it are left out."""
    whole, _, rest = number.replace(",", "").partition(".")
    return float(f"{whole}.{rest.split('.')[0]}" if rest else whole)


def _chinese_decimal(number: str) -> float | None:
    """Value of a Chinese numeral with an optional decimal part (六十四點六萬 = 646,000)."""
    whole, _, fraction = re.sub("點", "点", number).partition("点")
    value = chinese_numeral(whole)
    if value is None:
        return None
    decimals = "".join(str(_CN_DIGITS[c]) for c in fraction if c in _CN_DIGITS)
    return (float(f"{value}.{decimals}") if decimals else float(value)) * _CN_BIG.get(fraction[-1:], 1)


def _english_number(words: str) -> int | None:
    """Value of English number words: "twelve", "forty-eight thousand three hundred"."""
    total, current = 0, 0
    for part in re.split(r"[- ]+", words.lower()):
        if part == "and":
            continue
        if part in _EN_SMALL or part in _EN_TENS:
            current += _EN_SMALL.get(part, 0) + _EN_TENS.get(part, 0)
        elif part == "hundred":
            current = (current or 1) * 100
        elif part in ("thousand", "million", "billion"):
            total += (current or 1) * _EN_SCALES[part]
            current = 0
        else:
            return None
    return total + current


def quantities(text: str, lenient: bool = False) -> list[Quantity]:
    """Every quantity in ``text``. ``lenient`` (an article's side) also counts lone Chinese
    digits (一 in 一些) and English number words such as "one": counting too much there only
    makes a check more lenient."""
    folded = unicodedata.normalize("NFKC", text)
    found: list[Quantity] = []
    shares = [m.span() for m in _SHARE.finditer(folded)]
    for match in _QUANTITY.finditer(folded):
        if any(start <= match.start() < end for start, end in shares):
            continue  # "five" of "one in five": the share is the quantity
        number, scale, unit = match.group("number"), match.group("scale"), match.group("unit")
        if number[0].isdigit():
            base = _digits(number)
        elif number[0] in _CN_NUMERAL:
            if len(number) == 1 and not lenient and not (scale or unit):
                continue
            chinese = _chinese_decimal(number)
            if chinese is None:
                continue
            base = chinese
        else:
            value = _english_number(number)
            if value is None or (not lenient and value < 10 and not (scale or unit) and number.lower() in ("one", "a")):
                continue
            base = float(value)
        if (
            scale
            and scale.lower() in ("m", "k", "b", "bn", "mn")
            and not (number[0].isdigit() and (scale.lower() in ("bn", "mn") or _after_currency(folded, match)))
        ):
            unit = unit or (scale if scale.lower() == "m" else None)  # 900 m: metres
            scale = None
        multiplier = _MULTIPLIERS.get((scale or "").lower(), 1)
        values = {canonical(base * multiplier)}
        canonical_unit = _UNITS.get((unit or "").lower())
        if canonical_unit == "%" and unit == "成":
            values = {canonical(base * 10)}
        if folded[max(0, match.start() - 3) : match.start()].endswith(("百分之",)):
            canonical_unit = "%"
        date = bool(_DATE_CONTEXT.match(folded[match.end() : match.end() + 8])) or _next_to_month(folded, match)
        if lenient and date and re.match(r"\s?(?:时|時|点|點)", folded[match.end() :]) and 0 < base < 24:
            afternoon = re.search(r"(?:下午|晚上|傍晚|夜間|夜间|晚)$", folded[max(0, match.start() - 2) : match.start()])
            if base > 12 or afternoon:  # 16時 is 下午4時, 晚上8時 is 20時; 8時 is not 20時
                values.add(canonical(base - 12 if base > 12 else base + 12))
        approximate = bool(match.group("approx")) or bool(re.match(r"多|余|餘|plus", folded[match.end() : match.end() + 4]))
        found.append(Quantity(match.group(0).strip(), frozenset(values), canonical_unit, date, approximate))
    for match in _SHARE.finditer(folded):
        if match.group("whole"):
            whole = _english_number(match.group("whole")) or _digits(match.group("whole"))
            found.append(Quantity(match.group(0), frozenset({canonical(whole + 0.5)})))
            continue
        if match.group("part"):
            count = _EN_SMALL.get(match.group("count").lower(), 1)
            share = count * _EN_SHARES[match.group("part").lower()]
        else:
            num, den = (_english_number(g) or (int(g) if g.isdigit() else 0) for g in (match.group("num"), match.group("den")))
            if not den:
                continue
            share = Fraction(num, den)
        found.append(Quantity(match.group(0), frozenset({canonical(share * 100), canonical(share)}), "%"))
    for match in re.finditer(r"\bhalf(?: an? (?P<what>hour|dozen))?\b", folded, re.I):
        if any(start <= match.start() < end for start, end in shares):
            continue
        what = (match.group("what") or "").lower()
        found.append(
            Quantity(match.group(0), frozenset({"30"}), "min")
            if what == "hour"
            else Quantity(match.group(0), frozenset({"6"}))
            if what == "dozen"
            else Quantity(match.group(0), frozenset({"50", "0.5"}), "%")
        )
        shares.append(match.span())
    for match in _COUNT_WORD.finditer(folded):
        if any(start <= match.start() < end for start, end in shares):
            continue
        count = {"two ": 2, "three ": 3}.get((match.group(0)[: -len(match.group(1))]).lower(), 1)
        found.append(Quantity(match.group(0), frozenset({canonical(count * _EN_COUNTS[match.group(1).lower()])})))
    for match in _CN_HALF.finditer(folded):
        found.append(Quantity(match.group(0), frozenset({"50", "0.5"}), "%"))
    for match in _MONTH_WORD.finditer(folded):
        word = match.group(1).lower()
        if word == "may" and not re.match(r"\s\d", folded[match.end() :]) and not re.search(r"\d\s$", folded[: match.start()]):
            continue  # "may" the verb
        if len(word) <= 4 and not match.group(0)[0].isupper():
            continue  # "mar", "dec" as words
        found.append(Quantity(match.group(0).rstrip("."), frozenset({canonical(_EN_MONTHS[word])}), "month", True))
    for match in _ORDINAL.finditer(folded):
        if _next_to_month(folded, match):
            found.append(Quantity(match.group(0), frozenset({canonical(_EN_ORDINALS[match.group(1).lower()])}), None, True))
    return found


def _after_currency(text: str, match: re.Match) -> bool:
    """Whether a number follows a currency sign ($2.4m: millions; 2.4m: metres)."""
    return bool(re.search(r"[$£€¥]\s?$", text[max(0, match.start() - 2) : match.start()]))


def _next_to_month(text: str, match: re.Match) -> bool:
    """Whether a number stands beside a month's name (3 March, March 3rd)."""
    before, after = text[max(0, match.start() - 11) : match.start()], text[match.end() : match.end() + 12]
    return bool(_MONTH_BEFORE.search(before) or _MONTH_AFTER.match(after))


def matches(quantity: Quantity, known: set[str]) -> bool:
    """Whether ``quantity`` is one of the ``known`` values (within APPROXIMATE when it is
    written as approximate)."""
    if quantity.values & known:
        return True
    if not quantity.approximate:
        return False
    figures = [float(v) for v in known]
    return any(abs(float(v) - n) <= APPROXIMATE * max(abs(n), 1e-9) for v in quantity.values for n in figures)


def numbers(text: str, lenient: bool = False) -> set[str]:
    """All values the quantities of ``text`` may stand for ("2", "24", "36.5", "18000"), scale
    words applied; ``lenient`` as for :func:`quantities` (an article's side)."""
    return {value for quantity in quantities(text, lenient) for value in quantity.values}


_RELATIVE_DATE = re.compile(
    r"[明后後前]年(?![产產均])|[上下]半年|[明后後昨前]天|[明昨]晚|[上下][周週]|[上下]个?月"
    r"|[正腊臘冬]月(?:初[一二三四五六七八九十]|二十[一二三四五六七八九]?|廿[一二三四五六七八九]|十[一二三四五六七八九]?|三十|底|末)?"
)


def relative_dates(text: str) -> set[str]:
    """The dates a Chinese text names by words (明年, 下半年, 昨天, 下周, 正月初八, 腊月底), as written;
    not 今年, 去年, 本周: summaries write those for the article's own dates."""
    return set(_RELATIVE_DATE.findall(text))


def weekdays(text: str) -> dict[int, str]:
    """The weekdays ``text`` names (0 = Monday), in English or Chinese, each as first written."""
    found: dict[int, str] = {}
    for match in _WEEKDAY.finditer(text):
        found.setdefault(WEEKDAYS[match.group(0).lower()], match.group(0))
    return found
