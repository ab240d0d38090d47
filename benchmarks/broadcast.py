"""Broadcast throughput of the push engine (issue #8) against a fake Bot API with real latency.

The real python-telegram-bot Application (``bot.telegram.app.build_application``) is started
against ``benchmarks/fake_bot_api.py`` on 127.0.0.1 (asyncio in its own thread, keep-alive,
a configurable answer latency and a strict flood limit: more than 30 ``sendMessage`` accepted
in any sliding second are answered 429 ``retry_after`` 1–2 and not delivered). Each run gets a
fresh SQLite database with 4 stories and N subscribers all due at 07:30 Asia/Shanghai; then
``services.pusher.tick(now)`` is called like the job queue would, on an injected clock that
advances with real time (every ``--tick-every`` seconds, 1 by default; the real job ticks
every 10 s), until every subscriber has a message or the run's time budget is spent.

Runs (defaults):

1. 1,000 subscribers, 250 ms latency, paced at 25/s, strict 30/s flood limit (the #8 goal:
   ≥ 24 msg/s sustained, 0 lost, 0 duplicated)
2. the same at 50 ms latency
3. 10,000 subscribers, 0 ms latency, pacing off (``broadcast_per_second`` = 1e6, PTB's
   ``AIORateLimiter`` 30/s overall limit off too, no flood limit): the tick's own CPU time and
   memory per message
4. baseline: the landed engine sent one push at a time; emulated with
   ``bot.telegram.push.CONCURRENCY = 1``, 100 subscribers at 250 ms latency
(``--full`` adds run 3 with tracemalloc on (~3× slower) and 10,000 subscribers at 250 ms,
paced at 25/s, flood limit on: ~400 s. ``--per-second 40`` paces above the flood limit, to
see the 429 path: flood-waited chats are rescheduled and served by later ticks.)

Each run is a fresh interpreter (the script re-runs itself with ``--run-case``), so memory and
CPU figures are that run's own and the module patches of one run never leak into the next.

Columns: wall = first tick start to last delivery; msg/s = (delivered − 1) / (last − first
delivery); 429s = flood rejections by the fake; lost = subscribers without a message, dup =
subscribers with more than one (one extra tick runs after the last delivery to catch
repeats); CPU = process CPU time during the ticks minus the fake server thread's, per
delivered message (marked † where tracemalloc was on); tracemalloc = peak of memory
allocated during the ticks (tracing is on only then, and slows CPU-bound work); RSS = growth of resident memory during the ticks
(sampled every 20 ms) / growth of ``ru_maxrss``.

    python benchmarks/broadcast.py [--quick] [--full] [--subscribers 1000] [--latency-ms 250,50] [--per-second 25]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import gc
import json
import logging
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from telegram.ext import AIORateLimiter  # noqa: E402

import bot.telegram.app as app_module  # noqa: E402
import bot.telegram.push as push_module  # noqa: E402
from benchmarks.fake_bot_api import FakeBotAPI  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.storage import Article, Database, Delivery, Source, Story, Subscriber, Summary  # noqa: E402
from summarizer import Summarizer  # noqa: E402

TOKEN = "123456:BENCH-token"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = datetime(2025, 3, 3, 7, 30, tzinfo=SHANGHAI)  # every subscriber's push, the same minute
LANGUAGES = ("zh-Hant", "zh-Hans", "en")
MiB = 1024 * 1024

STORIES = [  # (language, title, summary)
    ("zh-Hant", "梁平區春耕備耕全面展開", "全區今年計劃播種糧食作物八十萬畝，農技人員分片下鄉指導。"),
    ("zh-Hans", "重庆至梁平城际铁路通过验收", "新线路设计时速一百六十公里，通车后两地通勤时间缩短至四十分钟。"),
    (
        "en",
        "Liangping wetland park welcomes migratory birds",
        "Volunteers counted more than 2,000 birds of 40 species this week.",
    ),
    ("zh-Hant", "梁平柚子節下月舉行", "活動將持續三天，包括農產品展銷、民俗表演和鄉村旅遊推介。"),
]


@dataclass
class Case:
    name: str
    subscribers: int
    latency_ms: float
    per_second: float = 25.0
    flood_limit: int | None = 30
    concurrency: int | None = None  # None: the engine's own CONCURRENCY
    ptb_limiter: bool = True  # PTB's AIORateLimiter (30/s overall) as the app builds it
    trace: bool = True  # tracemalloc during the ticks (slows CPU-bound work about 3×)
    budget_s: float = 0.0

    def budget(self) -> float:
        if self.budget_s:
            return self.budget_s
        one_at_a_time = (self.latency_ms / 1000 + 0.05) if self.concurrency == 1 else 0.0
        per_message = max(1 / min(self.per_second, 30.0 if self.ptb_limiter else 1e9), one_at_a_time, 0.01)
        return 60 + 3 * self.subscribers * per_message


@dataclass
class Result:
    case: Case
    delivered: int = 0
    served: int = 0
    lost: int = 0
    duplicated: int = 0
    flood_429: int = 0
    wall_s: float = math.nan
    rate: float = math.nan
    ticks: int = 0
    first_tick_s: float = 0.0
    cpu_s: float = 0.0
    fake_cpu_s: float = 0.0
    tracemalloc_peak: float = 0.0
    rss_growth: float = 0.0
    maxrss_growth: float = 0.0
    editions: int = 0
    db_sent: int = 0
    db_rescheduled: int = 0
    max_in_flight: int = 0
    connections: int = 0
    log_counts: dict[str, int] = field(default_factory=dict)
    timed_out: bool = False


class Clock:
    """The injected clock: ``DUE`` plus the real time elapsed since ``start()``."""

    def __init__(self) -> None:
        self.t0: float | None = None

    def start(self) -> None:
        self.t0 = time.monotonic()

    @property
    def started(self) -> float:
        """When ``start()`` was called (``time.monotonic()``)."""
        assert self.t0 is not None, "start() first"
        return self.t0

    def __call__(self) -> datetime:
        elapsed = 0.0 if self.t0 is None else time.monotonic() - self.t0
        return DUE.astimezone(UTC) + timedelta(seconds=elapsed)


class RSSSampler:
    """Peak resident memory, read from /proc/self/statm every ``interval`` seconds."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        self.start_rss = self.peak = self.read()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def read(self) -> int:
        try:
            with open("/proc/self/statm") as statm:
                return int(statm.read().split()[1]) * self.page
        except OSError:
            return 0

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.read())

    def __enter__(self) -> RSSSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.read())


class LogCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.levelname] = self.counts.get(record.levelname, 0) + 1


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def seed(db: Database, subscribers: int) -> None:
    """4 stories (with summaries) first seen an hour before the push; N subscribers due at DUE."""
    seen = DUE.astimezone(UTC) - timedelta(hours=1)
    with db.session() as session:
        source = Source(name="梁平區融媒體中心", kind="rss", url="https://example.org/feed.xml")
        session.add(source)
        session.flush()
        for number, (language, title, summary) in enumerate(STORIES, 1):
            story = Story(first_seen_at=seen + timedelta(minutes=number), updated_at=seen + timedelta(minutes=number))
            session.add(story)
            session.flush()
            url = f"https://example.org/news/{number}.html"
            article = Article(
                source_id=source.id,
                story_id=story.id,
                url=url,
                canonical_url=url,
                guid=url,
                content_hash=f"{number:064d}",
                title=title,
                published_at=seen,
                fetched_at=seen,
                language=language,
                text=summary * 5,
            )
            session.add(article)
            session.flush()
            session.add(
                Summary(
                    article_id=article.id,
                    profile="extractive",
                    model="extractive",
                    language=language,
                    text=summary,
                    created_at=seen,
                )
            )
    rows = [
        {
            "chat_id": 10_000_000 + n,
            "thread_id": 0,
            "chat_type": "private",
            "language": LANGUAGES[n % 3],
            "language_chosen": True,
            "push_time": "07:30",
            "timezone": "Asia/Shanghai",
            "news_mode": "daily",
            "active": True,
            "next_push_at": DUE,
            "created_at": DUE - timedelta(days=3),
        }
        for n in range(subscribers)
    ]
    with db.session() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Subscriber), rows[start : start + 5000])


