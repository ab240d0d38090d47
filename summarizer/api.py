"""The library's entry point: route a text to a profile, summarize, check, fall back."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from summarizer.backends import Backend
from summarizer.backends.extractive import ExtractiveBackend
from summarizer.checks import check_summary
from summarizer.profiles import EXTRACTIVE, ModelsConfig, Profile, ProfileError, load_models_config
from summarizer.text import convert_script, detect_language, for_reader, is_chinese

log = logging.getLogger(__name__)

UNAVAILABLE = "model unavailable"
BACKEND_ERROR = "backend error"


@dataclass
class Summary:
    """A summary with where it came from. ``model`` is what actually wrote it."""

    summary: str
    language: str
    profile: str
    model: str
    fallback: bool = False
    reason: str | None = None
    revision: str = ""

    def in_script(self, target: str) -> str:
        """The summary converted for a reader of ``target`` (zh-Hant / zh-Hans); others as is."""
        return for_reader(self.summary, self.language, target)

    def to_dict(self) -> dict:
        """JSON-ready form (the ``newsbot summarize --json`` shape)."""
        return asdict(self)


class Summarizer:
    """Summarizes texts with the profile routed for their language; backends are built once.

    Transformer output is converted to the source's script, then checked
    (:func:`summarizer.checks.check_summary`); a summary that fails, every summary of a
    profile whose weights are missing, and every text the backend fails on (out of memory,
    runtime errors) is replaced by the extractive one, marked as a fallback with the reason.
    """

    def __init__(self, config: ModelsConfig | None = None) -> None:
        self.config = config or ModelsConfig()
        self._backends: dict[str, Backend] = {}

    @classmethod
    def from_file(cls, path: str | Path | None) -> "Summarizer":
        """Summarizer for a models.yaml file; None gives the built-in extractive profile only."""
        return cls(load_models_config(path) if path else None)

    def profile_for(self, language: str, profile: str | None = None) -> str:
        """The profile name that serves ``language`` (or ``profile`` when given and known)."""
        if profile:
            if profile not in self.config.profiles:
                known = ", ".join(sorted(self.config.profiles))
                raise ProfileError(f"unknown profile {profile!r} (known: {known})")
            return profile
        return self.config.route(language)

    def _transformer(self, name: str) -> Backend:
        """The transformer backend of profile ``name``, built on first use."""
        if name not in self._backends:
            from summarizer.backends.transformer import TransformerBackend

            self._backends[name] = TransformerBackend(self.config.profiles[name])
        return self._backends[name]

    def available(self, name: str) -> bool:
        """Whether profile ``name`` can run as configured (extractive, or weights on this machine)."""
        profile = self.config.profiles[name]
        if profile.kind == EXTRACTIVE:
            return True
        from summarizer.backends.transformer import load_failure, weights_present

        return weights_present(profile) and load_failure(profile) is None

    def produces(self, name: str) -> tuple[str, str]:
        """(model, revision) that profile ``name`` writes summaries with when all goes well."""
        profile = self.config.profiles[name]
        if profile.kind == EXTRACTIVE:
            return ExtractiveBackend.model, ""
        return profile.model or "", profile.revision

    def summarize(self, text: str, language: str | None = None, profile: str | None = None,
                  title: str | None = None) -> Summary:
        """Summarize one text (language detected when not given)."""
        return self.summarize_many([text], [language] if language else None, profile, [title])[0]

    def summarize_many(
        self, texts: Sequence[str], languages: Sequence[str] | None = None, profile: str | None = None,
        titles: Sequence[str | None] | None = None,
    ) -> list[Summary]:
        """Summarize several texts; texts routed to one profile go to its backend together.
        ``titles`` (the headlines shown above the summaries) keep summaries from repeating them."""
        languages = list(languages) if languages else [detect_language(t) for t in texts]
        titles = list(titles) if titles else [None] * len(texts)
        results: list[Summary | None] = [None] * len(texts)
        groups: dict[tuple[str, str], list[int]] = {}
        for index, language in enumerate(languages):
            groups.setdefault((self.profile_for(language, profile), language), []).append(index)
        for (name, language), indices in groups.items():
            batch = [texts[i] for i in indices]
            batch_titles = [titles[i] for i in indices]
            for index, summary in zip(indices, self._summarize_group(name, batch, language, batch_titles)):
                results[index] = summary
        return [r for r in results if r is not None]

    def _summarize_group(self, name: str, texts: list[str], language: str, titles: list[str | None]) -> list[Summary]:
        profile = self.config.profiles[name]
        extractive = _extractive_for(profile)
        if profile.kind == EXTRACTIVE:
            return [Summary(s, language, name, extractive.model) for s in extractive.summarize_batch(texts, language, titles)]
        from summarizer.backends.transformer import ModelUnavailable

        backend = self._transformer(name)
        try:
            outputs: list[str | Exception] = list(backend.summarize_batch(texts, language, titles))
        except ModelUnavailable as exc:
            reason = f"{UNAVAILABLE}: {exc}"
            return [Summary(extractive.summarize(t, language, title), language, name, extractive.model, True, reason)
                    for t, title in zip(texts, titles)]
        except Exception as exc:  # out of memory, CUDA or runtime errors: one text must not sink the batch
            outputs = [_one_by_one(backend, text, language, title) for text, title in zip(texts, titles)]
            failed = sum(isinstance(o, Exception) for o in outputs)
            log.warning("profile %s: a batch of %d failed (%s); %d fell back to extractive after one-by-one retries",
                        name, len(texts), _describe(exc), failed)
        summaries = []
        for text, title, output in zip(texts, titles, outputs):
            if isinstance(output, Exception):
                summaries.append(Summary(extractive.summarize(text, language, title), language, name, extractive.model, True,
                                         f"{BACKEND_ERROR}: {_describe(output)}"))
                continue
            if is_chinese(language):
                output = convert_script(output, language)
            problem = check_summary(output, text, language)
            if problem:
                summaries.append(Summary(extractive.summarize(text, language, title), language, name, extractive.model, True,
                                         f"faithfulness check: {problem}"))
            else:
                summaries.append(Summary(output, language, name, profile.model or "", revision=profile.revision))
        return summaries


def _one_by_one(backend: Backend, text: str, language: str, title: str | None) -> str | Exception:
    """The backend's summary of ``text`` alone, or the exception it raised."""
    try:
        return backend.summarize_batch([text], language, [title])[0]
    except Exception as exc:
        return exc


def _describe(exc: BaseException) -> str:
    """``Type: first line of the message`` (torch errors run to many lines)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _extractive_for(profile: Profile) -> ExtractiveBackend:
    return ExtractiveBackend(max_chars=profile.max_chars, max_words=profile.max_words)


_default: Summarizer | None = None


def summarize(text: str, language: str | None = None, profile: str | None = None) -> Summary:
    """Summarize with the built-in profiles (a shortcut for ``Summarizer().summarize``)."""
    global _default
    if _default is None:
        _default = Summarizer()
    return _default.summarize(text, language, profile)
