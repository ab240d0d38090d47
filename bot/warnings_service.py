"""Official weather warnings: the ``[[warnings]]`` feeds read, stored, matched to the regions, and
announced in the weather alerts' stream.

A feed is read at most every ``interval_minutes`` through the one HTTP client (deadlines, size
cap, no private addresses but the feed's own host). CAP documents are fetched once (an index
entry already stored is not fetched again); HKO lists only what is in force, so a warning it no
longer lists has ended. Messages of one warning form a chain (CAP ``references``, HKO's warning
statement): a region hears a chain once, again when an update changes its severity or area, and a
short "lifted" message when it is cancelled or expires (only the chats that heard it).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from urllib.parse import urljoin

import httpx
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.config import RegionSettings, Settings, WarningSourceSettings
from bot.ingest.http import FetchError, PoliteClient, TransientError, host_of
from bot.storage import Database, Delivery, Subscriber, WarningRecord
from bot.subscriptions import Subscriptions
from bot.texts import t
from summarizer.text import ZH_HANS, bounded, convert_script, is_chinese
from summarizer.weather.cap import (
    HKO_LANGUAGES,
    MSG_TYPES,
    SEVERITIES,
    CapError,
    Info,
    OfficialWarning,
    is_cap,
    parse_cap,
    parse_hko,
    parse_index,
)

log = logging.getLogger(__name__)

HKO_URL = "https://data.weather.gov.hk/weatherAPI/opendata/weather.php"
WARNING_KEY = "alert:w:"  # push keys of official warnings (bot.weather_alerts.ALERT_KEY's family)
LIFTED_FOR = timedelta(hours=12)  # a warning that ended this long ago is no longer announced as lifted
UNDATED_FOR = timedelta(days=3)  # a warning without expiry, neither updated nor cancelled, ends this long after it was sent
MAX_ROWS = 5000  # warnings read at once at most
MAX_SKIPPED = 10_000  # document URLs not to fetch again (unreadable, or no public warning), the latest kept
READ_WAIT = 5.0  # seconds a lookup waits for a feed read under way (but the first) before using what is stored
MAX_SHOWN = 300  # characters of an event or headline shown
STORE_EVERY = 25  # CAP documents fetched are stored in batches of this many
URGENT = frozenset({"Extreme", "Severe"})  # sent during quiet hours too
DESCRIPTION_CHARS = 700
INSTRUCTION_CHARS = 400
# alert kinds of the forecast (summarizer.weather.alerts) an official warning's event stands for
_GUESSED: dict[str, tuple[str, ...]] = {
    "thunderstorm": ("thunder", "雷"),
    "hail": ("hail", "冰雹"),
    "heavy_rain": ("rainstorm", "heavy rain", "暴雨", "大雨"),
    "freezing_rain": ("freezing rain", "冻雨"),
    "heavy_snow": ("snow", "blizzard", "雪"),
    "cold_snap": ("cold", "寒潮", "寒冷", "低温"),
}


@dataclass(frozen=True)
class Chain:
    """One warning: its messages (oldest first) and when its feed stopped listing it."""

    key: str
    source: str  # the feed's name
    messages: tuple[OfficialWarning, ...]
    ended_at: datetime | None = None

    @property
    def latest(self) -> OfficialWarning:
        return self.messages[-1]

    def end(self) -> datetime | None:
        """When it stopped: cancelled, dropped by its feed, or expired (None: it has not said)."""
        latest = self.latest
        stops = [moment for moment in (self.ended_at, latest.expires) if moment is not None]
        if latest.msg_type == "Cancel":
            stops.append(latest.sent)
        if latest.expires is None and latest.series is None:  # a feed of what is in force says when it ends
            stops.append(latest.sent + UNDATED_FOR)
        return min(stops) if stops else None

    def in_force(self, now: datetime) -> bool:
        end = self.end()
        return self.latest.msg_type != "Cancel" and (end is None or end > now)

    def lifted(self, now: datetime) -> bool:
        """Whether it ended lately (announced as lifted to whoever heard it)."""
        end = self.end()
        return end is not None and end <= now < end + LIFTED_FOR

    def covers(self, region: RegionSettings) -> bool:
        """Whether any of its messages' areas holds the region (coordinates or geocodes)."""
        return any(m.covers(region.latitude, region.longitude, region.warning_geocodes) for m in self.messages)

    @property
    def shown(self) -> OfficialWarning:
        """The message that says what the warning is: the latest but a Cancel, with ``<info>`` blocks."""
        return next((m for m in reversed(self.messages) if m.infos and m.msg_type != "Cancel"), self.latest)


