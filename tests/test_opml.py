"""OPML 2.0 in and out, and ``newsbot sources`` run as a real subprocess (exit codes, JSON,
one-line reasons) against a loopback site."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from bot.config import SourceSettings
from bot.ingest.opml import NAMESPACE, OpmlError, export_opml, parse_opml
from tests.support.cli import newsbot
from tests.support.config import write_config
from tests.support.feeds import STORIES, page_naming, rss
from tests.support.web import Reply

READER_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Subscriptions</title></head>
  <body>
    <outline text="Local" title="Local">
      <outline type="rss" text="County Daily" title="County Daily" xmlUrl="https://county.example/rss" htmlUrl="https://county.example/"/>
      <outline type="rss" text="Town Hall" xmlUrl="https://town.example/atom.xml"/>
    </outline>
    <outline type="rss" text="County Daily" xmlUrl="https://county.example/other.xml"/>
    <outline text="a note, not a feed"/>
  </body>
</opml>"""


def test_a_feed_readers_export_is_read_with_folders_flattened_and_names_kept_apart():
    sources, problems = parse_opml(READER_EXPORT)
    assert problems == []
    assert [(s.name, s.kind, s.url) for s in sources] == [
        ("County Daily", "rss", "https://county.example/rss"),
        ("Town Hall", "rss", "https://town.example/atom.xml"),
        ("County Daily (2)", "rss", "https://county.example/other.xml"),
    ]


def test_what_newsbot_exports_it_reads_back_whole_and_other_readers_see_plain_feeds():
    sources = [
        SourceSettings(name="縣城日報", kind="rss", url="https://county.example/rss?a=1&b=2", interval_minutes=30),
        SourceSettings(name="Portal", kind="page", url="https://portal.example/news/", link_pattern=r"/news/\d+",
                       language="zh-Hans", enabled=False),
    ]
    document = export_opml(sources, "newsbot", datetime(2026, 12, 6, 8, 0, tzinfo=UTC))
    root = ET.fromstring(document)
    assert root.get("version") == "2.0" and root.findtext("head/dateCreated") == "Sun, 06 Dec 2026 08:00:00 +0000"
    feed, page = root.findall("body/outline")
    assert (feed.get("type"), feed.get("xmlUrl"), feed.get("text")) == ("rss", "https://county.example/rss?a=1&b=2", "縣城日報")
    assert (page.get("type"), page.get("url"), page.get(f"{{{NAMESPACE}}}state")) == ("link", "https://portal.example/news/", "paused")
    again, problems = parse_opml(document.encode("utf-8"))
    assert problems == [] and again == sources


@pytest.mark.parametrize(("data", "reason"), [
    (b"<opml><body>", "not valid XML"),
    (b"<rss version='2.0'/>", "not OPML: the document is <rss>"),
    (b"<opml version='2.0'><head/></opml>", "there is no <body>"),
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
     b"<opml><body><outline text='&b;' xmlUrl='https://x.example/'/></body></opml>", "refused"),
])
def test_what_is_not_readable_opml_is_refused_in_one_line(data, reason):
    with pytest.raises(OpmlError, match=reason):
        parse_opml(data)


def test_a_bad_outline_is_reported_and_the_others_are_read():
    data = (b"<opml version='2.0' xmlns:newsbot='" + NAMESPACE.encode() + b"'><body>"
            b"<outline text='Good' xmlUrl='https://good.example/rss'/>"
            b"<outline text='Odd' type='link' url='https://odd.example/' newsbot:kind='page' newsbot:link_pattern='(['/>"
            b"<outline text='Slow' xmlUrl='https://slow.example/rss' newsbot:interval='0'/></body></opml>")
    sources, problems = parse_opml(data)
    assert [s.name for s in sources] == ["Good"]
    assert problems[0].startswith("outline 2 (Odd): link_pattern: not a valid regular expression")
    assert problems[1].startswith("outline 3 (Slow): interval_minutes: ")


# -- newsbot sources, as a subprocess -------------------------------------------------------------


