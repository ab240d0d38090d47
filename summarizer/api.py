"""The library's entry point: route a text to a profile, summarize, check, fall back; and
summaries for readers of another language, translated and checked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from summarizer.backends import Backend, build_backend
from summarizer.backends.extractive import ExtractiveBackend
from summarizer.checker import Checker, build_checker
from summarizer.checks import Verdict, judge, repeats_itself
from summarizer.outcomes import Outcomes
from summarizer.profiles import (
    CTRANSLATE2,
    EXTRACTIVE,
    OPENAI,
    TRANSLATION,
    ModelsConfig,
    Profile,
    ProfileError,
    load_models_config,
)
from summarizer.quantities import numbers
from summarizer.text import (
    bounded,
    cjk_count,
    convert_script,
    detect_language,
    for_reader,
    is_chinese,
    language_family,
    text_problem,
)

if TYPE_CHECKING:
    from summarizer.backends.transformer import TransformerBackend

log = logging.getLogger(__name__)
T = TypeVar("T")

UNAVAILABLE = "model unavailable"
BACKEND_ERROR = "backend error"
FAITHFULNESS = "faithfulness check"
LANGUAGE = "language not served"
NOT_TEXT = "not text"


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
    candidate: str | None = None  # what the model wrote, when the faithfulness check rejected it

    def in_script(self, target: str) -> str:
        """The summary converted for a reader of ``target`` (zh-Hant / zh-Hans); others as is."""
        return for_reader(self.summary, self.language, target)

    def to_dict(self) -> dict:
        """JSON-ready form (the ``newsbot summarize --json`` shape)."""
        return asdict(self)


@dataclass
class Translation:
    """An article's summary (and title) for readers of another language, and what wrote it.

    Empty (``summary`` "", ``title`` None) when it was rejected or could not be made:
    ``fallback`` with the ``reason``; readers then get the original, marked as such.
    ``title`` is None too when only the title was rejected, or the profile (causal) writes
    summaries only.
    """

    summary: str
    title: str | None
    language: str
    profile: str
    model: str
    revision: str = ""
    fallback: bool = False
    reason: str | None = None


class Summarizer:
    """Summarizes texts with the profile routed for their language; backends are built once.

    Transformer output is converted to the source's script, then judged (:meth:`judge_many`:
    the rule checks, then the ``checker`` profile where one is named); a summary that fails, every summary of a
    profile whose weights are missing, and every text the backend fails on (out of memory,
    runtime errors) is replaced by the extractive one, marked as a fallback with the reason.
    """

    def __init__(self, config: ModelsConfig | None = None) -> None:
        self.config = config or ModelsConfig()
        self._backends: dict[str, Backend] = {}
        self._checker: Checker | None = None
        self._checker_missing = False  # said once in the log, until it can run again
        self.outcomes = Outcomes()

    @classmethod
    def from_file(cls, path: str | Path | None) -> Summarizer:
        """Summarizer for a models.yaml file; None gives the built-in extractive profile only."""
        return cls(load_models_config(path) if path else None)

    def translator_for(self, language: str, target: str) -> str | None:
        """The profile models.yaml's ``translate`` names for articles in ``language`` read in
        ``target`` (None: none, or the same language)."""
        return self.config.translator(language, target)

    def profile_for(self, language: str, profile: str | None = None) -> str:
        """The profile name that serves ``language`` (or ``profile`` when given and known)."""
        if profile:
            if profile not in self.config.profiles:
                known = ", ".join(sorted(self.config.profiles))
                raise ProfileError(f"unknown profile {profile!r} (known: {known})")
            return profile
        return self.config.route(language)

    def _transformer(self, name: str) -> Backend:
        """The transformer (or inference-server) backend of profile ``name``, built on first use."""
        if name not in self._backends:
            self._backends[name] = build_backend(self.config.profiles[name])
        return self._backends[name]

    def available(self, name: str) -> bool:
        """Whether profile ``name`` can run as configured (extractive, or weights on this machine,
        and the ctranslate2 package for engine ctranslate2, the gguf packages for a gguf_file, or
        an inference server that answers)."""
        profile = self.config.profiles[name]
        if profile.kind == EXTRACTIVE:
            return True
        if profile.kind == OPENAI:
            from summarizer.backends import openai_chat

            return openai_chat.reachable(profile)
        from summarizer.backends import ct2
        from summarizer.backends.transformer import gguf_installed, load_failure, weights_present

        return (
            weights_present(profile)
            and load_failure(profile) is None
            and (profile.engine != CTRANSLATE2 or ct2.installed())
            and (profile.gguf_file is None or gguf_installed())
        )

    def produces(self, name: str) -> tuple[str, str]:
        """(model, revision) that profile ``name`` writes summaries with when all goes well."""
        profile = self.config.profiles[name]
        if profile.kind == EXTRACTIVE:
            return ExtractiveBackend.model, ""
        return profile.model or "", profile.revision

    def summarize(self, text: str, language: str | None = None, profile: str | None = None, title: str | None = None) -> Summary:
        """Summarize one text (language detected when not given)."""
        return self.summarize_many([text], [language] if language else None, profile, [title])[0]

    def summarize_many(
        self,
        texts: Sequence[str],
        languages: Sequence[str] | None = None,
        profile: str | None = None,
        titles: Sequence[str | None] | None = None,
    ) -> list[Summary]:
        """Summarize several texts; texts routed to one profile go to its backend together.
        ``titles`` (the headlines shown above the summaries) keep summaries from repeating them."""
        languages = list(languages) if languages else [detect_language(t) for t in texts]
        titles = list(titles) if titles else [None] * len(texts)
        results: list[Summary | None] = [None] * len(texts)
        groups: dict[tuple[str, str], list[int]] = {}
        texts = list(texts)
        for index, language in enumerate(languages):
            name = self.profile_for(language, profile)
            problem = text_problem(texts[index])
            if problem:  # refused before any model (or the extractive summarizer) sees it
                results[index] = Summary("", language, name, "", True, f"{NOT_TEXT}: {problem}")
                continue
            texts[index] = bounded(texts[index], self.config.profiles[name].max_input_chars)
            groups.setdefault((name, language), []).append(index)
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
        if language not in profile.languages:  # never handed to it, not even as the default
            reason = f"{LANGUAGE}: the profile reads {', '.join(profile.languages)}, not {language}"
            return [
                Summary(s, language, name, extractive.model, True, reason)
                for s in extractive.summarize_batch(texts, language, titles)
            ]
        summaries = self._model_summaries(name, profile, extractive, texts, language, titles)
        for summary in summaries:
            self.outcomes.record(name, profile.model or "", summary.reason if summary.fallback else None)
        return summaries

    def _model_summaries(
        self,
        name: str,
        profile: Profile,
        extractive: ExtractiveBackend,
        texts: list[str],
        language: str,
        titles: list[str | None],
    ) -> list[Summary]:
        """Summaries of ``texts`` by the model of profile ``name``, each checked, else extractive."""
        from summarizer.backends.transformer import ModelUnavailable

        backend = self._transformer(name)
        try:
            outputs: list[str | Exception] = list(backend.summarize_batch(texts, language, titles))
        except ModelUnavailable as exc:
            reason = f"{UNAVAILABLE}: {exc}"
            return [
                Summary(extractive.summarize(t, language, title), language, name, extractive.model, True, reason)
                for t, title in zip(texts, titles)
            ]
        except Exception as exc:  # out of memory, CUDA or runtime errors: one text must not sink the batch
            outputs = [_alone(partial(backend.summarize_batch, [text], language, [title])) for text, title in zip(texts, titles)]
            failed = sum(isinstance(o, Exception) for o in outputs)
            log.warning(
                "profile %s: a batch of %d failed (%s); %d fell back to extractive after one-by-one retries",
                name,
                len(texts),
                _describe(exc),
                failed,
            )
        if is_chinese(language):
            outputs = [convert_script(o, language) if isinstance(o, str) else o for o in outputs]
        verdicts = iter(self.judge_many([(o, text, language) for o, text in zip(outputs, texts) if isinstance(o, str)]))
        summaries = []
        for text, title, output in zip(texts, titles, outputs):
            if isinstance(output, Exception):
                summaries.append(
                    Summary(extractive.summarize(text, language, title), language, name, extractive.model, True, _failure(output))
                )
                continue
            verdict = next(verdicts)
            if not verdict.faithful:
                summaries.append(
                    Summary(
                        extractive.summarize(text, language, title),
                        language,
                        name,
                        extractive.model,
                        True,
                        f"{FAITHFULNESS}: {verdict.reason}",
                        candidate=output,
                    )
                )
            else:
                summaries.append(Summary(output, language, name, profile.model or "", revision=profile.revision))
        return summaries

    def judge_many(self, items: Sequence[tuple[str, str, str]]) -> list[Verdict]:
        """The gate's verdicts on (summary, article, language) items: the rule checks
        (:func:`summarizer.checks.judge`), then, for the summaries that pass them, the
        ``checker`` profile models.yaml names, where it reads the language and can run now.
        A checker that fails or gives no verdict leaves the rule checks' verdict (logged)."""
        verdicts = [judge(*item) for item in items]
        checker = self._ready_checker()
        if checker is None:
            return verdicts
        passed = [i for i, v in enumerate(verdicts) if v.faithful and items[i][2] in checker.profile.languages]
        if not passed:
            return verdicts
        try:
            second = checker.judge_batch([items[i] for i in passed])
        except Exception as exc:  # a checker must never cost a summary: the rule checks' verdict stands
            log.warning(
                "checker %s failed (%s): %d summaries judged by the rule checks only",
                self.config.checker,
                _describe(exc),
                len(passed),
            )
            return verdicts
        for index, verdict in zip(passed, second):
            if verdict is not None:
                verdicts[index] = verdict
        if None in second:
            log.info(
                "checker %s gave no verdict on %d of %d summaries: the rule checks' verdict stands",
                self.config.checker,
                second.count(None),
                len(second),
            )
        return verdicts

    def _ready_checker(self) -> Checker | None:
        """The checker profile's checker, when one is named and can run now."""
        name = self.config.checker
        if name is None:
            return None
        if not self.available(name):
            if not self._checker_missing:
                log.warning(
                    "checker %s cannot run (weights absent or server down: see `newsbot models list`); "
                    "summaries are judged by the rule checks only",
                    name,
                )
                self._checker_missing = True
            return None
        self._checker_missing = False
        if self._checker is None:
            self._checker = build_checker(self.config.profiles[name])
        return self._checker

    def translate_many(
        self,
        summaries: Sequence[str],
        titles: Sequence[str | None],
        texts: Sequence[str],
        languages: Sequence[str],
        target: str,
    ) -> list[Translation]:
        """For readers of ``target``, each article (``texts[i]`` in ``languages[i]``, with its
        summary and title) by the profile ``translate`` names for the pair (ProfileError when
        none does): a translation profile translates the summary and the title; a causal
        profile summarizes the article in ``target`` (titles stay as they are).

        Chinese output is converted to ``target``'s script, then checked
        (:func:`check_translation`: against the summary, the title, or the article it came
        from); a rejected summary, and every item whose model is unavailable or fails, comes
        back empty, marked as a fallback with the reason; a rejected title comes back None.
        """
        groups: dict[tuple[str, str], list[int]] = {}
        for index, language in enumerate(languages):
            name = self.translator_for(language, target)
            if name is None:
                raise ProfileError(
                    f"no profile translates {language_family(language)}->{language_family(target)} (models.yaml, 'translate')"
                )
            groups.setdefault((name, language), []).append(index)
        results: list[Translation | None] = [None] * len(texts)
        for (name, language), indices in groups.items():
            items = [(summaries[i], titles[i] or "", texts[i]) for i in indices]
            for index, translation in zip(indices, self._translate_group(name, language, target, items)):
                results[index] = translation
        return [r for r in results if r is not None]

    def _translate_group(self, name: str, language: str, target: str, items: list[tuple[str, str, str]]) -> list[Translation]:
        """Translations of (summary, title, text) items in ``language`` by profile ``name``."""
        from summarizer.backends.transformer import ModelUnavailable

        profile = self.config.profiles[name]
        backend = cast("TransformerBackend", self._transformer(name))

        def run(batch: list[tuple[str, str, str]]) -> list[tuple[str, str] | Exception]:
            if profile.kind == TRANSLATION:
                outputs = backend.translate_batch([s for s, _, _ in batch] + [t for _, t, _ in batch], language, target)
                return list(zip(outputs[: len(batch)], outputs[len(batch) :]))
            return [
                (o, "") if isinstance(o, str) else o
                for o in backend.summarize_batch([x for _, _, x in batch], language, None, output_language=target)
            ]

        def rejected(reason: str) -> Translation:
            return Translation("", None, target, name, profile.model or "", profile.revision, True, reason)

        try:
            outputs: list[tuple[str, str] | Exception] = list(run(items))
        except ModelUnavailable as exc:
            return [rejected(f"{UNAVAILABLE}: {exc}") for _ in items]
        except Exception as exc:  # as for summaries: one item must not sink the batch
            outputs = [_alone(partial(run, [item])) for item in items]
            log.warning(
                "profile %s: a batch of %d translations failed (%s); %d failed again alone",
                name,
                len(items),
                _describe(exc),
                sum(isinstance(o, Exception) for o in outputs),
            )
        translations = []
        for (summary, title, text), output in zip(items, outputs):
            if isinstance(output, Exception):
                translations.append(rejected(_failure(output)))
                continue
            written, written_title = (convert_script(o, target) if is_chinese(target) else o for o in output)
            problem = check_translation(written, summary if profile.kind == TRANSLATION else text, target)
            if problem:
                translations.append(rejected(f"{FAITHFULNESS}: {problem}"))
                continue
            title_ok = written_title and not check_translation(written_title, title, target)
            translations.append(
                Translation(written, written_title if title_ok else None, target, name, profile.model or "", profile.revision)
            )
        return translations


