"""Digest-sized summaries: every profile kind keeps to its budget, cut at a clause end."""

import math

import pytest
import torch
from transformers import T5Config, T5ForConditionalGeneration

from summarizer import Summarizer
from summarizer.backends import transformer
from summarizer.backends.extractive import ExtractiveBackend, fit_to_budget, restates_title
from summarizer.backends.transformer import TransformerBackend
from summarizer.profiles import ModelsConfig, Profile
from summarizer.text import text_length
from tests.fakes.tiny_models import build_tokenizer
from tests.support.texts import ENGLISH, SEED_BODY

FIT_CASES = [
    # (text, budget, language, expected): whole sentences first ...
    ("渝西高铁梁平段全长28.6公里，设梁平南站1座。其中桥梁14座、隧道6座，施工方较计划提前两个月完成桥梁施工，为下半年铺轨打下基础。",
     30, "zh-Hans", "渝西高铁梁平段全长28.6公里，设梁平南站1座。"),
    ("今年計劃新建標準化廠房20萬平方米；並開通直達東盟國家的冷鏈班列，帶動預制菜出口。",
     30, "zh-Hant", "今年計劃新建標準化廠房20萬平方米。"),
    ("More than 3,000 migratory birds have arrived at Shuanggui Lake this winter. Observers recorded 42 species, "
     "including a pair of Baer's pochards, a critically endangered duck.",
     15, "en", "More than 3,000 migratory birds have arrived at Shuanggui Lake this winter."),
    ("The trail opens at 8 am; it closes at 6 pm daily and visitors must keep at least 50 meters from the birds.",
     10, "en", "The trail opens at 8 am."),
    # (a sentence end that fills half the budget beats a later clause end)
    ("梁平區今年計劃新建標準化廠房20萬平方米。並開通直達東盟國家的冷鏈班列，帶動預制菜出口，增加就業。",
     40, "zh-Hant", "梁平區今年計劃新建標準化廠房20萬平方米。"),
    ("Observers recorded 42 species on the lake and its shores this winter. The trail is open daily, and visitors "
     "must keep their distance from the birds.", 20, "en", "Observers recorded 42 species on the lake and its shores this winter."),
    # ... then clause ends (，、 / , ; —), closed with a full stop, never inside a number ...
    ("2月25日，記者從梁平區經濟信息委獲悉，今年一季度，梁平預制菜產業園新簽約項目12個，協議投資額達36.5億元，預計全部投產後年產值超過80億元。",
     60, "zh-Hant", "2月25日，記者從梁平區經濟信息委獲悉，今年一季度，梁平預制菜產業園新簽約項目12個，協議投資額達36.5億元。"),
    ("新簽約項目涵蓋中央廚房、冷鏈物流、調味品生產、包裝材料、檢測認證等多個環節。", 20, "zh-Hant", "新簽約項目涵蓋中央廚房、冷鏈物流。"),
    ("雙桂湖今冬迎來越冬候鳥3,000隻以上，創下2015年開始監測以來的最高紀錄，觀鳥步道每天開放。", 30, "zh-Hant", "雙桂湖今冬迎來越冬候鳥3,000隻以上。"),
    ("More than 3,000 migratory birds have arrived at Shuanggui Lake National Wetland Park in Liangping District this "
     "winter, the district's forestry bureau said on Saturday, the highest count since monitoring began in 2015.",
     30, "en", "More than 3,000 migratory birds have arrived at Shuanggui Lake National Wetland Park in Liangping District "
               "this winter, the district's forestry bureau said on Saturday."),
    ("Liangping restored 1,200 hectares of wetland — a project that took three years and cost millions of yuan in total.",
     10, "en", "Liangping restored 1,200 hectares of wetland."),
    ("Mr. Tang said the birds need quiet, and he asked visitors to stay on the trail at all times.",
     8, "en", "Mr. Tang said the birds need quiet."),
    # ... an ellipsis only inside one long clause: between words, numbers whole, quotes closed.
    ("梁平區2023年區管正職領導干部專題培訓班開班式在浙江省委黨校舉行。", 6, "zh-Hant", "梁平區…"),
    ("鍾賢波說“榜樣是最好的示范示范是最好的引領”。", 10, "zh-Hant", "鍾賢波說“榜樣是…”"),
    ("鄧順友說：“今年要新建廠房，開通班列，帶動出口，增加就業崗位，服務全區農戶和企業。”梁平區經濟信息委會同各鎮街推進。",
     40, "zh-Hant", "鄧順友說：“今年要新建廠房，開通班列，帶動出口，增加就業崗位，服務全區農戶和…”"),
    ('"The water quality and the restored reed beds give the birds food and shelter" said Tang.',
     6, "en", '"The water quality and the restored…"'),
    ("Observers recorded 42 species. Visitors are asked to keep at least 50 meters from the birds and not to fly drones.",
     15, "en", "Observers recorded 42 species. Visitors are asked to keep at least 50 meters…"),
    # within the budget: unchanged
    ("梁平區春耕備耕有序推進。", 60, "zh-Hant", "梁平區春耕備耕有序推進。"),
]


