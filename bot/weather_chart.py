"""The next 48 hours of the forecast as a picture: a PNG sent with the weather text.

Temperature as a line (each day's high and low marked), precipitation as bars with its
probability as a line, nights shaded from sunset to sunrise, and the conditions of each
period (08–20 and 20–08, as the text words them) along the top; labels in the reader's
language. Drawn with matplotlib's Agg renderer (no display) in a worker thread, one drawing at
a time. Chinese glyphs come from Noto Sans CJK, installed with the ``noto-cjk-sans-otc``
package (SIL Open Font License): its SC face for zh-Hans, TC for zh-Hant; English is drawn in
DejaVu Sans (matplotlib's own) with the CJK face as the fallback for Chinese place names.

:class:`Charts` renders each chart once per region, language, hour and forecast numbers, keeps
the newest few, and answers None (send the text alone) when there is nothing to draw or drawing
failed.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections import OrderedDict
from dataclasses import astuple
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.storage import Subscriber
from bot.texts import name_for_reader, t
from bot.weather_service import WeatherReport
from summarizer.text import ZH_HANS, ZH_HANT
from summarizer.weather.forecast import OPEN_METEO_CREDIT, Forecast, HourForecast, condition

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

HOURS = 48  # the window drawn, from the current hour
MIN_HOURS = 12  # fewer forecast hours than this ahead (an old stored forecast): no chart
WIDTH, HEIGHT, DPI = 1000, 600, 100  # pixels of the PNG
COLORS = 96  # the PNG's palette: a few dozen colours keep it small without visible banding
MAX_CHARTS = 32  # rendered charts kept (a few regions × three languages × the current hour)
FAMILIES = {ZH_HANS: "Noto Sans CJK SC", ZH_HANT: "Noto Sans CJK TC", "en": "DejaVu Sans"}
TEMPERATURE, RAIN, CHANCE, NIGHT, INK, FAINT = "#d0543c", "#3d7cc9", "#1f4e8c", "#e6ebf3", "#333333", "#8a8a8a"
_DRAWING = threading.Lock()  # matplotlib's font cache is not thread-safe: one drawing at a time


def chart_wanted(subscriber: Subscriber) -> bool:
    """Whether the chat gets the chart: its own choice, else on in private chats and off in groups and channels."""
    return subscriber.chart if subscriber.chart is not None else subscriber.chat_type == "private"


@cache
def cjk_font_file() -> Path:
    """The Noto Sans CJK collection, registered with matplotlib (once)."""
    import noto_cjk_sans_otc  # the font's package: imported where used, so that a broken install fails one render
    from matplotlib import font_manager

    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    font_manager.fontManager.addfont(str(path))
    return path


def font_families(language: str) -> list[str]:
    """Font families for ``language``, the first one's glyphs preferred, the others as fallbacks."""
    cjk_font_file()
    first = FAMILIES.get(language, FAMILIES["en"])
    return [first, *(family for family in (FAMILIES[ZH_HANS], FAMILIES["en"]) if family != first)]


def chart_labels(language: str, region: str, days: list[date], sample: bool) -> dict[str, str]:
    """Every text the chart of ``region`` over ``days`` shows, by role (conditions come from the forecast)."""
    weekdays = t("chart_weekdays", language).split()
    return {
        "title": t("chart_title", language, region=name_for_reader(region, language)),
        "temperature": t("chart_temperature", language),
        "precipitation": t("chart_precipitation", language),
        "probability": t("chart_probability", language),
        "credit": t("chart_sample", language) if sample else OPEN_METEO_CREDIT.get(language, OPEN_METEO_CREDIT["en"]),
        **{
            f"day:{day.isoformat()}": t(
                "chart_day",
                language,
                month=day.month,
                day=day.day,
                month_name=f"{day:%b}",
                weekday=weekdays[day.weekday()],
            )
            for day in days
        },
    }


def window(forecast: Forecast, start: datetime) -> list[HourForecast]:
    """The forecast's hours from ``start`` (naive, the region's wall clock) for :data:`HOURS` hours."""
    end = start + timedelta(hours=HOURS)
    return [hour for hour in forecast.hours if start <= hour.time < end and hour.temperature is not None]


