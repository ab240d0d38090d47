"""Weather alerts per region: bad weather in the coming day's forecast and warning signals
in the region's news, each event announced once, and again only when it worsens."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.config import RegionSettings, Settings
from bot.matching import mentions
from bot.storage import Article, Database, WeatherEvent
from bot.storage.models import run_by
from bot.weather_service import WeatherService
from summarizer.text import search_form
from summarizer.weather.alerts import WeatherAlert, forecast_alerts, signal_alerts

SIGNAL_HORIZON = timedelta(hours=24)  # news older than this no longer raises an alert
_PLACE_SUFFIX = re.compile(r"(?<=..)[區区縣县市鎮镇鄉乡]$|\s+(district|county|city|town)$", re.I)  # 梁平區 → 梁平
ALERT_KEY = "alert:"


@dataclass(frozen=True)
class Announcement:
    """An alert of one region at the level to announce (the worst seen for its event)."""

    region: RegionSettings
    alert: WeatherAlert
    level: int

    @property
    def push_key(self) -> str:
        """The delivery key: one message per chat per region, event and worst level (an event
        that eases is not announced again; a chat that moves to another region gets its alerts)."""
        return f"{ALERT_KEY}{self.region.name}:{self.alert.key}:{self.level}"


class WeatherAlerts:
    """Finds the alerts of every region; safe to call from the event loop."""

    def __init__(self, settings: Settings, db: Database, weather: WeatherService) -> None:
        self.settings = settings
        self.db = db
        self.weather = weather

    async def current(self, now: datetime) -> list[Announcement]:
        """Every region's alerts for today and tomorrow (local), as they stand now, each with the
        worst level its event has reached (the regions' forecasts are asked for at once)."""
        found = await asyncio.gather(*(self._region(region, now) for region in self.settings.all_regions()))
        return [announcement for announcements in found for announcement in announcements]

    async def _region(self, region: RegionSettings, now: datetime) -> list[Announcement]:
        report = await self.weather.report(now, region.name)
        today = now.astimezone(region.tz).date()
        alerts = forecast_alerts(report.forecast, today, self.settings.alerts.temperature_drop) if report.forecast else []
        alerts += await asyncio.to_thread(self._signals, region, now)
        strongest: dict[str, WeatherAlert] = {}
        for alert in alerts:
            if alert.day >= today and alert.level > getattr(strongest.get(alert.key), "level", 0):
                strongest[alert.key] = alert
        levels = await asyncio.to_thread(self._record, region.name, list(strongest.values()), now)
        return [Announcement(region, alert, levels[key]) for key, alert in strongest.items()]

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

    def _record(self, region: str, alerts: list[WeatherAlert], now: datetime) -> dict[str, int]:
        """Store each event's worst level; returns it per event key."""
        try:
            return self._store_levels(region, alerts, now)
        except IntegrityError:  # another process stored the same new event first
            return self._store_levels(region, alerts, now)

    def _store_levels(self, region: str, alerts: list[WeatherAlert], now: datetime) -> dict[str, int]:
        with self.db.session() as session:
            stored = {
                row.event_key: row
                for row in session.scalars(
                    select(WeatherEvent).where(WeatherEvent.region == region, WeatherEvent.event_key.in_([a.key for a in alerts]))
                )
            }
            for alert in alerts:
                row = stored.get(alert.key)
                if row is None:
                    row = stored[alert.key] = WeatherEvent(region=region, event_key=alert.key, level=alert.level, created_at=now)
                    session.add(row)
                row.level = max(row.level, alert.level)
            return {key: row.level for key, row in stored.items()}
