"""A backend that fails (runtime error, out of memory) falls back per article; summaries are
made in batches, each stored in its own transaction."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import pytest
from sqlalchemy import func, select

from bot.ingest.pipeline import Ingestor
from bot.storage import Database
from bot.storage import Summary as SummaryRow
from summarizer import Summarizer
from summarizer.text import split_sentences
from tests.fakes.tiny_models import SIMPLIFIED_FOR_HANT, UNFAITHFUL, ZH_HANS, ZH_HANT

FAKE_MODELS = """
default: fake
profiles:
  fake:
    kind: seq2seq
    model: ./fake
    batch_size: 2
"""
POISON = "核酸"  # texts with this word make the fake backend fail
POISONED = "梁平區核酸檢測點今日起調整開放時間，市民可就近前往社區衛生服務中心。區衛生健康委提醒市民合理安排出行。"
LIBRARY = "梁平區圖書館新館本週六正式開放，館藏圖書三十萬冊。館方介紹，新館設有少兒閱覽區和自習室，每天開放至晚上九點。"
ARTICLES = [ZH_HANT, LIBRARY, POISONED, SIMPLIFIED_FOR_HANT, UNFAITHFUL]  # all zh-Hant: one backend call per batch


class FakeBackend:
    """Summarizes with the first sentence; fails on a whole batch holding ``POISON``."""

    model = "fake"

    def __init__(self, error: Exception, db: Database | None = None) -> None:
        self.error = error
        self.db = db
        self.calls: list[tuple[int, int | None]] = []  # (texts in the batch, summaries already committed)

    def summarize_batch(self, texts: Sequence[str], language: str, titles: Sequence[str | None] | None = None) -> list[str]:
        committed = None
        if self.db is not None:
            with self.db.session() as session:
                committed = session.scalar(select(func.count()).select_from(SummaryRow))
        self.calls.append((len(texts), committed))
        if any(POISON in t for t in texts):
            raise self.error
        return [split_sentences(t)[0] for t in texts]


def fake_summarizer(tmp_path: Path, backend: FakeBackend) -> Summarizer:
    (tmp_path / "models.yaml").write_text(FAKE_MODELS, encoding="utf-8")
    summarizer = Summarizer.from_file(tmp_path / "models.yaml")
    summarizer._backends["fake"] = backend  # the backend cache is the seam, as a loaded model would sit there
    return summarizer


@pytest.mark.parametrize(
    "error, reason",
    [
        (
            RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB\nsee the PyTorch docs"),
            "backend error: RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB",
        ),
        (MemoryError(), "backend error: MemoryError"),
    ],
)
def test_a_failing_text_falls_back_alone_with_the_reason(tmp_path, caplog, error, reason):
    backend = FakeBackend(error)
    summarizer = fake_summarizer(tmp_path, backend)
    texts = [ZH_HANT, POISONED, ZH_HANS]
    with caplog.at_level(logging.WARNING, logger="summarizer.api"):
        results = summarizer.summarize_many(texts)
    model = str(tmp_path / "fake")
    assert [(r.fallback, r.model) for r in results] == [(False, model), (True, "textrank"), (False, model)]
    assert results[0].summary == split_sentences(ZH_HANT)[0]
    assert results[1].reason == reason and results[1].summary.startswith("梁平區核酸檢測點")
    assert [r.reason for r in (results[0], results[2])] == [None, None]
    # zh-Hant texts share one batch (then retried one by one), zh-Hans goes alone
    assert backend.calls == [(2, None), (1, None), (1, None), (1, None)]
    assert len([r for r in caplog.records if "fell back to extractive" in r.message]) == 1


async def test_pending_summaries_are_committed_batch_by_batch(tmp_path, db, make_settings):
    news = tmp_path / "news"
    news.mkdir()
    for n, text in enumerate(ARTICLES):
        (news / f"{n}.txt").write_text(f"標題{n}\n{text}", encoding="utf-8")
    backend = FakeBackend(RuntimeError("device-side assert triggered"), db)
    settings = make_settings(f'[[sources]]\nname = "files"\nkind = "files"\nurl = "{news}"\n')
    ingestor = Ingestor(settings, db, fake_summarizer(tmp_path, backend))
    [report] = await ingestor.run()
    assert report.new == 5
    # batches of the profile's batch_size, each stored before the next one started; the
    # poisoned batch was retried one text at a time, then stored as well
    assert backend.calls == [(2, 0), (2, 2), (1, 2), (1, 2), (1, 4)]
    with db.session() as session:
        rows = {r.article.title: r for r in session.scalars(select(SummaryRow))}
    assert len(rows) == 5
    poisoned = rows["標題2"]
    assert (poisoned.fallback, poisoned.model) == (True, "textrank")
    assert poisoned.reason == "backend error: RuntimeError: device-side assert triggered"
    assert [rows[f"標題{n}"].fallback for n in (0, 1, 3, 4)] == [False] * 4
    assert ingestor.summarize_pending() == 0  # a backend error is not redone on every pass