def render_chart(forecast: Forecast, language: str, start: datetime, sample: bool = False) -> bytes | None:
    """The chart of the :data:`HOURS` hours from ``start`` (naive, the region's wall clock) as PNG
    bytes; None when the forecast has fewer than :data:`MIN_HOURS` of them."""
    hours = window(forecast, start)
    if len(hours) < MIN_HOURS:
        return None
    # matplotlib is loaded with the first chart, not with every command of the bot
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    with _DRAWING:
        figure = _draw(forecast, hours, language, sample)
        raw = io.BytesIO()
        FigureCanvasAgg(figure).print_png(raw)
    image = Image.open(raw).convert("RGB").quantize(COLORS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    png = io.BytesIO()
    image.save(png, format="PNG", optimize=True)
    return png.getvalue()


def _draw(forecast: Forecast, hours: list[HourForecast], language: str, sample: bool) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MultipleLocator

    first, last = hours[0].time, hours[-1].time
    days = sorted({hour.time.date() for hour in hours})
    labels = chart_labels(language, forecast.region, days, sample)
    families = font_families(language)
    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.4, 1], "hspace": 0.08})
    figure.subplots_adjust(left=0.075, right=0.925, top=0.86, bottom=0.13)
    text: dict[str, Any] = {"family": families, "color": INK}
    figure.text(0.075, 0.94, labels["title"], fontsize=18, va="center", **text)
    figure.text(0.925, 0.015, labels["credit"], fontsize=8.5, ha="right", va="bottom", family=families, color=FAINT)

    x = [_hours_since(first, hour.time) for hour in hours]  # temperatures are of the moment
    span = x[-1]
    for axes in (top, bottom):
        axes.set_xlim(0, span)
        for begin, end in _nights(forecast, first, last):
            axes.axvspan(_hours_since(first, begin), _hours_since(first, end), color=NIGHT, lw=0, zorder=0)
        for spine in ("top", "right"):
            axes.spines[spine].set_visible(False)
        axes.tick_params(colors=INK, labelsize=9)
        for label in axes.get_yticklabels():
            label.set_family(families)

    temperatures = _temperatures(hours)
    top.plot(x, temperatures, color=TEMPERATURE, lw=2.4, zorder=3)
    low, high = min(temperatures), max(temperatures)
    room = max((high - low) * 0.25, 2.0)
    top.set_ylim(low - room, high + room * 1.8)  # room above for the conditions
    top.set_ylabel(labels["temperature"], fontsize=10, **text)
    top.yaxis.set_major_locator(MultipleLocator(_step(high - low)))
    top.grid(axis="y", color="#dddddd", lw=0.6, zorder=1)
    for index in _extremes(hours):
        value = round(temperatures[index])
        above = temperatures[index] >= (low + high) / 2
        top.annotate(
            f"{value}°",
            (x[index], temperatures[index]),
            xytext=(0, 9 if above else -15),
            textcoords="offset points",
            ha="center",
            fontsize=11,
            color=TEMPERATURE,
            family=families,
        )
    top_y = high + room * 1.35
    for begin, end, code in _periods(hours):
        top.text(
            (_hours_since(first, begin) + _hours_since(first, end)) / 2,
            top_y,
            condition(code, language),
            ha="center",
            va="center",
            fontsize=10,
            **text,
        )

    rain = [hour.precipitation or 0.0 for hour in hours]
    preceding = [at - 0.5 for at in x]  # precipitation and its probability are of the hour before
    bottom.bar(preceding, rain, width=0.8, color=RAIN, zorder=3)
    bottom.set_ylim(0, max(max(rain) * 1.15, 2.0))
    bottom.set_ylabel(labels["precipitation"], fontsize=9, color=RAIN, family=families)
    chances = bottom.twinx()
    chances.plot(preceding, [hour.precipitation_probability or 0 for hour in hours], color=CHANCE, lw=1.4, ls="--", zorder=4)
    chances.set_ylim(0, 105)
    chances.yaxis.set_major_locator(MultipleLocator(50))
    chances.set_ylabel(labels["probability"], fontsize=9, color=CHANCE, family=families)
    chances.tick_params(colors=INK, labelsize=9)
    chances.spines["top"].set_visible(False)

    ticks = [h for h in range(int(span) + 1) if (first + timedelta(hours=h)).hour % 6 == 0]
    bottom.set_xticks(ticks)
    bottom.set_xticklabels(
        [_tick(first + timedelta(hours=h), labels, i == 0) for i, h in enumerate(ticks)], family=families, fontsize=9
    )
    for h in ticks:
        if (first + timedelta(hours=h)).hour == 0:
            for axes in (top, bottom):
                axes.axvline(h, color="#b9c2d0", lw=0.8, zorder=2)
    return figure


def _hours_since(first: datetime, moment: datetime) -> float:
    return (moment - first).total_seconds() / 3600


def _tick(moment: datetime, labels: dict[str, str], first: bool) -> str:
    """ "06:00"; at midnight and on the first tick, the day under it."""
    if moment.hour and not first:
        return f"{moment:%H:%M}"
    return f"{moment:%H:%M}\n{labels[f'day:{moment.date().isoformat()}']}"


