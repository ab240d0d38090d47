"""Typed settings: an optional TOML file, then ``NEWSBOT_<SECTION>_<KEY>`` environment overrides.

Every key is optional. With no file the embedded defaults apply: SQLite in the working
directory, the bundled demo sources (local files, so it runs offline), the Liangping region.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEMO_DIR = Path(__file__).parent / "demo"
ENV_PREFIX = "NEWSBOT_"


class ConfigError(ValueError):
    """Invalid configuration; the message names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TelegramSettings(_Section):
    token: str = ""
    api_base_url: str = "https://api.telegram.org/bot"
    admins: list[int] = Field(default_factory=list)
    webhook_url: str = Field("", description="public HTTPS URL: webhook mode instead of long polling")
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_secret: str = ""
    broadcast_per_second: float = Field(25.0, gt=0, description="pace of pushes, below Telegram's ~30/s")


class DatabaseSettings(_Section):
    url: str = "sqlite:///newsbot.db"


class RegionSettings(_Section):
    name: str = "梁平區"
    timezone: str = "Asia/Shanghai"
    language: Literal["zh-Hant", "zh-Hans", "en"] = "zh-Hant"
    latitude: float = Field(30.67, ge=-90, le=90)
    longitude: float = Field(107.80, ge=-180, le=180)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r} (e.g. 'Asia/Shanghai')") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The region's timezone."""
        return ZoneInfo(self.timezone)


class WeatherSettings(_Section):
    provider: Literal["open-meteo", "none"] = "open-meteo"
    api_base_url: str = "https://api.open-meteo.com/v1"
    cache_minutes: int = Field(60, ge=0, description="a stored forecast younger than this is reused")
    max_stale_hours: int = Field(24, ge=1, description="when the provider fails, stored forecasts up to this age are used")
    forecast_days: int = Field(3, ge=2, le=16)
    timeout_seconds: float = Field(10.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)


class DigestSettings(_Section):
    default_time: str = "07:30"
    max_items: int = Field(8, ge=1, le=50)
    latest_items: int = Field(5, ge=1, le=20, description="/latest without a number")
    quiet_hours: str = Field("22:00-07:00", description="no instant news in this local window")

    @field_validator("default_time")
    @classmethod
    def _valid_time(cls, value: str) -> str:
        parse_hhmm(value)
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _valid_window(cls, value: str) -> str:
        parse_window(value)
        return value


class SummarizerSettings(_Section):
    models_file: str = "models.yaml"
    profile: str = ""


class FetchSettings(_Section):
    user_agent: str = "newsbot/0.1 (+https://github.com/newsbot/newsbot; local news digest)"
    timeout_seconds: float = Field(20.0, gt=0)
    min_delay_seconds: float = Field(1.0, ge=0, description="between two requests to one host")
    max_retries: int = Field(3, ge=0, le=10)
    max_bytes: int = Field(5_000_000, ge=10_000)
    respect_robots: bool = True
    group_window_hours: int = Field(72, ge=1, description="near-duplicate stories are grouped within this window")


class SourceSettings(_Section):
    name: str = Field(min_length=1)
    kind: Literal["rss", "page", "files"]
    url: str = Field(min_length=1, description="feed URL, listing page URL, or path/glob for files")
    interval_minutes: int = Field(15, ge=1)
    link_pattern: str | None = Field(None, description="page sources: regex that article URLs match")
    max_articles: int = Field(30, ge=1, description="articles fetched per pass at most")
    language: str | None = Field(None, description="language hint when a page does not say")
    enabled: bool = True

    @field_validator("link_pattern")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


def _demo_sources() -> list[SourceSettings]:
    return [
        SourceSettings(name="梁平區融媒體中心 (demo)", kind="files", url=str(DEMO_DIR / "liangping" / "*.html")),
        SourceSettings(name="重庆日报 (demo)", kind="files", url=str(DEMO_DIR / "chongqing" / "*.html"), language="zh-Hans"),
        SourceSettings(name="Chongqing Daily English (demo)", kind="files", url=str(DEMO_DIR / "english" / "*.html"), language="en"),
    ]


class Settings(_Section):
    """All settings; ``source_file`` is the TOML file they came from, if any."""

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    region: RegionSettings = Field(default_factory=RegionSettings)
    weather: WeatherSettings = Field(default_factory=WeatherSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    summarizer: SummarizerSettings = Field(default_factory=SummarizerSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    sources: list[SourceSettings] = Field(default_factory=_demo_sources)
    source_file: Path | None = Field(None, exclude=True)

    def resolve_path(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder (else the working dir)."""
        path = Path(value).expanduser()
        if not path.is_absolute() and self.source_file is not None:
            path = self.source_file.parent / path
        return path


def parse_hhmm(value: str) -> time:
    """Parse ``HH:MM`` (24-hour); ValueError with a readable reason otherwise."""
    match = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})\s*", value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (00:00 to 23:59)")
    return time(int(match[1]), int(match[2]))


def parse_window(value: str) -> tuple[time, time]:
    """Parse ``HH:MM-HH:MM`` (may wrap past midnight)."""
    start, sep, end = value.replace("–", "-").partition("-")
    if not sep:
        raise ValueError(f"{value!r} is not a window as HH:MM-HH:MM")
    return parse_hhmm(start), parse_hhmm(end)


def load_settings(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Load settings from ``path`` (or ``$NEWSBOT_CONFIG``), then apply environment overrides."""
    environ = dict(os.environ if environ is None else environ)
    path = path or environ.get(f"{ENV_PREFIX}CONFIG") or None
    data: dict = {}
    where = "embedded defaults"
    if path:
        file = Path(path)
        where = str(file)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{file}: config file not found") from None
        except OSError as exc:
            raise ConfigError(f"{file}: cannot read: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        data.setdefault("sources", [])  # the demo sources are for running without a config file only
    _apply_environment(data, environ)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, where)) from None
    settings.source_file = Path(path).resolve() if path else None
    return settings


def _apply_environment(data: dict, environ: dict[str, str]) -> None:
    """``NEWSBOT_TELEGRAM_TOKEN=x`` sets ``[telegram] token``; lists take comma-separated values."""
    for section, model in Settings.model_fields.items():
        annotation = model.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, _Section)):
            continue
        for key, field in annotation.model_fields.items():
            value = environ.get(f"{ENV_PREFIX}{section}_{key}".upper())
            if value is None:
                continue
            target = data.setdefault(section, {})
            if not isinstance(target, dict):
                continue
            target[key] = [v.strip() for v in value.split(",") if v.strip()] if "list" in str(field.annotation) else value


def _describe(exc: ValidationError, where: str) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see README 'Configuration')"
        lines.append(f"{where}: key '{key}': {message}")
    return "\n".join(lines)
