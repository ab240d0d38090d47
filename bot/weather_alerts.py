"""Weather alerts per region, one stream: official warnings (bot.warnings_service), bad weather in
the coming day's forecast and warning signals in the region's news, each event announced once,
and again only when it worsens. An official warning stands for the forecast's guess of the same
kind on its days (an official thunderstorm warning, no "thunderstorms tomorrow" from code 95)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.config import RegionSettings, Settings
from bot.matching import mentions
from bot.storage import Article, Database, Subscriber, WeatherEvent
from bot.storage.models import run_by
from bot.subscriptions import Subscriptions
from bot.warnings_service import WarningAnnouncement, guessed_kinds
from bot.weather_service import WeatherService
from summarizer.text import search_form
from summarizer.weather.alerts import WeatherAlert, describe_alert, forecast_alerts, signal_alerts

SIGNAL_HORIZON = timedelta(hours=24)  # news older than this no longer raises an alert
_PLACE_SUFFIX = re.compile(r"(?<=..)[區区縣县市鎮镇鄉乡]$|\s+(district|county|city|town)$", re.I)  # 梁平區 → 梁平
ALERT_KEY = "alert:"
SEVEREST = 3  # an alert of this level is sent even during quiet hours


@dataclass(frozen=True)
class Announcement:
    """An alert of one region at the level to announce (the worst seen for its event)."""

    region: RegionSettings
    alert: WeatherAlert
    level: int
    event_key: str = ""  # the stored event it belongs to (a storm announced the day before); empty: its own

    @property
    def push_key(self) -> str:
        """The delivery key: one message per chat per region, event and worst level (an event
        that eases is not announced again; a chat that moves to another region gets its alerts)."""
        return f"{ALERT_KEY}{self.region.name}:{self.event_key or self.alert.key}:{self.level}"

    @property
    def urgent(self) -> bool:
        """Sent during quiet hours too: only the severest."""
        return self.level >= SEVEREST

    def current(self, now: datetime) -> bool:
        """Whether it still lies ahead (its day is today or later, locally)."""
        return (self.alert.end_day or self.alert.day) >= now.astimezone(self.region.tz).date()

    def describe(self, language: str, region: str, today: date) -> str:
        """The message for a reader of ``language`` (plain text)."""
        return describe_alert(self.alert, language, region, today=today)

    def recipients(self, subscriptions: Subscriptions, db: Database, after: int, limit: int) -> list[Subscriber]:
        """The region's ``/alerts on`` chats that have not had it (a page by id)."""
        return subscriptions.alert_recipients(self.region.name, self.push_key, after, limit)


Alert = Announcement | WarningAnnouncement  # what the push engine sends as a weather alert


class WeatherAlerts:
    """Finds the alerts of every region; safe to call from the event loop."""

    def __init__(self, settings: Settings, db: Database, weather: WeatherService) -> None:
        self.settings = settings
        self.db = db
        self.weather = weather

    async def current(self, now: datetime) -> list[Alert]:
        """Every region's official warnings in force (or lately lifted), then its alerts for today
        and tomorrow (local) as they stand now, each with the worst level its event has reached
        (the regions' forecasts are asked for at once)."""
        official = await self.weather.warnings.announcements(now)
        found = await asyncio.gather(*(self._region(region, now, official) for region in self.settings.all_regions()))
        return [*official, *(announcement for announcements in found for announcement in announcements)]

    async def _region(self, region: RegionSettings, now: datetime, official: list[WarningAnnouncement]) -> list[Announcement]:
        report = await self.weather.report(now, region.name)
        today = now.astimezone(region.tz).date()
        alerts = forecast_alerts(report.forecast, today, self.settings.alerts.temperature_drop) if report.forecast else []
        covered = {
            guess
            for announcement in official
            if announcement.region.name == region.name  # lifted too: the service has had its say on those days
            for guess in guessed_kinds(announcement.chain.shown, region.tz)
        }
        alerts = [alert for alert in alerts if not _covered(alert, covered)]
        alerts += await asyncio.to_thread(self._signals, region, now)
        strongest: dict[str, WeatherAlert] = {}
        for alert in alerts:
            if alert.day >= today and alert.level > getattr(strongest.get(alert.key), "level", 0):
                strongest[alert.key] = alert
        events = await asyncio.to_thread(self._record, region.name, list(strongest.values()), now)
        return [Announcement(region, alert, *events[key]) for key, alert in strongest.items()]

    def _signals(self, region: RegionSettings, now: datetime) -> list[WeatherAlert]:
        """Warning signals in the region's articles of the last day that name the region (a
        province's or another town's signal, reposted, is not this town's)."""
        query = select(Article.text, Article.search_text, Article.published_at, Article.fetched_at).where(
            Article.fetched_at >= now - SIGNAL_HORIZON, Article.text != "", run_by(self.settings.region_sources(region.name))
        )
        place = search_form(_PLACE_SUFFIX.sub("", region.name) or region.name)
        with self.db.session() as session:
            rows = session.execute(query).all()
        return [
            alert
            for text, form, published, fetched in rows
            if form and mentions(form, place)
            for alert in signal_alerts(text, (published or fetched).astimezone(region.tz).date())
        ]

    def _record(self, region: str, alerts: list[WeatherAlert], now: datetime) -> dict[str, tuple[int, str]]:
        """Store each event's worst level; returns it and the stored event's key per alert key (an
        alert of the day a stored event of its kind reaches into is that event: one storm, one alert)."""
        try:
            return self._store_levels(region, alerts, now)
        except IntegrityError:  # another process stored the same new event first
            return self._store_levels(region, alerts, now)

    def _store_levels(self, region: str, alerts: list[WeatherAlert], now: datetime) -> dict[str, tuple[int, str]]:
        keys = {key for alert in alerts for key in (alert.key, _day_before_key(alert))}
        with self.db.session() as session:
            stored = {
                row.event_key: row
                for row in session.scalars(
                    select(WeatherEvent).where(WeatherEvent.region == region, WeatherEvent.event_key.in_(keys))
                )
            }
            found = {}
            for alert in alerts:
                row = stored.get(alert.key)
                before = stored.get(_day_before_key(alert))
                if row is None and before is not None and (before.until or "") >= alert.day.isoformat():
                    row = before  # the storm of last night, still going
                if row is None:
                    row = stored[alert.key] = WeatherEvent(region=region, event_key=alert.key, level=alert.level, created_at=now)
                    session.add(row)
                row.level = max(row.level, alert.level)
                if alert.end_day and alert.end_day.isoformat() > (row.until or ""):
                    row.until = alert.end_day.isoformat()
                found[alert.key] = (row.level, row.event_key)
            return found


def _day_before_key(alert: WeatherAlert) -> str:
    """The key the same kind of event would have had, had it begun the day before."""
    return alert.key.replace(alert.day.isoformat(), (alert.day - timedelta(days=1)).isoformat(), 1)


def _covered(alert: WeatherAlert, covered: set[tuple[str, date]]) -> bool:
    """Whether an official warning stands for the alert on one of its days."""
    day, last = alert.day, alert.end_day or alert.day
    while day <= last:
        if (alert.kind, day) in covered:
            return True
        day += timedelta(days=1)
    return False
