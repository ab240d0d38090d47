"""Feed sources end to end through the ingestion pass: formats, encodings, dates, teasers, 304."""

from datetime import datetime, timezone

from sqlalchemy import select

from bot.ingest.pipeline import Ingestor
from bot.storage import Article, Database
from summarizer import Summarizer
from tests.support.feeds import item, rss2
from tests.support.texts import BODY_ZH
from tests.support.web import Reply

BODY_ZH_HANS = "梁平区春耕备耕有序推进，全区计划播种粮食作物76万亩，已调运种子、化肥等农资1.8万吨，组建农技服务队42支，深入田间开展技术指导。区农业农村委提醒，近期气温回升但早晚温差较大，农户要做好秧苗防寒保温工作，确保春播生产顺利进行。在礼让镇川西村，十余台旋耕机正在稻田里来回作业，今年全村计划种植水稻3200亩，比去年增加200亩，目前已完成翻耕1800亩。"


async def run(settings, db: Database):
    return await Ingestor(settings, db, Summarizer()).run()


def rss_settings(make_settings, server, path: str = "/feed.xml"):
    return make_settings(f'[[sources]]\nname = "feed"\nkind = "rss"\nurl = "{server.url(path)}"\n')


async def test_rss2_full_content_and_bare_local_dates(server, db, make_settings):
    server.routes["/feed.xml"] = Reply(rss2(item("a1", "預制菜產業園新簽約", BODY_ZH, "2023-02-24 18:13:29")
                                            + item("a2", "第二篇", BODY_ZH.replace("20萬", "30萬"), "2023年02月25日")),
                                       headers={"Content-Type": "application/rss+xml; charset=utf-8"})
    [report] = await run(rss_settings(make_settings, server), db)
    assert (report.new, report.errors) == (2, [])
    with db.session() as session:
        articles = {a.guid: a for a in session.scalars(select(Article))}
    assert articles["a1"].published_at == datetime(2023, 2, 24, 10, 13, 29, tzinfo=timezone.utc)  # 18:13 Shanghai
    assert articles["a2"].published_at == datetime(2023, 2, 24, 16, 0, tzinfo=timezone.utc)
    assert articles["a1"].title == "預制菜產業園新簽約" and "冷鏈班列" in articles["a1"].text
    assert articles["a1"].language == "zh-Hant"


async def test_atom_and_rdf_feeds(server, db, make_settings):
    server.routes["/atom"] = Reply(f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:feed</id><updated>2023-02-25T00:00:00Z</updated>
<entry><title>春耕</title><id>urn:1</id><link href="http://news.example/1.html"/><updated>2023-02-25T09:30:00+08:00</updated>
<content type="html">&lt;p&gt;{BODY_ZH_HANS}&lt;/p&gt;</content></entry></feed>""")
    server.routes["/rdf"] = Reply(f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://news.example/"><title>t</title><link>http://news.example/</link><description>d</description></channel>
<item rdf:about="http://news.example/2.html"><title>Wetland</title><link>http://news.example/2.html</link>
<dc:date>2023-02-25T09:30:00+08:00</dc:date><description>{'Migratory birds returned to the lake in record numbers this winter. ' * 12}</description></item>
</rdf:RDF>""")
    settings = make_settings(f'[[sources]]\nname = "atom"\nkind = "rss"\nurl = "{server.url("/atom")}"\n'
                             f'[[sources]]\nname = "rdf"\nkind = "rss"\nurl = "{server.url("/rdf")}"\n')
    reports = await run(settings, db)
    assert [(r.name, r.new, r.errors) for r in reports] == [("atom", 1, []), ("rdf", 1, [])]
    with db.session() as session:
        languages = {a.title: (a.language, a.published_at) for a in session.scalars(select(Article))}
    expected_time = datetime(2023, 2, 25, 1, 30, tzinfo=timezone.utc)
    assert languages == {"春耕": ("zh-Hans", expected_time), "Wetland": ("en", expected_time)}


async def test_feed_declared_utf8_but_served_as_gbk(server, db, make_settings):
    body = rss2(item("g1", "春耕备耕", BODY_ZH_HANS, "Sat, 25 Feb 2023 01:30:00 GMT")).encode("gbk")
    server.routes["/feed.xml"] = Reply(body, headers={"Content-Type": "application/xml; charset=utf-8"})
    [report] = await run(rss_settings(make_settings, server), db)
    assert report.new == 1
    with db.session() as session:
        article = session.scalars(select(Article)).one()
    assert article.title == "春耕备耕" and "农技服务队42支" in article.text


async def test_big5_feed(server, db, make_settings):
    body = rss2(item("b1", "預制菜", BODY_ZH, "2023-02-24 18:13:29"), encoding="big5").encode("big5")
    server.routes["/feed.xml"] = Reply(body, headers={"Content-Type": "application/xml"})
    [report] = await run(rss_settings(make_settings, server), db)
    assert report.new == 1
    with db.session() as session:
        assert "冷鏈物流" in session.scalars(select(Article)).one().text


async def test_teaser_items_fetch_the_article_page(server, db, make_settings):
    page = f"<html><head><title>全文</title></head><body><h1>預制菜產業園新簽約</h1><div class='content'><p>{BODY_ZH}</p><p>{BODY_ZH[10:]}</p></div></body></html>"
    server.routes["/article/1.html"] = Reply(page)
    teaser = f"""<item><title>預制菜產業園新簽約</title><link>{server.url('/article/1.html')}</link><guid>t1</guid>
<pubDate>2023-02-24 18:13:29</pubDate><description>梁平區今年計劃新建標準化廠房……</description></item>"""
    server.routes["/feed.xml"] = Reply(rss2(teaser))
    [report] = await run(rss_settings(make_settings, server), db)
    assert (report.new, report.errors) == (1, [])
    assert len(server.hits_for("/article/1.html")) == 1
    with db.session() as session:
        assert "冷鏈班列" in session.scalars(select(Article)).one().text


async def test_unchanged_feed_is_not_downloaded_again(server, db, make_settings):
    def feed(hit):
        if hit.headers.get("if-none-match") == '"f1"':
            return Reply(status=304)
        return Reply(rss2(item("a1", "標題", BODY_ZH, "2023-02-24 18:13:29")), headers={"ETag": '"f1"'})

    server.routes["/feed.xml"] = feed
    settings = rss_settings(make_settings, server)
    first = await run(settings, db)
    second = await run(settings, db)
    assert (first[0].new, first[0].not_modified) == (1, False)
    assert (second[0].new, second[0].not_modified) == (0, True)


async def test_not_a_feed_is_a_source_error(server, db, make_settings):
    server.routes["/feed.xml"] = Reply("<html><body>maintenance<", headers={"Content-Type": "text/html"})
    [report] = await run(rss_settings(make_settings, server), db)
    assert report.new == 0 and "not a readable feed" in report.errors[0]
