"""This process's Prometheus metrics, and the one-line calls that count.

Counters and histograms live in :data:`REGISTRY` (one per process: each process serves its
own ``/metrics``). Names follow Prometheus conventions (``newsbot_`` prefix, ``_total`` on
counters, ``_seconds`` on durations). Label values are bounded: source and profile names come
from the configuration or the catalog, outcomes and kinds from fixed sets, and each label keeps
at most :data:`MAX_LABEL_VALUES` distinct values (later ones count as "other"). URLs, chat
ids and error texts are never labels.

The numbers read from the database (source health, queues, subscribers, processes) are
exported by :class:`SnapshotCollector` from the console's cached snapshot, so a scrape never
queries the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.subscriptions import DAILY_KEY, FOLLOW_KEY, NEWS_KEY
from bot.warnings_service import WARNING_KEY
from bot.weather_alerts import ALERT_KEY
from summarizer.outcomes import reason_class

MAX_LABEL_VALUES = 200  # distinct values one label keeps; beyond, "other"
MAX_LABEL_CHARS = 100
OTHER = "other"
# the kind of a push by its key's prefix, the longest prefixes first (official warnings' keys start like alerts')
PUSH_KINDS = {
    DAILY_KEY: "daily",
    NEWS_KEY: "news",
    FOLLOW_KEY: "follow",
    WARNING_KEY: "official_warning",
    ALERT_KEY: "weather_alert",
}

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

FETCHES = Counter("newsbot_fetches", "Source passes, by source and outcome", ["source", "outcome"], registry=REGISTRY)
ARTICLES = Counter("newsbot_articles_stored", "Articles stored, by source", ["source"], registry=REGISTRY)
EXTRACTION_SECONDS = Histogram(
    "newsbot_extraction_seconds",
    "Time to extract one article page (decoding, boilerplate removal, dates)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
SUMMARIZATION_SECONDS = Histogram(
    "newsbot_summarization_seconds",
    "Time to summarize (or translate) one batch of articles, by profile",
    ["profile"],
    buckets=(0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
    registry=REGISTRY,
)
SUMMARIES = Counter(
    "newsbot_summaries",
    "Summaries made, by profile and outcome (model, or the class of the fallback's reason)",
    ["profile", "outcome"],
    registry=REGISTRY,
)
TRANSLATIONS = Counter(
    "newsbot_translations",
    "Translations made, by profile and outcome (as for summaries)",
    ["profile", "outcome"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "newsbot_deliveries",
    "Messages sent by the push engine and admin alerts, by kind and outcome",
    ["kind", "outcome"],
    registry=REGISTRY,
)
FLOOD_WAITS = Counter("newsbot_flood_waits", "Telegram flood waits (429), by what was being sent", ["kind"], registry=REGISTRY)
PUSH_LAG = Histogram(
    "newsbot_push_lag_seconds",
    "Daily digests: from the time a push was due to the time it was sent",
    buckets=(1, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600),
    registry=REGISTRY,
)
PROCESS = Gauge("newsbot_process_info", "This process's role (the value is 1)", ["role"], registry=REGISTRY)
HEARTBEAT = Gauge(
    "newsbot_heartbeat_timestamp_seconds", "When this process last wrote its heartbeat to the database", registry=REGISTRY
)

_seen: dict[str, set[str]] = {}
_seen_lock = threading.Lock()


def bounded(family: str, value: str | None) -> str:
    """``value`` as a label value of ``family``: cut to MAX_LABEL_CHARS, and "other" once the
    family already has MAX_LABEL_VALUES distinct values."""
    value = (value or "")[:MAX_LABEL_CHARS]
    with _seen_lock:
        seen = _seen.setdefault(family, set())
        if value in seen:
            return value
        if len(seen) >= MAX_LABEL_VALUES:
            return OTHER
        seen.add(value)
        return value


def fetched(source: str, outcome: str, new: int = 0) -> None:
    """One pass of ``source``: "ok", "not_modified", "error" or "skipped"; ``new`` articles stored."""
    name = bounded("source", source)
    FETCHES.labels(name, outcome).inc()
    if new:
        ARTICLES.labels(name).inc(new)


def summarized(results: Sequence, seconds: float, translation: bool = False) -> None:
    """A batch of summaries (or translations) that took ``seconds``: each result's profile and
    outcome (``summarizer`` results: ``profile``, ``fallback``, ``reason``)."""
    counter = TRANSLATIONS if translation else SUMMARIES
    for result in results:
        outcome = bounded("outcome", reason_class(result.reason) if result.fallback else "model")
        counter.labels(bounded("profile", result.profile), outcome).inc()
    if results:
        SUMMARIZATION_SECONDS.labels(bounded("profile", results[0].profile)).observe(seconds)


def push_kind(key: str) -> str:
    """The kind of push a delivery key is (daily, news, follow, weather_alert; else other)."""
    return next((kind for prefix, kind in PUSH_KINDS.items() if key.startswith(prefix)), OTHER)


def delivered(kind: str, outcome) -> None:
    """How one send of ``kind`` went (``outcome``: a :class:`bot.telegram.delivery.Outcome`)."""
    if outcome.ok:
        result = "sent"
    elif outcome.retry_after is not None:
        result = "flood_wait"
    elif outcome.blocked:
        result = "blocked"
    else:
        result = "failed_permanent" if outcome.permanent else "failed_retrying"
    DELIVERIES.labels(kind if kind in PUSH_KINDS.values() or kind == "admin" else OTHER, result).inc()


def pushed(key: str, outcome, due: datetime | None, sent: datetime) -> None:
    """A push settled: counted by kind and outcome; a daily digest sent also gives its lag."""
    kind = push_kind(key)
    delivered(kind, outcome)
    if outcome.ok and kind == "daily" and due is not None:
        PUSH_LAG.observe(max(0.0, (sent - due).total_seconds()))


def flood_wait(push: bool) -> None:
    """Telegram asked to wait (429) while sending a push (True) or a reply."""
    FLOOD_WAITS.labels("push" if push else "reply").inc()


def set_role(role: str) -> None:
    """Export this process's role."""
    PROCESS.labels(bounded("role", role)).set(1)