def _step(spread: float) -> int:
    """Degrees between the temperature grid lines."""
    return 2 if spread <= 8 else 5 if spread <= 25 else 10


def _temperatures(hours: list[HourForecast]) -> list[float]:
    """The hours' temperatures (:func:`window` keeps only hours that have one)."""
    return [hour.temperature for hour in hours if hour.temperature is not None]


def _extremes(hours: list[HourForecast]) -> list[int]:
    """The hours of each calendar day's high and low (the first hour on a tie), where they are a
    turn of the line: at the window's edges or a day's end the real high or low may lie outside."""
    values = _temperatures(hours)
    marks: list[int] = []
    for day in sorted({hour.time.date() for hour in hours}):
        indices = [i for i, hour in enumerate(hours) if hour.time.date() == day]
        for pick, turn in (
            (max, lambda i: values[i - 1] <= values[i] >= values[i + 1]),
            (min, lambda i: values[i - 1] >= values[i] <= values[i + 1]),
        ):
            index = pick(indices, key=lambda i: (values[i], -i if pick is max else i))
            if 0 < index < len(hours) - 1 and turn(index):
                marks.append(index)
    return sorted(marks)


def _periods(hours: list[HourForecast]) -> list[tuple[datetime, datetime, int]]:
    """The day (08–20) and night (20–08) periods in the window with the most significant weather
    code of each; a period with fewer than four hours drawn is left unlabelled."""
    periods: dict[datetime, list[HourForecast]] = {}
    for hour in hours:
        moment = hour.time
        base = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if 8 <= moment.hour < 20:
            begin = base + timedelta(hours=8)
        else:
            begin = base + timedelta(hours=20) - timedelta(days=1 if moment.hour < 8 else 0)
        periods.setdefault(begin, []).append(hour)
    result = []
    for members in periods.values():
        codes = [hour.weather_code for hour in members if hour.weather_code is not None]
        if len(members) >= 4 and codes:
            result.append((members[0].time, members[-1].time + timedelta(hours=1), max(codes)))
    return result


def _nights(forecast: Forecast, first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    """Sunset to the next sunrise, clipped to ``first``..``last``; none for days without both times."""
    edges: list[tuple[datetime, datetime]] = []
    suns: dict[date, tuple[datetime, datetime]] = {}
    for day in forecast.days:
        if day.sunrise is None or day.sunset is None:  # polar day or night, or the provider left them out
            continue
        try:
            suns[day.date] = (datetime.fromisoformat(day.sunrise), datetime.fromisoformat(day.sunset))
        except ValueError:
            continue
    for evening, (_, sunset) in suns.items():
        following = suns.get(evening + timedelta(days=1))
        if following is not None:
            edges.append((sunset, following[0]))
    earliest = suns.get(first.date())
    if earliest is not None:
        edges.append((first - timedelta(days=1), earliest[0]))  # before the first sunrise
    return [(max(begin, first), min(end, last)) for begin, end in edges if end > first and begin < last]


class Charts:
    """Rendered charts by what they show (region, language, the hours drawn and their data), each
    drawn once in a worker thread (callers that ask while it is drawn share it); the newest
    :data:`MAX_CHARTS` kept. A forecast fetched again with the same numbers reuses its chart."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._charts: OrderedDict[tuple, asyncio.Future[bytes | None]] = OrderedDict()

    async def chart(self, report: WeatherReport, language: str, now: datetime) -> bytes | None:
        """The chart for ``report`` at ``now`` (aware) in ``language``; None: send the text alone."""
        forecast = report.forecast
        if not self.enabled or forecast is None or not forecast.hours:
            return None
        start = now.astimezone(ZoneInfo(forecast.timezone)).replace(minute=0, second=0, microsecond=0, tzinfo=None)
        sample = report.provider == "sample"
        shown = tuple(astuple(hour) for hour in window(forecast, start))
        key = (report.region, sample, language, start, shown, tuple((day.sunrise, day.sunset) for day in forecast.days))
        future = self._charts.get(key)
        if future is None or future.get_loop() is not asyncio.get_running_loop():
            future = asyncio.ensure_future(asyncio.to_thread(_render_or_none, forecast, language, start, sample))
            self._charts[key] = future
            while len(self._charts) > MAX_CHARTS:
                self._charts.popitem(last=False)
        else:
            self._charts.move_to_end(key)
        return await asyncio.shield(future)


def _render_or_none(forecast: Forecast, language: str, start: datetime, sample: bool) -> bytes | None:
    """:func:`render_chart`, or None (logged) when drawing fails: the weather then goes out as text."""
    try:
        return render_chart(forecast, language, start, sample)
    except Exception:
        log.exception("could not draw the weather chart of %s; sending the text alone", forecast.region)
        return None
