"""A second opinion on a model's summary, after the rule checks of :mod:`summarizer.checks`.

Named by ``checker`` in models.yaml (off by default), it is one of:

- an ``nli`` profile: a natural-language inference model (sequence classification with an
  "entailment" label). As in SummaC's zero-shot method, each sentence of the summary must be
  entailed by some sentence of the article: the article sentences that share most words with
  it are read as premises, and the best entailment probability must reach the profile's
  ``min_entailment``;
- an ``openai`` profile: the inference server is asked, as a judge, whether the article states
  everything the summary says, and answers yes or no.

A checker that cannot run (weights absent, server down, an answer that is neither yes nor no)
gives no verdict: the rule checks' verdict stands, and the log says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from summarizer.checks import PASS, Verdict
from summarizer.profiles import NLI, Profile
from summarizer.text import bounded, is_chinese
from summarizer.wording import sentences, tokens

MAX_HYPOTHESES = 4  # summary sentences judged one by one (a digest summary has one to three)
MAX_PREMISES = 6  # article sentences an NLI model reads per summary sentence: those sharing most words with it
JUDGE_TOKENS = 8  # the judge's answer: one word
JUDGE_PROMPT = (
    "Here is a local news article and a summary of it. Does the article state everything the summary "
    "says: the same names, numbers, dates and places, and who did what? Answer with one word: yes or no."
    "\n\nArticle:\n{text}\n\nSummary:\n{summary}"
)
_YES = re.compile(r"^\W*(?:yes\b|是|对|對)", re.IGNORECASE)
_NO = re.compile(r"^\W*(?:no\b|否|不)", re.IGNORECASE)

Item = tuple[str, str, str]  # (summary, article, language)


class Checker(Protocol):
    """Judges (summary, article, language) items; None where it gives no verdict."""

    profile: Profile

    def judge_batch(self, items: Sequence[Item]) -> list[Verdict | None]: ...


def build_checker(profile: Profile) -> Checker:
    """The checker for an ``nli`` or ``openai`` profile."""
    return EntailmentChecker(profile) if profile.kind == NLI else JudgeChecker(profile)


class EntailmentChecker:
    """Sentence-level entailment by a sequence-classification model loaded through transformers."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    def judge_batch(self, items: Sequence[Item]) -> list[Verdict | None]:
        """A verdict per item: refused ("entailment") when a summary sentence is entailed by no
        article sentence. Raises ModelUnavailable when the model cannot be loaded or has no
        entailment label."""
        from summarizer.backends.transformer import load_model

        loaded = load_model(self.profile)
        entailment = _entailment_label(loaded.model.config.id2label)
        pairs: list[tuple[str, str]] = []
        owners: list[tuple[int, int]] = []  # (item, hypothesis) of each pair
        hypotheses: list[list[str]] = []
        for index, (summary, article, language) in enumerate(items):
            claimed = _hypotheses(summary, language)
            hypotheses.append(claimed)
            premises = [(p, _content_keys(p, language)) for p in sentences(article, language)]  # read once per article
            for number, hypothesis in enumerate(claimed):
                for premise in _nearest(premises, hypothesis, language):
                    pairs.append((premise, hypothesis))
                    owners.append((index, number))
        scores = self._entailment(loaded, pairs, entailment)
        best: dict[tuple[int, int], float] = {}
        for owner, score in zip(owners, scores):
            best[owner] = max(best.get(owner, 0.0), score)
        verdicts: list[Verdict | None] = []
        for index, claimed in enumerate(hypotheses):
            if not claimed:
                verdicts.append(None)
                continue
            worst = min(range(len(claimed)), key=lambda number: best.get((index, number), 0.0))
            score = best.get((index, worst), 0.0)
            verdicts.append(
                PASS
                if score >= self.profile.min_entailment
                else Verdict.refuse(
                    "entailment",
                    f"{claimed[worst]!r} is not entailed by the article ({score:.2f} < {self.profile.min_entailment:.2f})",
                )
            )
        return verdicts

    def _entailment(self, loaded, pairs: list[tuple[str, str]], label: int) -> list[float]:
        """P(entailment) of each (premise, hypothesis) pair, ``batch_size`` pairs at a time."""
        import torch

        scores: list[float] = []
        size = self.profile.batch_size
        with loaded.lock, torch.inference_mode():
            for start in range(0, len(pairs), size):
                batch = pairs[start : start + size]
                encoded = loaded.tokenizer(
                    [p for p, _ in batch],
                    [h for _, h in batch],
                    truncation=True,
                    padding=True,
                    max_length=self.profile.max_input_tokens,
                    return_tensors="pt",
                ).to(loaded.device)
                probabilities = loaded.model(**encoded).logits.float().softmax(dim=-1)
                scores += probabilities[:, label].tolist()
        return scores


def _entailment_label(id2label: dict) -> int:
    """The index of the model's entailment label; ModelUnavailable when it has none."""
    from summarizer.backends.transformer import ModelUnavailable

    for index, name in id2label.items():
        if "entail" in str(name).lower() and "not" not in str(name).lower():
            return int(index)
    raise ModelUnavailable(
        f"its labels ({', '.join(map(str, id2label.values()))}) name no entailment: not a natural-language inference model"
    )


def _hypotheses(summary: str, language: str) -> list[str]:
    """The summary's sentences, at most MAX_HYPOTHESES (the rest joined to the last)."""
    found = sentences(summary, language)
    if len(found) <= MAX_HYPOTHESES:
        return found
    joiner = "" if is_chinese(language) else " "
    return [*found[: MAX_HYPOTHESES - 1], joiner.join(found[MAX_HYPOTHESES - 1 :])]


def _content_keys(text: str, language: str) -> set[str]:
    return {t.key for t in tokens(text, language) if t.content}


def _nearest(premises: list[tuple[str, set[str]]], hypothesis: str, language: str) -> list[str]:
    """The MAX_PREMISES article sentences (each with its content words) that share most content
    words with ``hypothesis``."""
    wanted = _content_keys(hypothesis, language)
    shared = [(len(wanted & keys), -i, p) for i, (p, keys) in enumerate(premises)]
    return [p for _, _, p in sorted(shared, reverse=True)[:MAX_PREMISES]]


class JudgeChecker:
    """An inference server (openai profile) asked whether the article supports the summary."""

    def __init__(self, profile: Profile) -> None:
        from summarizer.backends.openai_chat import OpenAIChatBackend

        self.profile = profile
        self._backend = OpenAIChatBackend(profile)

    def judge_batch(self, items: Sequence[Item]) -> list[Verdict | None]:
        """A verdict per item from the server's yes or no; raises ServerUnavailable or
        InferenceError when the server fails."""
        prompts = [
            JUDGE_PROMPT.format(text=bounded(article, self.profile.max_input_chars), summary=summary)
            for summary, article, _language in items
        ]
        return [self._verdict(answer) for answer in self._backend.generate_text(prompts, JUDGE_TOKENS)]

    def _verdict(self, answer: str) -> Verdict | None:
        if _YES.match(answer):
            return PASS
        if _NO.match(answer):
            return Verdict.refuse(
                "judge", f"{self.profile.model} answered {answer.strip()[:40]!r}: the article does not state all of it"
            )
        return None
