"""Keyword matching for follows and search: script-, case- and width-insensitive.

Texts and keywords are compared in :func:`summarizer.text.search_form` (Simplified, lower
case, punctuation as single spaces). A keyword in Latin letters or digits matches whole
words only ("rain" is not in "train"); a Chinese keyword matches anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Iterator
from typing import Generic, TypeVar

import ahocorasick

from summarizer.text import search_form

K = TypeVar("K", bound=Hashable)
MAX_KEYWORD_CHARS = 40
_SEPARATORS = re.compile(r"[,，、;；]+")
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」')


def parse_keywords(text: str) -> list[str]:
    """The keywords a reader typed: separated by commas (，、;) or, without any, by spaces;
    a quoted phrase ("road works", 「…」) stays whole. Order kept, repeats dropped."""
    split = _SEPARATORS.split if _SEPARATORS.search(_QUOTED.sub(" ", text)) else str.split
    words: list[str] = []
    position = 0
    for quoted in _QUOTED.finditer(text):
        words += split(text[position : quoted.start()])
        words.append(next(filter(None, quoted.groups())))
        position = quoted.end()
    words += split(text[position:])
    seen: dict[str, str] = {}
    for word in words:
        word = " ".join(word.split())
        if word and search_form(word) not in seen:
            seen[search_form(word)] = word
    return list(seen.values())


def keyword_problem(keyword: str) -> str | None:
    """Why ``keyword`` cannot be followed ("short", "long", "empty"), or None."""
    form = search_form(keyword)
    if not form:
        return "empty"
    if max(len(keyword), len(form)) > MAX_KEYWORD_CHARS:  # NFKC may lengthen a keyword (﷽)
        return "long"
    if len(form.replace(" ", "")) < 2:
        return "short"
    return None


def _word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def mentions(text_form: str, keyword_form: str, start: int | None = None) -> bool:
    """Whether ``text_form`` contains ``keyword_form`` (both in search form) as a keyword
    matches: whole words at Latin edges. ``start``: check only the occurrence at that index."""
    if not keyword_form:
        return False
    end_offset = len(keyword_form)
    for at in [start] if start is not None else _occurrences(text_form, keyword_form):
        before = text_form[at - 1] if at > 0 else " "
        after = text_form[at + end_offset] if at + end_offset < len(text_form) else " "
        if not (_word_char(keyword_form[0]) and _word_char(before)) and not (_word_char(keyword_form[-1]) and _word_char(after)):
            return True
    return False


def _occurrences(text: str, word: str) -> Iterator[int]:
    """Every index where ``word`` starts in ``text``, overlapping ones included."""
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)


class KeywordMatcher(Generic[K]):
    """Many keywords at once (Aho-Corasick): built once, then each text is scanned in one pass."""

    def __init__(self, keywords: Iterable[tuple[K, str]]) -> None:
        """``keywords``: (owner, keyword in search form) pairs; one keyword may have many owners."""
        owners: dict[str, list[K]] = {}
        for owner, form in keywords:
            if form:
                owners.setdefault(form, []).append(owner)
        self._automaton = ahocorasick.Automaton()
        for form, keys in owners.items():
            self._automaton.add_word(form, (form, keys))
        if owners:
            self._automaton.make_automaton()
        self._empty = not owners

    def matches(self, text_form: str) -> dict[K, str]:
        """Each owner whose keyword ``text_form`` mentions, with the (first) keyword found."""
        found: dict[K, str] = {}
        if self._empty:
            return found
        for end, (form, keys) in self._automaton.iter(text_form):
            if mentions(text_form, form, end - len(form) + 1):
                for key in keys:
                    found.setdefault(key, form)
        return found
