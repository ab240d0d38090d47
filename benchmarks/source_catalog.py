"""The source catalog at scale: what a scheduler tick and a health read cost.

Synthetic data: S sources (default 100) in the catalog and a week of articles (default 30 per
source and day: 21,000 with the defaults, plus as many older ones outside the week). Figures,
each the best of ``--repeats`` runs: ``active_sources`` (what every process reads at each tick),
``apply_config`` with every entry unchanged (each start), and ``source_health`` for all the
sources and for one (``/source NAME``; the status page reads the same). SQLite in a temporary
folder by default; ``--database-url`` for PostgreSQL (its schema is used as it is: give an empty
database).

    python benchmarks/source_catalog.py [--sources 100] [--per-day 30] [--repeats 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bot.config import Settings, SourceSettings  # noqa: E402
from bot.ingest.catalog import active_sources, apply_config, source_health  # noqa: E402
from bot.storage import Article, Database, Source  # noqa: E402
from bot.storage.models import utcnow  # noqa: E402


def best(function: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` runs, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def fill(db: Database, settings: Settings, per_day: int) -> int:
    """The catalog from ``settings`` and a week of articles per source (and a week more, older)."""
    apply_config(db, settings)
    now = utcnow()
    with db.session() as session:
        ids = list(session.scalars(select(Source.id)))
        rows = [
            {
                "source_id": source_id,
                "url": f"https://s{source_id}.example/{day}/{n}",
                "canonical_url": f"https://s{source_id}.example/{day}/{n}",
                "content_hash": f"{source_id}-{day}-{n}",
                "title": "t",
                "language": "zh-Hans",
                "text": "x",
                "fetched_at": now - timedelta(days=day, minutes=n),
            }
            for source_id in ids
            for day in range(14)
            for n in range(per_day)
        ]
        session.execute(insert(Article), rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--per-day", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Database(args.database_url or f"sqlite:///{folder}/bench.db")
        sources = [
            SourceSettings(name=f"source {n:03d}", kind="rss", url=f"https://s{n}.example/rss") for n in range(args.sources)
        ]
        settings = Settings(sources=sources)
        articles = fill(db, settings, args.per_day)
        now = utcnow()
        print(f"{db.engine.dialect.name}: {args.sources} sources, {articles} articles (half of them in the last 7 days)")
        print(f"active_sources (each tick):        {best(lambda: active_sources(db), args.repeats):8.2f} ms")
        print(f"apply_config, unchanged (start):   {best(lambda: apply_config(db, settings), args.repeats):8.2f} ms")
        print(f"source_health, all sources:        {best(lambda: source_health(db, now), args.repeats):8.2f} ms")
        print(
            f"source_health, one (/source NAME): {best(lambda: source_health(db, now, name='source 042'), args.repeats):8.2f} ms"
        )
        db.close()


if __name__ == "__main__":
    main()
