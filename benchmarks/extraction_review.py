"""Review the extractor's output on the portal corpus against the reviewed reference texts.

For every page of ``tests/fixtures/portals`` (or the ones named), runs
``bot.ingest.extract.extract_html`` as the tests do and prints a unified diff of its text
against ``NAME.reference.txt`` (``-`` the reference, ``+`` the extractor now), then the
snippet checks that fail (a ``with`` phrase missing, ``without`` furniture present, a wrong
title, date, language or bulletin). After reading the diff, ``--accept NAME`` (repeatable) or
``--accept-all`` makes the extractor's text the new reference; a page new to the corpus gets its
first reference this way. Exit status 1 when a snippet check fails (also after accepting: the
snippets file is the test, edit it by hand where the page's judgement changed).

    python benchmarks/extraction_review.py [NAME ...] [--accept NAME] [--accept-all] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.portal_corpus import CORPUS, extract, failures, load_corpus  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="pages to review (default: all)")
    parser.add_argument("--accept", action="append", default=[], metavar="NAME", help="rewrite this page's reference")
    parser.add_argument("--accept-all", action="store_true", help="rewrite every reviewed page's reference")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the corpus folder (default: %(default)s)")
    args = parser.parse_args()

    pages = load_corpus(args.corpus)
    known = {page.name for page in pages}
    if unknown := sorted(set(args.names + args.accept) - known):
        parser.error(f"not in the corpus: {', '.join(unknown)} (pages are {args.corpus}/NAME.html)")
    chosen = [page for page in pages if not args.names or page.name in args.names]
    changed = failed = 0
    for page in chosen:
        actual = extract(page)
        text = actual["text"].strip()
        diff = list(
            difflib.unified_diff(
                page.reference.splitlines(),
                text.splitlines(),
                f"{page.name}.reference.txt",
                f"{page.name} (extract_html)",
                lineterm="",
            )
        )
        problems = failures(page, actual)
        changed += bool(diff)
        failed += bool(problems)
        if diff:
            print("\n".join(diff))
        for problem in problems:
            print(f"{page.name}: {problem}")
        if diff and page.reference_path is not None and (args.accept_all or page.name in args.accept):
            page.reference_path.write_text(f"{text}\n", encoding="utf-8")
            print(f"{page.name}: reference rewritten")
    print(f"{len(chosen)} pages: {changed} differ from their reference, {failed} fail a snippet check")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