@pytest.mark.parametrize("text, budget, language, expected", FIT_CASES)
def test_fit_to_budget_cuts_at_clause_ends(text, budget, language, expected):
    fitted = fit_to_budget(text, budget, language)
    assert fitted == expected
    assert text_length(fitted, language) <= budget


@pytest.mark.parametrize(
    "sentence, title, language, expected",
    [
        ("梁平區春耕備耕有序推進。", "梁平區春耕備耕有序推進", "zh-Hant", True),
        ("近日，梁平區春耕備耕工作有序推進。", "梁平區春耕備耕有序推進", "zh-Hant", True),
        ("梁平区春耕备耕有序推进。", "梁平區春耕備耕有序推進", "zh-Hans", True),  # the script does not matter
        ("眼下正值春耕備耕的關鍵時節，梁平區各鎮街抓住晴好天氣，組織農戶翻耕土地。", "梁平區春耕備耕有序推進", "zh-Hant", False),
        ("Migratory birds return to the Shuanggui Lake wetland.", "Migratory birds return to Shuanggui Lake wetland", "en", True),
        ("More than 3,000 migratory birds have arrived at Shuanggui Lake this winter.",
         "Migratory birds return to Shuanggui Lake wetland", "en", False),
    ],
)
def test_restates_title(sentence, title, language, expected):
    assert restates_title(sentence, title, language) is expected


def test_a_summary_opening_with_its_title_keeps_what_follows():
    summary = "梁平區春耕備耕有序推進。全區計劃播種糧食作物76萬畝，目前已完成翻耕1800畝。"
    assert fit_to_budget(summary, 60, "zh-Hant", title="梁平區春耕備耕有序推進") == "全區計劃播種糧食作物76萬畝，目前已完成翻耕1800畝。"
    assert fit_to_budget(summary, 60, "zh-Hant") == summary
    assert fit_to_budget("梁平區春耕備耕有序推進。", 60, "zh-Hant", title="梁平區春耕備耕有序推進") == "梁平區春耕備耕有序推進。"


@pytest.mark.parametrize("text, language, budget", [(SEED_BODY, "zh-Hant", 60), (ENGLISH, "en", 35)])
def test_extractive_default_budget_is_digest_sized(text, language, budget):
    summary = ExtractiveBackend().summarize(text, language)
    assert budget * 0.5 <= text_length(summary, language) <= budget
    assert "…" not in summary
    assert Profile().budget(language) == budget


@pytest.mark.parametrize("max_chars", [20, 30, 45, 80, 150])
def test_extractive_budget_is_configurable(max_chars):
    summary = Summarizer(ModelsConfig.model_validate({"profiles": {"extractive": {"max_chars": max_chars}}})).summarize(SEED_BODY).summary
    assert 0 < text_length(summary, "zh-Hant") <= max_chars
    assert summary[-1] in "。！”…"


TITLED = "梁平區春耕備耕有序推進。眼下正值春耕備耕的關鍵時節，梁平區各鎮街組織農戶翻耕土地。村黨支部書記劉建華說，今年全村計劃種植水稻3200畝。"


@pytest.mark.parametrize(
    "text, language, title",
    [
        (TITLED, "zh-Hant", "梁平區春耕備耕有序推進"),
        ("Migratory birds return to Shuanggui Lake wetland. " + ENGLISH, "en", "Migratory birds return to Shuanggui Lake wetland"),
    ],
)
def test_extractive_prefers_the_next_sentence_to_one_restating_the_title(text, language, title):
    first = text.split("。")[0] if language != "en" else "Migratory birds return"
    backend = ExtractiveBackend()
    assert backend.summarize(text, language).startswith(first)  # picked without the title
    [titled] = backend.summarize_batch([text], language, titles=[title])
    assert first not in titled and titled


