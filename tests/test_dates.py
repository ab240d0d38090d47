"""Publication dates: offsets honoured, nothing invented, and the byline under the title first."""

import pytest

from bot.ingest.dates import find_date, parse_local_datetime
from bot.ingest.extract import extract_html
from tests.support.data import SHANGHAI

PROSE = "<p>" + "梁平區今天召開春季農業生產工作會議，部署春耕備耕和糧食生產工作，要求各鎮街抓好落實。" * 3 + "</p>"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-02-24 18:13:29", "2023-02-24T18:13:29+08:00"),  # no offset: the region's local time
        ("2023/2/24", "2023-02-24T00:00:00+08:00"),
        ("2023年02月24日 18:13", "2023-02-24T18:13:00+08:00"),
        ("2023-02-24T18:13:29", "2023-02-24T18:13:29+08:00"),
        ("2023-02-24 10:13:29 +0000", "2023-02-24T10:13:29+00:00"),  # offsets after a space
        ("2023-02-24 10:13:29 GMT", "2023-02-24T10:13:29+00:00"),
        ("2023-02-24 10:13:29 UTC", "2023-02-24T10:13:29+00:00"),
        ("2023-02-24 10:13:29 Z", "2023-02-24T10:13:29+00:00"),
        ("2023-02-24 10:13:29 +08:00", "2023-02-24T10:13:29+08:00"),
        ("2023-02-24 05:13 -05:00", "2023-02-24T05:13:00-05:00"),
        ("2023-02-24 10:13 UTC+8", "2023-02-24T10:13:00+08:00"),
        ("2023-02-24T10:13:29Z", "2023-02-24T10:13:29+00:00"),
        ("2023-02-24T10:13:29+0800", "2023-02-24T10:13:29+08:00"),
        ("2023-02-24T10:13:29.250+08:00", "2023-02-24T10:13:29+08:00"),
        ("Fri, 24 Feb 2023 10:13:29 GMT", "2023-02-24T10:13:29+00:00"),  # RFC 822, as feeds write it
        ("Fri, 24 Feb 2023 18:13:29 +0800", "2023-02-24T18:13:29+08:00"),
        ("Feb. 24, 2023 6:02 p.m.", "2023-02-24T18:02:00+08:00"),
        ("24 February 2023", "2023-02-24T00:00:00+08:00"),
        ("2023", None),  # no month or day invented
        ("March 2023", None),
        ("2023-03", None),
        ("2023年3月", None),
        ("24 February", None),  # nor a year
        ("2023-02-30", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_local_datetime(text, expected):
    parsed = parse_local_datetime(text, SHANGHAI)
    assert (parsed.isoformat() if parsed else None) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("發布時間：2023-02-24 18:13　來源：梁平區融媒體中心　瀏覽次數：1024", "2023-02-24T18:13:00+08:00"),
        ("2023年02月25日 16:30　來源：梁平區融媒體中心　作者：李明", "2023-02-25T16:30:00+08:00"),
        ("发表于 2023-3-5 08:12:45 | 只看该作者", "2023-03-05T08:12:45+08:00"),
        ("Published: 2023-02-24 10:13:29 UTC", "2023-02-24T10:13:29+00:00"),
        ("By Jane Doe | Feb. 24, 2023 at 6:02 p.m.", "2023-02-24T18:02:00+08:00"),
        ("Friday 24th February 2023, 10:13 GMT", "2023-02-24T10:13:00+00:00"),
        # US and UK zone names: the zone's offset on that day (New York is on EST in March, EDT in June)
        ("By Jane Doe | Updated March 3, 2024 5:12 p.m. ET", "2024-03-03T17:12:00-05:00"),
        ("June 3, 2024 5:12 p.m. ET", "2024-06-03T17:12:00-04:00"),
        ("Jan. 30, 2024 6:00 a.m. EST", "2024-01-30T06:00:00-05:00"),
        ("May 18, 2024 9:15 p.m. PT", "2024-05-18T21:15:00-07:00"),
        ("3 June 2024 14:05 BST", "2024-06-03T14:05:00+01:00"),
        ("March 3, 2024 10:00 CST", "2024-03-03T10:00:00+08:00"),  # CST may be China's: the region's time
        ("February 11, 2024 14 min read", "2024-02-11T00:00:00+08:00"),  # a number after the date is no hour
        ("Posted March 2023 by the committee", None),
        ("© 2023 梁平新聞網", None),
        ("2月19日，梁平區舉行開班式", None),  # a day without its year is no publication date
    ],
)
def test_find_date_in_a_byline(text, expected):
    found = find_date(text, SHANGHAI)
    assert (found.isoformat() if found else None) == expected


