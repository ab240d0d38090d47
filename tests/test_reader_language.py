"""The reader's language: stories in another language are translated at ingestion (tiny Marian
and Llama models built here) or shown in the original, marked; source names in the reader's
script; aggregator labels off titles."""

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.digest import story_items
from bot.ingest.pipeline import Ingestor
from bot.storage import Article
from bot.storage import Summary as SummaryRow
from bot.telegram.render import render_stories
from summarizer import Summarizer
from summarizer.api import check_translation
from summarizer.backends import transformer
from summarizer.profiles import ProfileError, load_models_config
from summarizer.text import split_sentences, strip_title_label
from tests.fakes.tiny_models import ENGLISH, UNFAITHFUL, ZH_HANT, build_causal, build_marian
from tests.support.cli import newsbot
from tests.support.data import SHANGHAI

REPO_MODELS = Path(__file__).resolve().parent.parent / "models.yaml"
FACTORIES_TITLE = "環球觀焦點:梁平新建標準化廠房"  # a portal's column label before the headline
SPRING_TITLE = "快訊：梁平春耕備耕"
BIRDS_TITLE = "Birds return to Shuanggui Lake"
ZH_EN = {  # sentence -> what the tiny zh->en model learns to answer
    "梁平區今年計劃新建標準化廠房20萬平方米，並開通直達東盟國家的冷鏈班列。":
        "Liangping plans 200,000 square metres of new factories and a cold-chain train to ASEAN this year.",
    "梁平新建標準化廠房": "Liangping builds standard factories",
    "梁平區春耕備耕有序推進，全區計劃播種糧食作物76萬畝。":  # 960,000 is not 76萬
        "Spring ploughing in Liangping is on track, with 960,000 mu of grain to be sown.",
    "區農業農村委提醒農戶做好秧苗防寒保溫工作。": "The district reminds farmers to keep seedlings warm.",
    "梁平春耕備耕": "Spring ploughing in Liangping",
}
EN_ZH = {
    "More than 3,000 migratory birds have arrived at Shuanggui Lake this winter.": "今年冬天，3000多只候鸟飞抵双桂湖。",
    "Observers recorded 42 species, including a pair of Baer's pochards.": "观察人员记录到42种鸟类，包括一对青头潜鸭。",
    BIRDS_TITLE: "候鸟回到双桂湖",
}
LANGUAGE_CODE = ">>cmn_Hans<<"
PROMPT = "Summarize in {language}: {text}"
CAUSAL_ANSWERS = [
    (ZH_HANT, "en", "Liangping plans 200,000 square metres of factories."),
    (UNFAITHFUL, "en", "Liangping plans to sow 960,000 mu of grain."),
]


@pytest.fixture(scope="session")
def translation_models(tmp_path_factory):
    """Tiny MarianMT models, zh->en and en->zh, that know every sentence of the summaries here."""
    folder = tmp_path_factory.mktemp("translation-models")
    extractive = Summarizer()
    for text in (ZH_HANT, UNFAITHFUL, ENGLISH):  # the tiny models know every sentence of these summaries
        assert set(split_sentences(extractive.summarize(text).summary)) <= set(ZH_EN) | set(EN_ZH)
    build_marian(folder / "zh-en", ZH_EN)
    build_marian(folder / "en-zh", EN_ZH, language_code=LANGUAGE_CODE)
    return folder


def models_yaml(folder: Path, zh_en: Path, en_zh: Path, extra: str = "") -> Path:
    path = folder / "models.yaml"
    path.write_text(f"""
default: extractive
translate: {{zh->en: zh-en, en->zh: en-zh}}
profiles:
  zh-en: {{kind: translation, model: "{zh_en}", languages: [zh-Hant, zh-Hans], target_language: en,
          generation: {{num_beams: 1}}}}
  en-zh: {{kind: translation, model: "{en_zh}", languages: [en], target_language: zh-Hans, input_prefix: "{LANGUAGE_CODE} ",
          generation: {{num_beams: 1}}}}
{extra}""", encoding="utf-8")
    return path


@pytest.fixture
def translating(translation_models, tmp_path) -> Path:
    return models_yaml(tmp_path, translation_models / "zh-en", translation_models / "en-zh")


def write_articles(folder: Path, *articles: tuple[str, str, str]) -> None:
    folder.mkdir()
    for name, title, text in articles:
        (folder / f"{name}.txt").write_text(f"{title}\n{text}", encoding="utf-8")