async def run_case(case: Case, tick_every: float) -> Result:
    result = Result(case)
    fake = FakeBotAPI(TOKEN, latency=case.latency_ms / 1000, flood_limit=case.flood_limit).start()
    counter = LogCounter()
    logging.getLogger().addHandler(counter)
    saved_concurrency = push_module.CONCURRENCY
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as folder:
        config = Path(folder) / "newsbot.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{Path(folder) / "bench.db"}"\n'
            f'[telegram]\ntoken = "{TOKEN}"\napi_base_url = "{fake.base_url}"\nbroadcast_per_second = {case.per_second}\n'
            f'[weather]\nprovider = "none"\n',
            encoding="utf-8",
        )
        settings = load_settings(config, environ={})
        db = Database(settings.database.url)
        seed(db, case.subscribers)
        if case.concurrency is not None:
            push_module.CONCURRENCY = case.concurrency
        unlimited = functools.partial(AIORateLimiter, overall_max_rate=0, group_max_rate=0)
        clock = Clock()
        # the app's limiter, for the build only (where the module's AIORateLimiter is read)
        with contextlib.nullcontext() if case.ptb_limiter else mock.patch.object(app_module, "AIORateLimiter", unlimited):
            application = app_module.build_application(settings, db, Summarizer(), clock=clock, schedule=False)
        try:
            await application.initialize()
            assert application.post_init is not None  # build_application sets one
            await application.post_init(application)
            await application.start()
            pusher = application.bot_data["services"].pusher
            gc.collect()
            maxrss0, fake_cpu0 = maxrss_bytes(), fake.cpu_seconds()
            if case.trace:
                tracemalloc.start()
            with RSSSampler() as rss:
                cpu0 = cpu_seconds()
                clock.start()
                budget = case.budget()
                next_at = clock.started
                while fake.served() < case.subscribers and time.monotonic() - clock.started < budget:
                    wait = next_at - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    started = time.monotonic()
                    await pusher.tick(clock())
                    if result.ticks == 0:
                        result.first_tick_s = time.monotonic() - started
                    result.ticks += 1
                    next_at = clock.started + tick_every * (math.floor((time.monotonic() - clock.started) / tick_every) + 1)
                result.timed_out = fake.served() < case.subscribers
                await pusher.tick(clock())  # one more: nothing may be sent twice
                result.cpu_s = cpu_seconds() - cpu0
            if case.trace:
                result.tracemalloc_peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            result.fake_cpu_s = fake.cpu_seconds() - fake_cpu0
            result.cpu_s -= result.fake_cpu_s
            result.rss_growth = rss.peak - rss.start_rss
            result.maxrss_growth = maxrss_bytes() - maxrss0
        finally:
            if application.running:
                await application.stop()
            await application.shutdown()
            push_module.CONCURRENCY = saved_concurrency
            fake.close()
            logging.getLogger().removeHandler(counter)
        counts = dict(fake.delivered)
        times = fake.delivery_times
        result.delivered = sum(counts.values())
        result.served = len(counts)
        result.lost = case.subscribers - result.served
        result.duplicated = sum(1 for value in counts.values() if value > 1)
        result.flood_429 = fake.flood_rejections
        result.editions = len(fake.texts)
        result.max_in_flight, result.connections = fake.max_in_flight, fake.connections
        if times:
            result.wall_s = times[-1] - clock.started
            span = times[-1] - times[0]
            result.rate = (len(times) - 1) / span if span > 0 else math.nan
        with db.session() as session:
            result.db_sent = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "sent")) or 0
            result.db_rescheduled = (
                session.scalar(
                    select(func.count()).select_from(Subscriber).where(Subscriber.next_push_at > DUE + timedelta(hours=12))
                )
                or 0
            )
        db.close()
        result.log_counts = counter.counts
    return result


