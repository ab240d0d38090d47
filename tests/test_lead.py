"""Digest leads (summarizer.lead): written by an inference server (a loopback fake) or by tiny causal
models built here, checked against the forecast and the stories; otherwise no lead, with the reason."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from summarizer import Summarizer
from summarizer.backends import openai_chat
from summarizer.quantities import numbers
from summarizer.lead import Lead, check_lead, lead_profile, lead_prompt, write_lead
from summarizer.profiles import ProfileError, load_models_config
from summarizer.text import split_sentences
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tiny_models import build_causal, build_tokenizer

WEATHER_HANT = "今天多雲轉小雨，3～9℃，降水概率60%，東北風2級。明天陰，4～10℃，降水概率20%，北風1級。"
STORIES_HANT = [
    ("梁平區新建標準化廠房", "梁平區今年計劃新建標準化廠房20萬平方米。"),
    ("雙桂湖迎來越冬候鳥", "雙桂湖國家濕地公園迎來3000多隻越冬候鳥。"),
]
LEAD_SIMPLIFIED = "今天梁平区多云转小雨，气温3～9℃。梁平区今年计划新建标准化厂房20万平方米，双桂湖迎来3000多只越冬候鸟。"
LEAD_HANT = "今天梁平區多雲轉小雨，氣溫3～9℃。梁平區今年計劃新建標準化廠房20萬平方米，雙桂湖迎來3000多隻越冬候鳥。"
SOURCES_HANT = "\n".join([WEATHER_HANT, *(f"{title}\n{summary}" for title, summary in STORIES_HANT)])
WEATHER_EN = ("Today: partly cloudy, then light rain, 3 to 9°C, 60% chance of rain, NE wind up to 12 km/h. "
              "Tomorrow: overcast, 4 to 10°C, 20% chance of rain.")
STORIES_EN = [
    ("Liangping plans new factories", "Liangping District plans 200,000 square metres of new factory space this year."),
    ("Birds return to Shuanggui Lake", "More than 3,000 migratory birds have arrived at Shuanggui Lake this winter."),
]
LEAD_EN = "Light rain in Liangping today, 3 to 9°C. Liangping District plans new factory space."  # short: tiny models learn it
STORIES_EN_LATER = [("Bridge work ends early", "Builders finished the bridges of the Liangping section two months early.")]
LEAD_EN_UNFAITHFUL = "Rain in Liangping today, up to 35°C. Builders finished the bridges early."


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(openai_chat, "BACKOFF_SECONDS", 0.01)


@pytest.fixture
def fake():
    server = FakeOpenAI()
    yield server
    server.close()


def server_summarizer(folder: Path, base_url: str) -> Summarizer:
    """Profile ``server`` (openai, at ``base_url``) routed for every language."""
    path = folder / "models.yaml"
    path.write_text(f"""
routing: {{zh-Hant: server, zh-Hans: server, en: server}}
profiles:
  server:
    kind: openai
    base_url: "{base_url}"
    model: test-model
    generation: {{do_sample: false}}
