"""CTranslate2 engine for seq2seq and causal profiles (``engine: ctranslate2`` in models.yaml).

The profile's Hugging Face weights are converted once, to ``compute_type`` (int8 by default),
into ``ct2-<compute_type>/`` next to them: inside the model folder, or inside the revision's
snapshot folder in the Hugging Face cache (a new revision is a new snapshot, converted anew).
``newsbot models pull`` converts after downloading; otherwise the first use converts (logged).
A conversion records the weights it was made from (each file's size and modification time) and
is made again when they change.

``ctranslate2`` is optional (``pip install 'newsbot[ctranslate2]'``) and imported on first use;
without it, or for an architecture it cannot convert, the model is unavailable like missing
weights (the extractive fallback, with the reason). Everything but the model call is the torch
backend's (:class:`TransformerBackend`): chunking, map-reduce, batching, the budget cut.
Decoding follows ``generate``: the model's generation config, overridden by the profile's;
``deadline_seconds`` stops greedy decoding as ``max_time`` stops ``generate`` (CTranslate2 calls
back per token only without beams: beam search is bounded by ``max_new_tokens`` alone).

On CPU the model runs as one single-threaded worker per core (``inter_threads``; the workers
share the weights), and each call's inputs are split among them: decoding a few short rows
is too small a job to split well across cores (``intra_threads``), but independent batches in
parallel keep every core busy. A call uses at most as many cores as it has inputs, so give
``engine: ctranslate2`` profiles a ``batch_size`` of a few inputs per core (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import math
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from summarizer.backends.transformer import TransformerBackend, _Loaded
from summarizer.profiles import CAUSAL, Profile

if TYPE_CHECKING:
    from transformers import GenerationConfig

log = logging.getLogger(__name__)

SOURCE_FILE = "newsbot-source.json"  # in the conversion: the weights it was made from
INSTALL_HINT = "pip install 'newsbot[ctranslate2]'"


class _Converted(_Loaded):
    """A CTranslate2 Translator (seq2seq) or Generator (causal), its tokenizer, the model's own
    generation config (``generate``'s defaults; each profile overrides its own settings), and
    how many workers run batches in parallel."""

    def __init__(self, model: Any, tokenizer: Any, device: str, generation: GenerationConfig, workers: int) -> None:
        super().__init__(model, tokenizer, device)
        self.generation = generation
        self.workers = workers


def installed() -> bool:
    """Whether the ctranslate2 package can be imported."""
    return importlib.util.find_spec("ctranslate2") is not None


def _ctranslate2() -> ModuleType:
    try:
        import ctranslate2
    except ImportError as exc:
        raise ImportError(f"the ctranslate2 package is not installed ({INSTALL_HINT})") from exc
    return ctranslate2


def weights_folder(profile: Profile) -> Path:
    """The folder of the profile's Hugging Face weights: the model folder, or the revision's
    snapshot in the Hugging Face cache (FileNotFoundError when neither is there)."""
    from huggingface_hub import try_to_load_from_cache

    assert profile.model
    model = Path(profile.model)
    if model.is_absolute() or model.is_dir():
        if not (model / "config.json").is_file():
            raise FileNotFoundError("its weights are not on this machine")
        return model
    cached = try_to_load_from_cache(profile.model, "config.json", revision=profile.revision)
    if not isinstance(cached, str):
        raise FileNotFoundError("its weights are not on this machine")
    return Path(cached).parent


def conversion_folder(profile: Profile) -> Path:
    """Where the profile's CTranslate2 conversion is (or will be): ``ct2-<compute_type>`` in
    :func:`weights_folder`."""
    return weights_folder(profile) / f"ct2-{profile.compute_type}"


def _fingerprint(source: Path) -> dict[str, list[int]]:
    """Size and modification time (ns) of each file of the weights in ``source``."""
    return {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(source.iterdir()) if p.is_file()}


def _fresh(source: Path, target: Path) -> bool:
    """Whether ``target`` holds a conversion of the weights now in ``source``."""
    try:
        return json.loads((target / SOURCE_FILE).read_text(encoding="utf-8")) == _fingerprint(source)
    except (OSError, ValueError):  # none yet, or unreadable: convert
        return False


def convert(profile: Profile) -> Path:
    """The profile's CTranslate2 model folder, converted from its weights first when missing or
    made from other weights (logged). Raises FileNotFoundError (no weights), ImportError (no
    ctranslate2), ValueError (the conversion failed, e.g. an architecture it cannot convert)."""
    ctranslate2 = _ctranslate2()
    target = conversion_folder(profile)
    source = target.parent
    if _fresh(source, target):
        return target
    log.info("converting %s (%s) to CTranslate2 %s in %s, once", profile.model, profile.revision, profile.compute_type, target)
    fingerprint = _fingerprint(source)
    staging = Path(tempfile.mkdtemp(prefix=".ct2-", dir=source))  # renamed into place when complete
    try:
        try:
            ctranslate2.converters.TransformersConverter(str(source)).convert(
                str(staging), quantization=profile.compute_type, force=True
            )
        except Exception as exc:  # the converter raises many kinds; each means this model cannot run here
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            message = re.sub(r" \(supported configurations are: .*\)$", "", first)  # a list of dozens
            raise ValueError(f"CTranslate2 cannot convert it: {message}") from exc
        (staging / SOURCE_FILE).write_text(json.dumps(fingerprint), encoding="utf-8")
        if not _fresh(source, target):  # else another process finished first: keep that one
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load(profile: Profile) -> _Converted:
    """The profile's model on CTranslate2, converting it first when needed (see :func:`convert`)."""
    import torch
    from transformers import AutoTokenizer, GenerationConfig

    ctranslate2 = _ctranslate2()
    folder = convert(profile)
    source = folder.parent
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    engine = ctranslate2.Generator if profile.kind == CAUSAL else ctranslate2.Translator
    device = profile.device
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() else "cpu"
    threads = torch.get_num_threads()
    workers, per_worker = (threads, 1) if device == "cpu" else (1, threads)  # CPU: a single-threaded worker per core
    try:
        model = engine(
            str(folder), device=device, compute_type=profile.compute_type, inter_threads=workers, intra_threads=per_worker
        )
    except RuntimeError as exc:  # an unreadable or incompatible conversion
        raise ValueError(f"CTranslate2 cannot load {folder}: {str(exc).splitlines()[0]}") from exc
    try:
        generation = GenerationConfig.from_pretrained(source, local_files_only=True)
    except OSError:  # no generation_config.json: the settings in config.json, as from_pretrained does
        generation = GenerationConfig.from_pretrained(
            source, config_file_name="config.json", _from_model_config=True, local_files_only=True
        )
    log.info(
        "loaded %s (%s) with CTranslate2 on %s as %s, %d worker(s)",
        profile.model,
        profile.revision,
        model.device,
        model.compute_type,
        workers,
    )
    return _Converted(model, tokenizer, model.device, generation, workers)


def _decoding(profile: Profile, defaults: GenerationConfig, tokenizer: Any) -> tuple[dict[str, Any], list[str] | None]:
    """CTranslate2 decoding options (all but the length limit) and the target prefix: the
    model's generation config ``defaults`` overridden by the profile's ``generation``, as
    ``generate`` does (``early_stopping`` has no CTranslate2 counterpart)."""
    generation = copy.deepcopy(defaults)
    generation.update(**profile.generation.kwargs())
    causal = profile.kind == CAUSAL
    if generation.min_new_tokens is not None:
        minimum = generation.min_new_tokens
    else:  # min_length counts the decoder's start token (seq2seq) or the prompt (causal)
        minimum = 0 if causal else max(0, (generation.min_length or 0) - 1)
    options: dict[str, Any] = {
        "beam_size": generation.num_beams or 1,
        "length_penalty": generation.length_penalty if generation.length_penalty is not None else 1.0,
        "repetition_penalty": generation.repetition_penalty or 1.0,
        "no_repeat_ngram_size": generation.no_repeat_ngram_size or 0,
        "min_length" if causal else "min_decoding_length": minimum,
    }
    if generation.do_sample:
        options.update(
            sampling_topk=generation.top_k or 0,
            sampling_topp=generation.top_p or 1.0,
            sampling_temperature=generation.temperature or 1.0,
        )
    eos = generation.eos_token_id
    if eos is not None:
        options["end_token"] = [eos] if isinstance(eos, int) else list(eos)
    forced = generation.forced_bos_token_id
    prefix = None if causal or forced is None else [tokenizer.convert_ids_to_tokens(forced)]
    return options, prefix


class CT2Backend(TransformerBackend):
    """:class:`TransformerBackend` with the model call on CTranslate2 (``translate_batch`` for
    seq2seq, ``generate_batch`` for causal profiles)."""

    def _run(self, loaded: _Loaded, inputs: list[str], limit: int) -> list[str]:
        assert isinstance(loaded, _Converted)
        tokenizer = loaded.tokenizer
        causal = self.profile.kind == CAUSAL
        encoded = tokenizer(inputs, truncation=True, max_length=self.profile.max_input_tokens, add_special_tokens=not causal)[
            "input_ids"
        ]
        tokens = [tokenizer.convert_ids_to_tokens(ids) for ids in encoded]
        options, prefix = _decoding(self.profile, loaded.generation, tokenizer)
        options["max_batch_size"] = math.ceil(len(tokens) / loaded.workers)  # a share for each worker, in parallel
        if options.get("beam_size", 1) == 1:  # the profile's deadline, as generate's max_time (greedy decoding only)
            stop_at = time.monotonic() + self.profile.deadline_seconds
            options["callback"] = lambda _step: time.monotonic() > stop_at
        if causal:
            results = loaded.model.generate_batch(tokens, max_length=limit, include_prompt_in_result=False, **options)
            written = [result.sequences_ids[0] for result in results]
        else:
            results = loaded.model.translate_batch(
                tokens, [prefix] * len(tokens) if prefix else None, max_decoding_length=limit, max_input_length=0, **options
            )
            written = [tokenizer.convert_tokens_to_ids(result.hypotheses[0]) for result in results]
        return tokenizer.batch_decode(written, skip_special_tokens=True)
