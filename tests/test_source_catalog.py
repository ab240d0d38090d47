"""The source catalog in the database: the config applied at start, live edits picked up at the
next tick without a restart, feed discovery through the real HTTP client against loopback
servers, health, and /source driven through the real Application and the fake Bot API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.config import SourceSettings
from bot.ingest.catalog import (
    ACTIVE,
    PAUSED,
    REMOVED,
    ManagedInConfig,
    NameTaken,
    UnknownSource,
    active_sources,
    add_source,
    apply_config,
    check_editable,
    set_state,
    source_health,
)
from bot.ingest.discover import discover
from bot.ingest.http import FetchError
from bot.ingest.pipeline import Ingestor
from bot.ingest.sources import SourceError
from bot.storage import Article, Source
from bot.storage.models import utcnow
from summarizer import Summarizer
from tests.support.bot import ADMIN, TOKEN, start_application, stop
from tests.support.feeds import STORIES, page_naming, rss
from tests.support.web import Reply


def feed_source(server, name: str, path: str) -> str:
    return f'[[sources]]\nname = "{name}"\nkind = "rss"\nurl = "{server.url(path)}"\n'


@pytest.fixture
def config_for(make_settings, db):
    """Settings whose database is the ``db`` fixture's (SQLite or PostgreSQL)."""
    return lambda text: make_settings(f'[database]\nurl = "{db.url}"\n' + text)


def row(db, name: str) -> Source:
    with db.session() as session:
        return session.scalars(select(Source).where(Source.name == name)).one()


# -- the config applied at start ---------------------------------------------------------------


def test_the_config_is_applied_changes_reapplied_and_a_dropped_entry_removed_with_its_history(db, server, config_for):
    server.routes["/a.xml"] = Reply(rss(server, "a"), headers={"Content-Type": "application/rss+xml"})
    both = config_for(feed_source(server, "A", "/a.xml") + feed_source(server, "B", "/b.xml"))
    assert apply_config(db, both) == {"added": ["A", "B"], "updated": [], "removed": []}
    assert apply_config(db, both) == {"added": [], "updated": [], "removed": []}  # unchanged: nothing to do
    reports = asyncio.run(Ingestor(both, db, Summarizer()).run(only="A"))
    assert reports[0].new == 3

    set_state(db, "B", PAUSED)  # paused live: a restart with the same file keeps it paused
    assert apply_config(db, both)["updated"] == [] and row(db, "B").state == PAUSED
    edited = config_for(feed_source(server, "B", "/b2.xml"))  # A gone from the file, B edited
    assert apply_config(db, edited) == {"added": [], "updated": ["B"], "removed": ["A"]}
    assert (row(db, "A").state, row(db, "B").state, row(db, "B").url) == (REMOVED, ACTIVE, server.url("/b2.xml"))
    with db.session() as session:  # a removed source's articles stay (stories already sent keep their source)
        assert session.scalar(select(func.count()).select_from(Article)) == 3
    assert [s.name for s in active_sources(db)] == ["B"]
    assert apply_config(db, both)["updated"] == ["A", "B"] and row(db, "A").state == ACTIVE  # back in the file: back


def test_sources_added_live_are_kept_unless_the_config_manages_the_catalog(db, server, config_for):
    settings = config_for(feed_source(server, "A", "/a.xml"))
    apply_config(db, settings)
    add_source(db, SourceSettings(name="Live", kind="rss", url=server.url("/live.xml")))
    with pytest.raises(NameTaken):
        add_source(db, SourceSettings(name="Live", kind="page", url=server.url("/other")))
    assert apply_config(db, settings)["removed"] == []  # the file does not own what was added live
    set_state(db, "A", PAUSED)

    strict = config_for('[catalog]\nmanaged_in = "config"\n' + feed_source(server, "A", "/a.xml"))
    with pytest.raises(ManagedInConfig, match='managed_in = "config"'):
        check_editable(strict)
    assert apply_config(db, strict) == {"added": [], "updated": ["A"], "removed": ["Live"]}
    assert (row(db, "A").state, row(db, "Live").state) == (ACTIVE, REMOVED)  # the file says what there is


def test_a_name_is_found_across_scripts_and_an_unknown_one_gets_suggestions(db, config_for):
    apply_config(db, config_for('[[sources]]\nname = "梁平區融媒體中心"\nkind = "files"\nurl = "x/*.html"\n'))
    assert set_state(db, "梁平区融媒体中心", PAUSED).name == "梁平區融媒體中心"
    with pytest.raises(UnknownSource) as refused:
        set_state(db, "梁平區融媒體", ACTIVE)
    assert refused.value.close == ["梁平區融媒體中心"]