""", encoding="utf-8")
    return Summarizer.from_file(path)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there any more: refused at once


def test_a_faithful_lead_reaches_traditional_readers_in_their_script(fake, tmp_path):
    fake.answer = lambda user: LEAD_SIMPLIFIED  # the server writes Simplified
    lead = write_lead(server_summarizer(tmp_path, fake.base_url), WEATHER_HANT, STORIES_HANT, "zh-Hant")

    assert lead == Lead(LEAD_HANT, "zh-Hant", "server", "test-model", False, None)
    assert lead.to_dict()["text"] == LEAD_HANT
    [request] = fake.chats
    assert request.user == lead_prompt(WEATHER_HANT, STORIES_HANT, "zh-Hant")
    assert "繁體中文" in request.user and WEATHER_HANT in request.user
    assert all(title in request.user and summary in request.user for title, summary in STORIES_HANT)
    assert (request.body["max_tokens"], request.body["temperature"]) == (480, 0)


def test_an_english_lead_is_cut_to_three_sentences(fake, tmp_path):
    fake.answer = lambda user: f"{LEAD_EN} Tomorrow will be overcast. Birds are at Shuanggui Lake."
    lead = write_lead(server_summarizer(tmp_path, fake.base_url), WEATHER_EN, STORIES_EN, "en")

    assert (lead.fallback, lead.reason) == (False, None)
    assert lead.text == f"{LEAD_EN} Tomorrow will be overcast."
    assert len(split_sentences(lead.text)) == 3
    assert "in English" in fake.chats[0].user and "at most 70 words" in fake.chats[0].user


@pytest.mark.parametrize(("language", "answer", "reason"), [
    ("zh-Hant", LEAD_SIMPLIFIED.replace("3～9℃", "3～35℃"), "faithfulness check: number 35 is not in the sources"),
    ("zh-Hant", LEAD_SIMPLIFIED.replace("今天梁平区", "今天万州区"), "faithfulness check: place '萬州區' is not in the sources"),
    ("en", LEAD_EN.replace("in Liangping", "in Wanzhou"), "faithfulness check: name 'Wanzhou' is not in the sources"),
    ("en", LEAD_EN.replace("3 to 9°C", "35°C"), "faithfulness check: number 35 is not in the sources"),
    ("en", LEAD_SIMPLIFIED, "faithfulness check: lead is not in English"),
    ("zh-Hant", LEAD_EN, "faithfulness check: lead is not in Chinese"),
    ("en", "Rain in Liangping today. " * 6, "faithfulness check: lead repeats itself"),
    ("en", "", "backend error: inference server answered garbage: an empty answer"),
    ("en", "I'm sorry, I cannot help with that.", "backend error: inference server refused"),
])
def test_an_unfaithful_or_failed_lead_is_dropped_with_the_reason(fake, tmp_path, language, answer, reason):
    fake.answer = lambda user: answer
    weather, stories = (WEATHER_HANT, STORIES_HANT) if language == "zh-Hant" else (WEATHER_EN, STORIES_EN)
    lead = write_lead(server_summarizer(tmp_path, fake.base_url), weather, stories, language)

    assert (lead.text, lead.fallback, lead.profile, lead.model) == (None, True, "server", "test-model")
    assert lead.reason and lead.reason.startswith(reason)


def test_a_server_that_is_down_gives_no_lead_and_no_exception(tmp_path):
    lead = write_lead(server_summarizer(tmp_path, closed_port_url()), WEATHER_EN, STORIES_EN, "en")

    assert (lead.text, lead.fallback, lead.profile) == (None, True, "server")
    assert lead.reason and lead.reason.startswith("model unavailable: inference server unreachable")


def test_without_a_lead_profile_there_is_no_lead_and_no_fallback(fake):
    lead = write_lead(Summarizer(), WEATHER_EN, STORIES_EN, "en")

    assert lead == Lead(None, "en", None, None, False, "no lead profile")
    assert not fake.requests


@pytest.mark.parametrize(("lead", "problem"), [
    (LEAD_HANT, None),
    ("今天忠縣多雲轉小雨，全區市民出行注意道路濕滑。", None),  # 忠縣 is in the sources; 全區, 市民, 道路 name no place
    ("今天二十四日，梁平區3到9度。", "number 24 is not in the sources"),
    ("今天多雲轉小雨，最高9°C，六成機會下雨。", None),  # 9°C = 9℃, 六成 = 60%
    ("今天達州區多雲轉小雨。", "place '達州區' is not in the sources"),  # 萬州區 is: its 州區 is not enough
    ("今天梁平縣多雲轉小雨。", "place '梁平縣' is not in the sources"),
    ("區長張三說今天多雲轉小雨。", "name '張三' is not in the sources"),
    ("今天多雲，Open-Meteo預報有雨。", "name 'Meteo' is not in the sources"),
])
def test_the_gate_checks_numbers_places_and_names_across_scripts(lead, problem):
    sources = SOURCES_HANT + "\n忠县和万州区今天多云。"  # Simplified: compared across scripts
    assert check_lead(lead, sources, "zh-Hant") == problem


def write_models(folder: Path, text: str) -> Path:
    path = folder / "models.yaml"
    path.write_text(text, encoding="utf-8")
    return path


PROFILES = """
profiles:
  s2s: {kind: seq2seq, model: ./s2s}
  chat: {kind: causal, model: ./chat}
  other-chat: {kind: causal, model: ./other}
