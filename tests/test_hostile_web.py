"""``newsbot fetch`` against a hostile web (tests/fakes/hostile_web.py): bombs, stacked and unknown
encodings, odd validators, redirect loops, links and hops to private addresses, exotic
charsets, drips and truncated bodies. Every case must leave the pass running, ordinary
articles must all be stored, and the source must be scheduled on."""

from __future__ import annotations

import asyncio
import json
import socket
import tracemalloc
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st
from sqlalchemy import select, text, update

from bot.cli import main
from bot.config import ConfigError, FetchSettings, load_settings
from bot.ingest import http
from bot.ingest.dedup import TRACKING_PARAMS, canonical_url
from bot.ingest.encoding import decode_bytes
from bot.ingest.http import FetchError, PoliteClient, TransientError
from bot.storage import Article, PageRetry, Source
from bot.storage.models import utcnow
from tests.fakes.hostile_web import ANY, Answer, HostileServer, article_html, build_corpus, feed, gzip_bomb, ordinary_pages
from tests.support.config import write_config

pytestmark = pytest.mark.slow  # bombs and drips: `pytest -m "not slow"` leaves them out

FETCH = "[fetch]\nmin_delay_seconds = 0\nmax_retries = 0\ntimeout_seconds = 2\nmax_bytes = 1000000\n"
BOMB = 200_000_000  # inflated size of the corpus's bombs: 200 times the cap


@pytest.fixture
def web():
    instance = HostileServer()
    yield instance
    instance.close()


@pytest.fixture
def private():
    """A host at another loopback address: "private" to the sources on 127.0.0.1."""
    instance = HostileServer("127.0.0.2")
    yield instance
    instance.close()


@pytest.fixture
def servers():
    """Make more hostile servers (each its own origin, with its own robots.txt)."""
    made: list[HostileServer] = []

    def make() -> HostileServer:
        made.append(HostileServer())
        return made[-1]

    yield make
    for instance in made:
        instance.close()


def config(tmp_path, db, sources: dict[str, str], extra: str = "") -> str:
    """A config on ``db`` with an rss source per name -> feed URL."""
    text = f'[database]\nurl = "{db.url}"\n\n'
    text += "".join(f'[[sources]]\nname = "{name}"\nkind = "rss"\nurl = "{url}"\nmax_articles = 100\n'
                    for name, url in sources.items())
    return str(write_config(tmp_path, text + FETCH + extra))


def fetch(path: str, capsys, status: int = 0) -> dict[str, dict]:
    """``newsbot fetch --json`` in process (exit ``status``: 1 when every source failed); the
    report of each source by name."""
    assert main(["fetch", "-c", path, "--json"]) == status
    return {s["name"]: s for s in json.loads(capsys.readouterr().out)["sources"]}


def source_row(db, name: str) -> Source:
    with db.session() as session:
        return session.scalars(select(Source).where(Source.name == name)).one()


def stored_urls(db) -> set[str]:
    with db.session() as session:
        return set(session.scalars(select(Article.url)))


def error_for(report: dict, url: str) -> str | None:
    found = [e.removeprefix(f"{url}: ") for e in report["errors"] if e.startswith(f"{url}: ")]
    assert len(found) <= 1, found
    return found[0] if found else None


# -- the corpus behind one feed, through `newsbot fetch` ------------------------------------------


def test_every_hostile_page_survives_and_ordinary_articles_are_stored(web, private, db, tmp_path, capsys, clean_environment):
    cases = build_corpus(web, private, BOMB)
    ordinary = ordinary_pages(web)
    web.routes["/feed.xml"] = Answer(feed(ordinary + [c.url for c in cases]), headers=[("Content-Type", "application/rss+xml")])
    before = utcnow()

    report = fetch(config(tmp_path, db, {"hostile": web.url("/feed.xml")}), capsys)["hostile"]

    stored = stored_urls(db)
    assert {f"http://news.example/full/{n}.html" for n in range(3)} | set(ordinary) <= stored
    for case in cases:
        error = error_for(report, case.url)
        if case.expect is None:
            assert (case.url in stored, error) == (True, None), case.name
        elif case.expect is not ANY:
            assert error is not None and case.expect in error, (case.name, error)
            assert case.url not in stored, case.name
    assert private.hits == []  # no link and no redirect reached the private host
    assert len(report["errors"]) == sum(c.expect is not None for c in cases) - sum(c.url in stored for c in cases if c.expect is ANY)
    row = source_row(db, "hostile")
    assert row.error_count == 0 and row.last_success_at >= before
    assert row.next_fetch_at - row.last_success_at == timedelta(minutes=15)


