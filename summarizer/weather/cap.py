"""Official weather warnings: the Common Alerting Protocol (CAP 1.2, OASIS) and the Hong Kong
Observatory's open-data warning JSON, read into :class:`OfficialWarning` dataclasses; and where they apply.

Pure functions, no I/O. :func:`parse_cap` reads one CAP ``<alert>``; :func:`parse_index` finds the
CAP documents an Atom or RSS index (MeteoAlarm's, a national service's) links to;
:func:`parse_hko` reads HKO's ``warnsum`` (and ``warningInfo``) answers, one per language.
:func:`OfficialWarning.covers` says whether a point lies inside one of a warning's polygons or circles, or
one of its geocodes is among those given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cached_property
from typing import cast
from xml.etree.ElementTree import Element

import feedparser
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from summarizer.text import ZH_HANS, ZH_HANT

CAP_MEDIA_TYPE = "application/cap+xml"
SEVERITIES = ("Unknown", "Minor", "Moderate", "Severe", "Extreme")  # weakest first
MSG_TYPES = ("Alert", "Update", "Cancel")  # Ack and Error are not warnings
EARTH_RADIUS_KM = 6371.0088
MAX_TEXT = 4000  # characters kept of a headline, description or instruction
MAX_POINTS = 5000  # vertices kept of one polygon

Point = tuple[float, float]  # latitude, longitude


class CapError(ValueError):
    """A document is not a usable CAP alert (or index); the message says why in one line."""


@dataclass(frozen=True)
class Area:
    """Where an ``<info>`` applies: polygons (closed rings of lat,lon), circles (lat, lon, radius
    in km) and geocodes (``(valueName, value)``)."""

    description: str = ""
    polygons: tuple[tuple[Point, ...], ...] = ()
    circles: tuple[tuple[float, float, float], ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()

    @cached_property
    def _boxes(self) -> tuple[tuple[float, float, float, float], ...]:
        """Each polygon's bounding box (south, north, west, east): a point outside it needs no more."""
        return tuple(
            (min(p[0] for p in r), max(p[0] for p in r), min(p[1] for p in r), max(p[1] for p in r)) for r in self.polygons
        )

    def holds(self, latitude: float, longitude: float) -> bool:
        """Whether the point is inside one of its polygons or circles."""
        for ring, (south, north, west, east) in zip(self.polygons, self._boxes):
            if south <= latitude <= north and west <= longitude <= east and inside_polygon(latitude, longitude, ring):
                return True
        return any(distance_km(latitude, longitude, lat, lon) <= radius for lat, lon, radius in self.circles)


@dataclass(frozen=True)
class Info:
    """One ``<info>`` block: the warning in one language (``language`` normalised, see
    :func:`reader_language`; ``original_language`` as the document wrote it)."""

    language: str
    original_language: str
    event: str
    severity: str = "Unknown"
    urgency: str = "Unknown"
    certainty: str = "Unknown"
    category: str = ""
    onset: datetime | None = None
    expires: datetime | None = None
    headline: str = ""
    description: str = ""
    instruction: str = ""
    sender_name: str = ""
    areas: tuple[Area, ...] = ()


