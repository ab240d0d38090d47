"""What the loopback news sites serve: feeds (RSS 2.0 with full text), the demo portal's pages, a
portal page that names its feed."""

from __future__ import annotations

from tests.support.data import DEMO
from tests.support.web import LocalServer, Reply


def rss2(items: str, encoding: str = "utf-8") -> str:
    """An RSS 2.0 feed of ``items`` (see ``item``) in ``encoding``."""
    return f"""<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>梁平新聞</title><link>http://example/</link><description>d</description>
{items}
</channel></rss>"""


def item(guid: str, title: str, body: str, date: str, link: str | None = None) -> str:
    """One RSS item whose ``content:encoded`` is ``body`` as a paragraph."""
    return f"""<item><title>{title}</title><link>{link or 'http://news.example/' + guid + '.html'}</link>
<guid>{guid}</guid><pubDate>{date}</pubDate><content:encoded><![CDATA[<p>{body}</p>]]></content:encoded></item>"""


LISTING = """<html><body><ul>
<li><a href="/news/2023-02-24/8812.html">梁平開春第一課</a></li>
<li><a href="/news/2023-02-25/8813.html">預制菜</a></li>
<li><a href="/news/2023-02-25/8813.html#comments">預制菜評論</a></li>
<li><a href="/about.html">關於我們</a></li>
<li><a href="http://elsewhere.example/news/1.html">外站</a></li>
<li><a href="javascript:void(0)">更多</a></li>
</ul></body></html>"""


def serve_demo_portal(server: LocalServer) -> None:
    """A portal's listing (``/list.html``: two demo articles, and links a source must not follow)."""
    server.routes["/list.html"] = Reply(LISTING)
    server.routes["/news/2023-02-24/8812.html"] = Reply((DEMO / "liangping/2023-02-24-training.html").read_bytes())
    server.routes["/news/2023-02-25/8813.html"] = Reply((DEMO / "liangping/2023-02-25-prepared-food.html").read_bytes())


STORIES = {
    "Wetland": "Migratory birds returned to the lake in record numbers this winter, officials said. " * 10,
    "Freight": "The county opened a new cold-chain freight line to Southeast Asia on Friday, the office said. " * 10,
    "Ploughing": "Farmers began spring ploughing across the district as temperatures rose this week, officials said. " * 10,
}


def rss(server: LocalServer, prefix: str, titles: dict[str, str] = STORIES) -> str:
    """An RSS feed of ``titles`` (title -> text), its links under ``/prefix/`` on ``server``."""
    items = "".join(
        f"<item><title>{title}</title><link>{server.url(f'/{prefix}/{n}.html')}</link><guid>{prefix}-{n}</guid>"
        f"<pubDate>Sat, 25 Feb 2023 09:30:00 +0800</pubDate><description><![CDATA[<p>{titles[title]}</p>]]></description></item>"
        for n, title in enumerate(titles)
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{prefix} news</title>{items}</channel></rss>'


def page_naming(feed: str, title: str = "County portal") -> str:
    """A portal's page whose ``<link rel="alternate">`` names ``feed``."""
    return (f'<html><head><title>{title}</title><link rel="alternate" type="application/rss+xml" href="{feed}"></head>'
            "<body><p>Welcome</p></body></html>")
