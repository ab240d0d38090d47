"""Typed settings: an optional TOML file, then ``NEWSBOT_<SECTION>_<KEY>`` environment overrides.

Every key is optional. With no file the embedded defaults apply: SQLite in the working
directory, the bundled demo sources (local files, so it runs offline), the Liangping region.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEMO_DIR = Path(__file__).parent / "demo"
ENV_PREFIX = "NEWSBOT_"
# NEWSBOT_* variables that are not settings: the config file, and the test suite's PostgreSQL
NON_SETTING_VARIABLES = frozenset({f"{ENV_PREFIX}CONFIG", f"{ENV_PREFIX}TEST_POSTGRES_URL", f"{ENV_PREFIX}REQUIRE_REAL_MODEL"})
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token
HOST_NAME = re.compile(r"[\w-]{1,63}(\.[\w-]{1,63})*")  # [fetch] allow_hosts entries that are not IP addresses
# full-width digits and colon (Chinese input methods) read as ASCII; other digit forms are refused
_FULLWIDTH = str.maketrans("０１２３４５６７８９：", "0123456789:")


class ConfigError(ValueError):
    """Invalid configuration; the message names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TelegramSettings(_Section):
    token: str = Field("", description="the bot token from @BotFather (better: the variable)")
    api_base_url: str = Field("https://api.telegram.org/bot", description="a self-hosted Bot API server (PTB base_url)")
    admins: list[int] = Field(default_factory=list, description="user ids allowed /stats, /fetch and /source")
    webhook_url: str = Field("", description="public HTTPS URL: webhook mode instead of long polling")
    webhook_listen: str = Field("127.0.0.1", description="behind a reverse proxy; 0.0.0.0 to be reached directly")
    webhook_port: int = Field(8443, ge=1, le=65535, description="port the webhook listens on")
    webhook_secret: str = Field("", description="empty: one is generated and kept in the database")
    broadcast_per_second: float = Field(25.0, gt=0, description="pace of pushes, below Telegram's ~30/s")

    @field_validator("webhook_secret")
    @classmethod
    def _valid_secret(cls, value: str) -> str:
        if value and not WEBHOOK_SECRET.fullmatch(value):
            raise ValueError(
                "Telegram accepts 1 to 256 characters A-Z, a-z, 0-9, _ and - only (leave it empty to have one generated)"
            )
        return value


