"""Throughput of the project's summarizer against a naive baseline, on the default architectures.

The Hugging Face hub is out of reach, so each default profile's architecture is rebuilt from its
published config (values copied below) with random weights, and a word-level tokenizer of the
same vocabulary size stands in for the real one. Inputs are the same for every run; output
length is forced (min_new_tokens = max_new_tokens), so every run does the same amount of work.

Baseline: one article per ``generate`` call, fp32, the profile's beam search, no project code.
Options, alone and combined: batching (the project's ``TransformerBackend``, sorted by length, 2/4/8 per call),
dynamic int8 quantization (``quantize_int8``), greedy instead of beam search; and the CTranslate2
engine (``CT2Backend``, ``engine: ctranslate2``, int8, one worker per core), converted once before
timing, at 1, 4 and 8 per call (its ``batch_size``; 8 is its best on 2 cores). Ratios are against
the baseline and against torch's best (int8 + batching 4), all measured in the same process.
``--quick``: only the baseline, int8 + batching 4 and CTranslate2. ``--repeats N``: each time is
the best of N runs (on a shared machine, other work only slows runs down), taken in rounds (every
run once per round) so that all runs see the same spells of load.

    python benchmarks/summarize.py [--articles 8] [--new-tokens 32] [--models mt5,distilbart] [--quick] [--repeats 1]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import ctranslate2
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    BartConfig,
    BartForConditionalGeneration,
    MT5Config,
    MT5ForConditionalGeneration,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)

from summarizer.backends.ct2 import CT2Backend
from summarizer.backends.transformer import TransformerBackend
from summarizer.profiles import Profile

# csebuetnlp/mT5_multilingual_XLSum config.json (mT5-base)
MT5_XLSUM: dict[str, Any] = dict(
    vocab_size=250112,
    d_model=768,
    d_kv=64,
    d_ff=2048,
    num_layers=12,
    num_decoder_layers=12,
    num_heads=12,
    feed_forward_proj="gated-gelu",
    tie_word_embeddings=False,
    relative_attention_num_buckets=32,
    pad_token_id=0,
    eos_token_id=1,
    decoder_start_token_id=0,
)
# sshleifer/distilbart-cnn-12-6 config.json
DISTILBART_CNN: dict[str, Any] = dict(
    vocab_size=50264,
    d_model=1024,
    encoder_layers=12,
    decoder_layers=6,
    encoder_attention_heads=16,
    decoder_attention_heads=16,
    encoder_ffn_dim=4096,
    decoder_ffn_dim=4096,
    max_position_embeddings=1024,
    pad_token_id=1,
    bos_token_id=0,
    eos_token_id=2,
    decoder_start_token_id=2,
    forced_bos_token_id=0,
    normalize_before=False,
    add_final_layer_norm=False,
    scale_embedding=False,
)
BEST_TORCH = "int8 + batching 4"  # the shipped torch setting, the fastest at beam search (benchmarks/RESULTS.md)
CT2 = "ctranslate2 int8,"
CT2_BATCHES = (1, 4, 8)  # articles per call (the profile's batch_size); more than 8 gains nothing on 2 cores
# name: title, config and model classes, config values, longest article (tokens), beams
ARCHITECTURES: dict[str, tuple[str, type[PretrainedConfig], type[PreTrainedModel], dict[str, Any], int, int]] = {
    "mt5": ("mT5-base (mt5-xlsum profile)", MT5Config, MT5ForConditionalGeneration, MT5_XLSUM, 512, 4),
    "distilbart": (
        "DistilBART-CNN-12-6 (distilbart-cnn profile)",
        BartConfig,
        BartForConditionalGeneration,
        DISTILBART_CNN,
        512,
        4,
    ),
}


def word_tokenizer(vocab_size: int, pad_id: int, eos_id: int, bos_id: int | None) -> PreTrainedTokenizerFast:
    """A word-level tokenizer with exactly ``vocab_size`` entries: the special tokens at their ids
    (``<unk>`` at the first free one), "w123" for every other id 123."""
    specials = {"<pad>": pad_id, "</s>": eos_id, **({"<s>": bos_id} if bos_id is not None else {})}
    specials["<unk>"] = min(set(range(vocab_size)) - set(specials.values()))
    vocab = {f"w{i}": i for i in range(vocab_size) if i not in specials.values()} | specials
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    named = {
        "pad_token": "<pad>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        **({"bos_token": "<s>"} if bos_id is not None else {}),
    }
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, **named)
    assert len(fast) == vocab_size and all(fast.convert_tokens_to_ids(t) == i for t, i in specials.items())
    return fast


def articles(count: int, vocab_size: int, shortest: int, longest: int) -> list[str]:
    rng = random.Random(7)
    return [" ".join(f"w{rng.randrange(10, vocab_size)}" for _ in range(rng.randint(shortest, longest))) for _ in range(count)]


Run = Callable[[], list[float]]  # one timed pass: seconds per article, or for all articles at once


def seconds(run: Callable[[], object]) -> float:
    """How long ``run()`` takes."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def rounds(runs: dict[str, Run], repeats: int) -> dict[str, list[float]]:
    """Each run's shortest times (element by element) over ``repeats`` rounds of every run once."""
    best: dict[str, list[float]] = {}
    for _ in range(repeats):
        for label, run in runs.items():
            times = run()
            best[label] = [min(a, b) for a, b in zip(best[label], times)] if label in best else times
    return best


