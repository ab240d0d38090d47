"""Inference-server profiles (``kind: openai``) against a loopback OpenAI-compatible fake:
summaries, concurrency, API key, retries, and the visible extractive fallback when the server
is down, slow, or answers garbage; translations; ``newsbot models list``/``pull``."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.ingest.pipeline import Ingestor
from bot.storage import Summary as SummaryRow
from summarizer import Summarizer
from summarizer.backends import openai_chat
from summarizer.profiles import ProfileError, load_models_config
from summarizer.text import split_sentences
from tests.fakes.openai import FakeOpenAI
from tests.support.config import write_config

REPO_MODELS = Path(__file__).resolve().parent.parent / "models.yaml"
KEY_VARIABLE = "NEWSBOT_TEST_INFERENCE_KEY"
ZH_HANT = ("梁平區今年計劃新建標準化廠房20萬平方米，並開通直達東盟國家的冷鏈班列。"
           "區經濟信息委主任鄧順友介紹，新簽約項目涵蓋中央廚房、冷鏈物流等環節。")
ZH_HANT_SUMMARY = "梁平區今年計劃新建標準化廠房20萬平方米。"
ZH_HANT_SUMMARY_SIMPLIFIED = "梁平区今年计划新建标准化厂房20万平方米。"  # what the server writes
ENGLISH = ("More than 3,000 migratory birds have arrived at Shuanggui Lake this winter. "
           "Observers recorded 42 species, including a pair of Baer's pochards.")
ENGLISH_SUMMARY = "More than 3,000 migratory birds have arrived at Shuanggui Lake."
SPRING = "梁平區春耕備耕有序推進，全區計劃播種糧食作物76萬畝。區農業農村委提醒農戶做好秧苗防寒保溫工作。"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(openai_chat, "BACKOFF_SECONDS", 0.01)


@pytest.fixture
def fake():
    server = FakeOpenAI()
    server.answers = {ZH_HANT: ZH_HANT_SUMMARY_SIMPLIFIED, ENGLISH: ENGLISH_SUMMARY}
    yield server
    server.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there any more: refused at once


def models_yaml(folder: Path, base_url: str, keys: str = "", extra: str = "") -> Path:
    """models.yaml with profile ``server`` (kind openai, at ``base_url``, with ``keys``) routed for every language."""
    path = folder / "models.yaml"
    path.write_text(f"""
