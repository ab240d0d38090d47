"""Extractive summarizer: TextRank over sentences with a lead bias; needs no model weights."""

from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np

from summarizer.text import is_chinese, normalise_for_matching, split_sentences, text_length

_TERMINAL = re.compile(r"[。！？!?.;；…][”’」』）)\"']*$")
_QUESTION = re.compile(r"[?？][”’」』）)\"']*$")
# Sentences that lean on the one before ("這是…", "But it…") read badly out of context.
_DANGLING_START = re.compile(r"^(這|这|此|它|其|但|而且|并且|並且|因此|所以|(this|that|these|those|it|but|and|so)\b)", re.I)
_EN_STOPWORDS = frozenset(
    "a an the and or but of to in on at for with by from as is are was were be been it its this that "
    "these those he she they we you i his her their our has have had will would can could not".split()
)


class ExtractiveBackend:
    """Pick the most central sentences, in source order, within a length budget.

    The budget counts characters for Chinese and words for English. Output keeps the
    source's script because it only ever copies source sentences.
    """

    model = "textrank"

    def __init__(self, max_chars: int = 120, max_words: int = 60, lead_bias: float = 0.35) -> None:
        self.max_chars = max_chars
        self.max_words = max_words
        self.lead_bias = lead_bias

    def summarize_batch(self, texts: Sequence[str], language: str) -> list[str]:
        """Summaries for ``texts``, each within the language's budget."""
        return [self.summarize(text, language) for text in texts]

    def summarize(self, text: str, language: str) -> str:
        """Summary of one text."""
        budget = self.max_chars if is_chinese(language) else self.max_words
        candidates = [s for s in split_sentences(text) if _is_candidate(s, language)]
        statements = [s for s in candidates if not _QUESTION.search(s) and not _DANGLING_START.match(s)]
        sentences = statements or candidates
        if not sentences:
            return ""
        scores = self._scores(sentences, language)
        chosen: list[int] = []
        used = 0
        for index in sorted(range(len(sentences)), key=lambda k: -scores[k]):
            length = text_length(sentences[index], language)
            if used + length <= budget or not chosen:
                chosen.append(index)
                used += length
            if used >= budget * 0.8:
                break
        summary = _join([sentences[k] for k in sorted(chosen)], language)
        return _truncate(summary, budget, language)

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


def _truncate(summary: str, budget: int, language: str) -> str:
    """Cut a single over-long sentence at the budget, marking the cut with an ellipsis."""
    if text_length(summary, language) <= budget:
        return summary
    if is_chinese(language):
        return summary[:budget].rstrip("，,、；;") + "…"
    return " ".join(summary.split()[:budget]).rstrip(",;") + "…"
