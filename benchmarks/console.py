"""The console under load (issue #19): ``/metrics`` and the status page on a full database.

A fresh database (SQLite in a temp folder, or ``--database URL``, whose tables are emptied
first) gets ``--sources`` sources (one in ten failing), ``--days`` days of articles (20 a day a
source) with a summary each, ``--subscribers`` active subscribers and one push a day each for
``--days`` days (2 % failed). The real :class:`bot.console.server.Console` listens on
127.0.0.1; numbers printed:

- snapshot: one background read of everything the page and the gauges show (runs every
  ``[status] refresh_seconds`` in the console's own threads; requests never wait for it);
- ``/metrics`` and ``/`` over HTTP: median, p95 and worst of ``--requests`` requests each
  (goals: ≤ 50 ms and ≤ 300 ms);
- the push tick: the event loop's worst lateness (a timer every 10 ms) and the worst time of a
  small write transaction like a push's record (every 20 ms in a thread), first idle, then
  while snapshots are read back to back and a scraper (another process) requests both pages
  without pause.

    python benchmarks/console.py [--sources 100] [--subscribers 100000] [--days 7] [--requests 200] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, update

from bot.config import Settings
from bot.console.server import Console
from bot.storage import Article, Base, BotState, Database, Delivery, Source, Subscriber, Summary
from bot.storage.models import utcnow

ARTICLES_A_DAY = 20
SCRAPER = """
import sys, httpx
with httpx.Client() as client:
    while True:
        client.get(sys.argv[1] + "/")
        client.get(sys.argv[1] + "/metrics")
