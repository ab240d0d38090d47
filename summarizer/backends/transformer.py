"""Hugging Face transformer backends: seq2seq models and causal (chat) models.

Models load through the real ``from_pretrained`` path, from a local folder or the Hugging
Face cache only (``local_files_only``): nothing is downloaded while summarizing; weights are
fetched with ``newsbot models pull``. Each model is loaded once per process and shared.
Texts longer than ``max_input_tokens`` are split on sentence boundaries and map-reduced.
Outputs are cut to the profile's summary budget at a clause end, like the extractive ones.
"""

from __future__ import annotations

import logging
import math
import threading
import warnings
from pathlib import Path
from typing import Any, Sequence

from summarizer.backends.extractive import fit_to_budget
from summarizer.profiles import Profile
from summarizer.text import is_chinese, split_sentences, text_length

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"zh-Hant": "Traditional Chinese", "zh-Hans": "Simplified Chinese", "en": "English"}
MAX_REDUCE_ROUNDS = 3
# Unless the profile sets max_new_tokens, generation may run this far past the summary budget
# (in the tokenizer's own tokens per character or word of the input), so that the summary can
# be cut at a clause end rather than wherever generation stopped.
HEADROOM = 1.5


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


def weights_present(profile: Profile) -> bool:
    """True when the profile's model is a local folder or already in the Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    assert profile.model
    if Path(profile.model).is_absolute() or Path(profile.model).is_dir():
        return (Path(profile.model) / "config.json").is_file()
    try:
        cached = try_to_load_from_cache(profile.model, "config.json", revision=profile.revision)
    except ValueError:  # not a valid repository id
        return False
    return isinstance(cached, str)


def _key(profile: Profile) -> tuple:
    return (profile.kind, profile.model, profile.revision, profile.device, profile.dtype, profile.quantize_int8)


def load_failure(profile: Profile) -> str | None:
    """Why this process could not load the profile's model, unless weights have arrived since."""
    failure = _FAILED.get(_key(profile))
    if failure is None or (not failure[1] and weights_present(profile)):
        return None
    return failure[0]


def _load(profile: Profile) -> _Loaded:
    """The loaded model for a profile, loading it on first use (thread-safe)."""
    key = _key(profile)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        failure = load_failure(profile)
        if failure:
            raise ModelUnavailable(failure)
        try:
            if not weights_present(profile):
                raise FileNotFoundError("its weights are not on this machine")
            loaded = _from_pretrained(profile)
        except (OSError, ValueError, ImportError) as exc:
            reason = f"model {profile.model} ({profile.revision}) is not available here: {str(exc).splitlines()[0]}"
            _FAILED[key] = (reason, weights_present(profile))
            log.warning("%s; using the extractive summarizer (fetch it with `newsbot models pull`)", reason)
            raise ModelUnavailable(reason) from exc
        _FAILED.pop(key, None)
        _CACHE[key] = loaded
        return loaded


