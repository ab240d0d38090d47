"""Extraction quality on the portal corpus: newsbot's ``extract_html`` against plain trafilatura.

For every page of ``tests/fixtures/portals`` (see ``tests/support/portal_corpus.py``), grouped by
language (``en``: the English publisher and council layouts; ``zh``: the Chinese portals), this
scores the text of

- ``bot.ingest.extract.extract_html(page, Asia/Shanghai)`` (what the service stores), and
- ``trafilatura.extract(page, include_comments=False)`` (the plain extractor, its defaults)

against the page's reviewed reference text (``NAME.reference.txt``):

- **F1**: bag-of-tokens precision and recall, a token being a word (letters and digits, lower
  case) in alphabetic text and a single character in Chinese text, so that the figure is word F1
  on English pages and character F1 on Chinese ones; each page counts once (the group's figure is
  the mean of its pages' precision, recall and F1);
- **snippets**: the share of ``with`` phrases found plus ``without`` furniture absent;
- **date**: the share of pages whose publication day is right (the day of ``published`` in the
  page's snippets file, as written with its offset; no date where the page has none counts as
  right); ``exact`` for newsbot also requires the time and offset.

    python benchmarks/extraction_quality.py [--pages]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from tests.support.portal_corpus import CorpusPage, extract, load_corpus  # noqa: E402

_TOKENS = re.compile(r"[^\W\d_\u3400-\u9fff\uf900-\ufaff]+|\d+|[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class Score:
    """One extractor's figures for one page."""

    precision: float
    recall: float
    f1: float
    snippets: float
    day_right: bool
    exact_right: bool


def tokens(text: str) -> Counter[str]:
    """Words of alphabetic text (lower case), numbers, and single Chinese characters."""
    return Counter(_TOKENS.findall(text.lower()))


def overlap_scores(extracted: str, reference: str) -> tuple[float, float, float]:
    """Bag-of-tokens precision, recall and F1 of ``extracted`` against ``reference``."""
    got, want = tokens(extracted), tokens(reference)
    common = sum((got & want).values())
    precision = common / sum(got.values()) if got else 0.0
    recall = common / sum(want.values()) if want else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def score(page: CorpusPage, text: str, published: str | None) -> Score:
    """The page's figures for an extracted text and a publication date (ISO 8601, or a day)."""
    precision, recall, f1 = overlap_scores(text, page.reference)
    hits = sum(s in text for s in page.with_) + sum(s not in text for s in page.without)
    day = (published or "")[:10] == (page.published or "")[:10]
    return Score(precision, recall, f1, hits / (len(page.with_) + len(page.without)), day, published == page.published)


def newsbot(page: CorpusPage) -> Score:
    """``extract_html``'s figures."""
    article = extract(page)
    return score(page, article["text"], article["published"])


def plain_trafilatura(page: CorpusPage) -> Score:
    """Plain trafilatura's figures: ``extract`` for the text, ``extract_metadata`` for the date."""
    text = trafilatura.extract(page.html, include_comments=False) or ""
    metadata = trafilatura.extract_metadata(page.html)
    return score(page, text, metadata.date if metadata is not None else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", action="store_true", help="also print every page's F1 and date")
    args = parser.parse_args()

    pages = load_corpus()
    results = {page.name: (newsbot(page), plain_trafilatura(page)) for page in pages}
    if args.pages:
        print(f"{'page':<24} {'newsbot F1':>10} {'date':>5}  {'trafilatura F1':>14} {'date':>5}")
        for page in pages:
            ours, plain = results[page.name]
            print(f"{page.name:<24} {ours.f1:>10.3f} {ours.day_right!s:>5}  {plain.f1:>14.3f} {plain.day_right!s:>5}")
        print()
    header = f"{'group':<6} {'pages':>5}  {'extractor':<12} {'P':>6} {'R':>6} {'F1':>6} {'snippets':>8} {'date':>6} {'exact':>6}"
    print(header)
    print("-" * len(header))
    for group in ("en", "zh", "all"):
        chosen = [page for page in pages if group in ("all", page.group)]
        for label, at in (("newsbot", 0), ("trafilatura", 1)):
            scores = [results[page.name][at] for page in chosen]
            exact = f"{mean(s.exact_right for s in scores):>6.0%}" if at == 0 else f"{'':>6}"
            print(
                f"{group:<6} {len(chosen):>5}  {label:<12} {mean(s.precision for s in scores):>6.3f}"
                f" {mean(s.recall for s in scores):>6.3f} {mean(s.f1 for s in scores):>6.3f}"
                f" {mean(s.snippets for s in scores):>8.1%} {mean(s.day_right for s in scores):>6.0%} {exact}"
            )


if __name__ == "__main__":
    main()
