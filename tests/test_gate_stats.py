"""The gate's acceptance per profile from stored summaries: ``newsbot models stats`` and /stats."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from bot.cli import main
from bot.gate_report import acceptance, report
from bot.storage import Article, Database, Source, Summary
from tests.support.bot import ADMIN, DAY
from tests.support.config import write_config

MT5 = "csebuetnlp/mT5_multilingual_XLSum"
TEXTRANK = "textrank"
EXPECTED_LINES = [
    "Summaries (24 h):",
    "• distilbart-cnn: 0/2 model (0%); fallbacks: model unavailable 2",
    "• extractive: 2 (extractive)",
    "• mt5-xlsum: 3/10 model (30%); fallbacks: faithfulness check: number 3, model unavailable 2, backend error 1",
    "• qwen-instruct: 1/1 model (100%)",
]


def store(db: Database, now: datetime) -> None:
    """Summaries of the day before ``now``, one older, and translations, each of its own article."""
    hour = timedelta(hours=1)
    rows = [  # profile, model, reason (None: accepted), article language, summary language, title, age
        *[("mt5-xlsum", MT5, None, "zh-Hant", "zh-Hant", None, hour)] * 3,
        ("mt5-xlsum", TEXTRANK, "faithfulness check: number: 15 is not in the article", "zh-Hant", "zh-Hant", None, hour),
        ("mt5-xlsum", TEXTRANK, "faithfulness check: number: 7 is not in the article", "zh-Hans", "zh-Hans", None, 2 * hour),
        ("mt5-xlsum", TEXTRANK, "faithfulness check: number: 2023 is not in the article", "zh-Hant", "zh-Hant", None, hour),
        *[("mt5-xlsum", TEXTRANK, "model unavailable: no weights", "zh-Hant", "zh-Hant", None, hour)] * 2,
        ("mt5-xlsum", TEXTRANK, "backend error: CUDA out of memory", "zh-Hant", "zh-Hant", None, hour),
        ("mt5-xlsum", TEXTRANK, "faithfulness check: name: 李明 is not in the article", "zh-Hant", "zh-Hant", None, hour),
        ("mt5-xlsum", "old/model", None, "zh-Hant", "zh-Hant", None, 30 * hour),  # before the window
        *[("distilbart-cnn", TEXTRANK, "model unavailable: no weights", "en", "en", None, hour)] * 2,
        *[("extractive", TEXTRANK, None, "zh-Hant", "zh-Hant", None, hour)] * 2,
        ("opus-mt-zh-en", "Helsinki-NLP/opus-mt-zh-en", None, "zh-Hant", "en", "Birds return", hour),  # translations
        ("opus-mt-zh-en", "Helsinki-NLP/opus-mt-zh-en", "faithfulness check: number: 9 is not in the article",
         "zh-Hant", "en", None, hour),
        ("qwen-instruct", "Qwen/Qwen2.5-1.5B-Instruct", None, "zh-Hant", "en", None, hour),  # a causal translation
        ("qwen-instruct", "Qwen/Qwen2.5-1.5B-Instruct", None, "en", "en", None, hour),
    ]
    with db.session() as session:
        source = Source(name="gate", kind="files", url="file:///gate")
        for n, (profile, model, reason, article_language, language, title, age) in enumerate(rows):
            article = Article(source=source, url=f"file:///{n}", canonical_url=f"file:///{n}", content_hash=str(n),
                              title=f"t{n}", language=article_language, text="text")
            session.add(Summary(article=article, profile=profile, model=model, language=language, text="summary",
                                fallback=reason is not None, reason=reason, title=title, created_at=now - age))


def test_acceptance_per_profile(db):
    now = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    store(db, now)
    profiles = {p.profile: p for p in acceptance(db, now - timedelta(hours=24))}
    assert list(profiles) == ["distilbart-cnn", "extractive", "mt5-xlsum", "qwen-instruct"]
    mt5 = profiles["mt5-xlsum"]
    assert (mt5.model, mt5.total, mt5.accepted, mt5.fallbacks, mt5.extractive) == (MT5, 10, 3, 7, False)
    assert mt5.top_reasons == [("faithfulness check: number", 3), ("model unavailable", 2), ("backend error", 1)]
    assert profiles["distilbart-cnn"].model == TEXTRANK and not profiles["distilbart-cnn"].extractive
    assert profiles["extractive"].extractive and profiles["qwen-instruct"].total == 1
    assert report(list(profiles.values()), 24, "en") == EXPECTED_LINES
    assert report([mt5], 24, "zh-Hant")[1] == ("• mt5-xlsum：模型 3/10（30%）；回退：faithfulness check: number 3, "
                                               "model unavailable 2, backend error 1")
    assert report([], 24, "zh-Hans") == ["摘要（24 小时）：", "• 没有新摘要"]


@pytest.fixture
def config(tmp_path, clean_environment):
    """A config whose SQLite database holds the stored summaries; the environment and working
    directory kept out of the in-process CLI."""
    path = write_config(tmp_path, "")
    db = Database(f"sqlite:///{tmp_path / 'news.db'}")
    try:
        store(db, datetime.now(timezone.utc))
    finally:
        db.close()
    return path


def test_models_stats_json_and_text(config, capsys):
    assert main(["models", "stats", "--json", "-c", str(config)]) == 0
    document = json.loads(capsys.readouterr().out)
    since = datetime.fromisoformat(document["since"])
    assert timedelta(hours=23, minutes=59) < datetime.now(timezone.utc) - since < timedelta(hours=24, minutes=1)
    profiles = {p["profile"]: p for p in document["profiles"]}
    assert list(profiles) == ["distilbart-cnn", "extractive", "mt5-xlsum", "qwen-instruct"]
    assert profiles["mt5-xlsum"] == {
        "profile": "mt5-xlsum", "model": MT5, "extractive": False, "total": 10, "accepted": 3, "fallbacks": 7,
        "top_reasons": [{"reason": "faithfulness check: number", "count": 3}, {"reason": "model unavailable", "count": 2},
                        {"reason": "backend error", "count": 1}],
    }
    assert profiles["extractive"]["extractive"] and profiles["extractive"]["accepted"] == 2

    assert main(["models", "stats", "-c", str(config)]) == 0
    assert capsys.readouterr().out.splitlines() == EXPECTED_LINES

    assert main(["models", "stats", "--hours", "48", "--json", "-c", str(config)]) == 0
    profiles = {p["profile"]: p for p in json.loads(capsys.readouterr().out)["profiles"]}
    assert (profiles["mt5-xlsum"]["total"], profiles["mt5-xlsum"]["model"]) == (11, MT5)  # the older one too


async def test_admin_stats_shows_the_gate_per_profile(bot, fake_telegram, db):
    store(db, DAY)
    fake_telegram.user_says(ADMIN, "/stats", language_code="en")
    [message] = await fake_telegram.wait_for_messages(ADMIN, 1)
    assert message["text"].startswith("📊 Stats\nSubscribers: 1 (0 active)")
    # the sources of the catalog (the stored articles' and the config's), then the gate per profile
    assert message["text"].endswith("\n• gate: —\n• 梁平新聞網: —\n" + "\n".join(EXPECTED_LINES))
