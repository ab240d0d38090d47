"""The CTranslate2 engine (``engine: ctranslate2``) on the tiny models of tests/fakes/tiny_models.py:
the torch backend's outputs from the int8 conversion, conversion on first use and by
``newsbot models pull``, and visible fallbacks when CTranslate2 cannot run the model."""

import json
import logging
import os
import shutil
import sys
from pathlib import Path

import ctranslate2
import pytest
from transformers import AutoTokenizer, BlenderbotSmallConfig, BlenderbotSmallForConditionalGeneration, GenerationConfig

from summarizer import Summarizer
from summarizer.backends import ct2, transformer
from summarizer.backends.ct2 import CT2Backend
from summarizer.backends.transformer import TransformerBackend
from summarizer.profiles import Generation, ProfileError, load_models_config
from tests.fakes.tiny_models import ENGLISH, PROMPT, SIMPLIFIED_FOR_HANT, TARGETS, UNFAITHFUL, ZH_HANS, ZH_HANT
from tests.support.cli import newsbot
from tests.support.config import write_config
from tests.support.data import SEED_TEXT

pytestmark = pytest.mark.slow  # CTranslate2 conversions: `pytest -m "not slow"` leaves them out

GREEDY = "{num_beams: 1, max_new_tokens: 48}"
MODELS_YAML = f"""
profiles:
  torch-s2s: {{kind: seq2seq, model: ./s2s, batch_size: 2, generation: {GREEDY}}}
  ct2-s2s: {{kind: seq2seq, model: ./s2s, engine: ctranslate2, batch_size: 2, generation: {GREEDY}}}
  ct2-beams: {{kind: seq2seq, model: ./s2s, engine: ctranslate2, batch_size: 2,
              generation: {{num_beams: 2, max_new_tokens: 48}}}}
  ct2-chunked: {{kind: seq2seq, model: ./s2s, engine: ctranslate2, max_input_tokens: 40,
                generation: {{num_beams: 1, max_new_tokens: 24}}}}
  torch-causal: {{kind: causal, model: ./causal, prompt: "{PROMPT}", generation: {{max_new_tokens: 48, do_sample: false}}}}
  ct2-causal: {{kind: causal, model: ./causal, engine: ctranslate2, prompt: "{PROMPT}",
               generation: {{max_new_tokens: 48, do_sample: false}}}}
  ct2-fresh: {{kind: seq2seq, model: ./fresh, engine: ctranslate2, generation: {GREEDY}}}
  ct2-unsupported: {{kind: seq2seq, model: ./blenderbot, engine: ctranslate2, generation: {GREEDY}}}
  ct2-hub: {{kind: seq2seq, model: newsbot-tests/tiny-t5, engine: ctranslate2, generation: {GREEDY}}}
"""
TEXTS = [ZH_HANT, ZH_HANS, ENGLISH, SIMPLIFIED_FOR_HANT, UNFAITHFUL]
LEARNED = [ZH_HANT, ZH_HANS, ENGLISH]  # summaries that pass the gate as the model wrote them
UNCONVERTED = shutil.ignore_patterns("ct2-*")  # copies of the weights without conversions made by other tests


@pytest.fixture(scope="module")
def ct2_dir(models_dir, tmp_path_factory):
    """The tiny models copied (conversions land next to the weights), and a models.yaml."""
    folder = tmp_path_factory.mktemp("ct2")
    shutil.copytree(models_dir / "s2s", folder / "s2s")
    shutil.copytree(models_dir / "causal", folder / "causal")
    # CTranslate2's Llama converter needs a BOS token; the tiny model's is its EOS (config bos_token_id)
    tokenizer = AutoTokenizer.from_pretrained(folder / "causal")
    tokenizer.bos_token = tokenizer.eos_token
    tokenizer.save_pretrained(folder / "causal")
    (folder / "models.yaml").write_text(MODELS_YAML, encoding="utf-8")
    return folder


@pytest.fixture
def summarizer(ct2_dir):
    return Summarizer.from_file(ct2_dir / "models.yaml")


@pytest.fixture
def fresh(ct2_dir, tmp_path):
    """A Summarizer whose ``ct2-fresh`` profile is a new copy of the tiny T5, never converted."""
    shutil.copytree(ct2_dir / "s2s", tmp_path / "fresh", ignore=UNCONVERTED)
    shutil.copy(ct2_dir / "models.yaml", tmp_path / "models.yaml")
    return Summarizer.from_file(tmp_path / "models.yaml")