def _from_pretrained(profile: Profile) -> _Loaded:
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer
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
    options = {"revision": profile.revision, "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(profile.model, **options)
    auto = AutoModelForSeq2SeqLM if profile.kind == "seq2seq" else AutoModelForCausalLM
    model = auto.from_pretrained(profile.model, dtype=dtype, **options).to(device).eval()
    if profile.quantize_int8 and device == "cpu":
        # torch.ao's dynamic quantization is deprecated in favour of torchao, but it is what
        # runs fast on CPU with the pinned torch 2.13 (README, "Benchmark"); silence the notice.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, UserWarning))
            from torch.ao.quantization import quantize_dynamic

            model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    if profile.kind == "causal":
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
    log.info("loaded %s (%s) on %s as %s%s", profile.model, profile.revision, device, dtype, " int8" if profile.quantize_int8 else "")
    return _Loaded(model, tokenizer, device)


class TransformerBackend:
    """Summaries from a seq2seq or causal transformer, batched and chunked."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.model = profile.model or ""
        self.revision = profile.revision

    def summarize_batch(
        self, texts: Sequence[str], language: str, titles: Sequence[str | None] | None = None
    ) -> list[str]:
        """Summaries of ``texts`` within the profile's budget; raises ModelUnavailable when the
        weights are missing. With ``titles`` (one per text, or None), an opening sentence that
        only restates the text's title is dropped when more follows.

        Map-reduce: a text that needs several chunks is replaced by its chunk summaries,
        which are summarized again in the next round, until one chunk is left.
        """
        loaded = _load(self.profile)
        budget = self.profile.max_input_tokens - self._prompt_overhead(loaded, language)
        separator = "" if is_chinese(language) else " "
        current = list(texts)
        results = [""] * len(texts)
        active = list(range(len(texts)))
        for round_number in range(MAX_REDUCE_ROUNDS + 1):
            chunks = {i: chunk_text(loaded.tokenizer, current[i], budget, separator) for i in active}
            flat = [(i, chunk) for i in active for chunk in chunks[i]]
            outputs = self._generate(loaded, [chunk for _, chunk in flat], language)
            merged: dict[int, list[str]] = {i: [] for i in active}
            for (i, _), output in zip(flat, outputs):
                merged[i].append(output)
            still_long = []
            for i in active:
                if len(merged[i]) == 1 or round_number == MAX_REDUCE_ROUNDS:
                    results[i] = separator.join(merged[i]).strip()
                else:
                    current[i] = separator.join(merged[i])
                    still_long.append(i)
            active = still_long
            if not active:
                break
        budget = self.profile.budget(language)
        return [
            fit_to_budget(r if is_chinese(language) else " ".join(r.split()), budget, language, title)
            for r, title in zip(results, titles or [None] * len(results))
        ]

    def _prompt_overhead(self, loaded: _Loaded, language: str) -> int:
        if self.profile.kind != "causal":
            return 2
        return len(loaded.tokenizer(self._prompt(loaded, "", language))["input_ids"]) + 2

    def _prompt(self, loaded: _Loaded, text: str, language: str) -> str:
        content = self.profile.prompt.format(
            text=text, language=LANGUAGE_NAMES.get(language, language),
            max_chars=self.profile.max_chars, max_words=self.profile.max_words,
        )
        return loaded.tokenizer.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False)

    def _generate(self, loaded: _Loaded, texts: list[str], language: str) -> list[str]:
        """Generate for ``texts`` in batches of similar length; outputs in input order."""
        import torch

        tokenizer, model = loaded.tokenizer, loaded.model
        inputs = [self._prompt(loaded, t, language) for t in texts] if self.profile.kind == "causal" else texts
        order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
        outputs: dict[int, str] = {}
        settings = self.profile.generation.kwargs()
        for start in range(0, len(order), self.profile.batch_size):
            batch = order[start : start + self.profile.batch_size]
            encoded = tokenizer(
                [inputs[i] for i in batch], return_tensors="pt", padding=True, truncation=True,
                max_length=self.profile.max_input_tokens, add_special_tokens=self.profile.kind != "causal",
            ).to(loaded.device)
            limit = settings.get("max_new_tokens") or self._max_new_tokens(tokenizer, [texts[i] for i in batch], language)
            with loaded.lock, torch.inference_mode():
                generated = model.generate(**encoded, **{**settings, "max_new_tokens": limit})
            if self.profile.kind == "causal":
                generated = generated[:, encoded["input_ids"].shape[1] :]
            for i, text in zip(batch, tokenizer.batch_decode(generated, skip_special_tokens=True)):
                outputs[i] = text.strip()
        return [outputs[i] for i in range(len(inputs))]

    def _max_new_tokens(self, tokenizer: Any, texts: list[str], language: str) -> int:
        """Room for a summary of the budget's length and a little more: the budget in this
        tokenizer's tokens per character (Chinese) or word of ``texts``, times HEADROOM."""
        tokens = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
        units = sum(text_length(t, language) for t in texts)
        rate = tokens / units if units else 1.0
        return max(self.profile.generation.min_new_tokens or 1, math.ceil(self.profile.budget(language) * rate * HEADROOM))


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
