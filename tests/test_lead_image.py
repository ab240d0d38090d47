"""An article's lead image: the picture the page declares (og:image, twitter:image, image_src),
else the first picture of its content; absolute; never a logo, an icon, a tracking pixel or a
data: URI. Extraction keeps it, ``newsbot extract --json`` shows it, a fetch pass stores it."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from bot.ingest.extract import extract_html
from bot.ingest.images import lead_image, usable_image_url
from bot.storage import Article
from tests.support.cli import newsbot
from tests.support.config import write_config
from tests.support.web import Reply

PAGE_URL = "https://news.example.cn/2024/05/story.html"
TZ = ZoneInfo("Asia/Shanghai")
BODY = "<p>" + "梁平區今年新建高標準農田三萬畝，項目覆蓋全區二十個鄉鎮，預計年底全部完工。" * 3 + "</p>"


def page(head: str = "", body: str = BODY) -> str:
    return f"<html><head><title>新聞</title>{head}</head><body><article><h1>新建高標準農田</h1>{body}</article></body></html>"


def found(head: str = "", body: str = BODY, url: str | None = PAGE_URL) -> str | None:
    return lead_image(lxml_html.document_fromstring(page(head, body)), url)


def test_og_image_is_made_absolute_against_the_page():
    assert found('<meta property="og:image" content="/uploads/2024/05/field.jpg">') == "https://news.example.cn/uploads/2024/05/field.jpg"
    assert found('<meta property="og:image" content="//cdn.example.cn/a.jpg">') == "https://cdn.example.cn/a.jpg"


def test_base_href_decides_relative_addresses():
    head = '<base href="https://img.example.cn/static/"><meta property="og:image" content="photos/1.jpg">'
    assert found(head) == "https://img.example.cn/static/photos/1.jpg"


def test_a_site_logo_as_og_image_gives_way_to_twitter_image():
    head = ('<meta property="og:image" content="https://news.example.cn/images/site-logo.png">'
            '<meta name="twitter:image" content="https://news.example.cn/uploads/flood.jpg">')
    assert found(head) == "https://news.example.cn/uploads/flood.jpg"


def test_first_content_picture_when_the_page_declares_none():
    body = ('<img src="/img/icons/print.png"><img src="/x.gif" width="1" height="1">'
            '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/uploads/bridge.jpg" alt="大橋">' + BODY
            + '<img src="/uploads/second.jpg">')
    assert found(body=body) == "https://news.example.cn/uploads/bridge.jpg"


@pytest.mark.parametrize("body", [
    '<header><img src="/uploads/masthead.jpg"></header>',  # the masthead, not the article's
    '<div class="share-bar"><img src="/uploads/wx.jpg"></div>',
    '<img src="/uploads/qrcode.jpg">',
    '<img src="/img/a.svg">',
    '<img src="data:image/png;base64,iVBORw0KGgo=">',
    '<img src="/uploads/p.jpg" width="16" height="16">',
    '<img src="https://track.example.com/pixel?id=1">',
    '<img src="javascript:alert(1)">',
    '<img class="avatar" src="/uploads/u1.jpg">',
])
def test_furniture_pixels_and_odd_addresses_are_not_a_lead_image(body):
    assert found(body=body + BODY) is None


def test_a_local_file_keeps_only_absolute_image_addresses():
    assert found('<meta property="og:image" content="/uploads/a.jpg">', url=None) is None
    assert found('<meta property="og:image" content="https://img.example.cn/a.jpg">', url=None) == "https://img.example.cn/a.jpg"


def test_over_long_image_addresses_are_not_kept():
    assert usable_image_url("https://img.example.cn/" + "a" * 2100 + ".jpg", None) is None
    assert usable_image_url("https://img.example.cn/shared/photo.jpg", None) == "https://img.example.cn/shared/photo.jpg"


def test_extraction_keeps_the_image_and_the_text_without_it():
    article = extract_html(page('<meta property="og:image" content="/uploads/field.jpg">'), TZ, url=PAGE_URL)
    assert article.image == "https://news.example.cn/uploads/field.jpg"
    assert article.to_dict()["image"] == article.image
    assert "三萬畝" in article.text


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_newsbot_extract_json_shows_the_image(tmp_path):
    path = tmp_path / "story.html"
    path.write_text(page('<meta property="og:image" content="https://img.example.cn/field.jpg">'), encoding="utf-8")
    result = newsbot("extract", str(path), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["image"] == "https://img.example.cn/field.jpg"


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_a_fetch_pass_stores_each_articles_image(tmp_path, server, db):
    server.routes["/list.html"] = Reply('<a href="/news/1.html">1</a><a href="/news/2.html">2</a>')
    server.routes["/news/1.html"] = Reply(page('<meta property="og:image" content="/uploads/field.jpg">'))
    server.routes["/news/2.html"] = Reply(page(body=BODY.replace("農田", "公路")))
    config = write_config(tmp_path, f'[database]\nurl = "{db.url}"\n'
                                    f'[[sources]]\nname = "site"\nkind = "page"\nurl = "{server.url("/list.html")}"\n'
                                    "[fetch]\nmin_delay_seconds = 0\nmax_retries = 0\n")
    result = newsbot("fetch", "-c", str(config), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with db.session() as session:
        images = dict(session.execute(select(Article.url, Article.image)).all())
    assert images == {server.url("/news/1.html"): server.url("/uploads/field.jpg"), server.url("/news/2.html"): None}
