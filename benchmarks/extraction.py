"""Extraction cost against plain trafilatura, on the same pages in the same process (issue #9).

For every page of the portal corpus (``tests/fixtures/portals``) and the bundled demo pages
(``bot/demo``), decoded once, this times

- ``bot.ingest.extract.extract_html(page, Asia/Shanghai)``: parse, title and byline date,
  structural pruning, trafilatura, cleanup, bulletins, language (htmldate only when no byline);
- ``trafilatura.extract(page, include_comments=False)``: the plain extractor, text only;
- the same with the configuration ``extract_html`` gives trafilatura (a 60-character instead of
  a 250-character floor for the main extractor's result, under which trafilatura retries with
  other extractors): the like-for-like figure, what the pruning, dates and cleanup cost.

Each page is run ``--repeat`` times per round, the two interleaved, for ``--rounds`` rounds
after a warm-up; a page's figure is its best round (the least disturbed by other processes),
in milliseconds per call. The goal is a total ratio of at most 1.2. ``--profile`` then prints
the top of a cProfile run of ``extract_html`` over all pages.

    python benchmarks/extraction.py [--rounds 5] [--repeat 10] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from bot.ingest.encoding import decode_bytes  # noqa: E402
from bot.ingest.extract import TRAFILATURA_CONFIG, extract_html  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
PAGES = sorted((ROOT / "tests" / "fixtures" / "portals").glob("*.html")) + sorted((ROOT / "bot" / "demo").glob("*/*.html"))


def best_time(run: Callable[[], object], repeat: int) -> float:
    """Seconds per call over ``repeat`` calls."""
    start = time.perf_counter()
    for _ in range(repeat):
        run()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    pages = [(path.stem, decode_bytes(path.read_bytes())) for path in PAGES]
    for _, page in pages:  # warm-up: imports, dictionaries, compiled expressions
        extract_html(page, TZ)
        trafilatura.extract(page, include_comments=False)

    runs: dict[str, Callable[[str], object]] = {
        "extract_html": lambda page: extract_html(page, TZ),
        "trafilatura": lambda page: trafilatura.extract(page, include_comments=False),
        "same config": lambda page: trafilatura.extract(page, include_comments=False, config=TRAFILATURA_CONFIG),
    }
    best: dict[str, dict[str, float]] = {run: {} for run in runs}
    for _ in range(args.rounds):
        for name, page in pages:
            for run, call in runs.items():
                seconds = best_time(partial(call, page), args.repeat)
                best[run][name] = min(best[run].get(name, seconds), seconds)

    ours, plain, same = (best[run] for run in runs)
    width = max(len(name) for name, _ in pages)
    print(f"{len(pages)} pages, best of {args.rounds} rounds × {args.repeat} calls, ms per call")
    print(f"{'page':<{width}}  {'extract_html':>12}  {'trafilatura':>11}  {'ratio':>5}  {'same config':>11}  {'ratio':>5}")
    rows = [(name, ours[name], plain[name], same[name]) for name, _ in pages]
    rows.append(("total", sum(ours.values()), sum(plain.values()), sum(same.values())))
    for name, mine, theirs, alike in rows:
        print(
            f"{name:<{width}}  {mine * 1e3:>12.2f}  {theirs * 1e3:>11.2f}  {mine / theirs:>5.2f}  {alike * 1e3:>11.2f}  {mine / alike:>5.2f}"
        )
    _, mine, theirs, alike = rows[-1]
    print(
        f"extract_html costs {mine / theirs:.2f}× plain trafilatura, {mine / alike:.2f}× trafilatura with the same "
        "configuration (goal ≤ 1.20×)"
    )

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            for _, page in pages:
                extract_html(page, TZ)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
