"""Length of the extractive summaries before and after the digest-sized budget.

Texts: the bundled demo pages (``bot/demo/**``, extracted as the service extracts them) and the
seed text (``tests/fixtures/liangping-2023-02-24.txt``). Lengths are characters for Chinese and
words for English; phone lines are estimated at 18 CJK characters or 40 other characters a line.

Before: the budget the extractive profile had (120 characters, 60 words). After: the default
budget (60 characters, 35 words), without and with the article's title (a sentence that only
restates the title, which the digest shows above the summary, is not picked).

    python benchmarks/summary_length.py
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.ingest.encoding import decode_bytes
from bot.ingest.extract import ExtractedArticle, extract_html, extract_plain_text
from summarizer.backends.extractive import ExtractiveBackend
from summarizer.profiles import Profile
from summarizer.text import cjk_count, is_chinese, text_length

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "fixtures" / "liangping-2023-02-24.txt"
TZ = ZoneInfo("Asia/Shanghai")
OLD_MAX_CHARS, OLD_MAX_WORDS = 120, 60
CJK_PER_LINE, LATIN_PER_LINE = 18, 40


@dataclass
class Setting:
    """One row group of the table: a budget, and whether the summarizer gets the title."""

    name: str
    backend: ExtractiveBackend
    with_title: bool


def articles() -> list[ExtractedArticle]:
    """The demo pages and the seed text, extracted."""
    pages = sorted((ROOT / "bot" / "demo").glob("**/*.html"))
    found = [extract_html(decode_bytes(page.read_bytes()), TZ, url=page.as_uri()) for page in pages]
    return [*found, extract_plain_text(SEED.read_text(encoding="utf-8"), TZ)]


def phone_lines(text: str) -> int:
    """Lines ``text`` takes on a phone: 18 CJK characters or 40 other characters a line."""
    cjk = cjk_count(text)
    return math.ceil(cjk / CJK_PER_LINE + (len(text) - cjk) / LATIN_PER_LINE)


def main() -> None:
    default = Profile()
    settings = [
        Setting(f"before: {OLD_MAX_CHARS} chars / {OLD_MAX_WORDS} words", ExtractiveBackend(OLD_MAX_CHARS, OLD_MAX_WORDS), False),
        Setting(
            f"after: {default.max_chars} chars / {default.max_words} words",
            ExtractiveBackend(default.max_chars, default.max_words),
            False,
        ),
        Setting("after, with titles", ExtractiveBackend(default.max_chars, default.max_words), True),
    ]
    texts = articles()
    groups = {
        "Chinese (characters)": [a for a in texts if is_chinese(a.language)],
        "English (words)": [a for a in texts if not is_chinese(a.language)],
    }
    print("| budget | language (unit) | texts | text avg | summary avg | summary max | phone lines avg | phone lines max |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for group, members in groups.items():
        article_lengths = [text_length(a.text, a.language) for a in members]
        for setting in settings:
            summaries = [
                (setting.backend.summarize(a.text, a.language, a.title if setting.with_title else None), a.language)
                for a in members
            ]
            lengths = [text_length(s, language) for s, language in summaries]
            lines = [phone_lines(s) for s, _ in summaries]
            print(
                f"| {setting.name} | {group} | {len(members)} | {statistics.mean(article_lengths):.0f} "
                f"| {statistics.mean(lengths):.1f} | {max(lengths)} | {statistics.mean(lines):.1f} | {max(lines)} |"
            )


if __name__ == "__main__":
    main()