def baseline(folder: Path, texts: list[str], beams: int, new_tokens: int) -> Run:
    """Naive: fp32, one generate call per article; a pass times each article."""
    tokenizer = PreTrainedTokenizerFast.from_pretrained(folder)
    model_class = MT5ForConditionalGeneration if "mt5" in folder.name else BartForConditionalGeneration
    model = model_class.from_pretrained(folder, dtype=torch.float32).eval()

    def generate(text: str) -> None:
        encoded = tokenizer(text, return_tensors="pt", truncation=True, max_length=512)
        with torch.inference_mode():
            model.generate(**encoded, num_beams=beams, max_new_tokens=new_tokens, min_new_tokens=new_tokens)

    return lambda: [seconds(partial(generate, text)) for text in texts]


def project(
    folder: Path, texts: list[str], beams: int, new_tokens: int, batch: int, int8: bool, engine: str = "transformers"
) -> Run:
    """The project's backend with ``batch`` articles per generate call, int8 (torch's dynamic
    quantization, or CTranslate2's int8 compute type) or fp32, loaded; a pass times all articles."""
    options: dict[str, Any]
    if engine == "ctranslate2":
        options = {"engine": engine, "compute_type": "int8" if int8 else "float32"}
    else:
        options = {"dtype": "float32", "quantize_int8": int8}
    profile = Profile(
        kind="seq2seq",
        model=str(folder),
        device="cpu",
        max_input_tokens=512,
        batch_size=batch,
        generation={"num_beams": beams, "max_new_tokens": new_tokens, "min_new_tokens": new_tokens},
        **options,
    )
    backend = (CT2Backend if engine == "ctranslate2" else TransformerBackend)(profile)
    backend.summarize_batch(texts[:1], "en")  # load (and quantize, or convert) outside the timing
    return lambda: [seconds(lambda: backend.summarize_batch(texts, "en"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--models", default="mt5,distilbart")
    parser.add_argument("--quick", action="store_true", help="only the baseline, int8 + batching 4 and CTranslate2")
    parser.add_argument("--repeats", type=int, default=1, help="time each run this many times, keep the best")
    args = parser.parse_args()
    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, ctranslate2 {ctranslate2.__version__}, {torch.get_num_threads()} threads; "
        f"{args.articles} articles, {args.new_tokens} new tokens each (forced); best of {args.repeats}\n"
    )
    for key in args.models.split(","):
        title, config_class, model_class, values, longest, beams = ARCHITECTURES[key]
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / key
            model_class(config_class(**values)).save_pretrained(folder)
            word_tokenizer(
                values["vocab_size"], values["pad_token_id"], values["eos_token_id"], values.get("bos_token_id")
            ).save_pretrained(folder)
            texts = articles(args.articles, values["vocab_size"], longest // 2, longest - 2)
            base_label = f"baseline: 1 per generate, fp32, beams={beams}"
            runs = {base_label: baseline(folder, texts, beams, args.new_tokens)}
            torch_runs = [
                ("batching, 2 per generate", 2, False, beams),
                ("batching, 4 per generate", 4, False, beams),
                ("batching, 8 per generate", 8, False, beams),
                ("int8", 1, True, beams),
                ("greedy (beams=1)", 1, False, 1),
                ("int8 + batching 2", 2, True, beams),
                ("int8 + batching 4", 4, True, beams),
                ("int8 + batching 8", 8, True, beams),
                ("int8 + batching 8 + greedy", 8, True, 1),
            ]
            for label, batch, int8, run_beams in torch_runs:
                if not args.quick or label == BEST_TORCH:
                    runs[label] = project(folder, texts, run_beams, args.new_tokens, batch, int8)
            for batch in CT2_BATCHES:
                runs[f"{CT2} {batch} per call"] = project(folder, texts, beams, args.new_tokens, batch, True, "ctranslate2")
            times = rounds(runs, args.repeats)
        base_times = times[base_label]
        base_total = sum(base_times)
        rows = [(label, sum(spent)) for label, spent in times.items()]
        best = dict(rows)[BEST_TORCH]
        fastest, fastest_total = min(((label, total) for label, total in rows if label.startswith(CT2)), key=lambda row: row[1])
        print(f"## {title}")
        print(f"| run | articles/s | s/article | × baseline | × {BEST_TORCH} |")
        print("|---|---:|---:|---:|---:|")
        for label, total in rows:
            print(
                f"| {label} | {args.articles / total:.3f} | {total / args.articles:.2f} | {base_total / total:.2f} | {best / total:.2f} |"
            )
        print(
            f"(baseline per-article latency: median {statistics.median(base_times):.2f}s; "
            f"fastest CTranslate2: {fastest}, {best / fastest_total:.2f}× {BEST_TORCH})\n"
        )


if __name__ == "__main__":
    main()
