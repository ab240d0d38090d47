"""Extractive summarizer: TextRank over sentences with a lead bias; needs no model weights.

Also the length budget every profile kind shares: :func:`fit_to_budget` cuts a summary where
a reader expects a pause, and :func:`restates_title` tells a sentence that only repeats the
headline the digest already shows above the summary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from summarizer.text import bounded, is_chinese, normalise_for_matching, split_sentences, text_length

_TERMINAL = re.compile(r"[。！？!?.;；…][”’」』）)\"']*$")
_QUESTION = re.compile(r"[?？][”’」』）)\"']*$")
# Sentences that lean on the one before ("這是…", "But it…") read badly out of context.
_DANGLING_START = re.compile(r"^(這|这|此|它|其|但|而且|并且|並且|因此|所以|(this|that|these|those|it|but|and|so)\b)", re.I)
_EN_STOPWORDS = frozenset(
    "a an the and or but of to in on at for with by from as is are was were be been it its this that "
    "these those he she they we you i his her their our has have had will would can could not".split()
)
# Clause ends a summary may be cut at (the mark is replaced by a full stop): a comma between
# digits (3,000) is not one; an English comma or semicolon needs the space after it.
_ZH_CLAUSE = re.compile(r"[，、]|,(?!\d)")
_EN_CLAUSE = re.compile(r"[,;](?=\s)|\s*—|\s–\s")
_SEMICOLON_END = re.compile(r"[；;]$")  # a summary cut after a semicolon ends with a full stop
_LATIN_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.,:][0-9]+)*")  # a word or number (3,000, 28.6) in Chinese text
# Quotes and brackets that must not be left open (’ is left out: it is also the apostrophe).
_PAIRS = {"“": "”", "「": "」", "『": "』", "（": "）", "(": ")", "【": "】", "《": "》", "[": "]"}
_OPENERS = "".join(_PAIRS)
_CLOSERS = "".join(_PAIRS.values())
MIN_SENTENCE_FILL = 0.5  # whole sentences are kept when they fill this share of the budget
MIN_CLAUSE_FILL = 1 / 3  # a clause end this far in beats cutting a long clause with an ellipsis
TITLE_OVERLAP = 0.6  # a sentence mostly made of its title's words (Chinese: character pairs) restates it
# TextRank compares every pair of sentences: time and memory grow with the square of their number.
# An article's news is at its top, so only its start is read and only its first sentences ranked.
MAX_READ_CHARS = 100_000
MAX_SENTENCES = 400


class ExtractiveBackend:
    """Pick the most central sentences, in source order, within a length budget.

    The budget counts characters for Chinese and words for English. Output keeps the
    source's script because it only ever copies source sentences. Only the first
    ``MAX_SENTENCES`` whole sentences within ``MAX_READ_CHARS`` are ranked, so a huge text costs
    no more than a long article.
    """

    model = "textrank"

    def __init__(self, max_chars: int = 60, max_words: int = 35, lead_bias: float = 0.35) -> None:
        self.max_chars = max_chars
        self.max_words = max_words
        self.lead_bias = lead_bias

    def summarize_batch(self, texts: Sequence[str], language: str, titles: Sequence[str | None] | None = None) -> list[str]:
        """Summaries for ``texts``, each within the language's budget; ``titles`` as in :meth:`summarize`."""
        return [self.summarize(text, language, title) for text, title in zip(texts, titles or [None] * len(texts))]

    def summarize(self, text: str, language: str, title: str | None = None) -> str:
        """Summary of one text; a sentence that only restates ``title`` is not picked while others are left."""
        budget = self.max_chars if is_chinese(language) else self.max_words
        candidates = [s for s in split_sentences(bounded(text, MAX_READ_CHARS)) if _is_candidate(s, language)][:MAX_SENTENCES]
        statements = [s for s in candidates if not _QUESTION.search(s) and not _DANGLING_START.match(s) and _balanced(s)]
        sentences = statements or candidates
        if not sentences:
            return ""
        scores = self._scores(sentences, language)
        order = sorted(range(len(sentences)), key=lambda k: -scores[k])
        if title:
            order = [k for k in order if not restates_title(sentences[k], title, language)] or order
        chosen: list[int] = []
        used = 0
        for index in order:
            length = text_length(sentences[index], language)
            if used + length <= budget or not chosen:
                chosen.append(index)
                used += length
            if used >= budget * 0.8:
                break
        summary = _join([sentences[k] for k in sorted(chosen)], language)
        return fit_to_budget(summary, budget, language)

    def _scores(self, sentences: list[str], language: str) -> np.ndarray:
        tokens = [_tokens(s, language) for s in sentences]
        n = len(sentences)
        weights = np.zeros((n, n))
        for a in range(n):
            for b in range(a + 1, n):
                overlap = len(tokens[a] & tokens[b])
                if overlap:
                    norm = math.log(len(tokens[a]) + 1) + math.log(len(tokens[b]) + 1)
                    weights[a, b] = weights[b, a] = overlap / norm
        row_sums = weights.sum(axis=1, keepdims=True)
        transition = np.divide(weights, row_sums, out=np.zeros_like(weights), where=row_sums > 0)
        lead = np.array([1.0 / (1 + k) for k in range(n)])
        lead /= lead.sum()
        rank = np.full(n, 1.0 / n)
        for _ in range(50):
            updated = (1 - self.lead_bias) * 0.85 * transition.T @ rank + (0.15 * (1 - self.lead_bias) + self.lead_bias) * lead
            if np.abs(updated - rank).sum() < 1e-6:
                rank = updated
                break
            rank = updated
        return rank