# A tiny seq2seq model trained here to answer one article with a summary longer than the
# default budget (68 characters), whose first sentence is the article's title. The tokenizer
# folds full-width commas (NFKC), so the model writes ASCII ones, as some Chinese sites do.
ARTICLE = (
    "2月25日，記者從梁平區經濟信息委獲悉，今年一季度，梁平預制菜產業園新簽約項目12個，協議投資額達36.5億元，"
    "預計全部投產後年產值超過80億元。截至目前，產業園已集聚預制菜企業68家，去年實現產值102億元。"
)
TITLE = "梁平預制菜產業園一季度新簽約項目12個"
LONG_SUMMARY = "梁平預制菜產業園新簽約項目12個。今年一季度,產業園協議投資額達36.5億元,預計全部投產後年產值超過80億元,已集聚預制菜企業68家。"


@pytest.fixture(scope="module")
def long_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long-s2s")
    torch.manual_seed(0)
    tokenizer = build_tokenizer([ARTICLE, LONG_SUMMARY])
    model = T5ForConditionalGeneration(T5Config(
        vocab_size=len(tokenizer), d_model=64, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4, d_kv=16,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id, dropout_rate=0.0,
    ))
    inputs = tokenizer([ARTICLE], return_tensors="pt")
    labels = tokenizer([LONG_SUMMARY], return_tensors="pt")["input_ids"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _round in range(6):  # rounds of 60 steps until it has learned its answer
        for _step in range(60):
            model(**inputs, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        with torch.inference_mode():
            learned = tokenizer.decode(model.generate(**inputs, max_new_tokens=64)[0], skip_special_tokens=True)
        if learned == LONG_SUMMARY:
            break
    assert learned == LONG_SUMMARY
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _profile(folder, **settings) -> Profile:
    return Profile.model_validate({"kind": "seq2seq", "model": str(folder), "generation": {"num_beams": 1}, **settings})


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
def test_transformer_output_is_cut_to_the_budget_at_a_clause_end(long_model):
    backend = TransformerBackend(_profile(long_model))
    [summary] = backend.summarize_batch([ARTICLE], "zh-Hant")
    assert summary == "梁平預制菜產業園新簽約項目12個。今年一季度,產業園協議投資額達36.5億元,預計全部投產後年產值超過80億元。"
    assert text_length(summary, "zh-Hant") <= 60 < text_length(LONG_SUMMARY, "zh-Hant")
    [shorter] = TransformerBackend(_profile(long_model, max_chars=40)).summarize_batch([ARTICLE], "zh-Hant")
    assert shorter == "梁平預制菜產業園新簽約項目12個。今年一季度,產業園協議投資額達36.5億元。"


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
def test_transformer_output_opening_with_the_title_keeps_what_follows(long_model):
    [summary] = TransformerBackend(_profile(long_model)).summarize_batch([ARTICLE], "zh-Hant", titles=[TITLE])
    assert summary == LONG_SUMMARY.split("。", 1)[1]


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
def test_trimmed_transformer_summary_passes_the_gate(long_model):
    config = ModelsConfig.model_validate({"default": "tiny", "profiles": {"tiny": _profile(long_model).model_dump(exclude_unset=True)}})
    result = Summarizer(config).summarize(ARTICLE, "zh-Hant")
    assert (result.fallback, result.profile) == (False, "tiny")
    assert text_length(result.summary, "zh-Hant") <= 60


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
def test_max_new_tokens_is_sized_from_the_budget_unless_set(long_model, monkeypatch):
    limits = []
    loaded = transformer.load_model(_profile(long_model))
    generate = loaded.model.generate
    monkeypatch.setattr(loaded.model, "generate", lambda **kw: limits.append(kw["max_new_tokens"]) or generate(**kw))
    for settings in ({"max_chars": 30}, {"max_chars": 60}, {"max_chars": 60, "generation": {"num_beams": 1, "max_new_tokens": 7}}):
        TransformerBackend(_profile(long_model, **settings)).summarize_batch([ARTICLE], "zh-Hant")
    tokens = len(loaded.tokenizer(ARTICLE, add_special_tokens=False)["input_ids"])
    rate = tokens / text_length(ARTICLE, "zh-Hant")
    assert limits == [math.ceil(30 * rate * 1.5), math.ceil(60 * rate * 1.5), 7]
    assert limits[1] > len(loaded.tokenizer(LONG_SUMMARY)["input_ids"])  # room to finish the clause