def no_snapshot() -> None:
    """The snapshot provider while no console listens."""
    return None


class SnapshotCollector(Collector):
    """Gauges from the console's latest database snapshot (``current()`` returns it, or None
    before the first one): nothing is queried during a scrape."""

    def __init__(self) -> None:
        self.current: Callable[[], Any] = no_snapshot

    def collect(self) -> Iterable[Metric]:
        snapshot = self.current()
        if snapshot is None:
            return
        sources = {
            "up": GaugeMetricFamily(
                "newsbot_source_up", "1: the source's last pass succeeded (paused sources: absent)", labels=["source"]
            ),
            "failures": GaugeMetricFamily(
                "newsbot_source_consecutive_failures", "Failed passes since the source's last success", labels=["source"]
            ),
            "success": GaugeMetricFamily(
                "newsbot_source_last_success_timestamp_seconds", "When the source last succeeded", labels=["source"]
            ),
            "articles": GaugeMetricFamily(
                "newsbot_source_articles_today", "Articles stored from the source today (UTC)", labels=["source"]
            ),
        }
        for source in snapshot.sources:
            name = bounded("source", source.name)
            if source.state == "active":
                sources["up"].add_metric([name], 0 if source.error_count else 1)
            sources["failures"].add_metric([name], source.error_count)
            if source.last_success is not None:
                sources["success"].add_metric([name], source.last_success.timestamp())
            sources["articles"].add_metric([name], source.per_day[-1] if source.per_day else 0)
        yield from sources.values()
        queues = GaugeMetricFamily("newsbot_queue_depth", "Work waiting, by queue", labels=["queue"])
        for queue, depth in snapshot.queues.items():
            queues.add_metric([queue], depth)
        yield queues
        subscribers = GaugeMetricFamily(
            "newsbot_subscribers", "Active subscriptions, by language and region", labels=["language", "region"]
        )
        for (language, region), count in snapshot.subscribers.items():
            subscribers.add_metric([bounded("language", language), bounded("region", region)], count)
        yield subscribers
        day = GaugeMetricFamily(
            "newsbot_deliveries_last_day",
            "Pushes of the last 24 hours (all processes), by kind and status",
            labels=["kind", "status"],
        )
        for (kind, status), count in snapshot.deliveries.items():
            day.add_metric([kind, bounded("status", status)], count)
        yield day
        processes = GaugeMetricFamily("newsbot_processes", "Processes with a recent heartbeat, by role", labels=["role"])
        alive: dict[str, int] = {}
        for process in snapshot.processes:
            if process.alive(snapshot.taken_at):
                alive[process.role] = alive.get(process.role, 0) + 1
        for role, count in alive.items():
            processes.add_metric([bounded("role", role)], count)
        yield processes
        yield GaugeMetricFamily(
            "newsbot_snapshot_timestamp_seconds",
            "When the numbers above were read from the database",
            value=snapshot.taken_at.timestamp(),
        )


LATEST = SnapshotCollector()  # the listening console points it at its snapshot
REGISTRY.register(LATEST)