@dataclass(frozen=True)
class OfficialWarning:
    """One warning message: CAP ``<alert>`` or one HKO warning. ``references`` are the
    identifiers of the messages it updates or cancels; ``series`` (HKO) names the warning
    whatever its level, for sources that publish only what is in force."""

    identifier: str
    sender: str
    sent: datetime
    msg_type: str
    status: str = "Actual"
    references: tuple[str, ...] = ()
    infos: tuple[Info, ...] = ()
    series: str | None = None
    url: str | None = None

    @property
    def severity(self) -> str:
        """The worst severity of its ``<info>`` blocks."""
        return max((info.severity for info in self.infos), key=SEVERITIES.index, default="Unknown")

    @property
    def onset(self) -> datetime | None:
        """When it starts (the earliest onset given; else None: from when it was sent)."""
        return min((i.onset for i in self.infos if i.onset), default=None)

    @property
    def expires(self) -> datetime | None:
        """When it ends unless updated (the latest expiry given; None: until cancelled)."""
        return max((i.expires for i in self.infos if i.expires), default=None)

    @property
    def areas(self) -> tuple[Area, ...]:
        return tuple(area for info in self.infos for area in info.areas)

    def area_signature(self) -> str:
        """The areas as text, equal for equal areas whatever the order (an Update changes the
        area when this changes)."""
        parts = {repr((sorted(a.polygons), sorted(a.circles), sorted(a.geocodes), a.description.strip())) for a in self.areas}
        return "|".join(sorted(parts))

    def info_for(self, language: str) -> Info | None:
        """The ``<info>`` written in ``language`` (zh-Hant, zh-Hans or en), else None."""
        return next((info for info in self.infos if info.language == language), None)

    def covers(self, latitude: float, longitude: float, geocodes: Iterable[str] = ()) -> bool:
        """Whether the point is inside one of its polygons or circles, or one of ``geocodes``
        (``value`` or ``valueName:value``) is one of its geocodes."""
        wanted = {code.strip().casefold() for code in geocodes}
        for area in self.areas:
            if wanted and any(v.casefold() in wanted or f"{n}:{v}".casefold() in wanted for n, v in area.geocodes):
                return True
            if area.holds(latitude, longitude):
                return True
        return False

    def to_dict(self) -> dict:
        """JSON-safe form (datetimes as ISO 8601); :meth:`from_dict` reads it back."""
        return cast(dict, _jsonable(asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping) -> OfficialWarning:
        infos = tuple(
            Info(
                **{
                    **info,
                    "onset": _parse_time(info.get("onset")),
                    "expires": _parse_time(info.get("expires")),
                    "areas": tuple(
                        Area(
                            description=area.get("description", ""),
                            polygons=tuple(tuple(tuple(p) for p in ring) for ring in area.get("polygons", ())),
                            circles=tuple(tuple(c) for c in area.get("circles", ())),
                            geocodes=tuple(tuple(g) for g in area.get("geocodes", ())),
                        )
                        for area in info.get("areas", ())
                    ),
                }
            )
            for info in data.get("infos", ())
        )
        sent = _parse_time(data["sent"])
        if sent is None:
            raise CapError(f"stored warning {data['identifier']} has no time sent")
        return cls(
            identifier=data["identifier"],
            sender=data.get("sender", ""),
            sent=sent,
            msg_type=data.get("msg_type", "Alert"),
            status=data.get("status", "Actual"),
            references=tuple(data.get("references", ())),
            infos=infos,
            series=data.get("series"),
            url=data.get("url"),
        )


# -- geometry ---------------------------------------------------------------------------------


def inside_polygon(latitude: float, longitude: float, ring: tuple[Point, ...]) -> bool:
    """Whether the point lies inside the ring of (lat, lon) vertices (even-odd rule; a point on
    an edge may fall either way). Rings are taken as drawn on a flat lat/lon map, as CAP's are."""
    if len(ring) < 3:
        return False
    inside = False
    previous_lat, previous_lon = ring[-1]
    for lat, lon in ring:
        if (lat > latitude) != (previous_lat > latitude):
            crossing = lon + (latitude - lat) * (previous_lon - lon) / (previous_lat - lat)
            if longitude < crossing:
                inside = not inside
        previous_lat, previous_lon = lat, lon
    return inside


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half = math.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(half)))


# -- CAP ---------------------------------------------------------------------------------------


def reader_language(code: str) -> str:
    """A CAP language code as a reader language: en-*, zh-Hant/-TW/-HK/-MO, zh-Hans/-CN/-SG/zh;
    any other code as it is (lower case)."""
    code = (code or "en-US").strip().replace("_", "-").lower()
    if code.startswith(("zh-hant", "zh-tw", "zh-hk", "zh-mo")):
        return ZH_HANT
    if code == "zh" or code.startswith(("zh-hans", "zh-cn", "zh-sg")):
        return ZH_HANS
    if code.split("-")[0] == "en":
        return "en"
    return code


def parse_cap(document: bytes | str, url: str | None = None) -> OfficialWarning:
    """The warning in one CAP 1.2 ``<alert>`` document; CapError when it is not one."""
    try:
        root = ElementTree.fromstring(document)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise CapError(f"not well-formed XML: {exc}") from None
    if _local(root.tag) != "alert":
        raise CapError(f"not a CAP alert: the root element is <{_local(root.tag)}>")
    return _alert(root, url)


def _alert(root: Element, url: str | None) -> OfficialWarning:
    fields = _children(root)
    identifier, sent_text = _text(fields.get("identifier")), _text(fields.get("sent"))
    if not identifier:
        raise CapError("CAP alert without an <identifier>")
    sent = _parse_time(sent_text)
    if sent is None:
        raise CapError(f"CAP alert {identifier}: <sent> is not a date and time ({sent_text!r})")
    msg_type = _text(fields.get("msgType")) or "Alert"
    infos = tuple(_info(element) for element in root if _local(element.tag) == "info")
    return OfficialWarning(
        identifier=identifier,
        sender=_text(fields.get("sender")),
        sent=sent,
        msg_type=msg_type,
        status=_text(fields.get("status")) or "Actual",
        references=tuple(_referenced(_text(fields.get("references")))),
        infos=infos,
        url=url,
    )


def _referenced(references: str) -> list[str]:
    """Identifiers in CAP's ``references``: space-separated ``sender,identifier,sent`` triples."""
    found = []
    for triple in references.split():
        parts = triple.split(",")
        if len(parts) >= 2 and parts[1]:
            found.append(parts[1])
    return found