async def ingest(tmp_path, db, make_settings, models_file: Path, *articles: tuple[str, str, str],
                 source: str = "files") -> Ingestor:
    write_articles(tmp_path / "news", *articles)
    settings = make_settings(f'[summarizer]\nmodels_file = "{models_file}"\n'
                             f'[[sources]]\nname = "{source}"\nkind = "files"\nurl = "{tmp_path / "news"}"\n')
    ingestor = Ingestor(settings, db, Summarizer.from_file(models_file))
    await ingestor.run()
    return ingestor


def stories(db, language: str) -> dict[str, dict]:
    """The stories a reader of ``language`` gets, by the name of the file they came from."""
    items = story_items(db, language, 10, SHANGHAI)
    return {Path(s.sources[0]["url"]).stem: s.to_dict() for s in items}


def stored(db) -> list[tuple[str, str, str, str | None, bool]]:
    with db.session() as session:
        rows = session.execute(select(Article.url, SummaryRow).join(SummaryRow.article).order_by(SummaryRow.id)).all()
    return [(Path(url).stem, s.profile, s.language, s.title, s.fallback) for url, s in rows]


@pytest.mark.parametrize("title, expected", [
    ("環球觀焦點:梁平 “開春第一課”學出干事創業的新氣象", "梁平 “開春第一課”學出干事創業的新氣象"),
    ("快訊：梁平今日迎來降雪", "梁平今日迎來降雪"),
    ("热点关注：渝西高铁梁平段建设提速", "渝西高铁梁平段建设提速"),
    ("今日頭條: 雙桂湖候鳥越冬", "雙桂湖候鳥越冬"),
    ("【滾動】梁平區召開春耕動員會", "梁平區召開春耕動員會"),
    ("【獨家】快訊：梁平新建廠房", "梁平新建廠房"),  # labels one after another
    ("財經資訊｜梁平預制菜", "財經資訊｜梁平預制菜"),  # no colon: not a label of this form
    ("梁平：春耕忙", "梁平：春耕忙"),  # a place opening the headline
    ("鄧順友：預制菜產業園今年再簽12個項目", "鄧順友：預制菜產業園今年再簽12個項目"),  # a speaker
    ("快訊：", "快訊："),  # nothing but a label: kept
    ("Breaking: Floods close the Shuanggui Lake road", "Floods close the Shuanggui Lake road"),
    ("Liangping: a spring of new factories", "Liangping: a spring of new factories"),
    ("Olive growers: a record year", "Olive growers: a record year"),  # "live" is not a word here
    ("梁平區重大項目集中開工：總投資達36億元", "梁平區重大項目集中開工：總投資達36億元"),  # a long lead clause
])
def test_aggregator_labels_are_stripped_from_titles(title, expected):
    assert strip_title_label(title) == expected