async def test_every_process_picks_up_a_change_at_its_next_tick(db, server, config_for):
    server.routes["/a.xml"] = Reply(rss(server, "a"))
    server.routes["/b.xml"] = Reply(rss(server, "b", {"Freight": STORIES["Freight"]}))
    settings = config_for(feed_source(server, "A", "/a.xml"))
    worker, other = Ingestor(settings, db, Summarizer()), Ingestor(settings, db, Summarizer())
    assert [r.name for r in await worker.run()] == ["A"]

    add_source(db, SourceSettings(name="B", kind="rss", url=server.url("/b.xml")))  # e.g. /source add in the bot process
    set_state(db, "A", PAUSED)
    await other.poll_due()  # another process's scheduler tick
    await asyncio.gather(*other._tasks.values())
    assert server.hits_for("/b.xml") and len(server.hits_for("/a.xml")) == 1
    assert [r.name for r in await worker.run()] == ["B"]  # the first process too, without a restart
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Article).where(Article.source_id == row(db, "B").id)) == 1


# -- discovery through the real client ---------------------------------------------------------------


async def test_discovery_follows_the_feed_a_page_names(server, make_settings):
    server.routes["/news/"] = Reply(page_naming("/rss.xml"))
    server.routes["/rss.xml"] = Reply(rss(server, "county"), headers={"Content-Type": "application/rss+xml"})
    found = await discover(server.url("/news/"), make_settings().fetch)
    assert (found.kind, found.url, found.via, found.title) == ("rss", server.url("/rss.xml"), "alternate", "county news")
    assert found.titles() == ["Wetland", "Freight", "Ploughing"] and len(found.candidates) == 3


async def test_discovery_takes_a_feed_as_it_is_and_a_listing_page_as_a_page(server, make_settings):
    server.routes["/feed"] = Reply(rss(server, "direct"), headers={"Content-Type": "text/xml"})
    server.routes["/list"] = Reply('<html><head><title>Town news</title></head><body>'
                                   '<a href="/news/101.html">Bridge reopens</a><a href="/about">About</a>'
                                   '<a href="/news/102.html">Market day</a></body></html>')
    fetch = make_settings().fetch
    feed = await discover(server.url("/feed"), fetch)
    assert (feed.kind, feed.via, len(feed.candidates)) == ("rss", "feed", 3)
    page = await discover(server.url("/list"), fetch)
    assert (page.kind, page.via, page.title, page.titles()) == ("page", "page", "Town news", ["Bridge reopens", "Market day"])


async def test_discovery_refuses_what_is_not_a_source_and_the_guard_holds(server, make_settings):
    fetch = make_settings().fetch
    server.routes["/empty"] = Reply("<html><body><p>Nothing here</p></body></html>")
    with pytest.raises(SourceError, match="neither a feed nor a page with article links"):
        await discover(server.url("/empty"), fetch)
    with pytest.raises(FetchError, match="HTTP 404"):
        await discover(server.url("/missing"), fetch)
    # the page names a feed on another local host: the operator trusted the page's host, not that one
    server.routes["/sly"] = Reply(page_naming(server.url("/rss.xml").replace("127.0.0.1", "localhost")))
    with pytest.raises(FetchError, match="localhost"):
        await discover(server.url("/sly"), fetch)
    assert not server.hits_for("/rss.xml")
    server.routes["/huge"] = Reply("<html>" + "x" * 20_000 + "</html>")
    with pytest.raises(FetchError, match="exceeds the 10000-byte cap"):
        await discover(server.url("/huge"), fetch.model_copy(update={"max_bytes": 10_000}))
    with pytest.raises(SourceError, match="not a web address"):
        await discover("file:///etc/passwd", fetch)


async def test_discovery_has_a_total_deadline(server, make_settings, monkeypatch):
    from bot.ingest import discover as discovery

    monkeypatch.setattr(discovery, "DEADLINE_SECONDS", 0.5)
    server.routes["/slow"] = Reply(page_naming("/rss.xml"), delay=3)
    with pytest.raises(SourceError, match=r"no complete answer within 0.5s \(try again later\)"):
        await discover(server.url("/slow"), make_settings().fetch)