def _info(element: Element) -> Info:
    fields = _children(element)
    language = _text(fields.get("language")) or "en-US"
    severity = _text(fields.get("severity"))
    return Info(
        language=reader_language(language),
        original_language=language,
        event=_text(fields.get("event")),
        severity=severity if severity in SEVERITIES else "Unknown",
        urgency=_text(fields.get("urgency")) or "Unknown",
        certainty=_text(fields.get("certainty")) or "Unknown",
        category=_text(fields.get("category")),
        onset=_parse_time(_text(fields.get("onset"))) or _parse_time(_text(fields.get("effective"))),
        expires=_parse_time(_text(fields.get("expires"))),
        headline=_text(fields.get("headline")),
        description=_text(fields.get("description")),
        instruction=_text(fields.get("instruction")),
        sender_name=_text(fields.get("senderName")),
        areas=tuple(_area(child) for child in element if _local(child.tag) == "area"),
    )


def _area(element: Element) -> Area:
    polygons, circles, geocodes, description = [], [], [], ""
    for child in element:
        name = _local(child.tag)
        if name == "areaDesc":
            description = _text(child)
        elif name == "polygon":
            ring = _points(_text(child))
            if len(ring) >= 4:  # CAP: at least four pairs, the first and last the same
                polygons.append(ring)
        elif name == "circle":
            circle = _circle(_text(child))
            if circle:
                circles.append(circle)
        elif name == "geocode":
            parts = _children(child)
            value_name, value = _text(parts.get("valueName")), _text(parts.get("value"))
            if value:
                geocodes.append((value_name, value))
    return Area(description, tuple(polygons), tuple(circles), tuple(geocodes))


def _points(text: str) -> tuple[Point, ...]:
    """``lat,lon lat,lon …`` (WGS 84); pairs out of range or malformed are skipped."""
    points = []
    for pair in text.split()[:MAX_POINTS]:
        try:
            lat, lon = (float(v) for v in pair.split(","))
        except ValueError:
            continue
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            points.append((lat, lon))
    return tuple(points)


def _circle(text: str) -> tuple[float, float, float] | None:
    """``lat,lon radius_km``."""
    centre, _, radius = text.partition(" ")
    point = _points(centre)
    try:
        km = float(radius.strip())
    except ValueError:
        return None
    return (*point[0], km) if point and km >= 0 else None


def parse_index(document: bytes | str) -> list[str]:
    """The CAP document URLs of an Atom or RSS index, in its order: each entry's link of type
    ``application/cap+xml``, else its link, else its id when that is a URL."""
    feed = feedparser.parse(document)
    if not feed.entries and (feed.bozo or not feed.version):
        raise CapError(f"not an Atom or RSS index: {feed.get('bozo_exception') or 'neither Atom nor RSS'}")
    urls = []
    for entry in feed.entries:
        links = entry.get("links", [])
        cap = next((link["href"] for link in links if link.get("type", "").split(";")[0] == CAP_MEDIA_TYPE), None)
        url = cap or entry.get("link") or (entry.get("id") if str(entry.get("id", "")).startswith("http") else None)
        if url and url not in urls:
            urls.append(url)
    return urls


def is_cap(document: bytes) -> bool:
    """Whether a document is a CAP alert rather than an index (its root element is ``alert``)."""
    head = document[:2000].lstrip()
    return b"<alert" in head and b"<feed" not in head and b"<rss" not in head


# -- Hong Kong Observatory ---------------------------------------------------------------------

HKO_LANGUAGES = {"en": "en", "tc": ZH_HANT, "sc": ZH_HANS}  # HKO's lang parameter -> reader language
HKO_SENDER = "Hong Kong Observatory"
# Hong Kong's territory, roughly (lat, lon), Shenzhen and Macau outside: HKO's warnings are for all of it
HKO_AREA = Area(
    "Hong Kong",
    polygons=(
        (
            (22.13, 113.82),
            (22.40, 113.82),
            (22.45, 113.92),  # Deep Bay, south of Shekou
            (22.50, 114.02),
            (22.52, 114.10),  # the Shenzhen River
            (22.56, 114.15),
            (22.545, 114.23),  # Sha Tau Kok
            (22.52, 114.32),
            (22.56, 114.50),  # Mirs Bay
            (22.13, 114.50),
            (22.13, 113.82),
        ),
    ),
    geocodes=(("HKO", "HK"),),
)
# subtype (or warning statement code) -> CAP severity; others are Moderate
_HKO_SEVERITIES = {
    "TC1": "Minor",
    "TC3": "Moderate",
    "TC8NE": "Severe",
    "TC8SE": "Severe",
    "TC8NW": "Severe",
    "TC8SW": "Severe",
    "TC9": "Extreme",
    "TC10": "Extreme",
    "WRAINA": "Moderate",
    "WRAINR": "Severe",
    "WRAINB": "Extreme",
    "WFIREY": "Minor",
    "WFIRER": "Moderate",
    "WFROST": "Minor",
    "WCOLD": "Moderate",
    "WHOT": "Moderate",
    "WMSGNL": "Moderate",
    "WTS": "Moderate",
    "WL": "Severe",
    "WTMW": "Severe",
    "WFNTSA": "Moderate",
}
_HKO_ACTIONS = {"CANCEL": "Cancel", "ISSUE": "Alert"}  # the rest (REISSUE, EXTEND, UPDATE, …) update