class DatabaseSettings(_Section):
    url: str = Field(
        "sqlite:///newsbot.db",
        description="SQLAlchemy URL: SQLite (a relative path lies beside the config file) or postgresql+psycopg://…",
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        check_database_url(value)
        return value


class StorageSettings(_Section):
    keep_days: int = Field(60, ge=1, description="deliveries, forecasts and old article bodies are pruned after this")


class RegionSettings(_Section):
    """A town the bot serves: ``[region]``, or each ``[[regions]]`` entry (with its ``sources``)."""

    name: str = Field("梁平區", min_length=1, description="the town, as readers know it")
    timezone: str = Field("Asia/Shanghai", description="IANA time zone of push times and dates")
    language: Literal["zh-Hant", "zh-Hans", "en"] = Field("zh-Hant", description="default language of chats and menus")
    latitude: float = Field(30.67, ge=-90, le=90, description="where the forecast is for")
    longitude: float = Field(107.80, ge=-180, le=180, description="where the forecast is for")
    sources: list[str] = Field(default_factory=list, description="[[regions]]: names of the sources that belong to it")
    warning_geocodes: list[str] = Field(
        default_factory=list,
        description="official warnings whose area has one of these geocodes reach this region too (a CAP geocode "
        "value, or valueName:value, e.g. 'EMMA_ID:DE413'), besides those whose polygon or circle holds its coordinates",
    )

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
    provider: Literal["open-meteo", "sample", "none"] = Field(
        "open-meteo", description="sample: the forecast shipped for the offline demo (the embedded defaults' choice)"
    )
    api_base_url: str = Field("https://api.open-meteo.com/v1", description="Open-Meteo API root (a mirror or a self-hosted one)")
    cache_minutes: int = Field(60, ge=0, description="a stored forecast younger than this is reused")
    max_stale_hours: int = Field(24, ge=1, description="when the provider fails, stored forecasts up to this age are used")
    forecast_days: int = Field(3, ge=2, le=16, description="days asked of the provider")
    timeout_seconds: float = Field(10.0, gt=0, description="deadline for one provider request")
    max_retries: int = Field(2, ge=0, le=10, description="more attempts after a transient provider failure")
    chart: bool = Field(
        True,
        description="send the next 48 hours as a chart picture with the weather (each chat chooses in /settings: "
        "on by default in private chats, off in groups and channels); false: text only for everyone",
    )


class DigestSettings(_Section):
    default_time: str = Field("07:30", description="HH:MM of a new subscriber's daily digest")
    max_items: int = Field(8, ge=1, le=50, description="stories in a digest at most")
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


class ChannelSettings(_Section):
    """A channel or group where the bot posts the daily digest (it must be allowed to post there)."""

    chat_id: int = Field(description="the channel or group (add the bot as an admin who may post)")
    region: str = Field("", description="a region's name; empty: the first region")
    time: str = Field("07:00", description="HH:MM of its daily digest")
    language: Literal["zh-Hant", "zh-Hans", "en", ""] = Field("", description="empty: the region's language")

    @field_validator("time")
    @classmethod
    def _valid_time(cls, value: str) -> str:
        return f"{parse_hhmm(value):%H:%M}"


class AlertSettings(_Section):
    temperature_drop: float = Field(8.0, gt=0, description="°C: a day's high this far below the day before's is an alert")


class WarningSourceSettings(_Section):
    """An official weather warnings feed (``[[warnings]]``): CAP 1.2, or the Hong Kong Observatory's JSON."""

    kind: Literal["cap", "hko"] = Field(description="cap: a CAP 1.2 document or an Atom/RSS index of them; hko: HKO open data")
    url: str = Field(
        "",
        validate_default=True,
        description="cap: the index or document URL; hko: the weather.php endpoint "
        "(empty: https://data.weather.gov.hk/weatherAPI/opendata/weather.php)",
    )
    name: str = Field("", description="shown in logs (empty: the URL's host)")
    regions: list[str] = Field(default_factory=list, description="only these regions (empty: every region its areas cover)")
    interval_minutes: int = Field(5, ge=1, description="minutes between two reads of the feed")
    max_documents: int = Field(100, ge=1, le=1000, description="CAP documents fetched per read at most (the rest next time)")

    @field_validator("url")
    @classmethod
    def _needs_url(cls, value: str, info) -> str:
        if info.data.get("kind") == "cap" and not value:
            raise ValueError("a cap feed needs the URL of its index or document")
        return value


class FollowSettings(_Section):
    max_per_chat: int = Field(20, ge=1, le=200, description="keywords one chat may follow")


class StatusSettings(_Section):
    listen: str = Field(
        "",
        description="HOST:PORT of the status page (/) and Prometheus metrics (/metrics) of this process; empty: none "
        "(several processes on one host: one port each, e.g. NEWSBOT_STATUS_LISTEN)",
    )
    token: str = Field(
        "",
        validate_default=True,
        description="required when listen is not on loopback: asked as 'Authorization: Bearer TOKEN' or ?token=TOKEN",
    )
    refresh_seconds: int = Field(15, ge=1, le=3600, description="the numbers read from the database are this old at most")
    source_down_hours: float = Field(6.0, gt=0, description="admins are told when a source has failed for this long")
    fallback_share: float = Field(
        0.5, gt=0, le=1, description="admins are told when more than this share of a profile's last 50 summaries fell back"
    )
    delivery_failure_share: float = Field(
        0.2, gt=0, le=1, description="admins are told when more than this share of the last hour's pushes failed (20 or more)"
    )

    @field_validator("listen")
    @classmethod
    def _valid_listen(cls, value: str) -> str:
        if value:
            parse_listen(value)
        return value

    @field_validator("token")
    @classmethod
    def _token_beyond_loopback(cls, value: str, info) -> str:
        listen = info.data.get("listen")
        if listen and not value and not _is_loopback(parse_listen(listen)[0]):
            raise ValueError(f"required: listen = {listen!r} is reachable beyond this machine (or listen on 127.0.0.1)")
        return value


class SearchSettings(_Section):
    window_days: int = Field(30, ge=1, le=365, description="/search looks this far back")
    max_results: int = Field(8, ge=1, le=20, description="stories a /search answers with at most")


class TelegraphSettings(_Section):
    enabled: bool = Field(
        True, description='"Full text" opens the story as a Telegraph page (Instant View); false: the text in the chat'
    )
    api_base_url: str = Field("https://api.telegra.ph", description="Telegraph API root (a test fake)")
    author_name: str = Field("", description="the Telegraph account's name (empty: the region's); pages name their source")
    timeout_seconds: float = Field(8.0, gt=0, description="deadline for one Telegraph request")
    max_retries: int = Field(1, ge=0, le=10, description="more attempts after a transient Telegraph failure")


class SummarizerSettings(_Section):
    models_file: str = Field("models.yaml", description="profiles and routing (relative to the config file)")
    profile: str = Field("", description="one profile for every language (empty: models.yaml routing)")


class FetchSettings(_Section):
    user_agent: str = Field(
        "newsbot/0.1 (+https://github.com/newsbot/newsbot; local news digest)",
        description="sent with every request; name a contact",
    )
    timeout_seconds: float = Field(20.0, gt=0, description="deadline for one whole request, body included")
    connect_timeout_seconds: float = Field(10.0, gt=0, description="deadline for opening the connection")
    source_budget_seconds: float = Field(300.0, gt=0, description="one source's pass (listing and pages) is cut off after this")
    min_delay_seconds: float = Field(1.0, ge=0, description="between two requests to one host")
    max_retries: int = Field(3, ge=0, le=10, description="feeds and listings: more attempts after a transient failure")
    max_bytes: int = Field(5_000_000, ge=10_000, description="larger answers (counted as they inflate) are refused")
    respect_robots: bool = Field(True, description="honour robots.txt (RFC 9309)")
    group_window_hours: int = Field(72, ge=1, description="near-duplicate stories are grouped within this window")
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="hosts that links and redirects may reach although they are on loopback, private or "
        "link-local addresses (a source's own host always may)",
    )

    @field_validator("allow_hosts")
    @classmethod
    def _valid_hosts(cls, value: list[str]) -> list[str]:
        hosts = [entry.strip().lower().removeprefix("[").removesuffix("]") for entry in value]
        for entry, host in zip(value, hosts):
            if not (HOST_NAME.fullmatch(host) or _is_ip_address(host)):
                raise ValueError(
                    f"{entry!r} is not a host name or IP address (e.g. 'intranet.example' or '10.0.0.5': no scheme, port or path)"
                )
        return hosts