# -- health ------------------------------------------------------------------------------------


def test_health_counts_a_week_of_articles_per_day_in_two_queries(db, config_for):
    apply_config(db, config_for('[[sources]]\nname = "A"\nkind = "files"\nurl = "a/*.html"\n'
                                '[[sources]]\nname = "B"\nkind = "files"\nurl = "b/*.html"\n'))
    now = utcnow().replace(hour=12)
    source_id = row(db, "A").id
    with db.session() as session:
        for n, days_ago in enumerate([0, 0, 0, 2, 6, 7, 30]):  # 7 and 30 days ago: outside the week
            session.add(Article(source_id=source_id, url=f"u{n}", canonical_url=f"u{n}", content_hash=f"h{n}", title="t",
                                language="en", text="x", fetched_at=now - timedelta(days=days_ago)))
        session.execute(update(Source).where(Source.name == "A").values(last_success_at=now))
        session.execute(update(Source).where(Source.name == "B").values(error_count=2, last_error="b: HTTP 500",
                                                                          last_attempt_at=now))
    a, b = source_health(db, now)
    assert (a.name, a.status, a.articles_per_day) == ("A", "ok", [1, 0, 0, 0, 1, 0, 3])
    assert a.days[-1] == now.date() and len(a.days) == 7
    assert (b.status, b.last_error, b.last_error_at, sum(b.articles_per_day)) == ("failing", "b: HTTP 500", now, 0)
    set_state(db, "B", REMOVED)
    assert [h.name for h in source_health(db, now)] == ["A"]
    assert source_health(db, now, include_removed=True)[1].to_dict()["status"] == "removed"
    assert source_health(db, now, name="A")[0].to_dict()["articles_per_day"][now.date().isoformat()] == 3


# -- /source in the chat, end to end -----------------------------------------------------------------


@pytest.fixture
async def start_bot(db, fake_telegram, server, make_settings):
    """Start the real Application (long polling against the fake Bot API) with one configured
    feed; stop it afterwards."""
    started = []
    server.routes["/a.xml"] = Reply(rss(server, "a"))

    async def start(extra: str = ""):
        settings = make_settings(
            f'[database]\nurl = "{db.url}"\n[telegram]\ntoken = "{TOKEN}"\napi_base_url = "{fake_telegram.base_url}"\n'
            f'admins = [{ADMIN}]\n[weather]\nprovider = "none"\n{extra}' + feed_source(server, "Town feed", "/a.xml")
        )
        application = await start_application(settings, db, Summarizer(), utcnow)
        started.append(application)
        return application.bot_data["services"]

    yield start
    for application in started:
        await stop(application)


async def last_reply(fake_telegram, chat: int, count: int) -> str:
    return (await fake_telegram.wait_for_messages(chat, count))[-1]["text"]


async def test_an_operator_adds_a_source_that_is_fetched_at_the_next_round(start_bot, fake_telegram, server, db):
    server.routes["/county/"] = Reply(page_naming("/county.xml"))
    server.routes["/county.xml"] = Reply(rss(server, "county", {"Freight": STORIES["Freight"]}))
    services = await start_bot()
    fake_telegram.user_says(ADMIN, f"/source add {server.url('/county/')}", language_code="en")
    messages = await fake_telegram.wait_for_messages(ADMIN, 2)
    assert messages[0]["text"] == f"🔎 Trying {server.url('/county/')} …"
    assert messages[1]["text"] == (
        f"Found the feed the page names: {server.url('/county.xml')}\nOne pass lists 1 article(s), the first ones:\n"
        "• Freight\n\n✅ Added “county news”: fetched from the next round on.\n"
        "/source county news shows its health; /source remove county news takes it out."
    )
    reports = await services.ingestor.run()  # the next round
    assert {r.name: r.new for r in reports} == {"Town feed": 3, "county news": 1}

    fake_telegram.user_says(ADMIN, "/source county news", language_code="en")
    health = await last_reply(fake_telegram, ADMIN, 3)
    assert health.startswith(f"📡 county news\nrss · {server.url('/county.xml')}\nStatus: ok\nLast success: 20")
    assert "Last error: none\nArticles per day, last 7 days (UTC):\n▁▁▁▁▁▁" in health and health.endswith(":1")

    fake_telegram.user_says(ADMIN, "/source pause county news")  # the chat's own script from here
    assert await last_reply(fake_telegram, ADMIN, 4) == "⏸ 已暫停“county news”。/source resume county news 恢復。"
    fake_telegram.user_says(ADMIN, "/sources")
    listing = await last_reply(fake_telegram, ADMIN, 5)
    assert "Town feed" in listing and "county news" not in listing
    assert [r.name for r in await services.ingestor.run()] == ["Town feed"]
    fake_telegram.user_says(ADMIN, "/source remove county")
    assert await last_reply(fake_telegram, ADMIN, 6) == "沒有叫“county”的來源。\n是不是：county news？"
    fake_telegram.user_says(ADMIN, "/source remove county news")
    assert await last_reply(fake_telegram, ADMIN, 7) == "🗑 已移除“county news”（已抓到的文章保留）。"
    assert row(db, "county news").state == REMOVED


