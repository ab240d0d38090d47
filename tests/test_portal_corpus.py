"""Regression corpus: portal and publisher layouts of many families, judged by snippets.

Each ``fixtures/portals/NAME.html`` is extracted and must give the title, publication time,
language and bulletins of ``NAME.snippets.json``, hold every ``with`` phrase and none of the
``without`` furniture (see :mod:`tests.support.portal_corpus`). After a change to the extractor,
``python benchmarks/extraction_review.py`` shows the diff against the reviewed reference texts.
"""

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.support.portal_corpus import CORPUS, CorpusPage, extract, failures, load_corpus

PAGES = load_corpus()


def test_corpus_covers_enough_layouts():
    assert len(PAGES) >= 30
    assert sum(page.language == "en" for page in PAGES) >= 15
    for page in PAGES:
        assert len(page.with_) >= 2 and page.without, page.name
        assert page.reference, f"{page.name} has no reference text"
        # the snippets agree with the reviewed text: a must-phrase is in it, furniture is not
        assert [s for s in page.with_ if s not in page.reference] == [], page.name
        assert [s for s in page.without if s in page.reference] == [], page.name


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_page_extracts_its_snippets(page: CorpusPage):
    assert failures(page, extract(page)) == []


def test_a_missing_or_unwanted_snippet_fails():
    page = next(page for page in PAGES if page.name == "english-us")
    actual = extract(page)
    assert failures(page, actual) == []
    actual["text"] = actual["text"].replace(page.with_[0], "") + f"\n{page.without[0]}"
    assert failures(page, actual) == [f"missing: {page.with_[0]!r}", f"unwanted: {page.without[0]!r}"]


def test_review_script_shows_the_diff_and_accepts_it(tmp_path: Path, monkeypatch, capsys):
    """extraction_review.py: a diff against the reference, exit 1 on a failed snippet, --accept rewrites."""
    for suffix in (".html", ".snippets.json", ".reference.txt"):
        shutil.copy(CORPUS / f"en-wire-reuters{suffix}", tmp_path / f"en-wire-reuters{suffix}")
    reference = tmp_path / "en-wire-reuters.reference.txt"
    reference.write_text("An old line.\n" + reference.read_text(encoding="utf-8"), encoding="utf-8")
    spec = json.loads((tmp_path / "en-wire-reuters.snippets.json").read_text(encoding="utf-8"))
    spec["without"].append("Food store sales volumes")  # now judged furniture: the check fails
    (tmp_path / "en-wire-reuters.snippets.json").write_text(json.dumps(spec), encoding="utf-8")
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "extraction_review.py"
    loader = importlib.util.spec_from_file_location("extraction_review", script)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)

    def review(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["extraction_review.py", "--corpus", str(tmp_path), *args])
        try:
            status = module.main()
        except SystemExit as exit_:
            status = exit_.code
        return status, capsys.readouterr().out

    status, shown = review()
    assert status == 1
    assert "-An old line." in shown
    assert "en-wire-reuters: unwanted: 'Food store sales volumes'" in shown
    assert reference.read_text(encoding="utf-8").startswith("An old line.")
    status, shown = review("--accept", "en-wire-reuters")
    assert status == 1 and "reference rewritten" in shown
    assert reference.read_text(encoding="utf-8").startswith("LONDON, March 22 (Reuters)")
    assert review("--accept", "nope")[0] == 2
