"""The optional checker profile (models.yaml ``checker``): a natural-language inference model
(a tiny one built here, loaded through the real ``from_pretrained`` path) or an inference
server asked as a judge (a loopback fake), after the rule checks; and what happens when it
cannot run."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch
from tokenizers import processors
from transformers import BertConfig, BertForSequenceClassification

from bot.cli import main
from summarizer import Summarizer
from summarizer.backends import openai_chat
from summarizer.profiles import ProfileError, load_models_config
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tiny_models import build_tokenizer

ARTICLE = ("More than 3,000 migratory birds have arrived at Shuanggui Lake this winter. "
           "Observers recorded 42 species, including a pair of Baer's pochards.")
SUMMARY = "More than 3,000 migratory birds have arrived at Shuanggui Lake."  # passes the rule checks
ZH_ARTICLE = "梁平區今年計劃新建標準化廠房20萬平方米，並開通直達東盟國家的冷鏈班列。"
ZH_SUMMARY = "梁平區今年計劃新建標準化廠房20萬平方米。"
LABELS = {0: "entailment", 1: "neutral", 2: "contradiction"}


def build_nli(folder: Path, entailment_bias: float, labels: dict[int, str] = LABELS) -> Path:
    """A tiny BERT sequence classifier whose answer is its bias: entailment probability near 1
    (bias > 0) or near 0 (bias < 0) whatever the pair, saved with a tokenizer that encodes pairs."""
    torch.manual_seed(0)
    tokenizer = build_tokenizer([ARTICLE, SUMMARY, ZH_ARTICLE])
    eos = tokenizer.eos_token_id
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B:1 </s>:1", special_tokens=[("</s>", eos)])
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
                        num_labels=len(labels), id2label=labels, label2id={v: k for k, v in labels.items()})
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([entailment_bias] + [0.0] * (len(labels) - 1)))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def nli_models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("nli")
    return {
        "entails": build_nli(root / "entails", 8.0),
        "doubts": build_nli(root / "doubts", -8.0),
        "no-entailment-label": build_nli(root / "odd", 8.0, {0: "positive", 1: "negative"}),
    }


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(openai_chat, "BACKOFF_SECONDS", 0.01)


@pytest.fixture
def fake():
    server = FakeOpenAI()
    server.answers = {ARTICLE: SUMMARY, ZH_ARTICLE: ZH_SUMMARY}
    yield server
    server.close()


def models_yaml(folder: Path, base_url: str, checker: str, languages: str = "[zh-Hant, zh-Hans, en]") -> Path:
    """Profile ``server`` (openai, at ``base_url``) writes every summary; ``checker`` is the
    profile block named ``check``."""
    path = folder / "models.yaml"
    path.write_text(f"""
