"""The library's entry point: route a text to a profile and summarize it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from summarizer.backends import Backend
from summarizer.backends.extractive import ExtractiveBackend
from summarizer.profiles import EXTRACTIVE, ModelsConfig, Profile, ProfileError, load_models_config
from summarizer.text import convert_script, detect_language


@dataclass
class Summary:
    """A summary with where it came from."""

    summary: str
    language: str
    profile: str
    model: str
    fallback: bool = False
    reason: str | None = None

    def in_script(self, target: str) -> str:
        """The summary converted for a reader of ``target`` (zh-Hant / zh-Hans); others as is."""
        if self.language.startswith("zh") and target.startswith("zh"):
            return convert_script(self.summary, target)
        return self.summary

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


class Summarizer:
    """Summarizes texts with the profile routed for their language; backends are built once."""

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

    def backend(self, name: str) -> Backend:
        """The backend of profile ``name``, built on first use."""
        if name not in self._backends:
            self._backends[name] = _build_backend(self.config.profiles[name])
        return self._backends[name]

    def summarize(self, text: str, language: str | None = None, profile: str | None = None) -> Summary:
        """Summarize one text (language detected when not given)."""
        return self.summarize_many([text], [language] if language else None, profile)[0]

    def summarize_many(
        self, texts: Sequence[str], languages: Sequence[str] | None = None, profile: str | None = None
    ) -> list[Summary]:
        """Summarize several texts; texts routed to one profile go to its backend as one batch."""
        languages = list(languages) if languages else [detect_language(t) for t in texts]
        results: list[Summary | None] = [None] * len(texts)
        groups: dict[tuple[str, str], list[int]] = {}
        for index, language in enumerate(languages):
            groups.setdefault((self.profile_for(language, profile), language), []).append(index)
        for (name, language), indices in groups.items():
            backend = self.backend(name)
            outputs = backend.summarize_batch([texts[i] for i in indices], language)
            for index, output in zip(indices, outputs):
                results[index] = Summary(output, language, name, backend.model, fallback=False)
        return [r for r in results if r is not None]


def _build_backend(profile: Profile) -> Backend:
    if profile.kind == EXTRACTIVE:
        return ExtractiveBackend(max_chars=profile.max_chars, max_words=profile.max_words)
    raise ProfileError(f"profile kind {profile.kind!r} is not supported")


_default: Summarizer | None = None


def summarize(text: str, language: str | None = None, profile: str | None = None) -> Summary:
    """Summarize with the built-in profiles (a shortcut for ``Summarizer().summarize``)."""
    global _default
    if _default is None:
        _default = Summarizer()
    return _default.summarize(text, language, profile)
