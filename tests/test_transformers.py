"""Transformer summarization on tiny models built and trained here, loaded through models.yaml."""

import json
import logging
import shutil
from pathlib import Path

import pytest
import torch
from sqlalchemy import select

from bot.ingest.pipeline import Ingestor
from bot.storage import Summary as SummaryRow
from summarizer import Summarizer, convert_script
from summarizer.backends import transformer
from summarizer.backends.transformer import chunk_text
from summarizer.profiles import load_models_config
from summarizer.text import split_sentences
from tests.fakes.tiny_models import ENGLISH, SIMPLIFIED_FOR_HANT, TARGETS, UNFAITHFUL, ZH_HANS, ZH_HANT
from tests.support.cli import newsbot
from tests.support.config import write_config
from tests.support.data import SEED_TEXT

pytestmark = pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves them out


@pytest.fixture
def summarizer(models_dir):
    return Summarizer.from_file(models_dir / "models.yaml")


def test_models_yaml_resolves_local_folders(models_dir):
    config = load_models_config(models_dir / "models.yaml")
    assert config.profiles["tiny-s2s"].model == str(models_dir / "s2s")
    assert config.route("en") == "tiny-causal" and config.route("fr") == "tiny-s2s"


@pytest.mark.parametrize("text", [ZH_HANT, ZH_HANS])
def test_seq2seq_summary_passes_the_gate(summarizer, models_dir, text):
    result = summarizer.summarize(text)
    assert (result.summary, result.fallback, result.reason) == (TARGETS[text], False, None)
    assert (result.profile, result.model, result.revision) == ("tiny-s2s", str(models_dir / "s2s"), "main")


def test_causal_profile_uses_the_chat_template(summarizer, models_dir):
    result = summarizer.summarize(ENGLISH)
    assert (result.summary, result.profile, result.fallback) == (TARGETS[ENGLISH], "tiny-causal", False)
    assert result.model == str(models_dir / "causal")


@pytest.mark.parametrize("profile", ["tiny-s2s", "tiny-causal"])
def test_traditional_article_gets_traditional_summary_even_if_the_model_writes_simplified(summarizer, profile):
    result = summarizer.summarize(SIMPLIFIED_FOR_HANT, profile=profile)
    assert TARGETS[SIMPLIFIED_FOR_HANT] == "双桂湖国家湿地公园迎来越冬候鸟。"
    assert result.language == "zh-Hant" and not result.fallback
    assert result.summary == convert_script(TARGETS[SIMPLIFIED_FOR_HANT], "zh-Hant")
    assert result.in_script("zh-Hans") == TARGETS[SIMPLIFIED_FOR_HANT]


@pytest.mark.parametrize("profile", ["tiny-s2s", "tiny-causal"])
def test_unfaithful_summary_is_replaced_by_the_extractive_one(summarizer, profile):
    result = summarizer.summarize(UNFAITHFUL, profile=profile)
    assert result.fallback and result.reason == "faithfulness check: number: 96萬畝 is not in the article"
    assert result.model == "textrank" and "96" not in result.summary
    assert all(sentence in UNFAITHFUL for sentence in split_sentences(result.summary))


def test_batches_keep_input_order(summarizer):
    texts = [ZH_HANT, ZH_HANS, SIMPLIFIED_FOR_HANT, UNFAITHFUL, ZH_HANT]
    together = summarizer.summarize_many(texts, profile="tiny-s2s")
    one_by_one = [summarizer.summarize(t, profile="tiny-s2s") for t in texts]
    assert [r.summary for r in together] == [r.summary for r in one_by_one]
    assert [r.fallback for r in together] == [False, False, False, True, False]


def test_each_model_is_loaded_once_per_process(models_dir):
    first = Summarizer.from_file(models_dir / "models.yaml")
    second = Summarizer.from_file(models_dir / "models.yaml")
    first.summarize(ZH_HANT)
    second.summarize(ZH_HANS)
    profile = first.config.profiles["tiny-s2s"]
    assert transformer.load_model(profile) is transformer.load_model(second.config.profiles["tiny-s2s"])
    assert sum(1 for key in transformer._CACHE if key[1] == profile.model and key[5] is False) == 1


def test_int8_quantization_on_cpu(summarizer):
    result = summarizer.summarize(ZH_HANT, profile="tiny-int8")
    loaded = transformer.load_model(summarizer.config.profiles["tiny-int8"])
    modules = list(loaded.model.modules())
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in modules)
    assert not any(type(m) is torch.nn.Linear for m in modules)
    assert result.summary  # quantized output still goes through the same gate


def test_chunks_follow_sentences_and_fit_the_budget(summarizer):
    tokenizer = transformer.load_model(summarizer.config.profiles["tiny-s2s"]).tokenizer
    text = SEED_TEXT.read_text(encoding="utf-8")
    chunks = chunk_text(tokenizer, text, 40, "")
    assert len(chunks) > 5
    assert all(len(tokenizer(c, add_special_tokens=False)["input_ids"]) <= 40 for c in chunks)
    sentences = split_sentences(text)
    assert "".join(chunks) == "".join(sentences)  # nothing lost, order kept
    assert chunk_text(tokenizer, ZH_HANT, 40, "") == [ZH_HANT]


