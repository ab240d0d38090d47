"""Publication dates as portals and feeds write them.

A date without an offset is local to the region's timezone; an offset, also after a space
("2023-02-24 10:13:29 +0000", "… GMT", "… UTC", "…Z", "+08:00"), is honoured, and so is a US or
UK zone name after an English date ("5:12 p.m. ET", "EST", "PT", "BST"). Nothing is invented: a
year alone or a year and month is no date (None), a missing time is midnight.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

_OFFSET = r"(?P<tz>Z|(?:UTC|GMT)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{2}(?::?\d{2})?)(?![A-Za-z\d])"
_OFFSET_PARTS = re.compile(r"(?P<sign>[+-])(?P<h>\d{1,2}):?(?P<m>\d{2})?")
_CLOCK = r"(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2}))?(?:\.\d+)?"
_CHINESE_DATE = re.compile(
    r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：時时点點]\s*(?:(?P<M>\d{1,2})\s*(?:[:：分]\s*(?:(?P<S>\d{1,2})\s*秒?)?)?)?)?"
)
_NUMERIC_DATE = re.compile(
    rf"(?<!\d)(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})[-/.](?P<d>\d{{1,2}})(?!\d)(?:(?:T|\s+){_CLOCK}(?:\s*{_OFFSET})?)?"
)
# Zone names of English bylines, as the zone (its offset on the day). Not "CST" or "IST": China's
# and India's standard times share those with the US and Ireland.
_ZONES = {
    **dict.fromkeys(("ET", "EST", "EDT"), ZoneInfo("America/New_York")),
    **dict.fromkeys(("CT", "CDT"), ZoneInfo("America/Chicago")),
    **dict.fromkeys(("MT", "MST", "MDT"), ZoneInfo("America/Denver")),
    **dict.fromkeys(("PT", "PST", "PDT"), ZoneInfo("America/Los_Angeles")),
    "BST": ZoneInfo("Europe/London"),
}
_ZONE_NAME = rf"(?:{'|'.join(_ZONES)})\b"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_ENGLISH_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
    rf"(?:,?\s+(?:at\s+)?\d{{1,2}}(?:[:.]\d{{2}}(?:\s*[ap]\.?m\.?)?|\s*[ap]\.?m\.?)(?:\s*(?:{_OFFSET}|{_ZONE_NAME}))?)?",
    re.I,
)
_MERIDIEM = re.compile(r"\b([ap])\.m\.", re.I)
# Two defaults that differ in every date field: a field the text lacks comes out different.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))


def parse_local_datetime(text: str | None, tz: tzinfo) -> datetime | None:
    """Parse one date as found in feeds, meta tags and bylines; returns an aware datetime or None.

    Understands "2023-02-24 18:13:29", "2023/2/24", "2023年02月24日 18:13", ISO 8601, RFC 822
    ("Fri, 24 Feb 2023 10:13:29 GMT") and "Feb. 24, 2023 6:02 p.m.".
    """
    if not text or not text.strip():
        return None
    text = " ".join(text.split())
    if match := _CHINESE_DATE.search(text):
        return _from_groups(match, tz)
    if match := _NUMERIC_DATE.match(text):
        return _from_groups(match, tz)
    return _dateutil(text, tz)


def find_date(text: str, tz: tzinfo) -> datetime | None:
    """The first complete date written anywhere in ``text`` (e.g. "發布時間：2023-02-24 18:13")."""
    matches = [m for pattern in (_CHINESE_DATE, _NUMERIC_DATE, _ENGLISH_DATE) if (m := pattern.search(text))]
    for match in sorted(matches, key=lambda m: m.start()):
        if value := parse_local_datetime(match.group(0), tz):
            return value
    return None


def _from_groups(match: re.Match[str], tz: tzinfo) -> datetime | None:
    groups = match.groupdict()
    try:
        value = datetime(
            int(groups["y"]),
            int(groups["m"]),
            int(groups["d"]),
            int(groups["H"] or 0),
            int(groups["M"] or 0),
            int(groups["S"] or 0),
        )
    except ValueError:
        return None
    return value.replace(tzinfo=_offset(groups["tz"]) if groups.get("tz") else tz)


def _offset(text: str) -> tzinfo:
    """ "Z", "UTC", "GMT", "+08:00", "+0800", "UTC+8" as a fixed offset."""
    if not (parts := _OFFSET_PARTS.search(text)):
        return UTC
    minutes = int(parts["h"]) * 60 + int(parts["m"] or 0)
    return timezone(timedelta(minutes=-minutes if parts["sign"] == "-" else minutes))


def _dateutil(text: str, tz: tzinfo) -> datetime | None:
    """dateutil for everything else, refusing dates whose year, month or day it had to invent."""
    text = _MERIDIEM.sub(r"\1m", text).replace(" at ", " ")
    try:
        first, second = (dateutil_parser.parse(text, default=default, tzinfos=_ZONES) for default in _DEFAULTS)
    except (ValueError, OverflowError):
        return None
    if (first.year, first.month, first.day) != (second.year, second.month, second.day):
        return None
    return first if first.tzinfo else first.replace(tzinfo=tz)