@dataclass(frozen=True)
class WarningAnnouncement:
    """A chain to announce to one region's ``/alerts on`` chats: in force, or ``lifted``."""

    region: RegionSettings
    chain: Chain
    lifted: bool = False

    @property
    def chain_prefix(self) -> str:
        digest = hashlib.sha256(f"{self.region.name}\n{self.chain.key}".encode()).hexdigest()[:24]
        return f"{WARNING_KEY}{digest}:"

    @property
    def push_key(self) -> str:
        """One message per chat per version (severity and area) of the chain, and one "lifted"."""
        if self.lifted:
            return f"{self.chain_prefix}lifted"
        latest = self.chain.shown
        version = hashlib.sha256(f"{latest.severity}\n{latest.area_signature()}".encode()).hexdigest()[:12]
        return f"{self.chain_prefix}{version}"

    @property
    def urgent(self) -> bool:
        """Extreme and Severe warnings are sent during quiet hours too."""
        return not self.lifted and self.chain.shown.severity in URGENT

    def current(self, now: datetime) -> bool:
        return self.chain.lifted(now) if self.lifted else self.chain.in_force(now)

    def describe(self, language: str, region: str, today: date) -> str:
        """The message for a reader of ``language`` (plain text)."""
        warning = self.chain.shown
        if self.lifted:  # a Cancel may be in fewer languages than the warning it ends
            readable = (m for m in reversed(self.chain.messages) if m.infos and not pick_info(m, language)[1])
            info, original = pick_info(next(readable, warning), language)
            lifted = t("warning_lifted", language, region=region, event=info.event if info else warning.identifier)
            return f"{lifted} {t('warning_original', language, language=info.original_language)}" if original and info else lifted
        head = "warning_update" if len(self.chain.messages) > 1 else "warning_new"
        return describe_warning(warning, language, region, self.region.tz, head=head)

    def recipients(self, subscriptions: Subscriptions, db: Database, after: int, limit: int) -> list[Subscriber]:
        """The chats to send it to (a page by id): ``/alerts on`` chats of the region that have not had
        it; a "lifted" message only to those that had one of the chain's."""
        while True:
            page = subscriptions.alert_recipients(self.region.name, self.push_key, after, limit)
            if not self.lifted or not page:
                return page
            with db.session() as session:
                heard = set(
                    session.scalars(
                        select(Delivery.subscriber_id).where(
                            Delivery.subscriber_id.in_([s.id for s in page]),
                            Delivery.push_key.startswith(self.chain_prefix, autoescape=True),
                            Delivery.status == "sent",
                        )
                    )
                )
            chosen = [s for s in page if s.id in heard]
            if chosen:
                return chosen
            after = page[-1].id