default: server
checker: check
profiles:
  server:
    kind: openai
    base_url: "{base_url}"
    model: test-model
  check:
    languages: {languages}
{checker}
""", encoding="utf-8")
    return path


def nli_block(model: Path, extra: str = "") -> str:
    return f"    kind: nli\n    model: {model}\n    batch_size: 4\n{extra}"


def test_an_nli_checker_refuses_a_summary_it_does_not_find_entailed(fake, nli_models, tmp_path):
    summarizer = Summarizer.from_file(models_yaml(tmp_path, fake.base_url, nli_block(nli_models["doubts"])))
    result = summarizer.summarize(ARTICLE, "en")
    assert result.fallback and result.model == "textrank"
    assert result.reason.startswith(f"faithfulness check: entailment: {SUMMARY!r} is not entailed by the article (0.00 < 0.50)")
    assert result.candidate == SUMMARY


def test_an_nli_checker_accepts_what_it_finds_entailed(fake, nli_models, tmp_path):
    summarizer = Summarizer.from_file(models_yaml(tmp_path, fake.base_url, nli_block(nli_models["entails"])))
    result = summarizer.summarize(ARTICLE, "en")
    assert not result.fallback and result.summary == SUMMARY and result.model == "test-model"


def test_the_threshold_is_the_profiles_min_entailment(fake, nli_models, tmp_path):
    """The "entails" model gives about 0.9993: a threshold above that refuses."""
    block = nli_block(nli_models["entails"], "    min_entailment: 0.99995\n")
    result = Summarizer.from_file(models_yaml(tmp_path, fake.base_url, block)).summarize(ARTICLE, "en")
    assert result.fallback and "(1.00 < 1.00)" in result.reason


def test_the_rule_checks_come_first_and_the_checker_sees_only_what_passed_them(fake, nli_models, tmp_path):
    fake.answers = {ARTICLE: "More than 9,000 migratory birds have arrived at Shuanggui Lake."}
    summarizer = Summarizer.from_file(models_yaml(tmp_path, fake.base_url, nli_block(nli_models["entails"])))
    result = summarizer.summarize(ARTICLE, "en")
    assert result.fallback and result.reason.startswith("faithfulness check: number: ")


def test_a_language_the_checker_does_not_read_is_judged_by_the_rules_only(fake, nli_models, tmp_path):
    block = nli_block(nli_models["doubts"])
    summarizer = Summarizer.from_file(models_yaml(tmp_path, fake.base_url, block, languages="[en]"))
    chinese = summarizer.summarize(ZH_ARTICLE, "zh-Hant")
    assert not chinese.fallback and chinese.summary == ZH_SUMMARY
    assert summarizer.summarize(ARTICLE, "en").fallback


def test_without_its_weights_the_checker_is_skipped_and_the_log_says_so_once(fake, tmp_path, caplog):
    summarizer = Summarizer.from_file(models_yaml(tmp_path, fake.base_url, nli_block(tmp_path / "absent")))
    with caplog.at_level(logging.WARNING, logger="summarizer.api"):
        first, second = summarizer.summarize(ARTICLE, "en"), summarizer.summarize(ARTICLE, "en")
    assert not first.fallback and not second.fallback
    warnings = [r.getMessage() for r in caplog.records if "checker check cannot run" in r.getMessage()]
    assert len(warnings) == 1 and "judged by the rule checks only" in warnings[0]


def test_a_model_without_an_entailment_label_leaves_the_rules_verdict(fake, nli_models, tmp_path, caplog):
    summarizer = Summarizer.from_file(models_yaml(tmp_path, fake.base_url, nli_block(nli_models["no-entailment-label"])))
    with caplog.at_level(logging.WARNING, logger="summarizer.api"):
        result = summarizer.summarize(ARTICLE, "en")
    assert not result.fallback
    assert any("name no entailment" in r.getMessage() for r in caplog.records)


def judge_block(base_url: str) -> str:
    return f'    kind: openai\n    base_url: "{base_url}"\n    model: judge-model\n'


@pytest.mark.parametrize(("answer", "refused"), [("No.", True), ("no", True), ("Yes", False), ("是的", False),
                                                 ("否", True), ("I am not sure", False)])
def test_an_openai_checker_is_asked_as_a_judge(fake, tmp_path, answer, refused):
    judge = FakeOpenAI("judge-model")
    judge.answer = lambda user: answer if SUMMARY in user and "Answer with one word" in user else ""
    try:
        summarizer = Summarizer.from_file(models_yaml(tmp_path, fake.base_url, judge_block(judge.base_url)))
        result = summarizer.summarize(ARTICLE, "en")
        assert len(judge.chats) == 1 and ARTICLE in judge.chats[0].user
    finally:
        judge.close()
    assert result.fallback is refused
    if refused:
        assert result.reason == (f"faithfulness check: judge: judge-model answered {answer!r}: "
                                 "the article does not state all of it")


def test_a_judge_that_is_down_costs_no_summary(fake, tmp_path):
    judge = FakeOpenAI("judge-model")
    judge.failures = [500] * 20
    try:
        summarizer = Summarizer.from_file(models_yaml(tmp_path, fake.base_url, judge_block(judge.base_url)))
        result = summarizer.summarize(ARTICLE, "en")
    finally:
        judge.close()
    assert not result.fallback and result.summary == SUMMARY


@pytest.mark.parametrize(("text", "message"), [
    ("checker: extractive\n", "key 'checker': names extractive profile 'extractive'"),
    ("checker: nope\n", "key 'checker': names unknown profile 'nope'"),
    ("default: check\nprofiles:\n  check: {kind: nli, model: x}\n", "key 'default': names nli profile 'check'"),
    ("profiles:\n  s: {kind: seq2seq, model: x, min_entailment: 0.4}\n", "'min_entailment' is for nli profiles"),
    ("profiles:\n  check: {kind: nli}\n", "an nli profile needs 'model'"),
])
def test_checker_mistakes_name_the_key(tmp_path, text, message):
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match=message.replace("(", r"\(")):
        load_models_config(path)


def test_check_summaries_and_models_list_use_the_checker(fake, nli_models, tmp_path, monkeypatch, clean_environment,
                                                        capsys):
    models_yaml(tmp_path, fake.base_url, nli_block(nli_models["doubts"]))
    lines = tmp_path / "pairs.jsonl"
    lines.write_text(json.dumps({"id": "a", "source": ARTICLE, "summary": SUMMARY, "language": "en"}) + "\n",
                     encoding="utf-8")
    assert main(["check-summaries", str(lines), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["faithful"] is False and verdict["check"] == "entailment"
    assert main(["models", "list", "--json"]) == 0
    rows = {row["profile"]: row for row in json.loads(capsys.readouterr().out)["profiles"]}
    assert rows["check"]["routed"] == ["(checker)"] and rows["check"]["weights"] == "present"
    assert load_models_config(tmp_path / "models.yaml").checker == "check"