def check_translation(translation: str, source: str, language: str) -> str | None:
    """Why ``translation`` (in ``language``) cannot be trusted as ``source`` in another
    language; None when it passes. Wording cannot be compared across languages; numbers can:
    each must be in the source, compared by value (full-width digits, Chinese numerals,
    20萬 = 200,000, "two" and "February" in an English source count as 2)."""
    if not translation.strip():
        return "empty translation"
    if repeats_itself(translation, language):
        return "translation repeats itself"
    if is_chinese(language) and not cjk_count(translation):
        return "translation has no Chinese characters"
    if not is_chinese(language) and cjk_count(translation):
        return "translation has Chinese characters left"
    missing = sorted(numbers(translation) - numbers(source, lenient=True), key=len)
    if missing:
        return f"number {missing[0]} is not in the source"
    return None


def _alone(call: Callable[[], Sequence[T]]) -> T | Exception:
    """The first output of ``call`` (a backend run on one item), or the exception it raised."""
    try:
        return call()[0]
    except Exception as exc:
        return exc


def _failure(exc: Exception) -> str:
    """The reason stored for an item its backend failed on: the model unavailable (e.g. an
    inference server that is down: made again once it answers), else a backend error."""
    from summarizer.backends.openai_chat import InferenceError
    from summarizer.backends.transformer import ModelUnavailable

    if isinstance(exc, ModelUnavailable):
        return f"{UNAVAILABLE}: {exc}"
    return f"{BACKEND_ERROR}: {exc if isinstance(exc, InferenceError) else _describe(exc)}"


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