"""
CHUNK = 20_000


def seed(db: Database, sources: int, subscribers: int, days: int) -> dict[str, int]:
    """Fill the database; the row counts."""
    now = utcnow()
    with db.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
    with db.engine.begin() as connection:
        connection.execute(
            insert(Source),
            [
                {
                    "id": s + 1,
                    "name": f"source {s:03d}",
                    "kind": "rss",
                    "url": f"https://news{s}.example/feed",
                    "error_count": 3 if s % 10 == 0 else 0,
                    "last_error": "HTTP 503" if s % 10 == 0 else None,
                    "last_success_at": now - (timedelta(hours=9) if s % 10 == 0 else timedelta(minutes=s % 15)),
                    "state": "active",
                }
                for s in range(sources)
            ],
        )
        articles = [
            {
                "id": n + 1,
                "source_id": n % sources + 1,
                "url": f"https://x.example/{n}",
                "canonical_url": f"https://x.example/{n}",
                "content_hash": f"{n:x}",
                "title": f"title {n}",
                "language": "zh-Hans",
                "text": "正文。" * 20,
                "fetched_at": now
                - timedelta(days=days)
                + timedelta(seconds=n * days * 86400 // (sources * ARTICLES_A_DAY * days)),
            }
            for n in range(sources * ARTICLES_A_DAY * days)
        ]
        for start in range(0, len(articles), CHUNK):
            connection.execute(insert(Article), articles[start : start + CHUNK])
        connection.execute(
            insert(Summary),
            [
                {
                    "article_id": a["id"],
                    "profile": "mt5-zh",
                    "model": "m",
                    "revision": "",
                    "language": "zh-Hans",
                    "text": "摘要。",
                    "fallback": n % 6 == 0,
                    "reason": "faithfulness check: number: 3" if n % 6 == 0 else None,
                    "created_at": a["fetched_at"],
                }
                for n, a in enumerate(articles)
            ],
        )
        for start in range(0, subscribers, CHUNK):
            connection.execute(
                insert(Subscriber),
                [
                    {
                        "id": i + 1,
                        "chat_id": i + 1,
                        "thread_id": 0,
                        "chat_type": "private",
                        "language": ("zh-Hant", "zh-Hans", "en")[i % 3],
                        "push_time": "07:30",
                        "timezone": "Asia/Shanghai",
                        "active": True,
                        "next_push_at": now + timedelta(hours=i % 24),
                    }
                    for i in range(start, min(start + CHUNK, subscribers))
                ],
            )
        deliveries = 0
        for day in range(days):
            for start in range(0, subscribers, CHUNK):
                rows = [
                    {
                        "subscriber_id": i + 1,
                        "push_key": f"digest:day{day}",
                        "status": "failed" if i % 50 == 0 else "sent",
                        "error": "forbidden: bot was blocked by the user" if i % 50 == 0 else None,
                        "attempts": 1,
                        "created_at": now - timedelta(days=day, seconds=i * 86400 // subscribers),
                    }
                    for i in range(start, min(start + CHUNK, subscribers))
                ]
                connection.execute(insert(Delivery), rows)
                deliveries += len(rows)
    return {"sources": sources, "articles": len(articles), "subscribers": subscribers, "deliveries": deliveries}


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, worst {ordered[-1] * 1000:.1f} ms"


async def timed_gets(client: httpx.AsyncClient, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.get(url)
        response.raise_for_status()
        times.append(time.perf_counter() - started)
    return times


async def push_tick_delay(db: Database, seconds: float, load) -> tuple[list[float], list[float]]:
    """Event-loop lateness and small write transactions' times while ``load()`` runs."""
    stop = asyncio.Event()
    lateness: list[float] = []
    writes: list[float] = []

    async def timer() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            lateness.append(time.perf_counter() - started - 0.01)

    def write() -> None:
        with db.session() as session:
            session.execute(update(BotState).where(BotState.key == "benchmark").values(value=str(time.time())))

    async def writer() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.to_thread(write)
            writes.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(timer()), asyncio.create_task(writer())]
    loaded = asyncio.create_task(load(stop)) if load else None
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks, *([loaded] if loaded else []))
    return lateness, writes


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", help="a database URL whose tables are emptied (default: SQLite in a temp folder)")
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    url = args.database or f"sqlite:///{Path(folder.name) / 'console.db'}"
    db = Database(url)
    started = time.perf_counter()
    counts = seed(db, args.sources, args.subscribers, args.days)
    with db.session() as session:
        session.add(BotState(key="benchmark", value=""))
    print(f"database: {db.engine.dialect.name}; {counts}; seeded in {time.perf_counter() - started:.0f} s")
    settings = Settings.model_validate({"status": {"listen": "127.0.0.1:0", "refresh_seconds": 3600}, "sources": []})
    console = Console(settings, db, "all")
    await console.start()
    try:
        snapshot_times = []
        for _ in range(5):
            await console.refresh()
            assert console.snapshot is not None
            snapshot_times.append(console.snapshot.read_seconds)
        print(f"snapshot (background, every refresh_seconds): {percentiles(snapshot_times)}")
        base = f"http://127.0.0.1:{console.port}"
        async with httpx.AsyncClient() as client:
            await timed_gets(client, f"{base}/metrics", 5)  # warm up
            metrics = await timed_gets(client, f"{base}/metrics", args.requests)
            page = await timed_gets(client, f"{base}/", args.requests)
            print(f"/metrics over HTTP ({args.requests}): {percentiles(metrics)} (goal ≤ 50 ms)")
            print(f"/ (status page) over HTTP ({args.requests}): {percentiles(page)} (goal ≤ 300 ms)")

            async def load(stop: asyncio.Event) -> None:
                async def refreshes() -> None:
                    while not stop.is_set():
                        await console.refresh()

                async def requests() -> None:  # a scraper elsewhere: a process of its own
                    scraper = await asyncio.create_subprocess_exec(sys.executable, "-c", SCRAPER, base)
                    await stop.wait()
                    scraper.kill()
                    await scraper.wait()

                await asyncio.gather(refreshes(), requests())

            idle = await push_tick_delay(db, 5, None)
            loaded = await push_tick_delay(db, 10, load)
        for label, (lateness, writes) in (("idle", idle), ("snapshots back to back, pages scraped without pause", loaded)):
            print(f"push tick, {label}: event loop late by {percentiles(lateness)}; a push's write: {percentiles(writes)}")
    finally:
        await console.stop()
        db.close()
        folder.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
