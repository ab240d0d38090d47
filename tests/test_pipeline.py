"""The ingestion pass: page and file sources, dedup across runs, failures, story groups, summaries."""

from sqlalchemy import func, select

from bot.ingest.pipeline import Ingestor
from bot.storage import Article, Source, Story, Summary
from summarizer import Summarizer
from tests.support.data import DEMO
from tests.support.feeds import serve_demo_portal
from tests.support.web import Reply


async def test_page_source_follows_article_links_once(server, db, make_settings):
    serve_demo_portal(server)
    settings = make_settings(f'[[sources]]\nname = "portal"\nkind = "page"\nurl = "{server.url("/list.html")}"\n'
                             'link_pattern = "/news/\\\\d{4}-\\\\d{2}-\\\\d{2}/"\n')
    ingestor = Ingestor(settings, db, Summarizer())
    [first] = await ingestor.run()
    [second] = await ingestor.run()
    assert (first.new, first.errors) == (2, [])
    assert (second.new, second.errors) == (0, [])
    assert len(server.hits_for("/news/2023-02-24/8812.html")) == 1  # seen articles are not fetched again
    assert server.hits_for("/about.html") == []
    with db.session() as session:
        titles = set(session.scalars(select(Article.title)))
        bulletins = session.scalar(select(func.count()).select_from(Article).where(Article.bulletins.any()))
    assert titles == {"環球觀焦點:梁平 “開春第一課”學出干事創業的新氣象", "梁平預制菜產業園一季度新簽約項目12個"}
    assert bulletins == 2


async def test_gb2312_page_served_over_http(server, db, make_settings):
    server.routes["/list.html"] = Reply('<a href="/qx/2023-02/24/1.html">x</a>')
    server.routes["/qx/2023-02/24/1.html"] = Reply(
        (DEMO / "chongqing/2023-02-24-liangping-training.html").read_bytes(), headers={"Content-Type": "text/html; charset=gb2312"}
    )
    settings = make_settings(f'[[sources]]\nname = "cq"\nkind = "page"\nurl = "{server.url("/list.html")}"\n')
    [report] = await Ingestor(settings, db, Summarizer()).run()
    assert report.new == 1
    with db.session() as session:
        article = session.scalars(select(Article)).one()
    assert article.title == "梁平区百余名领导干部赴浙江“取经”" and article.language == "zh-Hans"
    assert "相关新闻" not in article.text


async def test_broken_sources_never_stop_the_others(server, db, make_settings):
    serve_demo_portal(server)
    server.routes["/down.xml"] = Reply("oops", 500)
    settings = make_settings(
        f'[[sources]]\nname = "down"\nkind = "rss"\nurl = "{server.url("/down.xml")}"\ninterval_minutes = 10\n'
        f'[[sources]]\nname = "refused"\nkind = "page"\nurl = "http://127.0.0.1:9/list.html"\n'
        f'[[sources]]\nname = "nofiles"\nkind = "files"\nurl = "{DEMO / "nothing-here" / "*.html"}"\n'
        f'[[sources]]\nname = "portal"\nkind = "page"\nurl = "{server.url("/list.html")}"\n'
    )
    reports = {r.name: r for r in await Ingestor(settings, db, Summarizer()).run()}
    assert reports["portal"].new == 2 and not reports["portal"].errors
    assert "HTTP 500" in reports["down"].errors[0]
    assert "ConnectError" in reports["refused"].errors[0]
    assert "no .html, .htm or .txt files" in reports["nofiles"].errors[0]
    with db.session() as session:
        down = session.scalars(select(Source).where(Source.name == "down")).one()
        portal = session.scalars(select(Source).where(Source.name == "portal")).one()
    assert down.error_count == 1 and "HTTP 500" in down.last_error
    assert (down.next_fetch_at - down.last_attempt_at).total_seconds() == 20 * 60  # backoff doubles the interval
    assert portal.error_count == 0 and portal.last_success_at is not None


async def test_failing_source_is_skipped_until_its_backoff_ends(server, db, make_settings):
    server.routes["/down.xml"] = Reply("oops", 500)
    settings = make_settings(f'[[sources]]\nname = "down"\nkind = "rss"\nurl = "{server.url("/down.xml")}"\n')
    ingestor = Ingestor(settings, db, Summarizer())
    await ingestor.run()
    hits = len(server.hits_for("/down.xml"))
    await ingestor.poll_due()  # the scheduler's call: nothing is due during the backoff
    assert not ingestor.running and len(server.hits_for("/down.xml")) == hits


async def test_demo_files_group_the_same_story_and_summarize_once(db, make_settings):
    settings = make_settings(
        f'[[sources]]\nname = "lp"\nkind = "files"\nurl = "{DEMO / "liangping" / "*.html"}"\n'
        f'[[sources]]\nname = "cq"\nkind = "files"\nurl = "{DEMO / "chongqing"}"\n'
    )
    ingestor = Ingestor(settings, db, Summarizer())
    reports = await ingestor.run()
    assert sum(r.new for r in reports) == 5
    with db.session() as session:
        groups = [sorted(a.source.name for a in story.articles) for story in session.scalars(select(Story))]
        summaries = session.scalar(select(func.count()).select_from(Summary))
    assert sorted(groups) == [["cq"], ["cq", "lp"], ["lp"], ["lp"]]  # training story: both outlets; railway alone
    assert summaries == 5
    assert ingestor.summarize_pending() == 0
    assert sum(r.new for r in await ingestor.run()) == 0


async def test_same_article_at_a_new_url_is_not_stored_twice(server, db, make_settings):
    page = (DEMO / "liangping/2023-02-25-prepared-food.html").read_bytes()
    server.routes["/list.html"] = Reply('<a href="/news/1.html">a</a><a href="/news/1-print.html">b</a>')
    server.routes["/news/1.html"] = Reply(page)
    server.routes["/news/1-print.html"] = Reply(page)
    settings = make_settings(f'[[sources]]\nname = "p"\nkind = "page"\nurl = "{server.url("/list.html")}"\n')
    [report] = await Ingestor(settings, db, Summarizer()).run()
    assert report.new == 1
