"""The region's weather: Open-Meteo forecasts, cached in the database, with fallbacks.

Order of preference: a fresh forecast (stored and reused for ``weather.cache_minutes``);
when the provider fails, the last stored forecast up to ``weather.max_stale_hours`` old
(saying when it is from); else the newest bulletin parsed from local news while it is still
valid (see :meth:`summarizer.weather.bulletins.Bulletin.valid_until`); else one clear "weather
unavailable" line, naming the day the last, expired, bulletin was issued. A valid bulletin
younger than a day is shown beside a forecast too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from bot.config import DEMO_DIR, FetchSettings, RegionSettings, Settings
from bot.ingest.http import FetchError, PoliteClient, host_of
from bot.storage import Bulletin, Database, ForecastRecord
from bot.storage.models import run_by, utcnow
from bot.texts import LANGUAGES, t
from bot.warnings_service import WarningsService, warning_json, warning_lines
from summarizer.text import convert_script, is_chinese
from summarizer.weather.bulletins import Bulletin as BulletinData
from summarizer.weather.bulletins import Period, describe_bulletin
from summarizer.weather.cap import OfficialWarning
from summarizer.weather.forecast import (
    OPEN_METEO_CREDIT,
    DayForecast,
    Forecast,
    HourForecast,
    beaufort,
    condition,
    describe_forecast,
    wind_phrase,
)

log = logging.getLogger(__name__)

PROVIDER = "open-meteo"
RECENT_BULLETIN = timedelta(days=1)
DAILY_FIELDS = (
    "weather_code",
    "temperature_2m_max",
    "temperature_2m_min",
    "precipitation_probability_max",
    "precipitation_sum",
    "wind_speed_10m_max",
    "wind_direction_10m_dominant",
    "sunrise",
    "sunset",
)
HOURLY_FIELDS = ("weather_code", "temperature_2m", "precipitation", "precipitation_probability")


class WeatherError(Exception):
    """The provider gave no usable forecast; the message says why in one line."""


class _Daily(BaseModel):
    time: list[date]
    weather_code: list[int | None]
    temperature_2m_max: list[float | None]
    temperature_2m_min: list[float | None]
    precipitation_probability_max: list[int | None] | None = None
    precipitation_sum: list[float | None] | None = None
    wind_speed_10m_max: list[float | None] | None = None
    wind_direction_10m_dominant: list[int | None] | None = None
    sunrise: list[str | None] | None = None
    sunset: list[str | None] | None = None


class _Hourly(BaseModel):
    time: list[datetime]
    weather_code: list[int | None]
    temperature_2m: list[float | None] | None = None
    precipitation: list[float | None] | None = None
    precipitation_probability: list[int | None] | None = None

    def hours(self) -> list[HourForecast]:
        """The hours with a temperature (what the chart draws); none when the provider sent no temperatures."""
        if self.temperature_2m is None:
            return []

        def column(values: list | None, index: int):
            return values[index] if values is not None and index < len(values) else None

        return [
            HourForecast(
                moment.replace(tzinfo=None),
                temperature,
                column(self.precipitation, i),
                column(self.precipitation_probability, i),
                column(self.weather_code, i),
            )
            for i, (moment, temperature) in enumerate(zip(self.time, self.temperature_2m))
            if temperature is not None
        ]


class _Payload(BaseModel):
    daily: _Daily
    hourly: _Hourly | None = None


def parse_open_meteo(payload: object, region: RegionSettings, fetched_at: datetime) -> Forecast:
    """A :class:`Forecast` for ``region`` from an Open-Meteo ``/forecast`` answer; WeatherError if malformed."""
    try:
        data = _Payload.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise WeatherError(f"Open-Meteo answer lacks usable {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    daily = data.daily
    day_codes: dict[date, list[int]] = defaultdict(list)
    night_codes: dict[date, list[int]] = defaultdict(list)
    if data.hourly:
        for moment, code in zip(data.hourly.time, data.hourly.weather_code):
            if code is None:
                continue
            if 8 <= moment.hour < 20:
                day_codes[moment.date()].append(code)
            else:  # the night of D runs from D 20:00 to D+1 08:00
                night_codes[moment.date() - timedelta(days=1 if moment.hour < 8 else 0)].append(code)

    def column(name: str, index: int):
        values = getattr(daily, name)
        return values[index] if values is not None and index < len(values) else None

    days = []
    for i, day in enumerate(daily.time):
        code, high, low = column("weather_code", i), column("temperature_2m_max", i), column("temperature_2m_min", i)
        if code is None or high is None or low is None:
            continue
        days.append(
            DayForecast(
                date=day,
                weather_code=code,
                low=low,
                high=high,
                precipitation_probability=column("precipitation_probability_max", i),
                precipitation_sum=column("precipitation_sum", i),
                wind_speed_max=column("wind_speed_10m_max", i),
                wind_direction=column("wind_direction_10m_dominant", i),
                sunrise=column("sunrise", i),
                sunset=column("sunset", i),
                day_codes=day_codes.get(day, []),
                night_codes=night_codes.get(day, []),
            )
        )
    if not days:
        raise WeatherError("Open-Meteo answer has no complete day")
    hours = data.hourly.hours() if data.hourly else []
    return Forecast(region.name, PROVIDER, region.latitude, region.longitude, region.timezone, fetched_at, days, hours)


@dataclass
class WeatherReport:
    """What is known about the weather now, and how to say it."""

    region: str
    provider: str
    forecast: Forecast | None
    stale: bool = False
    error: str | None = None
    bulletins: list[BulletinData] = field(default_factory=list)
    expired_bulletin: BulletinData | None = None  # the newest bulletin, past its validity: never shown as current
    warnings: list[OfficialWarning] = field(default_factory=list)  # official warnings in force, the severest first

    def text(self, language: str, now: datetime) -> str:
        """The weather message for a reader of ``language`` at ``now`` (aware, local): the
        official warnings in force first."""
        return "\n".join([*warning_lines(self.warnings, language, now.tzinfo), self._weather_text(language, now)])

    def _weather_text(self, language: str, now: datetime) -> str:
        lines = []
        if self.forecast is not None:
            body = describe_forecast(self.forecast, language, today=now.date(), evening=now.hour >= 18)
            region = convert_script(self.region, language) if is_chinese(language) else self.region
            lines.append(t("weather_head", language, region=region) + body)
            if self.stale:
                when = self.forecast.fetched_at.astimezone(now.tzinfo)
                lines.append(
                    t("weather_stale", language, month=when.month, month_name=f"{when:%b}", day=when.day, time=f"{when:%H:%M}")
                )
            if self.provider == "sample":
                lines.append(t("weather_sample", language))
            else:
                lines.append(OPEN_METEO_CREDIT[language if language in LANGUAGES else "en"])
        lines.extend(describe_bulletin(b, language) for b in self.bulletins)
        if lines:
            return "\n".join(lines)
        expired = self.expired_bulletin
        if expired is None and self.provider == "none":
            return t("weather_off", language)  # the operator turned the forecast off: nothing to retry
        if expired is None or expired.issued_at is None:
            return t("weather_unavailable", language)
        when = expired.issued_at
        return (
            t("weather_unavailable", language)
            + "\n"
            + t("weather_last_bulletin", language, year=when.year, month=when.month, month_name=f"{when:%B}", day=when.day)
        )

    def to_dict(self, language: str, now: datetime) -> dict:
        """The ``newsbot weather --json`` shape: structured days and bulletins, text per language."""
        days = []
        for day in self.forecast.days if self.forecast else []:
            days.append(
                {
                    "date": day.date.isoformat(),
                    "conditions": condition(day.weather_code, language),
                    "weather_code": day.weather_code,
                    "low": round(day.low),
                    "high": round(day.high),
                    "precipitation_probability": day.precipitation_probability,
                    "precipitation_sum": day.precipitation_sum,
                    "wind": {
                        "speed_kmh": day.wind_speed_max,
                        "direction_deg": day.wind_direction,
                        "beaufort": beaufort(day.wind_speed_max) if day.wind_speed_max is not None else None,
                        "text": wind_phrase(day.wind_speed_max, day.wind_direction, language),
                    },
                    "sunrise": day.sunrise,
                    "sunset": day.sunset,
                }
            )
        return {
            "region": self.region,
            "provider": self.provider,
            "fetched_at": self.forecast.fetched_at.isoformat() if self.forecast else None,
            "stale": self.stale,
            "error": self.error,
            "days": days,
            "bulletins": [_bulletin_dict(b) for b in self.bulletins],
            "expired_bulletin": _bulletin_dict(self.expired_bulletin) if self.expired_bulletin else None,
            "text": self.text(language, now),
            "texts": {lang: self.text(lang, now) for lang in LANGUAGES},
            "warnings": [warning_json(w, language) for w in self.warnings],
        }


class WeatherService:
    """Gets the report for a configured region; never raises for provider trouble."""

    def __init__(self, settings: Settings, db: Database, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.db = db
        self.transport = transport
        self._in_flight: dict[str, asyncio.Task[Forecast]] = {}  # region name -> its provider request now
        self.warnings = WarningsService(settings, db, transport)

    async def report(self, now: datetime | None = None, region: str | None = None) -> WeatherReport:
        """The current report for ``region`` (a name; None: the first region); ``now`` (aware)
        is injectable for tests and the scheduler."""
        now = now or utcnow()
        place = self.settings.region_for(region)
        weather = self.settings.weather
        forecast, stale, error = None, False, None
        if weather.provider == "sample":  # never stored: a real forecast later is never mistaken for it
            forecast = sample_forecast(now, place)
        elif weather.provider != "none":
            cached = await asyncio.to_thread(self._newest_stored, place)
            age = now - cached.fetched_at if cached else None
            if cached and age is not None and age <= timedelta(minutes=weather.cache_minutes):
                forecast = cached
            else:
                try:
                    forecast = await self._shared_fetch(now, place)
                except (WeatherError, FetchError) as exc:
                    error = str(exc)
                    log.info("weather provider failed: %s", error)
                    if cached and age is not None and age <= timedelta(hours=weather.max_stale_hours):
                        forecast, stale = cached, True
        bulletins, expired = await asyncio.to_thread(self._bulletins, now, forecast is not None, place)
        if forecast is None and not bulletins and expired is not None:
            stale = True  # all there is, is out of date
        warnings = await self.warnings.in_force(now, place)
        return WeatherReport(place.name, weather.provider, forecast, stale, error, bulletins, expired, warnings)

    def request_url(self, region: RegionSettings | None = None) -> str:
        """The Open-Meteo ``/forecast`` URL for ``region`` (default: the first region)."""
        region = region or self.settings.region
        query = {
            "latitude": region.latitude,
            "longitude": region.longitude,
            "timezone": region.timezone,
            "daily": ",".join(DAILY_FIELDS),
            "hourly": ",".join(HOURLY_FIELDS),
            "forecast_days": self.settings.weather.forecast_days,
            "wind_speed_unit": "kmh",
        }
        return f"{self.settings.weather.api_base_url.rstrip('/')}/forecast?{urlencode(query)}"

    async def _shared_fetch(self, now: datetime, region: RegionSettings) -> Forecast:
        """The region's forecast from the provider, stored; whoever asks while a request for the
        region is under way shares its outcome (many chats asking while the provider hangs or
        fails make one request, not one each)."""
        task = self._in_flight.get(region.name)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.ensure_future(self._fetch_and_store(now, region))
            self._in_flight[region.name] = task
            task.add_done_callback(
                lambda done: self._in_flight.pop(region.name, None) if self._in_flight.get(region.name) is done else None
            )
        else:
            log.debug("weather for %s: waiting for the provider request under way", region.name)
        return await asyncio.shield(task)  # one caller giving up does not cancel the others' request

    async def _fetch_and_store(self, now: datetime, region: RegionSettings) -> Forecast:
        forecast = await self._fetch(now, region)
        await asyncio.to_thread(self._store, forecast)
        return forecast

    async def _fetch(self, now: datetime, region: RegionSettings) -> Forecast:
        weather = self.settings.weather
        fetch = FetchSettings(
            user_agent=self.settings.fetch.user_agent,
            timeout_seconds=weather.timeout_seconds,
            max_retries=weather.max_retries,
            min_delay_seconds=0,
            max_bytes=2_000_000,
        )
        async with PoliteClient(fetch, self.transport, trusted_hosts=[host_of(weather.api_base_url)]) as client:
            try:
                response = await client.get(self.request_url(region), robots=False)
            except FetchError as exc:
                raise WeatherError(_provider_reason(exc)) from None
        try:
            payload = json.loads(response.content)
        except ValueError:
            raise WeatherError("Open-Meteo answered with malformed JSON") from None
        return parse_open_meteo(payload, region, now)

    # -- database work, run in worker threads ------------------------------------------

    def _newest_stored(self, region: RegionSettings) -> Forecast | None:
        with self.db.session() as session:
            record = session.scalars(
                select(ForecastRecord)
                .where(
                    ForecastRecord.provider == PROVIDER,
                    ForecastRecord.latitude == region.latitude,
                    ForecastRecord.longitude == region.longitude,
                )
                .order_by(ForecastRecord.fetched_at.desc())
                .limit(1)
            ).first()
            return Forecast.from_dict(record.data) if record else None

    def _store(self, forecast: Forecast) -> None:
        with self.db.session() as session:
            session.add(
                ForecastRecord(
                    provider=PROVIDER,
                    latitude=forecast.latitude,
                    longitude=forecast.longitude,
                    fetched_at=forecast.fetched_at,
                    data=forecast.to_dict(),
                )
            )

    def _bulletins(
        self, now: datetime, have_forecast: bool, region: RegionSettings
    ) -> tuple[list[BulletinData], BulletinData | None]:
        """The region's newest bulletin while valid (beside a forecast only in its first day), or else it as expired.

        An undated bulletin is read from its article's date; one with neither is never current.
        """
        tz = region.tz
        sources = self.settings.region_sources(region.name)
        query = select(Bulletin).order_by(Bulletin.issued_at.desc().nulls_last(), Bulletin.id.desc()).limit(1)
        if sources is not None:  # one region: every bulletin
            query = query.where(Bulletin.article.has(run_by(sources)))
        with self.db.session() as session:
            row = session.scalars(query).first()
            if row is None:
                return [], None
            issued = row.issued_at.astimezone(tz) if row.issued_at else None
            bulletin = BulletinData(row.issuer, issued, [Period(**p) for p in row.periods], row.text)
            stand_in = row.article.published_at or row.article.fetched_at
            valid_until = bulletin.valid_until(stand_in.astimezone(tz) if stand_in else None)
        if valid_until is None or now > valid_until:
            return [], bulletin
        if have_forecast and (issued is None or now - issued > RECENT_BULLETIN):
            return [], None
        return [bulletin], None


@cache
def _sample_payload() -> str:
    return (DEMO_DIR / "sample-forecast.json").read_text(encoding="utf-8")


def sample_forecast(now: datetime, region: RegionSettings) -> Forecast:
    """The forecast shipped for the offline demo (``bot/demo/sample-forecast.json``), its days
    moved to start on the region's today."""
    payload = json.loads(_sample_payload())
    first = date.fromisoformat(payload["daily"]["time"][0])
    shift = now.astimezone(region.tz).date() - first

    def moved(stamp: str) -> str:
        day, _, rest = stamp.partition("T")
        return (date.fromisoformat(day) + shift).isoformat() + (f"T{rest}" if rest else "")

    for block, keys in (("daily", ("time", "sunrise", "sunset")), ("hourly", ("time",))):
        for key in keys:
            payload[block][key] = [moved(stamp) for stamp in payload[block][key]]
    return parse_open_meteo(payload, region, now)


def _bulletin_dict(bulletin: BulletinData) -> dict:
    """A bulletin's JSON form plus ``valid_until``, when it stops being a forecast."""
    valid_until = bulletin.valid_until()
    return {**bulletin.to_dict(), "valid_until": valid_until.isoformat() if valid_until else None}


def _provider_reason(error: FetchError) -> str:
    """Open-Meteo explains a 400 in JSON (``{"error": true, "reason": ...}``): say that reason."""
    if error.status and error.body:
        try:
            reason = json.loads(error.body).get("reason")
        except (ValueError, AttributeError):
            reason = None
        if reason:
            return f"Open-Meteo refused the request (HTTP {error.status}): {reason}"
    return f"Open-Meteo unavailable: {error.reason}"
