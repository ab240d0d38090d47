"""Speed and correctness of Chinese script conversion on whole articles.

The project converts with the official OpenCC binding (``opencc`` wheels: phrase-level, the
Taiwan-standard ``s2tw`` and ``t2s`` configurations). Given ``--baseline DIR``, a folder where
the pure-Python ``opencc-python-reimplemented`` is installed (``pip install --target DIR
opencc-python-reimplemented``; both packages are imported as ``opencc``, so it is loaded from
that folder under another name), it converts the same articles with it too and prints the
speed ratio, and the phrases the two write differently.

Articles: the Chinese sources of ``benchmarks/faithfulness/`` and the demo pages' text, each
converted to Traditional and to Simplified, ``--rounds`` times after one warm-up round.

    python benchmarks/script_conversion.py [--baseline DIR] [--rounds 20]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

from bot.ingest.encoding import decode_bytes
from bot.ingest.extract import extract_html
from summarizer.text import ZH_HANS, ZH_HANT, convert_script

ROOT = Path(__file__).resolve().parent.parent
CHECKS = [("你们看差什么学什么，梁平预制菜产业园。", ZH_HANT, "你們看差什麼學什麼，梁平預製菜產業園。")]


def articles() -> list[str]:
    """The Chinese article texts the benchmark converts."""
    texts = []
    for language in ("zh-Hant", "zh-Hans"):
        for line in (ROOT / "benchmarks" / "faithfulness" / f"{language}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("type") == "source":
                texts.append(row["text"])
    for page in sorted((ROOT / "bot" / "demo").glob("*/*.html")):
        text = extract_html(decode_bytes(page.read_bytes()), ZoneInfo("Asia/Shanghai")).text
        if any("\u4e00" <= c <= "\u9fff" for c in text):
            texts.append(text)
    return texts


def reimplemented(folder: Path) -> ModuleType:
    """``opencc-python-reimplemented`` from ``folder``, imported as ``opencc_baseline``."""
    spec = importlib.util.spec_from_file_location(
        "opencc_baseline", folder / "opencc" / "__init__.py", submodule_search_locations=[str(folder / "opencc")]
    )
    if spec is None or spec.loader is None:
        sys.exit(f"script_conversion: no opencc-python-reimplemented in {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["opencc_baseline"] = module
    spec.loader.exec_module(module)
    return module


def timed(convert, texts: list[str], rounds: int) -> float:
    """Seconds per article (both directions), the best of ``rounds`` passes after a warm-up."""
    for text in texts:
        convert(text, ZH_HANT), convert(text, ZH_HANS)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            convert(text, ZH_HANT), convert(text, ZH_HANS)
        best = min(best, time.perf_counter() - started)
    return best / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="folder with opencc-python-reimplemented installed (pip --target)")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    texts = articles()
    characters = sum(len(t) for t in texts) // len(texts)
    print(f"{len(texts)} articles, {characters} characters on average; each converted to zh-Hant and zh-Hans")
    for text, target, expected in CHECKS:
        print(
            f"official OpenCC: {convert_script(text, target)} ({'right' if convert_script(text, target) == expected else 'WRONG'})"
        )
    official = timed(convert_script, texts, args.rounds)
    print(f"official OpenCC (opencc wheel)         {official * 1000:8.3f} ms per article")
    if not args.baseline:
        return
    module = reimplemented(args.baseline)
    converters = {ZH_HANT: module.OpenCC("s2tw"), ZH_HANS: module.OpenCC("t2s")}  # the project's configurations

    def baseline(text: str, target: str) -> str:
        return converters[target].convert(text)

    for text, target, expected in CHECKS:
        written = baseline(text, target)
        print(f"opencc-python-reimplemented: {written} ({'right' if written == expected else 'WRONG'})")
    slow = timed(baseline, texts, args.rounds)
    print(f"opencc-python-reimplemented (0.1.7)    {slow * 1000:8.3f} ms per article")
    print(f"ratio: the official binding takes {official / slow:.3f}x the time ({slow / official:.0f}x faster)")
    differ = [t for t in texts if baseline(t, ZH_HANT) != convert_script(t, ZH_HANT)]
    print(f"articles whose Traditional text differs between the two: {len(differ)} of {len(texts)}")
    for text in differ[:3]:
        ours, theirs = convert_script(text, ZH_HANT), baseline(text, ZH_HANT)
        at = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b)
        print(f"  official {ours[max(0, at - 6) : at + 6]!r}  reimplemented {theirs[max(0, at - 6) : at + 6]!r}")


if __name__ == "__main__":
    main()