async def test_a_source_that_offers_nothing_is_not_saved_and_others_may_not_edit(start_bot, fake_telegram, server, db):
    server.routes["/empty"] = Reply("<html><body>No links</body></html>")
    await start_bot()
    fake_telegram.user_says(ADMIN, f"/source add {server.url('/empty')} Empty", language_code="en")
    failed = await last_reply(fake_telegram, ADMIN, 2)
    assert failed == f"❌ Not added: {server.url('/empty')}: neither a feed nor a page with article links (nothing to fetch)"
    fake_telegram.user_says(ADMIN, "/source add ftp://example.org/feed", language_code="en")
    assert (await last_reply(fake_telegram, ADMIN, 3)).startswith("Give an http:// or https:// address")
    fake_telegram.user_says(ADMIN, "/source", language_code="en")
    assert (await last_reply(fake_telegram, ADMIN, 4)).startswith("Usage:\n/source add URL [name]")
    fake_telegram.user_says(500, f"/source add {server.url('/a.xml')}")
    assert await last_reply(fake_telegram, 500, 1) == "這個命令只對管理員開放。"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 1


async def test_chat_edits_are_refused_where_the_config_manages_the_sources(start_bot, fake_telegram, server):
    await start_bot('[catalog]\nmanaged_in = "config"\n')
    fake_telegram.user_says(ADMIN, "/source pause Town feed", language_code="zh-hans")
    refusal = await last_reply(fake_telegram, ADMIN, 1)
    assert refusal == "来源由配置文件管理（[catalog] managed_in = \"config\"）：请修改其中的 [[sources]] 后重启。"
    fake_telegram.user_says(ADMIN, "/source Town feed", language_code="zh-hans")  # reading is allowed
    assert (await last_reply(fake_telegram, ADMIN, 2)).startswith("📡 Town feed\nrss · ")


def test_a_source_added_live_reaches_the_readers_of_every_region(db, config_for):
    from bot.storage.models import run_by

    settings = config_for(
        '[[sources]]\nname = "A"\nkind = "files"\nurl = "a/*.html"\n[[sources]]\nname = "B"\nkind = "files"\nurl = "b/*.html"\n'
        '[[regions]]\nname = "Liangping"\nsources = ["A"]\n[[regions]]\nname = "Wanzhou"\nsources = ["B"]\n'
    )
    apply_config(db, settings)
    add_source(db, SourceSettings(name="Live", kind="rss", url="https://live.example/rss"))
    with db.session() as session:
        for name in ("A", "B", "Live"):
            session.add(Article(source_id=row(db, name).id, url=name, canonical_url=name, content_hash=name, title=name,
                                language="en", text="x"))
    with db.session() as session:
        for region, expected in (("Liangping", ["A", "Live"]), ("Wanzhou", ["B", "Live"])):
            titles = session.scalars(select(Article.title).where(run_by(settings.region_sources(region))).order_by(Article.title))
            assert list(titles) == expected
    assert settings.region_sources("Wanzhou").includes("Live") and not settings.region_sources("Wanzhou").includes("A")


def test_processes_starting_together_apply_the_config_once(db, config_for):
    import threading

    settings = config_for("".join(f'[[sources]]\nname = "S{n}"\nkind = "files"\nurl = "s{n}/*.html"\n' for n in range(20)))
    start, results = threading.Barrier(4), []

    def one_process() -> None:
        start.wait()
        results.append(apply_config(db, settings))

    threads = [threading.Thread(target=one_process) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r["added"]) for r in results) == [0, 0, 0, 20]  # one added them, the others found them
    assert len(active_sources(db)) == 20