def _is_candidate(sentence: str, language: str) -> bool:
    """Whole sentences only: headings and slogan fragments without a terminator are skipped."""
    length = text_length(sentence, language)
    minimum = 12 if is_chinese(language) else 6
    return length >= minimum and (bool(_TERMINAL.search(sentence)) or length >= minimum * 3)


def _tokens(sentence: str, language: str) -> set[str]:
    if is_chinese(language):
        folded = normalise_for_matching(sentence)
        return {folded[i : i + 2] for i in range(len(folded) - 1)}
    words = re.findall(r"[a-z0-9]+", sentence.lower())
    return {w for w in words if w not in _EN_STOPWORDS}


def _join(sentences: list[str], language: str) -> str:
    return ("" if is_chinese(language) else " ").join(sentences)


def restates_title(sentence: str, title: str, language: str) -> bool:
    """True when ``sentence`` says little beyond ``title``: most of its words (Chinese: character
    pairs) are the title's."""
    own = _tokens(sentence, language)
    return bool(own) and len(own & _tokens(title, language)) / len(own) >= TITLE_OVERLAP


def fit_to_budget(summary: str, budget: int, language: str, title: str | None = None) -> str:
    """``summary`` within ``budget`` (characters for Chinese, words otherwise), cut at a clause end.

    With ``title``, an opening sentence that only restates it is dropped when more follows.
    The cut keeps the whole sentences that fit when they fill half the budget; else it falls
    at the last clause end that fits (。！？； then ，、 in Chinese; sentence ends then , ; — in
    English), closed with a full stop, when that fills a third; else, inside one long clause,
    between words, marked with an ellipsis. Never inside quotes or brackets: a last-resort
    cut closes the ones it leaves open.
    """
    sentences = split_sentences(summary)
    if title and len(sentences) > 1 and restates_title(sentences[0], title, language):
        sentences = sentences[1:]
        summary = _join(sentences, language)
    if text_length(summary, language) <= budget:
        return summary
    chinese = is_chinese(language)
    separator, stop, clause = ("", "。", _ZH_CLAUSE) if chinese else (" ", ".", _EN_CLAUSE)
    text = separator.join(sentences)
    sentence_cuts, clause_cuts = [], []
    start = 0
    for sentence in sentences:
        if text_length(text[:start], language) > budget:
            break
        end = start + len(sentence)
        if not _open_pairs(text[:end]):
            sentence_cuts.append(_SEMICOLON_END.sub(stop, text[:end]))
        for mark in clause.finditer(text, start, end):
            head = text[: mark.start()].rstrip()
            if text_length(head, language) > budget:
                break
            if head and head[-1] not in _OPENERS and not _open_pairs(head):
                clause_cuts.append(head if _TERMINAL.search(head) else head + stop)
        start = end + len(separator)
    fitting = [c for c in sentence_cuts if text_length(c, language) <= budget]
    best = max(fitting, key=len, default="")
    if text_length(best, language) >= budget * MIN_SENTENCE_FILL:
        return best
    best = max(fitting + [c for c in clause_cuts if text_length(c, language) <= budget], key=len, default="")
    if text_length(best, language) >= budget * MIN_CLAUSE_FILL:
        return best
    return _cut_mid_clause(text, budget, language)


def _cut_mid_clause(text: str, budget: int, language: str) -> str:
    """The longest start of ``text`` that fits ``budget`` with an ellipsis and the closers of the
    quotes and brackets it leaves open; never inside a word or number."""
    if is_chinese(language):
        inside = {k for m in _LATIN_TOKEN.finditer(text) for k in range(m.start() + 1, m.end())}
        last = next((k for k in range(len(text) + 1) if text_length(text[:k], language) >= budget), len(text))
        heads = (text[:k] for k in range(last, 0, -1) if k not in inside)
    else:
        words = text.split()  # not ending on "the…", "of…"
        heads = (" ".join(words[:n]) for n in range(min(len(words), budget), 0, -1) if words[n - 1].lower() not in _EN_STOPWORDS)
    for head in heads:
        head = head.rstrip(" ，、,;；:：—–" + _OPENERS)  # no cut right after a comma or an opening quote
        cut = head + "…" + "".join(reversed(_open_pairs(head)))
        if head and text_length(cut, language) <= budget:
            return cut
    return ""


def _balanced(sentence: str) -> bool:
    """False for a piece of a quote that runs over several sentences: it opens a quote or
    bracket it does not close, or closes one it did not open."""
    opened = 0
    for char in sentence:
        opened += char in _PAIRS
        if char in _CLOSERS:
            opened -= 1
            if opened < 0:
                return False
    return opened == 0 and sentence.count('"') % 2 == 0


def _open_pairs(text: str) -> list[str]:
    """Closers of the quotes and brackets still open at the end of ``text``, innermost last."""
    expected: list[str] = []
    for char in text:
        if char in _PAIRS:
            expected.append(_PAIRS[char])
        elif char == '"':
            if expected and expected[-1] == '"':
                expected.pop()
            else:
                expected.append('"')
        elif expected and char == expected[-1]:
            expected.pop()
    return expected