def describe(result: Result) -> list[str]:
    case = result.case
    pace = "unpaced" if case.per_second >= 1e5 else f"{case.per_second:g}/s"
    flood = f"{case.flood_limit}/s" if case.flood_limit else "off"
    per_message = result.cpu_s / result.delivered * 1000 if result.delivered else math.nan
    wall = f"{result.wall_s:.1f} s" + (" (budget spent)" if result.timed_out else "")
    memory = f"{result.tracemalloc_peak / MiB:.1f} MiB" if result.tracemalloc_peak else "–"
    return [
        case.name,
        f"{case.subscribers:,}",
        f"{case.latency_ms:g} ms",
        pace,
        flood,
        wall,
        f"{result.rate:.1f}",
        str(result.flood_429),
        str(result.lost),
        str(result.duplicated),
        f"{result.cpu_s:.1f} s ({per_message:.2f} ms/msg){' †' if case.trace else ''}",
        memory,
        f"{result.rss_growth / MiB:.1f} / {result.maxrss_growth / MiB:.1f} MiB",
    ]


HEADER = [
    "Run",
    "Subscribers",
    "Bot API latency",
    "Pace",
    "Flood limit",
    "Wall until all delivered",
    "Sustained msg/s",
    "429s",
    "Lost",
    "Duplicated",
    "Bot CPU",
    "tracemalloc peak",
    "RSS growth (sampled / maxrss)",
]


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def run_in_child(case: Case, tick_every: float, verbose: bool) -> Result | None:
    """One run in a fresh interpreter: memory and CPU are the run's own, module patches stay there."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--run-case",
        json.dumps(dataclasses.asdict(case)),
        "--tick-every",
        str(tick_every),
    ] + (["--verbose"] if verbose else [])
    child = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    line = next((line for line in reversed(child.stdout.splitlines()) if line.startswith("RESULT ")), None)
    if child.returncode or line is None:
        print(f"   run {case.name!r} failed (exit {child.returncode}); see above", file=sys.stderr, flush=True)
        return None
    data = json.loads(line[len("RESULT ") :])
    data["case"] = Case(**data["case"])
    return Result(**data)


def child_main(case_json: str, tick_every: float) -> None:
    case = Case(**json.loads(case_json))
    result = asyncio.run(run_case(case, tick_every))
    print(
        f"   ticks {result.ticks} (first {result.first_tick_s:.1f} s), messages {result.delivered}, "
        f"editions {result.editions}, db sent {result.db_sent}, rescheduled {result.db_rescheduled}; "
        f"fake: max in flight {result.max_in_flight}, connections {result.connections}, CPU {result.fake_cpu_s:.1f} s; "
        f"log records {result.log_counts or '{}'}",
        file=sys.stderr,
        flush=True,
    )
    print("RESULT " + json.dumps(dataclasses.asdict(result)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, help="subscribers in the paced runs (default 1000; --quick 200)")
    parser.add_argument("--latency-ms", default="250,50", help="Bot API latencies of the paced runs, comma-separated")
    parser.add_argument("--large", type=int, help="subscribers in the unpaced run (default 10000; --quick 1000; 0 skips it)")
    parser.add_argument(
        "--baseline", type=int, help="subscribers in the one-at-a-time baseline (default 100; --quick 30; 0 skips)"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="also the large run paced at 25/s with the flood limit (~400 s) and the large unpaced run traced",
    )
    parser.add_argument("--quick", action="store_true", help="smaller numbers for a smoke run")
    parser.add_argument(
        "--per-second", type=float, default=25.0, help="broadcast_per_second of the paced runs (default 25, the shipped default)"
    )
    parser.add_argument("--tick-every", type=float, default=1.0, help="seconds between ticks (the real job: 10)")
    parser.add_argument("--no-tracemalloc", action="store_true", help="trace allocations in no run (faster; no peak column)")
    parser.add_argument("--verbose", action="store_true", help="print the bot's INFO log lines")
    parser.add_argument("--run-case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.run_case:
        child_main(args.run_case, args.tick_every)
        return
    subscribers = args.subscribers or (200 if args.quick else 1000)
    large = args.large if args.large is not None else (1000 if args.quick else 10_000)
    baseline = args.baseline if args.baseline is not None else (30 if args.quick else 100)
    latencies = [float(value) for value in args.latency_ms.split(",") if value.strip()]
    trace = not args.no_tracemalloc

    paced: dict[str, Any] = dict(per_second=args.per_second, trace=trace)
    cases = [Case(f"{n}. paced", subscribers, latency, **paced) for n, latency in enumerate(latencies, 1)]
    unpaced: dict[str, Any] = dict(latency_ms=0, per_second=1e6, flood_limit=None, ptb_limiter=False)
    if large:  # untraced: its CPU time is the point
        cases.append(Case(f"{len(cases) + 1}. unpaced (tick cost)", large, trace=False, **unpaced))
    if args.full and large and trace:
        cases.append(Case(f"{len(cases) + 1}. unpaced, traced", large, trace=True, **unpaced))
    if args.full and large:
        cases.append(Case(f"{len(cases) + 1}. paced, large", large, latencies[0] if latencies else 250, **paced))
    if baseline:
        cases.append(
            Case(
                f"{len(cases) + 1}. baseline: one at a time", baseline, latencies[0] if latencies else 250, concurrency=1, **paced
            )
        )

    print(
        f"newsbot broadcast benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"engine CONCURRENCY={push_module.CONCURRENCY}, PAGE={push_module.PAGE}, tick every {args.tick_every:g} s",
        flush=True,
    )
    results: list[Result] = []
    rows: list[list[str]] = []
    for case in cases:
        print(f"… {case.name}: {case.subscribers:,} subscribers, {case.latency_ms:g} ms", file=sys.stderr, flush=True)
        result = run_in_child(case, args.tick_every, args.verbose)
        rows.append(
            describe(result)
            if result
            else [case.name, f"{case.subscribers:,}", f"{case.latency_ms:g} ms"] + ["failed"] + [""] * (len(HEADER) - 4)
        )
        if result:
            results.append(result)

    print()
    print(table(rows))
    if any(r.case.trace for r in results):
        print("\n† tracemalloc was on during this run: its CPU time is inflated (about 2.5× here); the unpaced run is untraced.")
    print()
    goal = results[0] if results and results[0].case.name == cases[0].name and latencies else None
    base = next((r for r in results if r.case.concurrency == 1), None)
    if goal is not None:
        met = goal.rate >= 24 and goal.lost == 0 and goal.duplicated == 0
        print(
            f"Goal (#8, run 1): ≥ 24 msg/s sustained, 0 lost, 0 duplicated — "
            f"{goal.rate:.2f} msg/s, {goal.lost} lost, {goal.duplicated} duplicated: {'met' if met else 'NOT met'}"
        )
    if goal is not None and base is not None and base.rate > 0:
        print(
            f"Speed-up of run 1 over the one-at-a-time baseline: {goal.rate / base.rate:.1f}× "
            f"({goal.rate:.1f} vs {base.rate:.1f} msg/s)"
        )
    for r in results:
        if r.case.per_second >= 1e5 and r.delivered:
            print(
                f"Tick cost, {r.case.subscribers:,} subscribers unpaced at 0 ms: {r.wall_s:.1f} s wall, "
                f"{r.cpu_s / r.delivered * 1000:.2f} ms CPU per message"
                + (
                    f", {r.tracemalloc_peak / MiB:.1f} MiB traced peak (tracing inflates the CPU)"
                    if r.tracemalloc_peak
                    else f", RSS +{r.rss_growth / MiB:.1f} MiB"
                )
            )


if __name__ == "__main__":
    main()