def config(tmp_path, server, extra: str = "") -> str:
    return str(write_config(tmp_path, extra + f'[[sources]]\nname = "Town feed"\nkind = "rss"\nurl = "{server.url("/a.xml")}"\n'
                                              "[fetch]\nmin_delay_seconds = 0\nmax_retries = 0\n"))


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_sources_add_discovers_lists_and_exports(tmp_path, server):
    server.routes["/a.xml"] = Reply(rss(server, "a"))
    server.routes["/county/"] = Reply(page_naming("/county.xml"))
    server.routes["/county.xml"] = Reply(rss(server, "county", {"Freight": STORIES["Freight"]}))
    path = config(tmp_path, server)
    dry = newsbot("sources", "add", server.url("/county/"), "--dry-run", "-c", path, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout == (f"found the feed the page names: {server.url('/county.xml')}: 1 article(s)\n  • Freight\n"
                          "not saved (--dry-run): 'county news'\n")
    added = newsbot("sources", "add", server.url("/county/"), "--name", "County", "--json", "-c", path, cwd=tmp_path)
    assert json.loads(added.stdout) == {"name": "County", "kind": "rss", "url": server.url("/county.xml"), "via": "alternate",
                                        "articles": 1, "titles": ["Freight"], "saved": True}
    listed = json.loads(newsbot("sources", "list", "--json", "-c", path, cwd=tmp_path).stdout)["sources"]
    assert [(s["name"], s["origin"], s["status"]) for s in listed] == [("County", "database", "new"), ("Town feed", "config", "new")]
    assert len(listed[0]["articles_per_day"]) == 7

    fetched = json.loads(newsbot("fetch", "--json", "-c", path, cwd=tmp_path).stdout)["sources"]
    assert {s["name"]: s["new"] for s in fetched} == {"County": 1, "Town feed": 3}  # picked up without editing the file
    assert newsbot("sources", "pause", "County", "-c", path, cwd=tmp_path).stdout == "'County' paused\n"
    exported = newsbot("sources", "export", "-c", path, cwd=tmp_path)
    outlines = ET.fromstring(exported.stdout).findall("body/outline")
    assert [(o.get("text"), o.get(f"{{{NAMESPACE}}}state")) for o in outlines] == [("County", "paused"), ("Town feed", None)]


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_sources_import_then_the_exit_codes_and_one_line_reasons(tmp_path, server):
    path = config(tmp_path, server)
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(READER_EXPORT)
    imported = newsbot("sources", "import", str(opml), "-c", path, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == "added 3 source(s): County Daily, Town Hall, County Daily (2)\n"
    again = newsbot("sources", "import", str(opml), "--json", "-c", path, cwd=tmp_path)
    assert json.loads(again.stdout) == {"added": [], "skipped": ["County Daily", "Town Hall", "County Daily (2)"],
                                        "problems": [], "saved": True}

    cases = [
        (("sources", "remove"), 2, "newsbot: error: sources remove: give a source's name\n"),
        (("sources", "pause", "Nope"), 2, "newsbot: error: no source named 'Nope' (known: "),
        (("sources", "import", "missing.opml"), 2, "newsbot: error: missing.opml: no such file"),
        (("sources", "list", "extra"), 2, "newsbot: error: sources list takes no argument"),
        (("sources", "add", server.url("/nothing")), 1, f"newsbot: error: {server.url('/nothing')}: HTTP 404\n"),
        (("sources", "add", server.url("/x"), "--kind", "atom"), 2, "newsbot: error: --kind: unknown source kind 'atom'"),
    ]
    for args, code, stderr in cases:
        result = newsbot(*args, "-c", path, cwd=tmp_path)
        assert (result.returncode, result.stderr[: len(stderr)]) == (code, stderr), args
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_with_the_config_managing_the_sources_the_cli_only_reads(tmp_path, server):
    path = config(tmp_path, server, '[catalog]\nmanaged_in = "config"\n')
    refused = newsbot("sources", "add", server.url("/a.xml"), "-c", path, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (f'newsbot: error: sources are managed in {tmp_path / "newsbot.toml"} ([catalog] managed_in = '
                              '"config"): edit its [[sources]] and restart, or set managed_in = "database" to edit them live\n')
    listed = newsbot("sources", "list", "-c", path, cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout.startswith("Town feed  [new] rss ")
