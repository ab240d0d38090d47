"""The portal corpus: pages of many site families, each judged by snippets, with a reviewed reference text.

For every ``fixtures/portals/NAME.html`` there are

- ``NAME.snippets.json``: ``title``, ``published`` (ISO 8601 with offset, or null), ``language``,
  ``bulletins`` (where the page carries weather bulletins), ``with`` (phrases of the article that
  the extracted text must hold) and ``without`` (page furniture it must not: menus, related
  headlines, bylines and bare timestamps, credits, share bars, comments, cookie notices);
- ``NAME.reference.txt``: the article's text as a person accepted it (paragraphs and table rows
  one a line), for ``benchmarks/extraction_review.py`` (the diff to review) and
  ``benchmarks/extraction_quality.py`` (the F1 score).

The snippets are what the tests hold the extractor to; the reference text is what a change to
the extractor is reviewed against.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.ingest.encoding import decode_bytes
from bot.ingest.extract import extract_html

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "portals"
TZ = ZoneInfo("Asia/Shanghai")  # the region the pages are read for: dates without an offset are local to it


@dataclass
class CorpusPage:
    """One page of the corpus with what it is judged by."""

    name: str
    html: str
    title: str
    published: str | None
    language: str
    with_: list[str]
    without: list[str]
    bulletins: list[dict] = field(default_factory=list)
    reference_path: Path | None = None

    @property
    def reference(self) -> str:
        """The reviewed reference text ("" when there is none yet)."""
        if self.reference_path is None or not self.reference_path.is_file():
            return ""
        return self.reference_path.read_text(encoding="utf-8").strip()

    @property
    def group(self) -> str:
        """The language group the quality figures are given for: "en" or "zh"."""
        return "en" if self.language == "en" else "zh"


def load_corpus(directory: Path = CORPUS) -> list[CorpusPage]:
    """Every page of the corpus, by name."""
    pages = []
    for path in sorted(directory.glob("*.html")):
        spec = json.loads(path.with_name(f"{path.stem}.snippets.json").read_text(encoding="utf-8"))
        pages.append(
            CorpusPage(
                name=path.stem,
                html=decode_bytes(path.read_bytes()),
                title=spec["title"],
                published=spec["published"],
                language=spec["language"],
                with_=spec["with"],
                without=spec["without"],
                bulletins=spec.get("bulletins", []),
                reference_path=path.with_name(f"{path.stem}.reference.txt"),
            )
        )
    return pages


def extract(page: CorpusPage) -> dict:
    """``newsbot extract --json``'s shape for the page, read for the corpus's region."""
    return extract_html(page.html, TZ).to_dict()


def failures(page: CorpusPage, actual: dict) -> list[str]:
    """What the extraction got wrong, one line each: missing or unwanted snippets, wrong fields."""
    text = actual["text"]
    found = [f"missing: {snippet!r}" for snippet in page.with_ if snippet not in text]
    found += [f"unwanted: {snippet!r}" for snippet in page.without if snippet in text]
    for key in ("title", "published", "language"):
        if actual[key] != getattr(page, key):
            found.append(f"{key}: {actual[key]!r}, expected {getattr(page, key)!r}")
    bulletins = [{key: b[key] for key in ("issuer", "issued_at", "periods")} for b in actual["bulletins"]]
    if bulletins != page.bulletins:
        found.append(f"bulletins: {bulletins!r}, expected {page.bulletins!r}")
    return found