def spy_on(monkeypatch, summarizer: Summarizer, name: str, method: str) -> list[tuple[int, dict]]:
    """Record (batch size, keyword arguments) of every ``method`` call on profile ``name``'s
    CTranslate2 model."""
    loaded = transformer.load_model(summarizer.config.profiles[name])
    model, calls = loaded.model, []

    class Spy:
        def __getattr__(self, attribute):
            return getattr(model, attribute)

    def call(batch, *args, **kwargs):
        calls.append((len(batch), kwargs))
        return getattr(model, method)(batch, *args, **kwargs)

    spy = Spy()
    setattr(spy, method, call)
    monkeypatch.setattr(loaded, "model", spy)
    return calls


def build_unsupported(folder: Path, tokenizer_folder: Path) -> Path:
    """A tiny BlenderbotSmall (random weights): an architecture CTranslate2 has no converter for."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder)
    config = BlenderbotSmallConfig(
        vocab_size=len(tokenizer), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.pad_token_id)
    BlenderbotSmallForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("engine, reference, folder", [("ct2-s2s", "torch-s2s", "s2s"), ("ct2-causal", "torch-causal", "causal")])
def test_int8_conversion_writes_what_the_torch_backend_writes(summarizer, ct2_dir, engine, reference, folder):
    converted = summarizer.summarize_many(TEXTS, profile=engine)
    expected = summarizer.summarize_many(TEXTS, profile=reference)
    assert [(s.summary, s.fallback, s.reason) for s in converted] == [(s.summary, s.fallback, s.reason) for s in expected]
    assert [s.summary for s in converted[:3]] == [TARGETS[t] for t in LEARNED]
    assert converted[4].reason == "faithfulness check: number: 96萬畝 is not in the article"  # the same gate
    profile = summarizer.config.profiles[engine]
    model = transformer.load_model(profile).model
    assert isinstance(model, ctranslate2.Generator if profile.kind == "causal" else ctranslate2.Translator)
    assert model.compute_type == "int8_float32" and (ct2_dir / folder / "ct2-int8" / "model.bin").is_file()
    assert converted[0].model == str(ct2_dir / folder) and not converted[0].fallback


def test_batches_go_to_ctranslate2_together_and_keep_their_order(summarizer, monkeypatch):
    summarizer.summarize(ZH_HANT, profile="ct2-s2s")  # greedy, on the same loaded model
    calls = spy_on(monkeypatch, summarizer, "ct2-beams", "translate_batch")
    texts = [ZH_HANT, ZH_HANS, SIMPLIFIED_FOR_HANT, ZH_HANS, ZH_HANT]
    together = summarizer.summarize_many(texts, profile="ct2-beams")
    assert sorted(size for size, _ in calls) == [1, 2, 2]  # batch_size 2, like the torch backend
    assert {(o["beam_size"], o["max_decoding_length"], o["min_decoding_length"]) for _, o in calls} == {(2, 48, 0)}
    calls.clear()
    one_by_one = [summarizer.summarize(t, profile="ct2-beams") for t in texts]
    assert [size for size, _ in calls] == [1] * len(texts)
    assert [s.summary for s in together] == [s.summary for s in one_by_one]
    assert [s.summary for s in together][:2] == [TARGETS[ZH_HANT], TARGETS[ZH_HANS]]


def test_long_text_is_map_reduced_through_ctranslate2(summarizer, monkeypatch):
    calls = spy_on(monkeypatch, summarizer, "ct2-chunked", "translate_batch")
    summarizer.summarize(TARGETS[ZH_HANT], profile="ct2-chunked")
    assert [size for size, _ in calls] == [1]
    calls.clear()
    result = summarizer.summarize(SEED_TEXT.read_text(encoding="utf-8"), profile="ct2-chunked")
    assert len(calls) >= 2 and calls[0][0] > 1  # the chunks together, then at least one reduce round
    assert result.summary and len(result.summary) <= summarizer.config.profiles["ct2-chunked"].max_chars


@pytest.mark.parametrize("engine, reference, text", [("ct2-s2s", "torch-s2s", ZH_HANT), ("ct2-causal", "torch-causal", ENGLISH)])
def test_token_limits_count_new_tokens_as_generate_does(summarizer, engine, reference, text):
    limits = Generation(num_beams=1, max_new_tokens=2, min_new_tokens=2)  # fewer than the learned summaries
    written = [
        (CT2Backend if name == engine else TransformerBackend)(
            summarizer.config.profiles[name].model_copy(update={"generation": limits})).summarize_batch([text], "en")[0]
        for name in (engine, reference)
    ]
    assert written[0] == written[1] and written[0] and TARGETS[text].startswith(written[0].rstrip("."))
    assert written[0] != TARGETS[text]


def test_greedy_decoding_stops_at_the_profiles_deadline(summarizer):
    profile = summarizer.config.profiles["ct2-causal"]
    [full] = CT2Backend(profile).summarize_batch([ENGLISH], "en")
    [cut] = CT2Backend(profile.model_copy(update={"deadline_seconds": 1e-9})).summarize_batch([ENGLISH], "en")
    assert full == TARGETS[ENGLISH] and len(cut) < len(full) and full.startswith(cut.strip())


def test_the_models_own_generation_settings_apply_unless_the_profile_sets_them(summarizer, ct2_dir, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(ct2_dir / "s2s")
    defaults = GenerationConfig(num_beams=4, no_repeat_ngram_size=3, length_penalty=2.0, min_length=56, forced_bos_token_id=5,
                                eos_token_id=tokenizer.eos_token_id, early_stopping=True)
    profile = summarizer.config.profiles["ct2-s2s"].model_copy(
        update={"generation": Generation(num_beams=2, repetition_penalty=1.2)})
    options, prefix = ct2._decoding(profile, defaults, tokenizer)
    assert options == {"beam_size": 2, "length_penalty": 2.0, "repetition_penalty": 1.2, "no_repeat_ngram_size": 3,
                       "min_decoding_length": 55, "end_token": [tokenizer.eos_token_id]}
    assert prefix == [tokenizer.convert_ids_to_tokens(5)]
    causal = summarizer.config.profiles["ct2-causal"].model_copy(
        update={"generation": Generation(do_sample=True, temperature=0.7, top_p=0.9)})
    options, prefix = ct2._decoding(causal, GenerationConfig(top_k=20, min_length=56, eos_token_id=[1, 4]), tokenizer)
    assert options == {"beam_size": 1, "length_penalty": 1.0, "repetition_penalty": 1.0, "no_repeat_ngram_size": 0,
                       "min_length": 0, "sampling_topk": 20, "sampling_topp": 0.9, "sampling_temperature": 0.7,
                       "end_token": [1, 4]}
    assert prefix is None


def test_missing_conversion_is_made_on_first_use_once(fresh, caplog):
    folder = Path(fresh.config.profiles["ct2-fresh"].model)
    assert not (folder / "ct2-int8").exists()
    with caplog.at_level(logging.INFO, logger="summarizer.backends.ct2"):
        first = fresh.summarize(ZH_HANT, profile="ct2-fresh")
        second = Summarizer(fresh.config).summarize(ZH_HANS, profile="ct2-fresh")
    assert (first.summary, second.summary) == (TARGETS[ZH_HANT], TARGETS[ZH_HANS]) and not first.fallback
    assert sorted(p.name for p in (folder / "ct2-int8").iterdir()) == [
        "config.json", "model.bin", "newsbot-source.json", "shared_vocabulary.json"]
    assert len([r for r in caplog.records if r.message.startswith("converting")]) == 1
    assert not list(folder.glob(".ct2-*"))  # the staging folder is gone


def test_a_conversion_is_made_again_when_the_weights_change(fresh, caplog):
    profile = fresh.config.profiles["ct2-fresh"]
    weights = Path(profile.model) / "model.safetensors"

    def conversions() -> int:
        return len([r for r in caplog.records if r.name == "summarizer.backends.ct2" and r.message.startswith("converting")])

    with caplog.at_level(logging.INFO, logger="summarizer.backends.ct2"):
        target = ct2.convert(profile)
        assert ct2.convert(profile) == target and conversions() == 1  # the same weights: kept
        made = weights.stat().st_mtime
        os.utime(weights, (made - 3600, made - 3600))  # weights replaced by older ones (rsync -t)
        assert ct2.convert(profile) == target and conversions() == 2
        assert ct2.convert(profile) == target and conversions() == 2
    assert caplog.records[-1].message == f"converting {profile.model} (main) to CTranslate2 int8 in {target}, once"
    assert json.loads((target / "newsbot-source.json").read_text())["model.safetensors"][1] == weights.stat().st_mtime_ns


def test_hub_models_are_converted_inside_their_snapshot(ct2_dir, summarizer, tmp_path, monkeypatch):
    import huggingface_hub.constants

    snapshot = tmp_path / "hub" / "models--newsbot-tests--tiny-t5" / "snapshots" / ("a" * 40)
    shutil.copytree(ct2_dir / "s2s", snapshot, ignore=UNCONVERTED)
    (snapshot.parent.parent / "refs").mkdir()
    (snapshot.parent.parent / "refs" / "main").write_text("a" * 40)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    result = summarizer.summarize(ZH_HANT, profile="ct2-hub")
    assert (result.summary, result.model, result.fallback) == (TARGETS[ZH_HANT], "newsbot-tests/tiny-t5", False)
    assert ct2.conversion_folder(summarizer.config.profiles["ct2-hub"]) == snapshot / "ct2-int8"
    assert (snapshot / "ct2-int8" / "model.bin").is_file()


def test_without_ctranslate2_the_profile_falls_back_visibly(fresh, monkeypatch):
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # as if not installed
    assert not fresh.available("ct2-fresh")
    result = fresh.summarize(ZH_HANT, profile="ct2-fresh")
    assert result.fallback and result.model == "textrank" and result.summary
    assert result.reason.startswith("model unavailable: model ") and result.reason.endswith(
        "is not available here: the ctranslate2 package is not installed (pip install 'newsbot[ctranslate2]')")


def test_an_architecture_ctranslate2_cannot_convert_falls_back_visibly(ct2_dir, summarizer, caplog):
    folder = build_unsupported(ct2_dir / "blenderbot", ct2_dir / "s2s")
    with caplog.at_level(logging.WARNING, logger="summarizer.backends.transformer"):
        first = summarizer.summarize(ZH_HANT, profile="ct2-unsupported")
        second = summarizer.summarize(ZH_HANS, profile="ct2-unsupported")
    assert first.fallback and second.fallback and first.model == "textrank"
    assert first.reason == (f"model unavailable: model {folder} (main) is not available here: CTranslate2 cannot convert it: "
                            "No conversion is registered for the model configuration BlenderbotSmallConfig")
    assert len([r for r in caplog.records if "is not available here" in r.message]) == 1  # tried once
    assert not summarizer.available("ct2-unsupported")
    assert [p.name for p in folder.iterdir() if "ct2" in p.name] == []  # nothing half-made left behind


@pytest.mark.parametrize("profile, message", [
    ("{kind: extractive, engine: ctranslate2}", "engine 'ctranslate2' is for seq2seq and causal profiles"),
    ("{kind: seq2seq, model: m, engine: ctranslate2, quantize_int8: true}", "'quantize_int8' is for engine 'transformers'"),
    ("{kind: seq2seq, model: m, engine: ctranslate2, dtype: float16}", "'dtype' is for engine 'transformers'"),
    ("{kind: seq2seq, model: m, compute_type: int8}", "'compute_type' is for engine 'ctranslate2'"),
    ("{kind: seq2seq, model: m, engine: onnx}", "'transformers' or 'ctranslate2'"),
])
def test_engine_settings_are_checked(tmp_path, profile, message):
    (tmp_path / "models.yaml").write_text(f"profiles:\n  p: {profile}\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=message) as error:
        load_models_config(tmp_path / "models.yaml")
    assert "key 'profiles.p" in str(error.value)


def test_models_pull_converts_and_models_list_shows_the_engine(ct2_dir, tmp_path):
    shutil.copytree(ct2_dir / "s2s", tmp_path / "fresh", ignore=UNCONVERTED)
    build_unsupported(tmp_path / "blenderbot", ct2_dir / "s2s")
    shutil.copy(ct2_dir / "models.yaml", tmp_path / "models.yaml")
    config = write_config(tmp_path, f'[summarizer]\nmodels_file = "{tmp_path / "models.yaml"}"\n')
    env = {"HF_HUB_OFFLINE": "1"}
    pulled = newsbot("models", "pull", "ct2-fresh", "-c", str(config), cwd=tmp_path, env=env)
    assert pulled.returncode == 0, pulled.stderr
    assert f"ct2-fresh: CTranslate2 int8 model in {tmp_path / 'fresh' / 'ct2-int8'}" in pulled.stdout
    assert (tmp_path / "fresh" / "ct2-int8" / "model.bin").is_file()

    failed = newsbot("models", "pull", "ct2-unsupported", "-c", str(config), cwd=tmp_path, env=env)
    assert failed.returncode == 1
    assert ("newsbot: error: ct2-unsupported: CTranslate2 cannot convert it: No conversion is registered for the model "
            "configuration BlenderbotSmallConfig") in failed.stderr

    listing = newsbot("models", "list", "--json", "-c", str(config), cwd=tmp_path, env=env)
    engines = {row["profile"]: row["engine"] for row in json.loads(listing.stdout)["profiles"]}
    assert (engines["ct2-fresh"], engines["torch-s2s"], engines["extractive"]) == ("ctranslate2", "transformers", "")
