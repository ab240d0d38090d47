"""The forecast chart: CPU time and PNG size of one render, per reader language.

Renders the demo's sample forecast (72 hours, moved to today) ``--runs`` times per language in
this process, the way the bot does (the first render of a process also loads matplotlib and the
CJK font: reported apart). Goals: at most 0.5 s of CPU per chart and 60 KB of PNG.

    python benchmarks/chart.py [--runs 10] [--out DIR]   (--out: also write each language's chart there)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.texts import LANGUAGES  # noqa: E402
from bot.weather_chart import render_chart  # noqa: E402
from bot.weather_service import sample_forecast  # noqa: E402

CPU_GOAL = 0.5  # seconds
SIZE_GOAL = 60_000  # bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="renders per language")
    parser.add_argument("--out", type=Path, help="write each language's chart here")
    args = parser.parse_args()
    region = Settings().region
    now = datetime.now(region.tz)
    forecast = sample_forecast(now, region)
    start = now.replace(minute=0, second=0, microsecond=0, tzinfo=None)

    began = time.process_time()
    render_chart(forecast, LANGUAGES[0], start)
    print(f"first render (loads matplotlib and the font): {time.process_time() - began:.3f} s CPU")
    print(f"{'language':<9} {'CPU median':>11} {'CPU max':>8} {'PNG bytes':>10}")
    ok = True
    for language in LANGUAGES:
        times, png = [], b""
        for _ in range(args.runs):
            began = time.process_time()
            png = render_chart(forecast, language, start) or b""
            times.append(time.process_time() - began)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"chart-{language}.png").write_bytes(png)
        ok &= max(times) <= CPU_GOAL and len(png) <= SIZE_GOAL
        print(f"{language:<9} {statistics.median(times):>9.3f} s {max(times):>6.3f} s {len(png):>10,}")
    print(f"goals: <= {CPU_GOAL} s CPU and <= {SIZE_GOAL:,} bytes per chart: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
