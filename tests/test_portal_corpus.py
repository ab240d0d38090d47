"""Regression corpus: portal layouts of many families, each extracted and compared exactly.

Each ``fixtures/portals/NAME.html`` has a ``NAME.expected.json`` holding the title, the
publication time (ISO 8601, or null), the language, the clean text (paragraphs and table
rows one per line) and, where the page carries any, the weather bulletins.
"""

import json
from pathlib import Path

import pytest

from bot.ingest.encoding import decode_bytes
from bot.ingest.extract import extract_html
from tests.conftest import SHANGHAI

PORTALS = Path(__file__).resolve().parent / "fixtures" / "portals"
PAGES = sorted(PORTALS.glob("*.html"))


def _expected(page: Path) -> dict:
    return json.loads(page.with_name(f"{page.stem}.expected.json").read_text(encoding="utf-8"))


def test_corpus_covers_enough_layouts():
    assert len(PAGES) >= 15
    assert all(page.with_name(f"{page.stem}.expected.json").is_file() for page in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_page_extracts_exactly(page: Path):
    expected = _expected(page)
    article = extract_html(decode_bytes(page.read_bytes()), SHANGHAI)
    actual = article.to_dict()
    assert actual["text"].splitlines() == expected["text"].splitlines()
    assert (actual["title"], actual["published"], actual["language"]) == (
        expected["title"], expected["published"], expected["language"]
    )
    bulletins = [{key: b[key] for key in ("issuer", "issued_at", "periods")} for b in actual["bulletins"]]
    assert bulletins == expected.get("bulletins", [])