class SourceSettings(_Section):
    name: str = Field(min_length=1, description="shown under each story; unique")
    kind: str = Field(description="rss, page or files (bot/ingest/kinds.py)")
    url: str = Field(min_length=1, description="feed URL, listing page URL, or path/glob for files")
    interval_minutes: int = Field(15, ge=1, description="minutes between passes (doubling after failures, up to a day)")
    link_pattern: str | None = Field(None, description="page sources: regex that article URLs match")
    max_articles: int = Field(30, ge=1, description="articles fetched per pass at most")
    language: str | None = Field(None, description="language hint when a page does not say")
    enabled: bool = Field(True, description="false: kept, not fetched")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        from bot.ingest.kinds import KINDS  # the registry imports the ingestion code, which imports this module

        if value not in KINDS:
            raise ValueError(f"unknown source kind {value!r} (known: {', '.join(KINDS)})")
        return value

    @field_validator("link_pattern")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


class CatalogSettings(_Section):
    managed_in: Literal["database", "config"] = Field(
        "database",
        description="database: [[sources]] are applied at start and /source and `newsbot sources` edit the "
        "catalog live; config: the file alone says which sources there are (chat and CLI edits refused)",
    )


def _demo_sources() -> list[SourceSettings]:
    return [
        SourceSettings(name="梁平區融媒體中心 (demo)", kind="files", url=str(DEMO_DIR / "liangping" / "*.html")),
        SourceSettings(name="重庆日报 (demo)", kind="files", url=str(DEMO_DIR / "chongqing" / "*.html"), language="zh-Hans"),
        SourceSettings(
            name="Chongqing Daily English (demo)", kind="files", url=str(DEMO_DIR / "english" / "*.html"), language="en"
        ),
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
    storage: StorageSettings = Field(default_factory=StorageSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    follows: FollowSettings = Field(default_factory=FollowSettings)
    status: StatusSettings = Field(default_factory=StatusSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    telegraph: TelegraphSettings = Field(default_factory=TelegraphSettings)
    sources: list[SourceSettings] = Field(default_factory=_demo_sources)
    regions: list[RegionSettings] = Field(default_factory=list, description="several towns in one bot; the first is the default")
    channels: list[ChannelSettings] = Field(default_factory=list)
    warnings: list[WarningSourceSettings] = Field(default_factory=list, description="official weather warnings feeds")
    source_file: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """``[[regions]]`` replace ``[region]`` (the first is the default); names must resolve."""
        if self.regions:
            names = [r.name for r in self.regions]
            if duplicate := next((n for n in names if names.count(n) > 1), None):
                raise ValueError(f"regions: the name {duplicate!r} is used twice")
            known = {s.name for s in self.sources}
            for index, region in enumerate(self.regions):
                if unknown := [name for name in region.sources if name not in known]:
                    raise ValueError(f"regions.{index}.sources: no [[sources]] entry named {unknown[0]!r}")
            if "region" in self.model_fields_set:
                raise ValueError("region: use either [region] or [[regions]], not both")
            object.__setattr__(self, "region", self.regions[0])
        for index, feed in enumerate(self.warnings):
            if unknown := [name for name in feed.regions if name not in self.region_names()]:
                raise ValueError(
                    f"warnings.{index}.regions: no region named {unknown[0]!r} (known: {', '.join(self.region_names())})"
                )
        for index, channel in enumerate(self.channels):
            if channel.region and channel.region not in self.region_names():
                raise ValueError(
                    f"channels.{index}.region: no region named {channel.region!r} (known: {', '.join(self.region_names())})"
                )
        return self

    def all_regions(self) -> list[RegionSettings]:
        """Every region the bot serves, the default first."""
        return self.regions or [self.region]

    def region_names(self) -> list[str]:
        return [r.name for r in self.all_regions()]

    def region_for(self, name: str | None) -> RegionSettings:
        """The region called ``name``; the default one for None or a name no longer configured."""
        return next((r for r in self.all_regions() if r.name == name), self.region)

    def region_sources(self, name: str | None) -> RegionSources | None:
        """Names of the sources whose stories readers of region ``name`` get; None: every source
        (one region). A source that no region lists belongs to every region (one added live too)."""
        if len(self.all_regions()) < 2:
            return None
        listed = {source for region in self.regions for source in region.sources}
        shared = {s.name for s in self.sources if s.name not in listed}
        return RegionSources(set(self.region_for(name).sources) | shared, listed)

    def resolve_path(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder (else the working dir)."""
        path = Path(value).expanduser()
        if not path.is_absolute() and self.source_file is not None:
            path = self.source_file.parent / path
        return path


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9464`` for IPv6; port 0: any free one) as (host, port); ValueError otherwise."""
    host, colon, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{value!r} is not HOST:PORT (e.g. '127.0.0.1:9464')")
    return host, int(port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RegionSources(frozenset[str]):
    """A region's source names (its own and the file's unlisted ones); ``listed`` holds every name
    some region lists, so that a source listed nowhere (one added to the catalog live) belongs to
    every region too: test membership with :meth:`includes`."""

    listed: frozenset[str]

    def __new__(cls, names: set[str], listed: set[str]) -> RegionSources:
        self = super().__new__(cls, names)
        self.listed = frozenset(listed)
        return self

    def includes(self, name: str) -> bool:
        """Whether the region's readers get the stories of the source called ``name``."""
        return name in self or name not in self.listed


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def to_ascii_digits(value: str) -> str:
    """Full-width digits and colon (as Chinese input methods type them) in ASCII; nothing else changes."""
    return value.translate(_FULLWIDTH)


def parse_hhmm(value: str) -> time:
    """Parse ``HH:MM`` (24-hour; full-width digits too); ValueError with a readable reason otherwise."""
    match = re.fullmatch(r"\s*([0-9]{1,2}):([0-9]{2})\s*", to_ascii_digits(value))
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (00:00 to 23:59)")
    return time(int(match[1]), int(match[2]))


def parse_window(value: str) -> tuple[time, time]:
    """Parse ``HH:MM-HH:MM`` (may wrap past midnight)."""
    start, sep, end = value.replace("–", "-").partition("-")
    if not sep:
        raise ValueError(f"{value!r} is not a window as HH:MM-HH:MM")
    return parse_hhmm(start), parse_hhmm(end)


def check_database_url(value: str) -> None:
    """ValueError unless ``value`` is a SQLAlchemy URL whose dialect and driver are installed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    example = "e.g. 'sqlite:///newsbot.db' or 'postgresql+psycopg://user:password@host/db'"
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(f"not a database URL ({example})") from None
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise ValueError(f"unknown database kind {url.drivername!r} ({example})") from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        hint = (
            " (for PostgreSQL use 'postgresql+psycopg://...' and pip install 'newsbot[postgres]')"
            if url.get_backend_name() == "postgresql"
            else ""
        )
        raise ValueError(f"the database driver for {url.drivername!r} is not installed: {exc}{hint}") from None


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
    else:  # the embedded defaults: the demo sources, and the sample forecast shipped beside them
        data["weather"] = {"provider": "sample"}
    from_environment = _apply_environment(data, environ)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, where, from_environment)) from None
    settings.source_file = Path(path).resolve() if path else None
    if settings.source_file is not None and "database.url" not in from_environment:
        settings.database.url = _beside(settings.database.url, settings.source_file.parent)
    return settings


def _beside(url: str, folder: Path) -> str:
    """A SQLite URL with a relative path made relative to ``folder`` (the config file's), as
    every other path in the file is; other URLs as they are."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return url
    path = Path(database).expanduser()
    return url if path.is_absolute() else parsed.set(database=str(folder / path)).render_as_string(hide_password=False)


def _setting_variables() -> dict[str, tuple[str, str]]:
    """Every ``NEWSBOT_<SECTION>_<KEY>`` variable and the (section, key) it sets."""
    names = {}
    for section, model in Settings.model_fields.items():
        annotation = model.annotation
        if isinstance(annotation, type) and issubclass(annotation, _Section):
            for key in annotation.model_fields:
                names[f"{ENV_PREFIX}{section}_{key}".upper()] = (section, key)
    return names


def environment_warnings(environ: Mapping[str, str] | None = None) -> list[str]:
    """One line per ``NEWSBOT_*`` variable that sets nothing (a misspelling?), with the closest known name."""
    environ = os.environ if environ is None else environ
    known = {name.removeprefix(ENV_PREFIX) for name in _setting_variables().keys() | NON_SETTING_VARIABLES}
    lines = []
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name.removeprefix(ENV_PREFIX) not in known:
            close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), sorted(known), n=1, cutoff=0.6)
            hint = f"did you mean {ENV_PREFIX}{close[0]}?" if close else "see docs/configuration.md for the names"
            lines.append(f"{name} is not a setting and is ignored ({hint})")
    return lines


def _apply_environment(data: dict, environ: Mapping[str, str]) -> dict[str, str]:
    """``NEWSBOT_TELEGRAM_TOKEN=x`` sets ``[telegram] token``; lists take comma-separated values.

    Returns the variable behind each key it set (``{"telegram.token": "NEWSBOT_TELEGRAM_TOKEN"}``).
    """
    used = {}
    for name, (section, key) in _setting_variables().items():
        value = environ.get(name)
        target = data.setdefault(section, {}) if value is not None else None
        if value is None or not isinstance(target, dict):
            continue
        model = Settings.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, _Section)  # as _setting_variables found it
        field = model.model_fields[key]
        target[key] = [v.strip() for v in value.split(",") if v.strip()] if "list" in str(field.annotation) else value
        used[f"{section}.{key}"] = name
    return used


def _keys_beside(loc: tuple) -> list[str]:
    """The keys the settings model knows where ``loc`` (a misspelled key's path) points."""
    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # an item of a list of sections ([[sources]])
        annotation = model.model_fields[str(part)].annotation if str(part) in model.model_fields else None
        inner = next(
            (a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type) and issubclass(a, BaseModel)), None
        )
        if inner is None:
            return []
        model = inner
    return sorted(model.model_fields)


def _describe(exc: ValidationError, where: str, from_environment: Mapping[str, str]) -> str:
    """One line per error: where the value came from (file, variable or defaults), the key, the reason."""
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"] and ": " in message:  # a check across sections names its key first
            key, message = message.split(": ", 1)
        if error["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(error["loc"][-1]), _keys_beside(error["loc"]), n=1, cutoff=0.6)
            message = (
                f"unknown key: did you mean '{close[0]}'?"
                if close
                else "unknown key (check the spelling; see docs/configuration.md)"
            )
        origin = from_environment.get(".".join(str(part) for part in error["loc"][:2]), where)
        lines.append(f"{origin}: key '{key}': {message}")
    return "\n".join(lines)