default: server
profiles:
  server:
    kind: openai
    base_url: "{base_url}"
    model: test-model
    generation: {{max_new_tokens: 64, do_sample: false, top_p: 0.9, num_beams: 4}}
    {keys}
{extra}""", encoding="utf-8")
    return path


def summarizer_for(tmp_path: Path, base_url: str, keys: str = "") -> Summarizer:
    return Summarizer.from_file(models_yaml(tmp_path, base_url, keys))


def test_summaries_come_from_the_server_and_pass_the_gate_in_the_articles_script(fake, tmp_path):
    chinese, english = summarizer_for(tmp_path, fake.base_url).summarize_many([ZH_HANT, ENGLISH])

    assert (chinese.summary, chinese.language, chinese.fallback, chinese.reason) == (ZH_HANT_SUMMARY, "zh-Hant", False, None)
    assert (english.summary, english.fallback, english.profile, english.model) == (ENGLISH_SUMMARY, False, "server", "test-model")
    by_article = {request.user: request for request in fake.chats}
    assert set(by_article) == {ZH_HANT, ENGLISH}  # the article is the user message of the default prompt
    assert "繁體中文" in by_article[ZH_HANT].system and "60字" in by_article[ZH_HANT].system
    assert "in English" in by_article[ENGLISH].system and "35 words" in by_article[ENGLISH].system
    body = by_article[ENGLISH].body
    assert (body["model"], body["max_tokens"], body["temperature"], body["top_p"]) == ("test-model", 64, 0, 0.9)
    assert "num_beams" not in body and "authorization" not in by_article[ENGLISH].headers


async def test_it_also_works_when_called_on_an_event_loop(fake, tmp_path):
    assert summarizer_for(tmp_path, fake.base_url).summarize(ENGLISH).summary == ENGLISH_SUMMARY


def test_an_unfaithful_answer_falls_back_to_the_extractive_summary(fake, tmp_path):
    fake.answers = {SPRING: "全區計劃播種糧食作物96萬畝。"}  # 96 is not in the article
    [result] = summarizer_for(tmp_path, fake.base_url).summarize_many([SPRING])

    assert result.fallback and result.reason == "faithfulness check: number: 96萬畝 is not in the article"
    assert result.model == "textrank" and all(s in SPRING for s in split_sentences(result.summary))


def test_the_profile_prompt_fills_in_language_and_budget(fake, tmp_path):
    summarizer = summarizer_for(tmp_path, fake.base_url, 'prompt: "In {language}, {max_chars} chars or {max_words} words: {text}"')
    assert summarizer.summarize(ENGLISH).summary == ENGLISH_SUMMARY
    [request] = fake.chats
    assert request.body["messages"] == [{"role": "user", "content": f"In English, 60 chars or 35 words: {ENGLISH}"}]


@pytest.mark.parametrize("concurrency", [2, 3])
def test_a_batch_runs_concurrently_up_to_max_concurrency(fake, tmp_path, concurrency):
    fake.latency = 0.4
    texts = [f"{ENGLISH} Article {n}." for n in range(8)]
    fake.answer = lambda user: ENGLISH_SUMMARY
    started = time.monotonic()
    # the last requests wait longer than timeout_seconds for a free slot: waiting is not the server's time
    keys = f"max_concurrency: {concurrency}\n    timeout_seconds: 0.8"
    results = summarizer_for(tmp_path, fake.base_url, keys).summarize_many(texts)

    assert [r.summary for r in results] == [ENGLISH_SUMMARY] * 8 and not any(r.fallback for r in results)
    assert len(fake.chats) == 8 and fake.max_in_flight == concurrency
    assert time.monotonic() - started < 8 * 0.4  # not one after another


def test_once_the_server_refuses_the_batch_stops_asking(fake, tmp_path):
    fake.api_key = "required"  # and the profile sends none
    results = summarizer_for(tmp_path, fake.base_url, "max_concurrency: 1").summarize_many([ZH_HANT, SPRING])  # one batch
    assert all(r.fallback and r.reason.startswith("model unavailable: inference server refused the credentials")
               for r in results)
    assert len(fake.chats) == 1


def test_the_api_key_comes_from_the_named_variable(fake, tmp_path, monkeypatch):
    fake.api_key = "s3cret"
    monkeypatch.setenv(KEY_VARIABLE, "s3cret")
    summarizer = summarizer_for(tmp_path, fake.base_url, f"api_key_env: {KEY_VARIABLE}")

    assert summarizer.summarize(ENGLISH).summary == ENGLISH_SUMMARY
    assert fake.chats[0].headers["authorization"] == "Bearer s3cret"

    monkeypatch.setenv(KEY_VARIABLE, "wrong")
    refused = summarizer.summarize(ENGLISH)
    assert refused.fallback and refused.model == "textrank"
    assert refused.reason == ("model unavailable: inference server refused the credentials (HTTP 401 Unauthorized: "
                              "Incorrect API key provided); check api_key_env")
    assert len(fake.chats) == 2  # a refused key is not tried again

    monkeypatch.delenv(KEY_VARIABLE)
    unset = summarizer.summarize(ENGLISH)
    assert unset.fallback and unset.reason == (f"model unavailable: the API key's environment variable {KEY_VARIABLE} "
                                               "(api_key_env) is not set")
    assert len(fake.chats) == 2  # nothing sent


def test_a_server_that_is_down_gives_visible_fallbacks(tmp_path):
    url = closed_port_url()
    results = summarizer_for(tmp_path, url).summarize_many([ZH_HANT, SPRING, ENGLISH])

    assert all(r.fallback and r.model == "textrank" and r.summary for r in results)
    assert {r.reason.split(" (")[0] for r in results} == {f"model unavailable: inference server unreachable: {url}"}
    assert results[0].summary.startswith("梁平區今年計劃新建標準化廠房20萬平方米")


def test_a_server_that_does_not_answer_in_time_is_given_up_on(fake, tmp_path):
    fake.latency = 3
    started = time.monotonic()
    result = summarizer_for(tmp_path, fake.base_url, "timeout_seconds: 0.2").summarize(ENGLISH)

    assert time.monotonic() - started < 1.5  # the article's deadline: 3 attempts of 0.2 s
    assert result.fallback and result.reason.startswith("backend error: inference server timed out: no answer within")
    assert len(fake.chats) == openai_chat.MAX_ATTEMPTS  # timeouts are tried again


@pytest.mark.parametrize("failures, attempts, reason", [
    ([503, 429], 3, None),
    ([500] * 5, 3, "backend error: inference server answered HTTP 500 Internal Server Error: failure 500"),
    ([400], 1, "backend error: inference server answered HTTP 400 Bad Request: failure 400"),
    ([404], 1, "model unavailable: inference server has no model 'test-model' at {url} (HTTP 404 Not Found: failure 404)"),
])
def test_retries_are_bounded_and_only_for_passing_failures(fake, tmp_path, failures, attempts, reason):
    fake.failures = failures
    result = summarizer_for(tmp_path, fake.base_url).summarize(ENGLISH)

    assert len(fake.chats) == attempts
    assert result.reason == (reason.format(url=fake.base_url) if reason else None)
    assert result.summary == ENGLISH_SUMMARY if reason is None else result.fallback


def test_retries_wait_the_backoff_or_what_the_server_asks(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(openai_chat, "BACKOFF_SECONDS", 0.1)
    fake.failures, fake.retry_after = [503, 429], "0.6"
    assert summarizer_for(tmp_path, fake.base_url).summarize(ENGLISH).summary == ENGLISH_SUMMARY
    first, second, third = (r.received for r in fake.chats)
    assert 0.1 <= second - first < 0.5 and third - second >= 0.6  # backoff 0.1, then the server's Retry-After


def test_a_long_answer_is_cut_to_the_budget_at_a_clause_end(fake, tmp_path):
    fake.answers = {ZH_HANT: ZH_HANT}  # the whole article back
    summary = summarizer_for(tmp_path, fake.base_url, "max_chars: 25").summarize(ZH_HANT).summary
    assert summary == "梁平區今年計劃新建標準化廠房20萬平方米。"


@pytest.mark.parametrize("answer, reason", [
    (b"<html><body>Bad gateway</body></html>", "answered garbage: not JSON ('<html><body>Bad gateway</body></html>')"),
    (b'{"object": "chat.completion"}', "answered garbage: no choices"),
    (b'{"choices": []}', "answered garbage: no choices"),
    (b'{"choices": [{"text": "completion, not chat"}]}', "answered garbage: no message content"),
    (b'{"choices": [{"message": {"role": "assistant", "content": null}}]}', "answered garbage: no message content"),
    (b'{"choices": [{"message": {"content": "  "}}]}', "answered garbage: an empty answer"),
    (b'{"choices": [{"message": {"content": "<think>cut off at max_tokens"}}]}', "answered garbage: an empty answer"),
    ('{"choices": [{"message": {"content": "I\'m sorry, but I can\'t help with that."}}]}'.encode(),
     "refused: \"I'm sorry, but I can't help with that.\""),
    (b'{"choices": [{"message": {"content": null, "refusal": "Not allowed."}}]}', "refused: Not allowed."),
])
def test_garbage_answers_fall_back_with_the_reason(fake, tmp_path, answer, reason):
    fake.raw = answer
    result = summarizer_for(tmp_path, fake.base_url).summarize(ENGLISH)

    assert result.fallback and result.model == "textrank" and result.reason == f"backend error: inference server {reason}"
    assert len(fake.chats) == 1  # garbage is not asked for again


def test_reasoning_is_dropped_from_the_answer(fake, tmp_path):
    fake.answers = {ENGLISH: f"<think>Birds, 3,000, lake.</think>\n{ENGLISH_SUMMARY}"}
    assert summarizer_for(tmp_path, fake.base_url).summarize(ENGLISH).summary == ENGLISH_SUMMARY


def test_long_articles_are_map_reduced(fake, tmp_path):
    sentences = [f"The {word} district opened {n} new clinics for residents this spring after years of planning and "
                 f"careful budgeting by the council." for word, n in (("north", 3), ("south", 5), ("east", 7))]
    chunk_summaries = {s: f"The {s.split()[1]} district opened {s.split()[4]} clinics." for s in sentences}
    final = "Three districts opened 3, 5 and 7 clinics."
    fake.answer = lambda user: chunk_summaries.get(user.removeprefix("Summarize: "), final)
    # 22 approximate tokens a sentence; 40 - 7 for the prompt leaves room for one at a time
    summarizer = summarizer_for(tmp_path, fake.base_url, 'max_input_tokens: 40\n    prompt: "Summarize: {text}"')
    result = summarizer.summarize(" ".join(sentences), "en")

    assert (result.summary, result.fallback) == (final, False)
    assert sorted(r.user for r in fake.chats[:3]) == sorted(f"Summarize: {s}" for s in sentences)  # each chunk alone
    assert [r.user for r in fake.chats[3:]] == ["Summarize: " + " ".join(chunk_summaries.values())]  # then the reduce round


def test_an_openai_profile_writes_for_readers_of_another_language(fake, tmp_path):
    fake.answers = {ZH_HANT: "Liangping plans 200,000 square metres of new factories this year."}
    summarizer = Summarizer.from_file(models_yaml(tmp_path, fake.base_url, extra="translate: {zh->en: server}\n"))
    [translation] = summarizer.translate_many([ZH_HANT_SUMMARY], ["梁平新建廠房"], [ZH_HANT], ["zh-Hant"], "en")

    assert (translation.summary, translation.fallback, translation.profile) == (
        "Liangping plans 200,000 square metres of new factories this year.", False, "server")
    assert translation.title is None and "in English" in fake.chats[0].system and fake.chats[0].user == ZH_HANT

    fake.answers = {ZH_HANT: "Liangping plans 960,000 square metres."}  # not a number of the article
    [rejected] = summarizer.translate_many([ZH_HANT_SUMMARY], [None], [ZH_HANT], ["zh-Hant"], "en")
    assert (rejected.summary, rejected.fallback, rejected.reason) == ("", True, "faithfulness check: number 960000 is not in the source")


def test_a_translation_by_a_server_that_is_down_says_it_is_unavailable(tmp_path):
    summarizer = Summarizer.from_file(models_yaml(tmp_path, closed_port_url(), extra="translate: {zh->en: server}\n"))
    [translation] = summarizer.translate_many([ZH_HANT_SUMMARY], [None], [ZH_HANT], ["zh-Hant"], "en")
    assert translation.fallback and translation.reason.startswith("model unavailable: inference server unreachable")


def test_an_openai_profile_has_server_defaults_and_keeps_the_servers_model_name(tmp_path):
    path = models_yaml(tmp_path, "http://127.0.0.1:8000/v1")
    path.write_text(path.read_text(encoding="utf-8").replace("model: test-model", "model: ./served-name"), encoding="utf-8")
    profile = load_models_config(path).profiles["server"]
    assert (profile.max_input_tokens, profile.max_concurrency, profile.timeout_seconds) == (4096, 4, 60)
    assert profile.model == "./served-name" and profile.api_key_env is None


@pytest.mark.parametrize("base_url, keys, extra, message", [
    ("", "", "", "key 'profiles.server': an openai profile needs 'base_url'"),
    ("127.0.0.1:8000/v1", "", "", "an openai profile needs 'base_url'"),
    ("http://127.0.0.1:8000/v1", "api_key_env: sk-abc123", "", "'api_key_env' names an environment variable"),
    ("http://127.0.0.1:8000/v1", "device: cpu", "", "'device' is for in-process models, not openai profiles"),
    ("http://127.0.0.1:8000/v1", 'prompt: "Summarize: the article"', "", "'prompt' must contain {text}"),
    ("http://127.0.0.1:8000/v1", 'prompt: "Summarize: {text}"', "translate: {zh->en: server}\n",
     "key 'translate.zh->en': profile 'server' has no {language} in its prompt"),
    ("http://127.0.0.1:8000/v1", "", "  other: {kind: seq2seq, model: x, max_concurrency: 2}\n",
     "key 'profiles.other': 'max_concurrency' is for openai profiles"),
])
def test_openai_profiles_are_validated(tmp_path, base_url, keys, extra, message):
    with pytest.raises(ProfileError, match=re.escape(message)):
        load_models_config(models_yaml(tmp_path, base_url, keys, extra))


def test_the_repo_models_yaml_has_an_unrouted_example_for_a_local_server():
    config = load_models_config(REPO_MODELS)
    [name] = [name for name, profile in config.profiles.items() if profile.kind == "openai"]
    assert config.profiles[name].base_url == "http://127.0.0.1:8000/v1"
    assert name not in {config.default, *config.routing.values(), *config.translate.values()}


def test_models_list_shows_whether_servers_answer_and_pull_has_nothing_to_download(fake, tmp_path, capsys):
    models = models_yaml(tmp_path, fake.base_url, extra=f'  down: {{kind: openai, base_url: "{closed_port_url()}", model: m}}\n')
    config = write_config(tmp_path, f'[summarizer]\nmodels_file = "{models}"\n')

    assert main(["models", "list", "--json", "-c", str(config)]) == 0
    rows = {row["profile"]: row for row in json.loads(capsys.readouterr().out)["profiles"]}
    assert rows["server"]["weights"] == "reachable" and rows["server"]["kind"] == "openai"
    assert rows["down"]["weights"].startswith("unreachable: ") and rows["extractive"]["weights"] == "present"
    assert [r.path for r in fake.requests] == ["/v1/models"]

    assert main(["models", "list", "-c", str(config)]) == 0
    listing = capsys.readouterr().out
    assert "reachable" in listing.splitlines()[2] and "unreachable: " in listing

    assert main(["models", "pull", "server", "-c", str(config)]) == 0
    assert "server: nothing to download" in capsys.readouterr().out and not fake.chats


async def test_articles_summarized_while_the_server_refused_are_summarized_again_once_it_answers(
        fake, tmp_path, db, make_settings, monkeypatch):
    monkeypatch.setattr(openai_chat, "PROBE_TTL_SECONDS", 0)
    monkeypatch.setenv(KEY_VARIABLE, "s3cret")
    fake.api_key = "other"
    news = tmp_path / "news"
    news.mkdir()
    (news / "factories.txt").write_text(f"梁平新建廠房\n{ZH_HANT}", encoding="utf-8")
    models = models_yaml(tmp_path, fake.base_url, f"api_key_env: {KEY_VARIABLE}")
    settings = make_settings(f'[summarizer]\nmodels_file = "{models}"\n[[sources]]\nname = "files"\nkind = "files"\nurl = "{news}"\n')
    ingestor = Ingestor(settings, db, Summarizer.from_file(models))
    await ingestor.run()

    def stored() -> list[tuple[str, bool, str | None, str]]:
        with db.session() as session:
            return [(s.model, s.fallback, s.reason, s.text) for s in session.scalars(select(SummaryRow).order_by(SummaryRow.id))]

    [(model, fallback, reason, _text)] = stored()
    assert (model, fallback) == ("textrank", True)
    assert reason.startswith("model unavailable: inference server refused the credentials")
    assert await asyncio.to_thread(ingestor.summarize_pending) == 0  # the server still refuses: nothing is redone
    assert len(fake.chats) == 1

    fake.api_key = "s3cret"
    assert await asyncio.to_thread(ingestor.summarize_pending) == 1
    assert stored()[1:] == [("test-model", False, None, ZH_HANT_SUMMARY)]


def test_the_readme_example_is_a_valid_models_yaml(tmp_path):
    readme = (REPO_MODELS.parent / "docs" / "models.md").read_text(encoding="utf-8")
    example = readme.split("**Inference servers**")[1].split("```yaml\n")[1].split("```")[0]
    (tmp_path / "models.yaml").write_text(textwrap.dedent(example), encoding="utf-8")
    config = load_models_config(tmp_path / "models.yaml")
    assert config.route("en") == "local-server" and config.translator("en", "zh-Hant") == "local-server"
    assert config.profiles["ollama"].base_url == "http://127.0.0.1:11434/v1"