class WarningsService:
    """Reads the configured feeds when due and answers which warnings hold where; safe to call
    from the event loop (network and database work never blocks it), never raises for a feed's
    trouble."""

    def __init__(self, settings: Settings, db: Database, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.db = db
        self.transport = transport
        self._read_at: dict[str, datetime] = {}  # feed name -> when it was last read (the caller's clock)
        self._reading: asyncio.Task[None] | None = None
        self._read_once = False  # whether a read of the feeds has finished in this process
        self._skipped: OrderedDict[str, None] = OrderedDict()  # document URLs not to fetch again
        self._parsed: OrderedDict[int, OfficialWarning] = OrderedDict()  # stored messages by row id, as read
        self._parsed_lock = threading.Lock()

    @staticmethod
    def feed_name(feed: WarningSourceSettings) -> str:
        return feed.name or host_of(feed.url or HKO_URL)

    async def refresh(self, now: datetime, wait: float | None = None) -> None:
        """Read the feeds that are due; whoever asks while a read is under way waits for it (at
        most ``wait`` seconds: the read goes on, and what is stored is used meanwhile)."""
        if not self.settings.warnings:
            return
        if self._reading is None or self._reading.done() or self._reading.get_loop() is not asyncio.get_running_loop():
            self._reading = asyncio.ensure_future(self._read_due(now))
        await asyncio.wait({self._reading}, timeout=wait)

    async def _read_due(self, now: datetime) -> None:
        due = [feed for feed in self.settings.warnings if self._due(feed, now)]
        if not due:
            return
        hosts = [host_of(feed.url or HKO_URL) for feed in self.settings.warnings]
        for feed in due:
            self._read_at[self.feed_name(feed)] = now
        async with PoliteClient(self.settings.fetch, self.transport, trusted_hosts=hosts) as client:
            await asyncio.gather(*(self._read_one(client, feed, now) for feed in due))
        self._read_once = True

    async def _read_one(self, client: PoliteClient, feed: WarningSourceSettings, now: datetime) -> None:
        """One feed within ``[fetch] source_budget_seconds``; its failure is logged, never raised."""
        try:
            async with asyncio.timeout(self.settings.fetch.source_budget_seconds):
                await self._read(client, feed, now)
        except (FetchError, CapError, TimeoutError) as exc:
            reason = (
                str(exc) or f"not read within [fetch] source_budget_seconds ({self.settings.fetch.source_budget_seconds:g} s)"
            )
            log.warning("warnings feed %s: %s", self.feed_name(feed), reason)
        except Exception:  # one feed's failure never stops the others, nor the alerts
            log.exception("warnings feed %s failed", self.feed_name(feed))

    def _due(self, feed: WarningSourceSettings, now: datetime) -> bool:
        last = self._read_at.get(self.feed_name(feed))
        return last is None or not last <= now < last + timedelta(minutes=feed.interval_minutes)

    async def _read(self, client: PoliteClient, feed: WarningSourceSettings, now: datetime) -> None:
        name = self.feed_name(feed)
        if feed.kind == "hko":
            warnings = await self._read_hko(client, feed.url or HKO_URL)
            await asyncio.to_thread(self._store, name, warnings, now, True)
            return
        response = await client.get(feed.url, robots=False)
        if is_cap(response.content):
            await self._keep(name, [(feed.url, response.content)], now)
            return
        urls = [urljoin(feed.url, url) for url in await asyncio.to_thread(parse_index, response.content)]
        known = await asyncio.to_thread(self._known_urls, name, urls)
        documents: list[tuple[str, bytes]] = []
        for url in [u for u in urls if u not in known and u not in self._skipped][: feed.max_documents]:
            try:
                documents.append((url, (await client.get(url, robots=False, max_retries=1)).content))
            except FetchError as exc:
                log.info("warnings feed %s: %s", name, exc)
                if not isinstance(exc, TransientError):  # a timeout or 503 is asked again next time
                    self._skip(url)
            if len(documents) >= STORE_EVERY:  # a read cut off by its deadline keeps what it has fetched
                await self._keep(name, documents, now)
                documents = []
        await self._keep(name, documents, now)

    async def _keep(self, name: str, documents: list[tuple[str, bytes]], now: datetime) -> None:
        """Parse CAP documents and store their warnings (in worker threads)."""
        if documents:
            warnings = await asyncio.to_thread(self._parse_documents, name, documents)
            await asyncio.to_thread(self._store, name, warnings, now, False)

    def _parse_documents(self, name: str, documents: list[tuple[str, bytes]]) -> list[OfficialWarning]:
        warnings = []
        for url, content in documents:
            try:
                warning = parse_cap(content, url)
            except CapError as exc:
                log.info("warnings feed %s: %s: %s", name, url, exc)
                self._skip(url)
                continue
            if _public(warning):
                warnings.append(warning)
            else:  # a test, an exercise, an acknowledgement: never stored, so never fetched again
                self._skip(url)
        return warnings

    def _skip(self, url: str) -> None:
        self._skipped[url] = None
        while len(self._skipped) > MAX_SKIPPED:
            self._skipped.popitem(last=False)

    async def _read_hko(self, client: PoliteClient, url: str) -> list[OfficialWarning]:
        """HKO's warnsum and warningInfo in its three languages."""
        answers: dict[str, dict[str, dict]] = {"warnsum": {}, "warningInfo": {}}
        for data_type, by_language in answers.items():
            for hko_language in HKO_LANGUAGES:
                response = await client.get(f"{url}?dataType={data_type}&lang={hko_language}", robots=False)
                try:
                    by_language[hko_language] = json.loads(response.content or b"{}")
                except ValueError:
                    raise CapError(f"HKO {data_type} ({hko_language}) is not JSON") from None
        return parse_hko(answers["warnsum"], answers["warningInfo"], url)

    # -- database work, run in worker threads ----------------------------------------------

    def _known_urls(self, name: str, urls: list[str]) -> set[str]:
        with self.db.session() as session:
            return set(
                session.scalars(select(WarningRecord.url).where(WarningRecord.source == name, WarningRecord.url.in_(urls)))
            )

    def _store(self, name: str, warnings: list[OfficialWarning], now: datetime, snapshot: bool) -> None:
        """Keep the new messages, each in its chain; with a ``snapshot`` (a feed that lists what is in
        force), end the warnings it no longer lists; forget the messages sent and ended more than
        ``keep_days`` ago."""
        try:
            self._store_once(name, warnings, now, snapshot)
        except IntegrityError:  # another process stored the same message first
            self._store_once(name, warnings, now, snapshot)

    def _store_once(self, name: str, warnings: list[OfficialWarning], now: datetime, snapshot: bool) -> None:
        wanted = [w for w in warnings if _public(w)]
        with self.db.session() as session:
            stored = set(
                session.scalars(
                    select(WarningRecord.identifier).where(
                        WarningRecord.source == name, WarningRecord.identifier.in_([w.identifier for w in wanted])
                    )
                )
            )
            for warning in sorted(wanted, key=lambda w: w.sent):
                if warning.identifier in stored:
                    continue
                stored.add(warning.identifier)
                session.add(
                    WarningRecord(
                        source=name,
                        identifier=warning.identifier,
                        chain=self._chain_of(session, name, warning),
                        series=warning.series,
                        url=warning.url if not snapshot else None,
                        msg_type=warning.msg_type,
                        sent=warning.sent,
                        expires=warning.expires,
                        fetched_at=now,
                        data=warning.to_dict(),
                    )
                )
                session.flush()
            if snapshot:
                listed = {w.series for w in wanted}
                session.execute(
                    update(WarningRecord)
                    .where(WarningRecord.source == name, WarningRecord.ended_at.is_(None), WarningRecord.series.not_in(listed))
                    .values(ended_at=now)
                )
                session.execute(  # listed again as it was (a moment's gap in the feed): still in force
                    update(WarningRecord)
                    .where(
                        WarningRecord.source == name,
                        WarningRecord.ended_at.is_not(None),
                        WarningRecord.identifier.in_([w.identifier for w in wanted]),
                    )
                    .values(ended_at=None)
                )
            cutoff = now - timedelta(days=self.settings.storage.keep_days)
            in_force_listed = and_(WarningRecord.series.is_not(None), WarningRecord.ended_at.is_(None))
            session.execute(
                delete(WarningRecord).where(
                    WarningRecord.sent < cutoff,
                    or_(WarningRecord.expires.is_(None), WarningRecord.expires < cutoff),
                    ~in_force_listed,
                )
            )

    @staticmethod
    def _chain_of(session, name: str, warning: OfficialWarning) -> str:
        """The chain a message belongs to: that of a stored message it references (or, for a
        feed of what is in force, of its warning still in force), else the first it references,
        else its own identifier."""
        query = select(WarningRecord.chain).where(WarningRecord.source == name)
        if warning.series:
            query = query.where(WarningRecord.series == warning.series, WarningRecord.ended_at.is_(None))
        elif warning.references:
            query = query.where(WarningRecord.identifier.in_(warning.references))
        else:
            return warning.identifier
        found = session.scalars(query.order_by(WarningRecord.sent).limit(1)).first()
        return found or (warning.references[0] if warning.references else warning.identifier)

    def _chains(self, now: datetime) -> list[Chain]:
        names = {self.feed_name(feed) for feed in self.settings.warnings}
        recent = now - LIFTED_FOR
        with self.db.session() as session:
            chains = set(
                session.scalars(
                    select(WarningRecord.chain)
                    .where(
                        WarningRecord.source.in_(names),
                        or_(WarningRecord.ended_at.is_(None), WarningRecord.ended_at >= recent),
                        or_(WarningRecord.expires.is_(None), WarningRecord.expires >= recent),
                    )
                    .order_by(WarningRecord.sent.desc())
                    .limit(MAX_ROWS)
                )
            )
            rows = session.execute(
                select(WarningRecord.id, WarningRecord.chain, WarningRecord.source, WarningRecord.ended_at)
                .where(WarningRecord.chain.in_(chains), WarningRecord.source.in_(names))
                .order_by(WarningRecord.sent, WarningRecord.id)
                .limit(MAX_ROWS)
            ).all()
            with self._parsed_lock:
                missing = [row.id for row in rows if row.id not in self._parsed]
            read = {
                row_id: OfficialWarning.from_dict(data)
                for row_id, data in session.execute(
                    select(WarningRecord.id, WarningRecord.data).where(WarningRecord.id.in_(missing))
                )
            }
        with self._parsed_lock:  # messages never change: each is read from its JSON once
            self._parsed.update(read)
            parsed = {row.id: self._parsed[row.id] for row in rows}
            for row_id in parsed:
                self._parsed.move_to_end(row_id)
            while len(self._parsed) > MAX_ROWS:
                self._parsed.popitem(last=False)
        messages: dict[tuple[str, str], list[OfficialWarning]] = {}
        ended: dict[tuple[str, str], datetime | None] = {}
        for row_id, chain, source, ended_at in rows:
            messages.setdefault((chain, source), []).append(parsed[row_id])
            ended[chain, source] = ended_at
        return [Chain(chain, source, tuple(found), ended[chain, source]) for (chain, source), found in messages.items()]

    # -- what holds where ------------------------------------------------------------------

    async def in_force(self, now: datetime, region: RegionSettings) -> list[OfficialWarning]:
        """The warnings in force for ``region``, the severest first."""
        if not self.settings.warnings:
            return []
        await self.refresh(now, READ_WAIT if self._read_once else None)  # the first read is waited for

        def find() -> list[OfficialWarning]:
            feeds = {self.feed_name(feed): feed for feed in self.settings.warnings}
            chains = [c for c in self._chains(now) if c.in_force(now) and self._for(c, region, feeds)]
            return [c.shown for c in sorted(chains, key=lambda c: (-SEVERITIES.index(c.shown.severity), c.shown.sent))]

        return await asyncio.to_thread(find)

    async def announcements(self, now: datetime) -> list[WarningAnnouncement]:
        """Every region's warnings to announce now: in force, or lately lifted."""
        if not self.settings.warnings:
            return []
        await self.refresh(now, READ_WAIT if self._read_once else None)
        return await asyncio.to_thread(self._announcements, now)

    def _announcements(self, now: datetime) -> list[WarningAnnouncement]:
        found: list[WarningAnnouncement] = []
        feeds = {self.feed_name(feed): feed for feed in self.settings.warnings}
        regions = self.settings.all_regions()
        for chain in self._chains(now):
            lifted = not chain.in_force(now)
            if lifted and not chain.lifted(now):
                continue
            found.extend(WarningAnnouncement(region, chain, lifted) for region in regions if self._for(chain, region, feeds))
        return found

    def _for(self, chain: Chain, region: RegionSettings, feeds: dict[str, WarningSourceSettings]) -> bool:
        feed = feeds.get(chain.source)
        if feed is not None and feed.regions and region.name not in feed.regions:
            return False
        return chain.covers(region)


def guessed_kinds(warning: OfficialWarning, tz, fallback: timedelta = timedelta(hours=24)) -> set[tuple[str, date]]:
    """The forecast alert kinds (and local days) an official warning stands for: a thunderstorm
    warning replaces the thunderstorm guessed from the forecast's weather codes on its days."""
    words = " ".join(f"{info.event} {info.headline}" for info in warning.infos).lower()
    words = convert_script(words, ZH_HANS)
    kinds = {kind for kind, names in _GUESSED.items() if any(name in words for name in names)}
    if "freezing_rain" in kinds:
        kinds.discard("heavy_rain")
    start = (warning.onset or warning.sent).astimezone(tz)
    end = (warning.expires or start + fallback).astimezone(tz)
    days: list[date] = []
    day = start.date()
    while day <= end.date() and len(days) < 7:
        days.append(day)
        day += timedelta(days=1)
    return {(kind, day) for kind in kinds for day in days}


def _public(warning: OfficialWarning) -> bool:
    """An actual warning, alert, update or cancel (not a test, an exercise or an acknowledgement)."""
    return warning.status == "Actual" and warning.msg_type in MSG_TYPES


# -- wording -------------------------------------------------------------------------------------


def pick_info(warning: OfficialWarning, language: str) -> tuple[Info | None, bool]:
    """The ``<info>`` for a reader of ``language`` and whether it is in another language (shown
    as the original): the reader's own, else Chinese in the other script (converted), else the first."""
    info = warning.info_for(language)
    if info is not None:
        return info, False
    if is_chinese(language):
        other = next((i for i in warning.infos if is_chinese(i.language)), None)
        if other is not None:
            return _converted(other, language), False
    return (warning.infos[0], True) if warning.infos else (None, False)


def _converted(info: Info, language: str) -> Info:
    return replace(
        info,
        event=convert_script(info.event, language),
        headline=convert_script(info.headline, language),
        description=convert_script(info.description, language),
        instruction=convert_script(info.instruction, language),
        sender_name=convert_script(info.sender_name, language),
        language=language,
    )


def local_time(moment: datetime | None, language: str, tz: tzinfo | None) -> str:
    """2月24日 18:00 / Feb 24 18:00 in the region's time; "further notice" for None."""
    if moment is None:
        return t("warning_until_cancelled", language)
    local = moment.astimezone(tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}" if is_chinese(language) else f"{local:%b} {local.day} {local:%H:%M}"


def describe_warning(warning: OfficialWarning, language: str, region_name: str, tz: tzinfo, head: str) -> str:
    """A warning as an alert message: heading, headline, event and severity, times, description,
    instruction, issuer; the original marked with its language when the reader's is not there."""
    info, original = pick_info(warning, language)
    lines = [t(head, language, region=region_name)]
    if info is None:
        return "\n".join([*lines, warning.identifier])
    if original:
        lines.append(t("warning_original", language, language=info.original_language))
    if info.headline and info.headline != info.event:
        lines.append(bounded(info.headline, MAX_SHOWN))
    lines.append(f"{bounded(info.event, MAX_SHOWN)} · {t(f'severity_{warning.severity}', language)}")
    lines.append(
        t(
            "warning_time",
            language,
            onset=local_time(warning.onset or warning.sent, language, tz),
            expires=local_time(warning.expires, language, tz),
        )
    )
    lines.extend(
        bounded(text, limit)
        for text, limit in ((info.description, DESCRIPTION_CHARS), (info.instruction, INSTRUCTION_CHARS))
        if text
    )
    lines.append(t("warning_sender", language, sender=info.sender_name or warning.sender))
    return "\n".join(lines)


def warning_lines(warnings: Iterable[OfficialWarning], language: str, tz: tzinfo | None) -> list[str]:
    """The warnings in force as the weather message shows them first."""
    lines = []
    for warning in warnings:
        info, original = pick_info(warning, language)
        if info is None:
            continue
        line = t(
            "warning_line",
            language,
            event=bounded(info.event, MAX_SHOWN),
            severity=t(f"severity_{warning.severity}", language),
            expires=local_time(warning.expires, language, tz),
            headline=bounded(info.headline or info.event, MAX_SHOWN),
        )
        lines.append(line + (" " + t("warning_original", language, language=info.original_language) if original else ""))
    return [t("warnings_in_force", language), *lines] if lines else []


def warning_json(warning: OfficialWarning, language: str) -> dict:
    """A warning in ``newsbot weather --json``: identifier, event, severity, onset, expires,
    headline, language (the ``<info>`` shown to a reader of ``language``), and more."""
    info, _ = pick_info(warning, language)
    return {
        "identifier": warning.identifier,
        "sender": warning.sender,
        "sent": warning.sent.isoformat(),
        "msg_type": warning.msg_type,
        "event": info.event if info else "",
        "severity": warning.severity,
        "urgency": info.urgency if info else "Unknown",
        "certainty": info.certainty if info else "Unknown",
        "onset": (warning.onset or warning.sent).isoformat(),
        "expires": warning.expires.isoformat() if warning.expires else None,
        "headline": info.headline if info else "",
        "description": info.description if info else "",
        "instruction": info.instruction if info else "",
        "language": info.language if info else None,
        "languages": [i.language for i in warning.infos],
        "areas": sorted({area.description for area in warning.areas if area.description}),
        "url": warning.url,
    }