def parse_hko(
    warnsum: Mapping[str, Mapping], warning_info: Mapping[str, Mapping] | None = None, url: str | None = None
) -> list[OfficialWarning]:
    """HKO's warnings in force from ``warnsum`` answers keyed by HKO language (``en``, ``tc``,
    ``sc``), with the statements of ``warningInfo`` answers as descriptions. One warning per
    warning statement; its ``series`` is the statement code (``WRAIN``), its identifier adds the
    subtype and issue time. CapError for an answer of the wrong shape."""
    by_code: dict[str, dict[str, Mapping]] = {}
    for hko_language, answer in warnsum.items():
        if not isinstance(answer, Mapping):
            raise CapError(f"HKO warnsum ({hko_language}) is not a JSON object")
        for code, warning in answer.items():
            if isinstance(warning, Mapping):
                by_code.setdefault(code, {})[hko_language] = warning
    statements = _hko_statements(warning_info or {})
    warnings = []
    for code, languages in by_code.items():
        first = next(iter(languages.values()))
        subtype = str(first.get("code") or code)
        issued = _parse_time(first.get("issueTime")) or _parse_time(first.get("updateTime"))
        if issued is None:
            raise CapError(f"HKO warning {code} has no issueTime")
        sent = _parse_time(first.get("updateTime")) or issued
        severity = _HKO_SEVERITIES.get(subtype, _HKO_SEVERITIES.get(code, "Moderate"))
        infos = tuple(
            Info(
                language=HKO_LANGUAGES.get(hko_language, hko_language),
                original_language=hko_language,
                event=str(warning.get("name") or code),
                severity=severity,
                urgency="Immediate",
                certainty="Observed",
                category="Met",
                onset=issued,
                expires=_parse_time(warning.get("expireTime")),
                headline=_hko_headline(warning, hko_language, code),
                description="\n".join(statements.get(hko_language, {}).get(code, [])),
                sender_name=HKO_SENDER,
                areas=(HKO_AREA,),
            )
            for hko_language, warning in languages.items()
        )
        warnings.append(
            OfficialWarning(
                identifier=f"hko:{code}:{subtype}:{issued.isoformat()}",
                sender=HKO_SENDER,
                sent=sent,
                msg_type=_HKO_ACTIONS.get(str(first.get("actionCode", "")).upper(), "Update"),
                infos=infos,
                series=f"hko:{code}",
                url=url,
            )
        )
    return warnings


def _hko_headline(warning: Mapping, hko_language: str, code: str) -> str:
    """ "Amber Rainstorm Warning Signal", "黃色暴雨警告信號": the level (``type``) and the name."""
    name, level = str(warning.get("name") or code), str(warning.get("type") or "")
    if not level:
        return name
    return f"{level} {name}" if hko_language == "en" else f"{level}{name}"


def _hko_statements(answers: Mapping[str, Mapping]) -> dict[str, dict[str, list[str]]]:
    """language -> statement code -> paragraphs, from ``warningInfo`` answers."""
    found: dict[str, dict[str, list[str]]] = {}
    for hko_language, answer in answers.items():
        details = answer.get("details") if isinstance(answer, Mapping) else None
        for detail in details if isinstance(details, list) else []:
            if isinstance(detail, Mapping) and isinstance(detail.get("contents"), list):
                code = str(detail.get("warningStatementCode", ""))
                found.setdefault(hko_language, {})[code] = [str(p) for p in detail["contents"]]
    return found


# -- helpers -----------------------------------------------------------------------------------


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: Element) -> dict[str, Element]:
    """The first child of each name (namespace dropped)."""
    found: dict[str, Element] = {}
    for child in element:
        found.setdefault(_local(child.tag), child)
    return found


def _text(element: Element | None) -> str:
    return (element.text or "").strip()[:MAX_TEXT] if element is not None else ""


def _parse_time(value: object) -> datetime | None:
    """An ISO 8601 time with its offset (CAP requires one); None for anything else."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


__all__ = [
    "Area",
    "CapError",
    "Info",
    "OfficialWarning",
    "distance_km",
    "inside_polygon",
    "is_cap",
    "parse_cap",
    "parse_hko",
    "parse_index",
    "reader_language",
]