@pytest.mark.parametrize("yaml_text, message", [
    ("translate: {zh->en: nope}", r"key 'translate.zh->en': names unknown profile 'nope'"),
    ("translate: {zh-en: extractive}", r"key 'translate.zh-en': a key is 'source->target'"),
    ("translate: {zh->fr: extractive}", r"key 'translate.zh->fr': .*the target one of zh, en"),
    ("translate: {zh->en: extractive}", r"key 'translate.zh->en': profile 'extractive' is extractive; a translation, causal or openai"),
    ("translate: {en->zh: t}\nprofiles: {t: {kind: translation, model: x, languages: [zh-Hant], target_language: en}}",
     r"key 'translate.en->zh': profile 't' reads zh-Hant, not en"),
    ("translate: {zh->en: t}\nprofiles: {t: {kind: translation, model: x, languages: [zh-Hant], target_language: zh-Hans}}",
     r"key 'translate.zh->en': profile 't' writes zh-Hans, not en"),
    ("translate: {zh->en: c}\nprofiles: {c: {kind: causal, model: x, prompt: 'Summarize: {text}'}}",
     r"key 'translate.zh->en': profile 'c' has no \{language\} in its prompt"),
    ("routing: {en: t}\nprofiles: {t: {kind: translation, model: x, target_language: zh-Hans}}",
     r"key 'routing.en': names translation profile 't'"),
    ("profiles: {t: {kind: translation, model: x}}", r"key 'profiles.t': 'target_language' is required"),
    ("profiles: {s: {kind: seq2seq, model: x, target_language: en}}", r"key 'profiles.s': 'target_language' is required for, and only"),
    ("profiles: {s: {kind: seq2seq, model: x, input_prefix: '>>fr<< '}}", r"key 'profiles.s': 'input_prefix' is only for translation"),
])
def test_translate_table_is_validated_with_file_and_key(tmp_path, yaml_text, message):
    (tmp_path / "models.yaml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ProfileError, match=r"models.yaml: " + message):
        load_models_config(tmp_path / "models.yaml")


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_default_models_yaml_declares_marian_translations_missing_here(tmp_path):
    config = load_models_config(REPO_MODELS)
    assert config.translate == {"zh->en": "opus-mt-zh-en", "en->zh": "opus-mt-en-zh"}
    assert config.profiles["opus-mt-zh-en"].model == "Helsinki-NLP/opus-mt-zh-en"
    assert config.profiles["opus-mt-en-zh"].input_prefix == ">>cmn_Hans<< "
    assert config.translator("zh-Hant", "en") == "opus-mt-zh-en" and config.translator("zh-Hant", "zh-Hans") is None
    listing = newsbot("models", "list", "--json", cwd=tmp_path, env={"HF_HUB_OFFLINE": "1"})
    rows = {row["profile"]: row for row in json.loads(listing.stdout)["profiles"]}
    assert rows["opus-mt-zh-en"]["kind"] == "translation" and rows["opus-mt-zh-en"]["weights"] == "missing"
    assert rows["opus-mt-en-zh"]["weights"] == "missing"


@pytest.mark.parametrize("translation, source, language, problem", [
    ("Liangping plans 200,000 square metres.", "梁平區今年計劃新建標準化廠房20萬平方米。", "en", None),
    ("Liangping plans 0.2 million square metres.", "新建廠房20萬平方米。", "en", None),
    ("The line is 28.6 km long and opens on February 24.", "全長28.6公里，2月24日開通。", "en", None),
    ("It finished two months early.", "提前兩個月完成。", "en", None),
    ("Liangping will sow 960,000 mu.", "全區計劃播種糧食作物76萬畝。", "en", "number 960000 is not in the source"),
    ("Liangping will sow 76 mu.", "全區計劃播種糧食作物76萬畝。", "en", "number 76 is not in the source"),
    ("三千多只候鸟飞抵双桂湖，共42种。", "More than 3,000 birds arrived; 42 species.", "zh-Hans", None),
    ("二十四只候鸟于2月抵达。", "Twenty-four birds arrived in February.", "zh-Hans", None),
    ("3500只候鸟", "More than 3,000 birds", "zh-Hans", "number 3500 is not in the source"),
    ("梁平 plans factories.", "梁平新建廠房。", "en", "translation has Chinese characters left"),
    ("Factories", "Factories are built.", "zh-Hans", "translation has no Chinese characters"),
    ("", "梁平新建廠房。", "en", "empty translation"),
])
def test_translations_keep_the_sources_numbers(translation, source, language, problem):
    assert check_translation(translation, source, language) == problem


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
def test_translation_model_translates_summary_and_title(translating, translation_models):
    summarizer = Summarizer.from_file(translating)
    summary = Summarizer().summarize(ZH_HANT).summary
    [result] = summarizer.translate_many([summary], ["梁平新建標準化廠房"], [ZH_HANT], ["zh-Hant"], "en")
    assert (result.summary, result.title) == (ZH_EN[summary], "Liangping builds standard factories")
    assert (result.language, result.profile, result.model, result.fallback) == ("en", "zh-en", str(translation_models / "zh-en"), False)


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
def test_translation_with_an_invented_number_is_rejected(translating):
    summarizer = Summarizer.from_file(translating)
    summary = Summarizer().summarize(UNFAITHFUL).summary
    [result] = summarizer.translate_many([summary], ["梁平春耕備耕"], [UNFAITHFUL], ["zh-Hant"], "en")
    assert (result.summary, result.title, result.fallback) == ("", None, True)
    assert result.reason == "faithfulness check: number 960000 is not in the source"


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
def test_multi_target_model_gets_its_language_code_first(translating, translation_models):
    summarizer = Summarizer.from_file(translating)
    loaded = transformer.load_model(summarizer.config.profiles["en-zh"])
    first_tokens = []
    hook = loaded.model.get_encoder().register_forward_hook(
        lambda module, args, kwargs, output: first_tokens.extend(kwargs["input_ids"][:, 0].tolist()), with_kwargs=True)
    try:
        [result] = summarizer.translate_many([ENGLISH], [BIRDS_TITLE], [ENGLISH], ["en"], "zh-Hant")
    finally:
        hook.remove()
    code = loaded.tokenizer.convert_tokens_to_ids(LANGUAGE_CODE)
    assert first_tokens and set(first_tokens) == {code}
    # the model writes Simplified; a Traditional reader's translation is converted
    assert (result.summary, result.title) == ("今年冬天，3000多隻候鳥飛抵雙桂湖。觀察人員記錄到42種鳥類，包括一對青頭潛鴨。", "候鳥回到雙桂湖")


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
def test_causal_profile_summarizes_in_the_readers_language(tmp_path):
    build_causal(tmp_path / "causal", [], PROMPT, answers=CAUSAL_ANSWERS)
    (tmp_path / "models.yaml").write_text(f"""
translate: {{zh->en: instruct}}
profiles:
  instruct: {{kind: causal, model: ./causal, prompt: "{PROMPT}", generation: {{max_new_tokens: 48, do_sample: false}}}}
""", encoding="utf-8")
    summarizer = Summarizer.from_file(tmp_path / "models.yaml")
    good, bad = summarizer.translate_many(["摘要", "摘要"], ["標題", "標題"], [ZH_HANT, UNFAITHFUL], ["zh-Hant"] * 2, "en")
    assert (good.summary, good.title, good.fallback, good.profile) == (CAUSAL_ANSWERS[0][2], None, False, "instruct")
    assert bad.fallback and bad.summary == "" and bad.reason == "faithfulness check: number 960000 is not in the source"


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
async def test_readers_get_stories_translated_at_ingestion_once(translating, tmp_path, db, make_settings):
    ingestor = await ingest(tmp_path, db, make_settings, translating,
                            ("factories", FACTORIES_TITLE, ZH_HANT), ("birds", BIRDS_TITLE, ENGLISH))
    assert sorted(stored(db)) == [
        ("birds", "en-zh", "zh-Hans", "候鸟回到双桂湖", False),
        ("birds", "extractive", "en", None, False),
        ("factories", "extractive", "zh-Hant", None, False),
        ("factories", "zh-en", "en", "Liangping builds standard factories", False),
    ]
    assert ingestor.summarize_pending() == 0  # stored once, not redone on the next pass

    english, traditional, simplified = stories(db, "en"), stories(db, "zh-Hant"), stories(db, "zh-Hans")
    assert english["factories"]["title"] == "Liangping builds standard factories"
    assert english["factories"]["summary"] == ZH_EN["梁平區今年計劃新建標準化廠房20萬平方米，並開通直達東盟國家的冷鏈班列。"]
    assert english["factories"]["original_language"] is None
    assert english["birds"]["title"] == BIRDS_TITLE and english["birds"]["summary"].startswith("More than 3,000")
    assert (traditional["birds"]["title"], traditional["birds"]["summary"]) == (
        "候鳥回到雙桂湖", "今年冬天，3000多隻候鳥飛抵雙桂湖。觀察人員記錄到42種鳥類，包括一對青頭潛鴨。")
    assert (simplified["birds"]["title"], simplified["birds"]["summary"]) == (
        "候鸟回到双桂湖", "今年冬天，3000多只候鸟飞抵双桂湖。观察人员记录到42种鸟类，包括一对青头潜鸭。")
    assert traditional["factories"]["title"] == "梁平新建標準化廠房"  # label stripped, own language
    assert simplified["factories"]["title"] == "梁平新建标准化厂房"

    with db.session() as session:  # the article's own summary made again since (say a model's weights arrived)
        own = session.scalars(select(SummaryRow).where(SummaryRow.language == "zh-Hant")).one()
        translation = session.scalars(select(SummaryRow).where(SummaryRow.language == "en", SummaryRow.profile == "zh-en")).one()
        translation.created_at = own.created_at - timedelta(seconds=1)
    assert ingestor.summarize_pending() == 1  # its translation follows
    assert ingestor.summarize_pending() == 0


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
async def test_without_translation_weights_stories_are_marked_and_sources_in_the_readers_script(
        translation_models, tmp_path, db, make_settings):
    missing = models_yaml(tmp_path, tmp_path / "later-zh-en", tmp_path / "later-en-zh")
    ingestor = await ingest(tmp_path, db, make_settings, missing,
                            ("factories", FACTORIES_TITLE, ZH_HANT), ("birds", BIRDS_TITLE, ENGLISH), source="重庆日报")
    assert sorted(stored(db)) == [("birds", "extractive", "en", None, False), ("factories", "extractive", "zh-Hant", None, False)]
    english, traditional = stories(db, "en"), stories(db, "zh-Hant")
    assert english["factories"]["title"] == "梁平新建標準化廠房"
    assert english["factories"]["summary"] == f"{Summarizer().summarize(ZH_HANT).summary} (in Chinese)"
    assert english["factories"]["original_language"] == "zh"
    assert traditional["birds"]["summary"].endswith("Baer's pochards.（英文原文）")
    assert traditional["birds"]["original_language"] == "en"
    assert stories(db, "zh-Hans")["birds"]["summary"].endswith("（英文原文）")
    assert [s["name"] for s in traditional["birds"]["sources"]] == ["重慶日報"]
    assert [s["name"] for s in english["birds"]["sources"]] == ["重庆日报"]
    html = "\n\n".join(render_stories(story_items(db, "en", 10, SHANGHAI), "en"))
    assert "(in Chinese)" in html and "梁平新建標準化廠房" in html

    assert ingestor.summarize_pending() == 0  # still no weights: nothing to do
    shutil.copytree(translation_models / "zh-en", tmp_path / "later-zh-en")  # `newsbot models pull` would put them there
    assert ingestor.summarize_pending() == 1
    assert stories(db, "en")["factories"]["title"] == "Liangping builds standard factories"
    assert stories(db, "zh-Hant")["birds"]["original_language"] == "en"  # en->zh weights still missing


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
async def test_a_translation_that_invents_a_number_falls_back_to_the_marked_original(translating, tmp_path, db, make_settings):
    ingestor = await ingest(tmp_path, db, make_settings, translating, ("spring", SPRING_TITLE, UNFAITHFUL))
    with db.session() as session:
        row = session.scalars(select(SummaryRow).where(SummaryRow.language == "en")).one()
    assert (row.profile, row.text, row.title, row.fallback) == ("zh-en", "", None, True)
    assert row.reason == "faithfulness check: number 960000 is not in the source"
    assert ingestor.summarize_pending() == 0  # not tried again on every pass
    english = stories(db, "en")["spring"]
    assert english["title"] == "梁平春耕備耕"
    assert english["summary"] == f"{Summarizer().summarize(UNFAITHFUL).summary} (in Chinese)" and "960" not in english["summary"]


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
async def test_translation_weights_that_do_not_load_store_nothing(translation_models, tmp_path, db, make_settings):
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(translation_models / "zh-en" / "config.json", broken)  # looks present, but has no weights or tokenizer
    ingestor = await ingest(tmp_path, db, make_settings, models_yaml(tmp_path, broken, tmp_path / "later-en-zh"),
                            ("factories", FACTORIES_TITLE, ZH_HANT))
    assert stored(db) == [("factories", "extractive", "zh-Hant", None, False)]
    assert stories(db, "en")["factories"]["original_language"] == "zh"
    assert ingestor.summarize_pending() == 0  # known not to load in this process: not tried on every pass


def test_a_pair_without_a_translator_is_an_error():
    with pytest.raises(ProfileError, match=r"no profile translates zh->en \(models.yaml, 'translate'\)"):
        Summarizer().translate_many(["摘要。"], [None], ["全文。"], ["zh-Hant"], "en")


class FailingTranslator:
    """Translates every text to "Translated."; fails on a whole batch holding "核酸"."""

    model = "fake"

    def translate_batch(self, texts: list[str], language: str, target: str) -> list[str]:
        if any("核酸" in t for t in texts):
            raise RuntimeError("CUDA out of memory.\nsee the docs")
        return ["Translated." if t else "" for t in texts]


@pytest.mark.slow  # tiny models trained on the spot: `pytest -m "not slow"` leaves it out
def test_a_failing_translation_falls_back_alone(translating, caplog):
    summarizer = Summarizer.from_file(translating)
    summarizer._backends["zh-en"] = FailingTranslator()  # the backend cache is the seam
    results = summarizer.translate_many(["梁平新建廠房。", "核酸檢測點調整。"], ["梁平", None], ["全文"] * 2, ["zh-Hant"] * 2, "en")
    assert [(r.summary, r.title, r.fallback) for r in results] == [("Translated.", "Translated.", False), ("", None, True)]
    assert results[1].reason == "backend error: RuntimeError: CUDA out of memory."
    assert "a batch of 2 translations failed" in caplog.text