"""


def test_lead_profile_is_the_lead_key_else_a_routed_causal_or_openai_profile(tmp_path):
    with_key = Summarizer.from_file(write_models(tmp_path, "lead: other-chat\nrouting: {en: chat}\n" + PROFILES))
    assert lead_profile(with_key, "en") == lead_profile(with_key, "zh-Hant") == "other-chat"
    routed = Summarizer.from_file(write_models(tmp_path, "routing: {en: chat, zh-Hant: s2s}\n" + PROFILES))
    assert (lead_profile(routed, "en"), lead_profile(routed, "zh-Hant"), lead_profile(routed, "zh-Hans")) == ("chat", None, None)
    seq2seq_only = Summarizer.from_file(write_models(tmp_path, "default: s2s\n" + PROFILES))
    assert [lead_profile(seq2seq_only, language) for language in ("zh-Hant", "zh-Hans", "en")] == [None, None, None]


@pytest.mark.parametrize(("value", "message"), [
    ("s2s", "key 'lead': names seq2seq profile 's2s'; a causal or openai profile writes leads"),
    ("extractive", "key 'lead': names extractive profile 'extractive'"),
    ("nowhere", "key 'lead': names unknown profile 'nowhere'"),
])
def test_a_lead_key_naming_no_causal_or_openai_profile_is_an_error_naming_the_key(tmp_path, value, message):
    with pytest.raises(ProfileError, match=message):
        load_models_config(write_models(tmp_path, f"lead: {value}\n" + PROFILES))


def test_an_explicit_profile_must_write_leads_and_missing_weights_are_a_fallback(tmp_path):
    summarizer = Summarizer.from_file(write_models(tmp_path, PROFILES))
    with pytest.raises(ProfileError, match="'s2s' is seq2seq"):
        write_lead(summarizer, WEATHER_EN, STORIES_EN, "en", profile="s2s")
    lead = write_lead(summarizer, WEATHER_EN, STORIES_EN, "en", profile="chat")
    assert (lead.text, lead.fallback, lead.profile, lead.model) == (None, True, "chat", str(tmp_path / "chat"))
    assert lead.reason and lead.reason.startswith("model unavailable: ")


def build_random_causal(folder: Path, extra_text: list[str]) -> Path:
    """A tiny Llama with random weights (it writes garbage), saved with its tokenizer in ``folder``."""
    torch.manual_seed(0)
    tokenizer = build_tokenizer(extra_text)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, max_position_embeddings=1024, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.eos_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def causal_models(tmp_path_factory) -> Summarizer:
    """Profiles ``trained`` (a tiny Llama that answers the lead prompts for STORIES_EN and
    STORIES_EN_LATER with LEAD_EN and LEAD_EN_UNFAITHFUL) and ``random`` (random weights)."""
    folder = tmp_path_factory.mktemp("lead-models")
    prompts = [lead_prompt(WEATHER_EN, STORIES_EN, "en"), lead_prompt(WEATHER_EN, STORIES_EN_LATER, "en")]
    answers = [(prompts[0], "en", LEAD_EN), (prompts[1], "en", LEAD_EN_UNFAITHFUL)]
    build_causal(folder / "trained", prompts, "{text}", answers=answers)
    build_random_causal(folder / "random", prompts + [lead_prompt(WEATHER_HANT, STORIES_HANT, "zh-Hant")])
    settings = "max_input_tokens: 1024, generation: {do_sample: false}"
    path = write_models(folder, f"""
profiles:
  trained: {{kind: causal, model: ./trained, {settings}}}
  random: {{kind: causal, model: ./random, {settings}}}
""")
    return Summarizer.from_file(path)


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
def test_a_tiny_causal_model_writes_a_lead_through_generate_and_the_gate(causal_models):
    lead = write_lead(causal_models, WEATHER_EN, STORIES_EN, "en", profile="trained")
    assert lead == Lead(LEAD_EN, "en", "trained", causal_models.config.profiles["trained"].model, False, None)

    unfaithful = write_lead(causal_models, WEATHER_EN, STORIES_EN_LATER, "en", profile="trained")
    assert (unfaithful.text, unfaithful.fallback) == (None, True)
    assert unfaithful.reason == "faithfulness check: number 35 is not in the sources"


@pytest.mark.parametrize(("language", "weather", "stories"), [("en", WEATHER_EN, STORIES_EN),
                                                              ("zh-Hant", WEATHER_HANT, STORIES_HANT)])
@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
def test_a_random_model_s_garbage_never_raises_and_never_brings_a_number_of_its_own(causal_models, language, weather,
                                                                                     stories):
    lead = write_lead(causal_models, weather, stories, language, profile="random")

    assert (lead.profile, lead.language, lead.fallback) == ("random", language, lead.text is None)
    if lead.text is None:
        assert lead.reason and lead.reason.startswith("faithfulness check: ")
    else:
        inputs = "\n".join([weather, *(f"{title}\n{summary}" for title, summary in stories)])
        assert numbers(lead.text) <= numbers(inputs, lenient=True)
