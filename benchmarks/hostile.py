"""The hostile-web corpus (tests/fakes/hostile_web.py) through ``newsbot fetch`` in a subprocess.

One feed on 127.0.0.1 carries 3 ordinary items with their text, 3 teasers of ordinary pages,
every hostile case (bombs that inflate to ``--bomb-gb`` GB, stacked and unknown encodings,
redirect loops, links and redirects to a private host on 127.0.0.2, exotic charsets, drips,
truncated bodies, a ``--article-mb`` MB article...) and one more ordinary page last. The
fetch runs with the default ``[fetch]`` settings except no politeness delay, no retries and
a 5 s deadline per request, on a fresh SQLite database.

Printed: cases tried; cases survived (the article stored, or refused with the expected
reason, and the pass going on); ordinary articles lost; the fetch process's peak RSS
(``ru_maxrss`` of the child; goal < 1 GiB) and wall time; the slowest cases, each timed from
its first request to the next request the server got (fetch, extraction and storing; cases
refused before connecting take ~0).

    python benchmarks/hostile.py [--bomb-gb 2] [--article-mb 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.fakes.hostile_web import ANY, Answer, HostileServer, build_corpus, feed, ordinary_pages  # noqa: E402

FETCH = "[fetch]\nmin_delay_seconds = 0\nmax_retries = 0\ntimeout_seconds = 5\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bomb-gb", type=float, default=2.0, help="what the bombs inflate to")
    parser.add_argument("--article-mb", type=float, default=3.0, help="size of the big article page")
    args = parser.parse_args()

    web, private = HostileServer(), HostileServer("127.0.0.2")
    started = time.perf_counter()
    cases = build_corpus(web, private, int(args.bomb_gb * 2**30), int(args.article_mb * 1_000_000))
    print(f"corpus built in {time.perf_counter() - started:.1f} s", flush=True)
    *ordinary, last = ordinary_pages(web, 4)
    web.routes["/feed.xml"] = Answer(
        feed(ordinary + [c.url for c in cases] + [last]), headers=[("Content-Type", "application/rss+xml")]
    )
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{folder}/news.db"
        config = Path(folder) / "newsbot.toml"
        config.write_text(
            f'[database]\nurl = "{database}"\n\n[[sources]]\nname = "hostile"\nkind = "rss"\n'
            f'url = "{web.url("/feed.xml")}"\nmax_articles = 100\n\n' + FETCH,
            encoding="utf-8",
        )
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "fetch", "-c", str(config), "--json"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": "/usr/bin:/bin", "HOME": folder, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
        )
        wall = time.perf_counter() - started
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        engine = create_engine(database)
        with engine.connect() as connection:
            stored = set(connection.scalars(text("SELECT url FROM articles")))
        engine.dispose()
    web.close()
    private.close()
    if result.returncode != 0:
        print(f"newsbot fetch exited {result.returncode}:\n{result.stderr[-3000:]}")
    errors = json.loads(result.stdout)["sources"][0]["errors"] if result.stdout.strip() else []

    survived = [c for c in cases if result.returncode == 0 and _survived(c, stored, errors)]
    wanted = {f"http://news.example/full/{n}.html" for n in range(3)} | set(ordinary) | {last}
    for case in cases:
        if case not in survived:
            print(f"  did not survive: {case.name}: {_error(case.url, errors) or 'stored'}")
    print(f"cases tried: {len(cases)}")
    print(f"cases survived: {len(survived)}")
    print(f"ordinary articles lost: {len(wanted - stored)} of {len(wanted)}")
    print(f"peak RSS of the fetch process: {peak_mib:.0f} MiB (goal < 1024)")
    print(f"fetch wall time: {wall:.1f} s")
    print("slowest cases:")
    for seconds, name in sorted(_timings(cases, web, last), reverse=True)[:3]:
        print(f"  {seconds:6.2f} s  {name}")


def _error(url: str, errors: list[str]) -> str | None:
    return next((e.removeprefix(f"{url}: ") for e in errors if e.startswith(f"{url}: ")), None)


def _survived(case, stored: set[str], errors: list[str]) -> bool:
    error = _error(case.url, errors)
    if case.expect is ANY:
        return True
    if case.expect is None:
        return case.url in stored and error is None
    return error is not None and case.expect in error


def _timings(cases, web: HostileServer, last: str) -> list[tuple[float, str]]:
    """(seconds, name) per case that reached the server: its first request to the next request
    for another path."""
    hits = sorted(web.hits, key=lambda h: h.at)
    path_of = {c.url.removeprefix(web.base).split("?")[0]: c.name for c in cases if c.url.startswith(web.base)}
    timings = []
    for n, hit in enumerate(hits):
        name = path_of.get(hit.path.split("?")[0])
        following = next((h for h in hits[n + 1 :] if h.path != hit.path), None)
        if name and following and not any(h.path == hit.path for h in hits[:n]):  # its redirect hops are its own
            timings.append((following.at - hit.at, name))
    return timings


if __name__ == "__main__":
    main()
