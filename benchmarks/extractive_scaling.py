"""Time and peak memory of the extractive summarizer as an article grows, in Chinese and English.

Inputs are the demo articles (bot/demo) repeated, each copy numbered so that its sentences
differ, up to 10 KB, 100 KB, 1 MB and 5 MB of UTF-8. Each size is summarized once after a
warm-up run (the script converter's dictionaries load once per process); peak memory is what
tracemalloc saw allocated during the call. Ratios are against the 10 KB run of the same
language, measured in the same process.

    python benchmarks/extractive_scaling.py [--sizes 10,100,1000,5000]   (sizes in KB)
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.ingest.extract import extract_html
from summarizer.backends.extractive import ExtractiveBackend

DEMO = Path(__file__).resolve().parent.parent / "bot" / "demo"
ARTICLES = {"zh-Hant": DEMO / "liangping" / "2023-02-24-training.html", "en": DEMO / "english" / "2023-02-25-wetland.html"}


def article_text(language: str, size: int) -> str:
    """The demo article of ``language`` repeated (copies numbered) to ``size`` bytes of UTF-8."""
    text = extract_html(ARTICLES[language].read_text(encoding="utf-8"), ZoneInfo("Asia/Shanghai")).text
    parts, total, copy = [], 0, 0
    while total < size:
        numbered = f"{copy}: {text}\n" if language == "en" else f"第{copy}篇。{text}\n"
        parts.append(numbered)
        total += len(numbered.encode("utf-8"))
        copy += 1
    return "".join(parts).encode("utf-8")[:size].decode("utf-8", errors="ignore")


def measure(backend: ExtractiveBackend, text: str, language: str) -> tuple[float, float]:
    """Seconds and peak MB of one summary of ``text``."""
    tracemalloc.start()
    start = time.perf_counter()
    backend.summarize(text, language)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000", help="input sizes in KB, the first is the baseline")
    sizes = [int(s) * 1000 for s in parser.parse_args().sizes.split(",")]
    backend = ExtractiveBackend()
    print(f"{'language':<9} {'input':>8} {'seconds':>9} {'peak MB':>9} {'x time':>8} {'x memory':>9}")
    for language in ARTICLES:
        backend.summarize(article_text(language, sizes[0]), language)  # warm-up
        base: tuple[float, float] | None = None
        for size in sizes:
            seconds, peak = measure(backend, article_text(language, size), language)
            base = base or (seconds, peak)
            ratios = f"{seconds / base[0]:>8.1f} {peak / base[1]:>9.1f}"
            print(f"{language:<9} {size // 1000:>5} KB {seconds:>9.3f} {peak:>9.1f} {ratios}")


if __name__ == "__main__":
    main()
