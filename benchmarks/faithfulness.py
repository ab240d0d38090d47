"""How the faithfulness gate agrees with human labels on the project's corpus
(``benchmarks/faithfulness/*.jsonl``: articles, and summaries labelled faithful or unfaithful by
error type).

Prints, per language: the false-rejection rate (faithful summaries refused) by style, the catch
rate (unfaithful summaries refused) by error type, and the checks that refused them.

    python benchmarks/faithfulness.py [--errors] [--language en] [--models models.yaml]

With ``--models``, the file's ``checker`` profile judges too (after the rule checks), where it
can run: that measures a checker model or server on the same corpus.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from summarizer import Summarizer

CORPUS = Path(__file__).with_name("faithfulness")
# The goals the gate is held to.
MAX_FALSE_REJECTION = 0.10
MIN_CATCH_HARD = 0.95  # number, date, unit, place and entity errors
MIN_CATCH_ALL = 0.60
HARD_ERRORS = ("number", "date", "unit", "place", "entity")


def load(folder: Path = CORPUS) -> tuple[dict[str, dict], list[dict]]:
    """The corpus's articles by id and its summaries, in file order."""
    sources: dict[str, dict] = {}
    summaries: list[dict] = []
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            item = json.loads(line)
            item["where"] = f"{path.name}:{number}"
            (sources.__setitem__(item["id"], item) if item["type"] == "source" else summaries.append(item))
    return sources, summaries


def evaluate(sources: dict[str, dict], summaries: list[dict], summarizer: Summarizer | None = None) -> list[dict]:
    """Each summary with the gate's verdict (``refused``, ``check``, ``reason``): the rule checks,
    and the checker of ``summarizer``'s models file when it names one."""
    summarizer = summarizer or Summarizer()
    verdicts = summarizer.judge_many([(i["summary"], sources[i["source"]]["text"], i["language"]) for i in summaries])
    return [
        {**item, "refused": not verdict.faithful, "check": verdict.check, "reason": verdict.reason}
        for item, verdict in zip(summaries, verdicts)
    ]


def rate(items: list[dict]) -> str:
    refused = sum(i["refused"] for i in items)
    return f"{refused / len(items):6.1%} ({refused}/{len(items)})" if items else "     -"


def report(results: list[dict], show_errors: bool) -> bool:
    """Print the tables; True when every goal is met."""
    met = True
    for language in sorted({r["language"] for r in results}):
        rows = [r for r in results if r["language"] == language]
        faithful = [r for r in rows if r["label"] == "faithful"]
        wrong = [r for r in rows if r["label"] != "faithful"]
        hard = [r for r in wrong if r["error"] in HARD_ERRORS or r["error"] == "entity_in_article"]
        print(f"\n== {language}: {len(faithful)} faithful, {len(wrong)} unfaithful")
        print(f"false rejection  {rate(faithful)}   goal <= {MAX_FALSE_REJECTION:.0%}")
        for style, items in sorted(_by(faithful, "style").items()):
            print(f"  {style:<22}{rate(items)}")
        print(f"caught (all)     {rate(wrong)}   goal >= {MIN_CATCH_ALL:.0%}")
        print(f"caught (number, date, unit, place, entity) {rate(hard)}   goal >= {MIN_CATCH_HARD:.0%}")
        for error, items in sorted(_by(wrong, "error").items()):
            print(f"  {error:<22}{rate(items)}")
        checks = Counter(r["check"] for r in rows if r["refused"])
        print("refusals by check: " + ", ".join(f"{c} {n}" for c, n in checks.most_common()))
        met &= _share(faithful) <= MAX_FALSE_REJECTION and _share(wrong) >= MIN_CATCH_ALL and _share(hard) >= MIN_CATCH_HARD
        if show_errors:
            for r in faithful:
                if r["refused"]:
                    print(f"  FALSE REJECTION {r['id']} [{r['style']}] {r['reason']}\n      {r['summary']}")
            for r in wrong:
                if not r["refused"]:
                    print(f"  MISSED {r['id']} [{r['error']}] {r['summary']}\n      ({r.get('note', '')})")
    return met


def _by(items: list[dict], key: str) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        groups[str(item.get(key))].append(item)
    return groups


def _share(items: list[dict]) -> float:
    return sum(i["refused"] for i in items) / len(items) if items else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every false rejection and every miss")
    parser.add_argument("--language", help="only this language (en, zh-Hant, zh-Hans)")
    parser.add_argument("--models", type=Path, help="a models.yaml whose checker profile judges too")
    args = parser.parse_args()
    summarizer = Summarizer.from_file(args.models)
    if summarizer.config.checker:
        name = summarizer.config.checker
        print(f"checker: {name} ({'can run' if summarizer.available(name) else 'cannot run: rule checks only'})")
    sources, summaries = load()
    if args.language:
        summaries = [s for s in summaries if s["language"] == args.language]
    started = time.perf_counter()
    results = evaluate(sources, summaries, summarizer)
    elapsed = time.perf_counter() - started
    met = report(results, args.errors)
    print(
        f"\n{len(results)} summaries judged in {elapsed:.1f} s ({elapsed / max(1, len(results)) * 1000:.1f} ms each); "
        f"goals {'met' if met else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
