"""Publication dates as portals write them, read in the region's timezone when they give none."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from dateutil import parser as dateutil_parser

_CHINESE_DATE = re.compile(
    r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：時时点點]\s*(?:(?P<M>\d{1,2})\s*(?:[:：分]\s*(?:(?P<S>\d{1,2})\s*秒?)?)?)?)?"
)
_NUMERIC_DATE = re.compile(
    r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[T\s]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\.\d+)?(?P<tz>Z|[+-]\d{2}:?\d{2})?)?"
)


def parse_local_datetime(text: str | None, tz: tzinfo) -> datetime | None:
    """Parse a date as found in feeds and pages; a date without an offset is local to ``tz``.

    Understands "2023-02-24 18:13:29", "2023/2/24", "2023年02月24日 18:13", ISO 8601 with
    an offset and RFC 822 ("Fri, 24 Feb 2023 10:13:29 GMT"). Returns an aware datetime.
    """
    if not text or not text.strip():
        return None
    text = text.strip()
    match = _CHINESE_DATE.search(text) or _NUMERIC_DATE.fullmatch(text) or _NUMERIC_DATE.match(text)
    if match:
        groups = match.groupdict()
        if groups.get("tz"):
            return _dateutil(match.group(0), tz)
        try:
            value = datetime(
                int(groups["y"]), int(groups["m"]), int(groups["d"]),
                int(groups["H"] or 0), int(groups["M"] or 0), int(groups["S"] or 0),
            )
        except ValueError:
            return None
        return value.replace(tzinfo=tz)
    return _dateutil(text, tz)


def _dateutil(text: str, tz: tzinfo) -> datetime | None:
    try:
        value = dateutil_parser.parse(text)
    except (ValueError, OverflowError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def find_date(text: str, tz: tzinfo) -> datetime | None:
    """The first date written anywhere in ``text`` (e.g. a byline "發布時間：2023-02-24 18:13")."""
    matches = [m for m in (_CHINESE_DATE.search(text), _NUMERIC_DATE.search(text)) if m]
    for match in sorted(matches, key=lambda m: m.start()):
        if value := parse_local_datetime(match.group(0), tz):
            return value
    return None
