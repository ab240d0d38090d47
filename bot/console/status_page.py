"""The status page: one server-rendered HTML page, no script, readable on a phone, reloading
itself (``<meta http-equiv=refresh>``). Everything shown comes from a :class:`Snapshot`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.console.snapshot import DAYS, Snapshot, SourceHealth
from bot.gate_report import describe
from bot.texts import t

CHART_BAR = 10  # px per day in a source's chart
CHART_HEIGHT = 24
STATUS_COLOURS = {"ok": "#1a7f37", "never": "#6e7781", "failing": "#9a6700", "down": "#cf222e", "paused": "#6e7781"}
SEVERITY = ("down", "failing", "never", "ok", "paused")  # sources are listed in this order
STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:0 auto;max-width:60rem;
padding:.75rem;color:#1f2328;background:#fff}
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.4rem 0 .4rem;border-bottom:1px solid #d0d7de}
.meta{color:#59636e;font-size:.85rem}.wrap{overflow-x:auto}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .45rem;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-size:.8rem;color:#59636e;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:0 .45rem;border-radius:1rem;color:#fff;font-size:.8rem;white-space:nowrap}
.err{color:#59636e;font-size:.8rem;word-break:break-word}svg{display:block}ul{padding-left:1.2rem;margin:.3rem 0}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}th,.meta,.err{color:#9198a1}
th,td{border-color:#30363d}h2{border-color:#30363d}}
"""


def render(snapshot: Snapshot | None, settings: Settings, language: str) -> str:
    """The page for a reader of ``language``; a short "reading" page before the first snapshot."""
    refresh = max(settings.status.refresh_seconds, 5)
    tz = settings.region.tz
    parts = [
        "<!doctype html>",
        f'<html lang="{escape(language)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f'<meta http-equiv="refresh" content="{refresh}">',
        f"<title>{escape(t('console_title', language))}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(t('console_title', language))}</h1>",
    ]
    if snapshot is None:
        parts.append(f'<p class="meta">{escape(t("console_waiting", language))}</p></body></html>')
        return "".join(parts)
    updated = t("console_updated", language, time=_when(snapshot.taken_at, tz, seconds=True), seconds=refresh)
    parts.append(f'<p class="meta">{escape(updated)}</p>')
    parts += _sources(snapshot, settings, language, tz)
    parts += _gate(snapshot, language)
    parts += _deliveries(snapshot, language)
    parts += _queues_and_subscribers(snapshot, language)
    parts += _processes(snapshot, language, tz)
    parts.append("</body></html>")
    return "".join(parts)


def _when(moment: datetime | None, tz: ZoneInfo, seconds: bool = False) -> str:
    if moment is None:
        return "—"
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M:%S}" if seconds else f"{moment.astimezone(tz):%m-%d %H:%M}"