RELATED = "".join(f"<li><a href='/{n}.html'>梁平區新聞{n}</a><span class='time'>2023-01-0{n} 09:00</span></li>" for n in (1, 2, 3))


def _page(before_title: str = "", after_title: str = "", head: str = "") -> str:
    """A page with a related list under the article: its dates are never the page's."""
    return (f"<html><head>{head}</head><body>{before_title}<h1>梁平區召開春季農業生產工作會議</h1>{after_title}"
            f"<div class='content'>{PROSE}</div><ul>{RELATED}</ul></body></html>")


WIDGET = "<div class='top'><span class='date'>今天是2023年3月6日 星期一</span> 農曆二月十五</div>"


@pytest.mark.parametrize(
    "page, expected",
    [
        # the line just under the title, not the "today" widget of the page header
        (_page(WIDGET, "<div class='sub'>2023-03-04 16:20　來源：梁平新聞網</div>"), "2023-03-04T16:20:00+08:00"),
        # a byline-like element after the title, past a standfirst that is prose
        (_page(WIDGET, f"<p>{'導語' * 80}。</p><p class='pubtime'>2023-03-04 16:20:05</p>"), "2023-03-04T16:20:05+08:00"),
        (_page(after_title="<time datetime='2023-02-24T10:13:29Z'>Feb 24</time>"), "2023-02-24T10:13:29+00:00"),
        # no byline: htmldate, from the page's metadata, its offset kept; never the widget
        (_page(WIDGET, head="<meta name='pubdate' content='2023-02-24 10:13:29 +0000'>"), "2023-02-24T10:13:29+00:00"),
        (_page(WIDGET, head="<meta property='article:published_time' content='2023-02-25T09:30:00+08:00'>"),
         "2023-02-25T09:30:00+08:00"),
        (_page(WIDGET), None),
        # a byline that gives the day only takes the time of a <time datetime> or the metadata of that day
        (_page(after_title="<p class='meta'>Posted on <time datetime='2024-01-14T09:30:00-05:00'>January 14, 2024</time></p>"),
         "2024-01-14T09:30:00-05:00"),
        (_page(after_title="<p>By Renee Foster | April 30, 2024</p>",
               head="<meta property='article:published_time' content='2024-04-30T10:00:00-04:00'>"),
         "2024-04-30T10:00:00-04:00"),
        (_page(after_title="<p>By Renee Foster | April 30, 2024</p>",
               head="<meta property='article:published_time' content='2024-04-29T10:00:00-04:00'>"),
         "2024-04-30T00:00:00+08:00"),  # metadata of another day doesn't overrule the byline
        # a year, or a year and month, is not a date
        (_page(after_title="<p class='meta'>Posted March 2023 · © 2023</p>"), None),
    ],
    ids=[
        "byline-under-title", "byline-element", "time-element", "meta-utc", "meta-offset", "widget-only",
        "day-then-time-element", "day-then-meta", "day-other-meta", "year-month",
    ],
)
def test_where_the_page_date_comes_from(page, expected):
    published = extract_html(page, SHANGHAI).published
    assert (published.isoformat() if published else None) == expected