def test_long_text_is_map_reduced(summarizer):
    loaded = transformer.load_model(summarizer.config.profiles["tiny-chunked"])
    calls = []
    hook = loaded.model.get_encoder().register_forward_hook(
        lambda module, args, kwargs, output: calls.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    try:
        summarizer.summarize(TARGETS[ZH_HANT], profile="tiny-chunked")
        short_calls = len(calls)
        calls.clear()
        result = summarizer.summarize(SEED_TEXT.read_text(encoding="utf-8"), profile="tiny-chunked")
    finally:
        hook.remove()
    assert short_calls == 1
    assert len(calls) >= 2 and calls[0] > 1  # a batch of chunks, then at least one reduce round
    assert result.summary


def test_missing_weights_fall_back_and_say_so_once(summarizer, caplog):
    with caplog.at_level(logging.WARNING, logger="summarizer.backends.transformer"):
        first = summarizer.summarize(ZH_HANT, profile="later")
        second = summarizer.summarize(ZH_HANS, profile="later")
    assert first.fallback and second.fallback and first.model == "textrank"
    assert first.reason.startswith("model unavailable: model ") and "is not available here" in first.reason
    assert len([r for r in caplog.records if "is not available here" in r.message]) == 1
    assert not summarizer.available("later") and summarizer.available("tiny-s2s")


async def test_pipeline_summarizes_once_and_redoes_fallbacks_when_weights_arrive(models_dir, tmp_path, db, make_settings):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "a.txt").write_text("梁平預制菜\n" + ZH_HANT, encoding="utf-8")
    later = tmp_path / "later-models"
    later.mkdir()
    shutil.copy(models_dir / "models.yaml", later / "models.yaml")
    settings = make_settings(f'[summarizer]\nmodels_file = "{later / "models.yaml"}"\nprofile = "later"\n'
                             f'[[sources]]\nname = "files"\nkind = "files"\nurl = "{tmp_path / "news"}"\n')
    ingestor = Ingestor(settings, db, Summarizer.from_file(later / "models.yaml"))
    await ingestor.run()
    with db.session() as session:
        [row] = session.scalars(select(SummaryRow)).all()
    assert row.fallback and row.reason.startswith("model unavailable") and row.model == "textrank"
    assert ingestor.summarize_pending() == 0  # still no weights: nothing redone

    shutil.copytree(models_dir / "s2s", later / "later")  # `newsbot models pull` would put them in place
    assert ingestor.summarize_pending() == 1
    assert ingestor.summarize_pending() == 0
    with db.session() as session:
        rows = session.scalars(select(SummaryRow).order_by(SummaryRow.id)).all()
    assert [(r.model, r.fallback) for r in rows][-1] == (str(later / "later"), False)
    assert rows[-1].text == TARGETS[ZH_HANT]


def test_cli_summarize_with_a_profile_and_models_list(models_dir, tmp_path):
    config = write_config(tmp_path, f'[summarizer]\nmodels_file = "{models_dir / "models.yaml"}"\n')
    result = newsbot("summarize", "-", "--json", "-c", str(config), cwd=tmp_path, stdin="標題\n" + ZH_HANT,
                     env={"HF_HUB_OFFLINE": "1"})
    document = json.loads(result.stdout)
    assert (document["summary"], document["profile"], document["fallback"]) == (TARGETS[ZH_HANT], "tiny-s2s", False)
    assert document["model"] == str(models_dir / "s2s")

    listing = newsbot("models", "list", "--json", "-c", str(config), cwd=tmp_path, env={"HF_HUB_OFFLINE": "1"})
    weights = {row["profile"]: row["weights"] for row in json.loads(listing.stdout)["profiles"]}
    assert weights == {"tiny-s2s": "present", "tiny-causal": "present", "tiny-int8": "present",
                       "tiny-chunked": "present", "later": "missing", "extractive": "present"}
    pulled = newsbot("models", "pull", "tiny-s2s", "-c", str(config), cwd=tmp_path, env={"HF_HUB_OFFLINE": "1"})
    assert pulled.returncode == 0 and "nothing to download" in pulled.stdout


def test_repo_models_yaml_defaults(tmp_path):
    config = load_models_config(Path(__file__).resolve().parent.parent / "models.yaml")
    assert config.route("zh-Hant") == "mt5-xlsum" and config.route("en") == "distilbart-cnn"
    assert config.profiles["mt5-xlsum"].model == "csebuetnlp/mT5_multilingual_XLSum"
    assert "CC BY-NC-SA" in config.profiles["mt5-xlsum"].licence
    assert config.profiles["qwen-instruct"].kind == "causal"


def test_default_profiles_fall_back_offline():
    config = load_models_config(Path(__file__).resolve().parent.parent / "models.yaml")
    result = Summarizer(config).summarize(ZH_HANT)
    assert result.fallback and result.reason.startswith("model unavailable") and result.profile == "mt5-xlsum"
    assert result.summary.startswith("梁平區今年計劃新建標準化廠房20萬平方米")
