"""What the lead image and the "Full text" button cost (issue #18, parts 3 and 4).

- lead image: ``bot.ingest.images.lead_image`` on each page of the portal corpus and the demo
  pages (parsed and pruned as extraction does), against the whole ``extract_html`` of the page;
- a Telegraph page: ``page_content`` and ``chat_units`` for a 100,000-character article (the
  longest text kept), with the page's size against Telegraph's 64 KB;
- a tap on "Full text" against a loopback fake of the Telegraph API: the first (account and
  page made), the next (the stored page), and with Telegraph hanging: the tap that waits out the
  deadline and falls back to the text, then one during the pause that follows;
- the digest: ``story_items`` for 8 stories with and without the Telegraph pages looked up (the
  only thing the digest does for "Full text": no Telegraph or image call is made while it goes out).

    python benchmarks/fulltext.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import html as lxml_html  # noqa: E402

from bot import digest  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.ingest.cleanup import prune_page  # noqa: E402
from bot.ingest.encoding import decode_bytes  # noqa: E402
from bot.ingest.extract import extract_html  # noqa: E402
from bot.ingest.images import lead_image  # noqa: E402
from bot.storage import Article, Database, Source, Story, Summary  # noqa: E402
from bot.storage.models import TelegraphPage  # noqa: E402
from bot.telegram.full_text import chat_units  # noqa: E402
from bot.telegraph import FullText, FullTexts, page_content  # noqa: E402
from tests.fakes.telegraph import FakeTelegraph  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
PAGES = sorted((ROOT / "tests" / "fixtures" / "portals").glob("*.html")) + sorted((ROOT / "bot" / "demo").glob("*/*.html"))
PARAGRAPH = "梁平区今年新建高标准农田三万亩，项目覆盖全区二十个乡镇，预计年底全部完工。" * 4


def per_call(run, repeat: int) -> float:
    """Seconds per call, best of three batches of ``repeat``."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            run()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def pruned(page: str) -> lxml_html.HtmlElement:
    tree = lxml_html.document_fromstring(page)
    if (body := tree.find("body")) is not None:
        prune_page(body)
    return tree


def images(repeat: int) -> None:
    pages = [decode_bytes(path.read_bytes()) for path in PAGES]
    trees = [pruned(page) for page in pages]
    url = "https://news.example.cn/2024/05/story.html"
    image = sum(per_call(lambda tree=tree: lead_image(tree, url), repeat) for tree in trees)
    whole = sum(per_call(lambda page=page: extract_html(page, TZ, url=url), max(1, repeat // 4)) for page in pages)
    found = sum(lead_image(tree, url) is not None for tree in trees)
    print(
        f"lead image: {image / len(pages) * 1e3:.3f} ms a page ({image / whole:.1%} of extract_html, "
        f"{whole / len(pages) * 1e3:.2f} ms); a picture found on {found} of {len(pages)} pages"
    )


def pages(repeat: int) -> None:
    paragraphs = [PARAGRAPH] * (100_000 // len(PARAGRAPH))
    text = FullText(
        1,
        "zh-Hans",
        "梁平新建高标准农田",
        paragraphs,
        "梁平日报",
        "https://news.example.cn/a.html",
        "https://img.example.cn/a.jpg",
    )
    content = page_content(text)
    size = len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())
    print(
        f"Telegraph page of a {sum(map(len, paragraphs)):,}-character article: "
        f"{per_call(lambda: page_content(text), repeat) * 1e3:.2f} ms, {size / 1024:.1f} KB "
        f"({len(content) - 3} of {len(paragraphs)} paragraphs; Telegraph's limit 64 KB)"
    )
    messages = chat_units(text, "zh-Hans")
    print(f"the same in the chat: {per_call(lambda: chat_units(text, 'zh-Hans'), repeat) * 1e3:.2f} ms, {len(messages)} messages")


def add_stories(db: Database, count: int) -> list[int]:
    now = datetime.now(UTC)
    with db.session() as session:
        source = Source(name="梁平日报", kind="rss", url="x")
        stories = []
        for n in range(count):
            story = Story(first_seen_at=now, updated_at=now)
            session.add(
                Article(
                    source=source,
                    story=story,
                    url=f"https://news.example.cn/{n}.html",
                    canonical_url=f"https://news.example.cn/{n}.html",
                    content_hash=str(n),
                    title=f"新闻{n}",
                    language="zh-Hans",
                    text=PARAGRAPH,
                    image="https://img.example.cn/a.jpg",
                    summaries=[Summary(profile="p", model="m", language="zh-Hans", text=PARAGRAPH[:40])],
                )
            )
            stories.append(story)
        session.flush()
        return [story.id for story in stories]


async def taps(folder: Path) -> None:
    fake = FakeTelegraph()
    try:
        settings = load_settings(
            None,
            environ={
                "NEWSBOT_TELEGRAPH_API_BASE_URL": fake.base_url,
                "NEWSBOT_TELEGRAPH_TIMEOUT_SECONDS": "2",
                "NEWSBOT_TELEGRAPH_MAX_RETRIES": "1",
                "NEWSBOT_DATABASE_URL": f"sqlite:///{folder / 'taps.db'}",
            },
        )
        db = Database(settings.database.url)
        first, second = add_stories(db, 2)
        texts = FullTexts(settings, db)
        for label, story in (("first tap (account and page made)", first), ("next tap (the stored page)", first)):
            start = time.perf_counter()
            made = await texts.get(story, "zh-Hant")
            print(f"{label}: {(time.perf_counter() - start) * 1e3:.1f} ms, page {'made' if made and made.url else 'missing'}")
        fake.delay = 30
        for label in ("Telegraph hanging: the tap that falls back to the text", "a tap during the pause after it"):
            start = time.perf_counter()
            made = await texts.get(second, "zh-Hant")
            print(f"{label}: {time.perf_counter() - start:.2f} s, {'text' if made is None or made.url is None else 'page'}")
        db.close()
    finally:
        fake.delay = 0
        fake.close()


def digests(folder: Path, repeat: int) -> None:
    db = Database(f"sqlite:///{folder / 'digest.db'}")
    ids = add_stories(db, 200)
    with db.session() as session:
        for n, article in enumerate(session.query(Article).all()):
            session.add(TelegraphPage(article_id=article.id, language="zh-Hans", url=f"https://telegra.ph/p-{n}"))
    now = datetime.now(UTC)
    run = lambda: digest.story_items(db, "zh-Hans", 8, TZ, now=now)  # noqa: E731
    assert all(item.full_text_url for item in run()) and len(ids) == 200
    with_pages = per_call(run, repeat)
    looked_up, digest._with_pages = digest._with_pages, lambda session, items, language: items
    try:
        without = per_call(run, repeat)
    finally:
        digest._with_pages = looked_up
    print(
        f"digest stories (8 of 200, every one with a page): {with_pages * 1e3:.2f} ms with the pages looked up, "
        f"{without * 1e3:.2f} ms without (+{(with_pages - without) * 1e3:.2f} ms); no Telegraph or image request"
    )
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    images(args.repeat)
    pages(args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(taps(Path(folder)))
        digests(Path(folder), args.repeat)


if __name__ == "__main__":
    main()