def _table(headings: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    thead = f"<thead><tr>{head}</tr></thead>" if any(headings) else ""
    return f'<div class="wrap"><table>{thead}<tbody>{"".join(rows)}</tbody></table></div>'


def _sources(snapshot: Snapshot, settings: Settings, language: str, tz: ZoneInfo) -> list[str]:
    parts = [f"<h2>{escape(t('console_sources', language))}</h2>"]
    if not snapshot.sources:
        return [*parts, f"<p>{escape(t('console_no_sources', language))}</p>"]
    down_after = timedelta(hours=settings.status.source_down_hours)
    rows = []
    statuses = {source.name: source.status(snapshot.taken_at, down_after) for source in snapshot.sources}
    for source in sorted(snapshot.sources, key=lambda s: (SEVERITY.index(statuses[s.name]), s.name)):
        status = statuses[source.name]
        label = t(f"console_{status}", language, count=source.error_count)
        badge = f'<span class="badge" style="background:{STATUS_COLOURS[status]}">{escape(label)}</span>'
        error = f'<div class="err">{escape(source.last_error)}</div>' if source.last_error else ""
        rows.append(
            f"<tr><td>{escape(source.name)}<div class='err'>{escape(source.kind)}</div></td><td>{badge}</td>"
            f"<td>{_when(source.last_success, tz)}{error}</td><td>{_chart(source, snapshot.taken_at)}</td></tr>"
        )
    headings = [t("console_source", language), t("console_status", language), t("console_last_success", language)]
    return [*parts, _table([*headings, t("console_per_day", language, days=DAYS)], rows)]


def _chart(source: SourceHealth, now: datetime) -> str:
    """Articles per day (UTC) as bars, today on the right; each bar's day and count in its title."""
    top = max(source.per_day, default=0) or 1
    width = CHART_BAR * len(source.per_day)
    bars = []
    for index, count in enumerate(source.per_day):
        day = now.astimezone(UTC) - timedelta(days=len(source.per_day) - 1 - index)
        height = max(1, round((CHART_HEIGHT - 2) * count / top)) if count else 0
        y = CHART_HEIGHT - height
        bars.append(
            f'<rect x="{index * CHART_BAR + 1}" y="{y}" width="{CHART_BAR - 2}" height="{height}" fill="#0969da">'
            f"<title>{day:%m-%d}: {count}</title></rect>"
        )
    label = escape(", ".join(str(c) for c in source.per_day))
    baseline = f'<line x1="0" y1="{CHART_HEIGHT - 0.5}" x2="{width}" y2="{CHART_HEIGHT - 0.5}" stroke="#8c959f"/>'
    return (
        f'<svg width="{width}" height="{CHART_HEIGHT}" viewBox="0 0 {width} {CHART_HEIGHT}" role="img" aria-label="{label}">'
        f"{''.join(bars)}{baseline}</svg><span class='err'>{source.per_day[-1] if source.per_day else 0}</span>"
    )


def _gate(snapshot: Snapshot, language: str) -> list[str]:
    lines = [describe(profile, language) for profile in snapshot.gate] or [t("gate_none", language).lstrip("• ")]
    items = "".join(f"<li>{escape(line.lstrip('• '))}</li>" for line in lines)
    return [f"<h2>{escape(t('console_gate', language))}</h2><ul>{items}</ul>"]


def _deliveries(snapshot: Snapshot, language: str) -> list[str]:
    parts = [f"<h2>{escape(t('console_deliveries', language))}</h2>"]
    if not snapshot.deliveries:
        return [*parts, f"<p>{escape(t('console_no_deliveries', language))}</p>"]
    kinds = sorted({kind for kind, _ in snapshot.deliveries})
    rows = []
    for kind in kinds:
        counts = [snapshot.deliveries.get((kind, status), 0) for status in ("sent", "failed", "sending")]
        rows.append(f"<tr><td>{escape(kind)}</td>{''.join(f'<td class=n>{c}</td>' for c in counts)}</tr>")
    headings = [t(f"console_{key}", language) for key in ("kind", "sent", "failed", "sending")]
    parts.append(_table(headings, rows))
    if snapshot.delivery_errors:
        items = "".join(
            f"<li>{count}× <span class='err'>{escape(error)}</span></li>" for error, count in snapshot.delivery_errors
        )
        parts.append(f"<p>{escape(t('console_top_failures', language))}</p><ul>{items}</ul>")
    return parts


def _queues_and_subscribers(snapshot: Snapshot, language: str) -> list[str]:
    queues = [
        f"<tr><td>{escape(t(f'console_queue_{name}', language))}</td><td class=n>{n}</td></tr>"
        for name, n in snapshot.queues.items()
    ]
    subscribers = [
        f"<tr><td>{escape(region)}</td><td>{escape(lang)}</td><td class=n>{n}</td></tr>"
        for (lang, region), n in sorted(snapshot.subscribers.items(), key=lambda item: (item[0][1], item[0][0]))
    ]
    return [
        f"<h2>{escape(t('console_queues', language))}</h2>",
        _table(["", ""], queues),
        f"<h2>{escape(t('console_subscribers', language))}</h2>",
        _table(["", "", ""], subscribers) if subscribers else "<p>0</p>",
    ]


def _processes(snapshot: Snapshot, language: str, tz: ZoneInfo) -> list[str]:
    rows = []
    for process in snapshot.processes:
        beat = _when(process.beat_at, tz, seconds=True)
        if not process.alive(snapshot.taken_at):
            beat += (
                f' <span class="badge" style="background:{STATUS_COLOURS["down"]}">{escape(t("console_silent", language))}</span>'
            )
        error = f'<div class="err">{escape(process.last_error)}</div>' if process.last_error else ""
        rows.append(
            f"<tr><td>{escape(process.role)}</td><td>{escape(process.host)}:{process.pid}</td>"
            f"<td>{_when(process.started_at, tz)}</td><td>{beat}</td><td class=n>{process.errors}{error}</td></tr>"
        )
    headings = [t(f"console_{key}", language) for key in ("role", "process", "started", "heartbeat", "errors_hour")]
    return [f"<h2>{escape(t('console_processes', language))}</h2>", _table(headings, rows)]
