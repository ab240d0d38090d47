"""Language/script detection, sentence splitting and the extractive summarizer."""

import pytest

from summarizer import Summarizer, convert_script, detect_language, summarize
from summarizer.profiles import ModelsConfig, ProfileError, load_models_config
from summarizer.text import split_sentences, text_length
from tests.support.data import SEED_TEXT
from tests.support.texts import ENGLISH, SEED_BODY


@pytest.mark.parametrize(
    "text, hint, expected",
    [
        (SEED_TEXT.read_text(encoding="utf-8"), None, "zh-Hant"),  # Traditional with stray Simplified 多云/干
        ("今年是全面贯彻落实党的二十大精神的开局之年，也是梁平拥抱新时代的关键时期。", None, "zh-Hans"),
        ("The city council met on Tuesday to approve the budget for next year.", None, "en"),
        ("Le conseil municipal s'est réuni mardi pour approuver le budget.", "fr-FR", "fr"),
        ("12345", None, "und"),
    ],
)
def test_detect_language(text, hint, expected):
    assert detect_language(text, hint=hint) == expected


def test_script_conversion_both_ways():
    assert convert_script("梁平区气象局天气预报", "zh-Hant") == "梁平區氣象局天氣預報"
    assert convert_script("梁平區氣象局發布天氣預報", "zh-Hans") == "梁平区气象局发布天气预报"
    assert convert_script("Weather", "en") == "Weather"


def test_chinese_sentences_keep_closing_quotes():
    assert split_sentences("“要認真思考。”他說。真的嗎？好！") == ["“要認真思考。”", "他說。", "真的嗎？", "好！"]


def test_english_sentences_skip_abbreviations_and_decimals():
    text = "Mr. Smith arrived on Jan. 5 at 3.30 pm. The U.S. team won. \"Great!\" she said."
    assert split_sentences(text) == ["Mr. Smith arrived on Jan. 5 at 3.30 pm.", "The U.S. team won.", "\"Great!\" she said."]


def test_lines_are_always_boundaries():
    assert split_sentences("標題沒有句號\n第二行。") == ["標題沒有句號", "第二行。"]


def test_extractive_chinese_summary_is_faithful_short_and_in_source_script():
    result = summarize(SEED_BODY)
    assert result.language == "zh-Hant" and result.profile == "extractive" and not result.fallback
    assert 20 <= text_length(result.summary, "zh-Hant") <= 60  # digest-sized by default
    assert "2月19日,梁平區2023年區管正職領導干部專題培訓班開班式在浙江省委黨校舉行。" in result.summary
    for sentence in split_sentences(result.summary):
        assert sentence in SEED_BODY  # extractive: every sentence copied from the source
    assert "?" not in result.summary and "？" not in result.summary


def test_extractive_simplified_stays_simplified():
    text = convert_script(SEED_BODY, "zh-Hans")
    result = summarize(text)
    assert result.language == "zh-Hans"
    assert convert_script(result.summary, "zh-Hans") == result.summary
    assert result.in_script("zh-Hant") == convert_script(result.summary, "zh-Hant")


def test_extractive_english_counts_words():
    result = Summarizer(ModelsConfig.model_validate({"profiles": {"extractive": {"max_words": 30}}})).summarize(ENGLISH)
    assert result.language == "en"
    assert len(result.summary.split()) <= 30
    assert result.summary.startswith("More than 3,000 migratory birds")
    assert "It is the highest count" not in result.summary  # dangling "It" sentence is not picked


def test_empty_text_gives_empty_summary():
    assert summarize("", language="zh-Hant").summary == ""


def test_batch_keeps_order_across_languages():
    results = Summarizer().summarize_many([ENGLISH, SEED_BODY, ENGLISH])
    assert [r.language for r in results] == ["en", "zh-Hant", "en"]
    assert results[0].summary == results[2].summary


def test_models_yaml_in_repo_is_valid():
    config = load_models_config("models.yaml")
    assert config.route("zh-Hant") in config.profiles
    for profile in config.profiles.values():  # every kind keeps to the digest budget ...
        assert (profile.budget("zh-Hant"), profile.budget("zh-Hans"), profile.budget("en")) == (60, 60, 35)
        assert profile.generation.max_new_tokens is None  # ... and sizes generation from it


def test_models_yaml_errors_name_file_and_key(tmp_path):
    bad = tmp_path / "models.yaml"
    bad.write_text("default: nope\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"models.yaml: .*unknown profile 'nope'"):
        load_models_config(bad)
    bad.write_text("profiles:\n  extractive:\n    max_chars: 5\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"key 'profiles.extractive.max_chars'"):
        load_models_config(bad)
    with pytest.raises(ProfileError, match="unknown profile"):
        Summarizer().summarize("text", profile="missing")