def test_allow_hosts_lets_links_reach_a_listed_private_host(web, private, db, tmp_path, capsys, clean_environment):
    private.routes["/intranet.html"] = Answer(article_html("intranet news").encode())
    web.routes["/hop"] = Answer(status=302, headers=[("Location", private.url("/intranet.html"))])
    links = [private.url("/intranet.html"), web.url("/hop")]
    web.routes["/feed.xml"] = Answer(feed(links, full=0))
    path = config(tmp_path, db, {"intranet": web.url("/feed.xml")}, 'allow_hosts = ["127.0.0.2"]\n')

    report = fetch(path, capsys)["intranet"]

    assert (report["new"], report["errors"]) == (1, [])  # the second is the same page: one article
    assert len(private.hits_for("/intranet.html")) == 2


REFUSE_QUEUEING = {  # the database refusing to queue one page for a retry (a full disk, a constraint...)
    "sqlite": [("CREATE TRIGGER refuse BEFORE INSERT ON page_retries WHEN NEW.url LIKE '%refused%' "
                "BEGIN SELECT RAISE(ABORT, 'no room for this retry'); END")],
    "postgresql": [("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "IF NEW.url LIKE '%refused%' THEN RAISE EXCEPTION 'no room for this retry'; END IF; RETURN NEW; END $$"),
                   "CREATE TRIGGER refuse BEFORE INSERT ON page_retries FOR EACH ROW EXECUTE FUNCTION refuse()"],
}


def test_a_page_the_retry_queue_refuses_does_not_stop_the_pass(web, db, tmp_path, capsys, clean_environment, caplog):
    with db.session() as session:
        for statement in REFUSE_QUEUEING[session.get_bind().dialect.name]:
            session.execute(text(statement))
    [ordinary] = ordinary_pages(web, 1)
    refused, queued = web.url("/gone/refused.html"), web.url("/gone/queued.html")
    web.routes["/feed.xml"] = Answer(feed([refused, queued, ordinary], full=0))
    path = config(tmp_path, db, {"feed": web.url("/feed.xml")})

    report = fetch(path, capsys)["feed"]
    assert (report["new"], report["errors"]) == (1, [f"{refused}: HTTP 404", f"{queued}: HTTP 404"])
    report = fetch(path, capsys, status=1)["feed"]  # not queued, the page comes up again, and again does not stop the pass
    assert (report["new"], report["errors"]) == (0, [f"{refused}: HTTP 404"])
    assert source_row(db, "feed").error_count == 0 and stored_urls(db) == {ordinary}
    with db.session() as session:
        assert session.scalars(select(PageRetry.url)).all() == [queued]
    assert sum(f"could not queue {refused} for a retry" in r.message for r in caplog.records) == 2


# -- listings: validators, robots.txt, refused feeds --------------------------------------------


def test_odd_validators_are_not_kept_and_a_failed_pass_forgets_them(web, db, tmp_path, capsys, clean_environment):
    answers = iter([
        Answer(feed([]), headers=[("ETag", b'"caf\xc3\xa9"'), ("Last-Modified", b"Fri, 24 Feb 2023 \xff GMT")]),
        Answer(feed([]), headers=[("ETag", '"v1"'), ("Last-Modified", "Fri, 24 Feb 2023 10:00:00 GMT")]),
        Answer(b"down", 500),
        Answer(feed([])),
    ])
    web.routes["/feed.xml"] = lambda asked: next(answers)
    path = config(tmp_path, db, {"feed": web.url("/feed.xml")})

    assert fetch(path, capsys)["feed"]["errors"] == []
    row = source_row(db, "feed")
    assert (row.etag, row.last_modified) == (None, None)  # not kept, so never sent back

    with db.session() as session:  # what an older version stored: every request would fail
        session.execute(update(Source).values(etag="\"caf\u00e9\"", last_modified="x" * 300, next_fetch_at=None))
    assert fetch(path, capsys)["feed"]["errors"] == []
    assert "if-none-match" not in web.hits_for("/feed.xml")[1].headers
    assert source_row(db, "feed").etag == '"v1"'

    assert fetch(path, capsys, status=1)["feed"]["errors"] == [f"{web.url('/feed.xml')}: HTTP 500"]
    assert web.hits_for("/feed.xml")[2].headers["if-none-match"] == '"v1"'
    row = source_row(db, "feed")
    assert (row.etag, row.last_modified, row.error_count) == (None, None, 1)

    assert fetch(path, capsys)["feed"]["errors"] == []
    assert "if-none-match" not in web.hits_for("/feed.xml")[3].headers


def test_hostile_robots_and_feeds_fail_their_source_only(servers, db, tmp_path, capsys, clean_environment):
    loop, corrupt, junk, down, stacked, bomb = (servers() for _ in range(6))
    loop.routes["/robots.txt"] = Answer(status=302, headers=[("Location", "/robots.txt")])
    corrupt.routes["/robots.txt"] = Answer(b"\x1f\x8bnot gzip", headers=[("Content-Encoding", "gzip")])
    junk.routes["/robots.txt"] = Answer(bytes(range(256)) * 8, headers=[("Content-Type", "text/plain; charset=base64")])
    down.routes["/robots.txt"] = Answer(b"busy", 503)
    for server in (loop, corrupt, junk, down):
        server.routes["/feed.xml"] = Answer(feed([], full=1))
    stacked.routes["/feed.xml"] = Answer(gzip_bomb(BOMB, 2), headers=[("Content-Encoding", "gzip,gzip")])
    bomb.routes["/feed.xml"] = Answer(gzip_bomb(BOMB), headers=[("Content-Encoding", "x-gzip")])
    names = {"loop": loop, "corrupt": corrupt, "junk": junk, "down": down, "stacked": stacked, "bomb": bomb}
    path = config(tmp_path, db, {name: server.url("/feed.xml") for name, server in names.items()})
    before = utcnow()

    reports = fetch(path, capsys)

    for name in ("loop", "corrupt", "junk"):  # RFC 9309: unavailable or unreadable robots.txt allows all
        assert (reports[name]["new"], reports[name]["errors"]) == (1, []), name
    feed_url = down.url("/feed.xml")
    assert reports["down"]["errors"] == [f"{feed_url}: robots.txt unreachable (HTTP 503); tried again later"]
    assert down.hits_for("/feed.xml") == []  # a server error on robots.txt disallows everything for now
    assert len(loop.hits_for("/robots.txt")) == 6  # the first ask and five redirects
    assert reports["stacked"]["errors"] == [f"{stacked.url('/feed.xml')}: stacked content encodings refused (gzip,gzip)"]
    assert reports["bomb"]["errors"] == [f"{bomb.url('/feed.xml')}: response exceeds the 1000000-byte cap once decompressed"]
    for name in ("down", "stacked", "bomb"):
        row = source_row(db, name)
        assert row.error_count == 1 and row.next_fetch_at - row.last_attempt_at == timedelta(minutes=30), name
        assert row.last_attempt_at >= before


# -- the client on its own -----------------------------------------------------------------------


def client_settings(**overrides) -> FetchSettings:
    return FetchSettings(**{"min_delay_seconds": 0, "max_retries": 0, "timeout_seconds": 5, "max_bytes": 1_000_000,
                            "allow_hosts": ["127.0.0.1"], **overrides})


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_a_bomb_takes_little_memory_however_well_it_compresses(web, coding):
    body = gzip_bomb(1_000_000_000, coding=coding)
    web.routes["/bomb"] = Answer(body, headers=[("Content-Encoding", coding)])
    tracemalloc.start()
    try:
        async with PoliteClient(client_settings(respect_robots=False)) as client:
            with pytest.raises(FetchError, match="1000000-byte cap once decompressed"):
                await client.get(web.url("/bomb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1_000_000 + len(body) + 2_000_000  # the cap, its copy, the raw body: not 1 GB


async def test_odd_validators_are_neither_kept_nor_sent(web):
    web.routes["/a"] = Answer(b"ok", headers=[("ETag", b'"\xe6\xa2\x81"'), ("Last-Modified", "x" * 300)])
    async with PoliteClient(client_settings()) as client:
        response = await client.get(web.url("/a"), etag='"梁"', last_modified="Fri,\x0024 Feb")
    assert (response.etag, response.last_modified) == (None, None)
    assert "if-none-match" not in web.hits_for("/a")[0].headers and "if-modified-since" not in web.hits_for("/a")[0].headers


async def test_an_unreachable_robots_txt_is_asked_again_later(web, monkeypatch):
    answers = iter([Answer(b"busy", 503), Answer(b"busy", 503), Answer(b"User-agent: *\nDisallow: /private/\n")])
    web.routes["/robots.txt"] = lambda asked: next(answers)
    web.routes["/a"] = Answer(b"ok")
    async with PoliteClient(client_settings()) as client:
        for _ in range(2):  # within ROBOTS_ERROR_TTL: not asked again
            with pytest.raises(TransientError, match=r"robots.txt unreachable \(HTTP 503\)"):
                await client.get(web.url("/a"))
    assert len(web.hits_for("/robots.txt")) == 1
    monkeypatch.setattr(http, "ROBOTS_ERROR_TTL", 0.0)
    async with PoliteClient(client_settings()) as client:
        with pytest.raises(TransientError):
            await client.get(web.url("/a"))
        assert (await client.get(web.url("/a"))).content == b"ok"  # expired: asked again
        with pytest.raises(FetchError, match="disallowed by robots.txt"):
            await client.get(web.url("/private/b"))
    assert len(web.hits_for("/robots.txt")) == 3 and len(web.hits_for("/a")) == 1


async def test_the_robots_cache_is_bounded(servers, monkeypatch):
    monkeypatch.setattr(http, "ROBOTS_CACHE_SIZE", 1)
    first, second = servers(), servers()
    for server in (first, second):
        server.routes["/a"] = Answer(b"ok")
    async with PoliteClient(client_settings()) as client:
        for server in (first, second, first, first):
            await client.get(server.url("/a"))
    assert (len(first.hits_for("/robots.txt")), len(second.hits_for("/robots.txt"))) == (2, 1)


async def test_private_addresses_are_refused_unless_trusted(web, private):
    private.routes["/secret"] = Answer(b"secret")
    web.routes["/hop"] = Answer(status=307, headers=[("Location", private.url("/secret"))])
    async with PoliteClient(client_settings(allow_hosts=[], respect_robots=False), trusted_hosts=["127.0.0.1"]) as client:
        for url in (private.url("/secret"), web.url("/hop"), "http://[::1]:9/x", "http://0.0.0.0:9/x", "http://10.1.2.3/x"):
            with pytest.raises(FetchError, match="refused: .* non-public address"):
                await client.get(url)
    assert private.hits == []
    async with PoliteClient(client_settings(allow_hosts=[], respect_robots=False), trusted_hosts=["127.0.0.2"]) as client:
        assert (await client.get(private.url("/secret"))).content == b"secret"


async def test_a_name_that_resolves_elsewhere_when_connecting_is_refused(web, monkeypatch):
    """DNS rebinding: the check sees a public address, the connection then goes to loopback."""
    web.routes["/secret"] = Answer(b"secret")
    loop = asyncio.get_running_loop()
    answers = iter(["93.184.216.34", "127.0.0.1"])

    async def resolver(host, port, **kwargs):  # the network edge: what the DNS answers, in turn
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(loop, "getaddrinfo", resolver)
    async with PoliteClient(client_settings(allow_hosts=[], respect_robots=False)) as client:
        with pytest.raises(FetchError, match="refused: rebind.example is at non-public address 127.0.0.1"):
            await client.get(f"http://rebind.example:{web.port}/secret")
    assert [h.path for h in web.hits] == ["/secret"]  # asked, but its answer never read


@pytest.mark.parametrize("charset", ["base64", "zlib", "punycode", "rot13", "hex", "uu", "undefined", "idna", "bogus\x00"])
def test_non_text_codecs_named_as_charsets_fall_back_to_detection(charset):
    text = "梁平區新聞 plain text"
    assert decode_bytes(text.encode("utf-8"), charset) == text
    assert decode_bytes(f'<meta charset="{charset}">{text}'.encode("gb18030")).endswith(text)


@pytest.mark.parametrize("entry", ["http://intranet.example", "10.0.0.5:8080", "intranet.example/path", ""])
def test_a_bad_allow_hosts_entry_names_the_key_and_the_file(tmp_path, entry):
    path = write_config(tmp_path, f'[fetch]\nallow_hosts = ["intranet.example", "{entry}"]\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value) == (f"{path}: key 'fetch.allow_hosts': {entry!r} is not a host name or IP address "
                                 "(e.g. 'intranet.example' or '10.0.0.5': no scheme, port or path)")


def test_allow_hosts_take_names_and_addresses_from_the_file_or_the_environment(tmp_path):
    path = write_config(tmp_path, '[fetch]\nallow_hosts = ["Intranet.Example", "[::1]", "10.0.0.5"]\n')
    assert load_settings(path, environ={}).fetch.allow_hosts == ["intranet.example", "::1", "10.0.0.5"]
    assert load_settings(None, environ={"NEWSBOT_FETCH_ALLOW_HOSTS": "a.example, 127.0.0.1"}).fetch.allow_hosts == [
        "a.example", "127.0.0.1"]


# -- canonical URLs ------------------------------------------------------------------------------

TEXT = st.characters(codec="utf-8", exclude_categories=["Cs"])
# any name, and names that start or end like a tracking one (spmid, from_id, my_utm_source)
names = st.one_of(
    st.text(TEXT, min_size=1, max_size=8),
    st.builds("".join, st.lists(st.one_of(st.sampled_from(sorted(TRACKING_PARAMS)), st.text(TEXT, min_size=1, max_size=3)),
                                min_size=2, max_size=3)),
).filter(lambda name: name.lower() not in TRACKING_PARAMS)
values = st.one_of(st.text(TEXT, max_size=8), st.binary(max_size=4))  # bytes: form values that are not UTF-8 (GBK)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.dictionaries(names, values, min_size=1, max_size=5), st.data(),
       st.lists(st.sampled_from(sorted(TRACKING_PARAMS)), max_size=3))
def test_urls_differing_in_a_parameter_that_is_not_tracking_never_share_a_key(params, data, tracking):
    name = data.draw(st.sampled_from(sorted(params)))
    other = data.draw(values.filter(lambda v: _form(v) != _form(params[name])))
    first = "http://news.example/view.asp?" + urlencode({**params, **{t: "x" for t in tracking}})
    second = "http://news.example/view.asp?" + urlencode({**params, name: other})
    assert canonical_url(first) != canonical_url(second)


def _form(value: str | bytes) -> bytes:
    """The bytes a form value stands for."""
    return value if isinstance(value, bytes) else value.encode("utf-8")


def test_parameters_are_dropped_by_exact_name_only():
    assert canonical_url("http://x.cn/view.asp?spmid=1001") != canonical_url("http://x.cn/view.asp?spmid=1002")
    assert canonical_url("http://x.cn/a?id=1&fromid=2&utm_source=a&spm=1.2&FROM=b&share=1") == "http://x.cn/a?fromid=2&id=1"
    assert canonical_url("http://x.cn/s?kw=%D6%D0") != canonical_url("http://x.cn/s?kw=%CE%C4")  # GBK terms stay apart
