"""Values longer than their columns (links, guids, ETags, page languages) are fitted to them on
SQLite and PostgreSQL alike: PostgreSQL refuses an over-long VARCHAR, SQLite keeps it whole.
So are NUL characters, which PostgreSQL refuses in any text."""

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import String, UniqueConstraint, select

from bot.storage import Article, Database, Source
from bot.storage.models import ARTICLE_TEXT_CHARS, Base, BoundedString, KeyString
from tests.support.cli import newsbot
from tests.support.config import write_config
from tests.support.web import Reply

LONG = "x" * 2100  # past the 2000 characters of canonical_url and guid
BODY_A = "Migratory birds returned to the lake in record numbers this winter, officials said. " * 10
BODY_B = "The county opened a new cold-chain freight line to Southeast Asia on Friday, the office said. " * 10
BODY_C = "Farmers began spring ploughing across the district as temperatures rose this week, officials said. " * 10


def rss(items: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'


def item(link: str, guid: str, title: str, body: str) -> str:
    return (f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid><pubDate>2023-02-25 09:30</pubDate>"
            f"<description><![CDATA[<p>{body}</p>]]></description></item>")


def fetch(tmp_path, server, db: Database) -> dict:
    """One ``newsbot fetch`` pass of the loopback feed into ``db``."""
    config = write_config(tmp_path, f'[database]\nurl = "{db.url}"\n'
                                    f'[[sources]]\nname = "feed"\nkind = "rss"\nurl = "{server.url("/feed.xml")}"\n'
                                    "[fetch]\nmin_delay_seconds = 0\nmax_retries = 0\n")
    result = newsbot("fetch", "-c", str(config), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["sources"][0]


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_long_links_guids_etag_lang_and_title_through_newsbot_fetch(tmp_path, server, db):
    link_a, link_b = server.url(f"/a/{LONG}-1.html"), server.url(f"/a/{LONG}-2.html")  # one 2000-character start
    guid_a, guid_b = f"urn:{LONG}-1", f"urn:{LONG}-2"
    title = "Wetland " * 2000
    server.routes["/feed.xml"] = Reply(
        rss(item(link_a, guid_a, title, BODY_A) + item(link_b, guid_b, "Frei\x00ght", BODY_B)  # PostgreSQL refuses NUL
            + item(server.url("/lang.html"), "c", "Ploughing", "Read more...")),  # a teaser: its page is fetched
        headers={"Content-Type": "application/rss+xml", "ETag": f'"{"e" * 600}"'})
    server.routes["/lang.html"] = Reply(f'<html lang="{"q" * 40}"><body><article><p>{BODY_C}</p></article></body></html>')

    assert fetch(tmp_path, server, db) == {"name": "feed", "new": 3, "errors": [], "not_modified": False}
    with db.session() as session:
        articles = {a.title.split()[0]: a for a in session.scalars(select(Article))}
        source = session.scalars(select(Source)).one()
        found = session.scalars(select(Article.title).where(Article.canonical_url == link_a, Article.guid == guid_a)).all()
    assert set(articles) == {"Wetland", "Freight", "Ploughing"}  # two long links sharing 2000 characters: two articles
    assert articles["Wetland"].title == title.strip()
    assert articles["Wetland"].canonical_url != articles["Freight"].canonical_url
    assert all(len(a.canonical_url) <= 2000 and len(a.guid or "") <= 2000 for a in articles.values())
    assert len(articles["Ploughing"].language) <= 20
    assert found == [title.strip()]  # a lookup of the long link and guid finds the row
    assert source.last_success_at is not None and source.last_error is None and source.etag is None  # a cut ETag never matches

    assert fetch(tmp_path, server, db) == {"name": "feed", "new": 0, "errors": [], "not_modified": False}
    assert "if-none-match" not in server.hits_for("/feed.xml")[-1].headers
    with db.session() as session:
        assert session.query(Article).count() == 3


def test_long_source_fields_fit_and_are_found_by_their_long_values(db):
    name = "n" * 300
    with db.session() as session:
        session.add(Source(name=name, kind="k" * 30, url="http://x/", etag="e" * 501, last_modified="m" * 101,
                           claimed_by="c" * 150, error_count=0))
        session.add(Source(name="n" * 299 + "m", kind="rss", url="http://x/", error_count=0))  # same first 200 characters
    with db.session() as session:
        row = session.scalars(select(Source).where(Source.name == name)).one()
        assert session.scalar(select(Source.id).where(Source.claimed_by == "c" * 150)) == row.id
    assert (len(row.name), row.kind, row.etag, row.last_modified) == (200, "k" * 20, None, None)


def test_article_text_is_kept_to_a_bound(db):
    text = "A sentence of the article. " * (ARTICLE_TEXT_CHARS // 10)
    with db.session() as session:
        session.add(Source(name="s", kind="rss", url="http://x/", error_count=0))
        session.flush()
        session.add(Article(source_id=1, url="u", canonical_url="u", content_hash="h", title="t", language="en", text=text))
    with db.session() as session:
        stored = session.scalars(select(Article.text)).one()
    assert ARTICLE_TEXT_CHARS // 2 < len(stored) <= ARTICLE_TEXT_CHARS and stored.endswith(".")


def test_every_string_column_is_bounded_and_every_unique_one_is_a_key():
    columns = [column for table in Base.metadata.tables.values() for column in table.columns]
    assert [c.key for c in columns if isinstance(c.type, String)] == []  # plain VARCHAR or TEXT: long values or NULs fail
    unique = {c for table in Base.metadata.tables.values() for constraint in table.constraints
              if isinstance(constraint, UniqueConstraint) for c in constraint.columns} | {c for c in columns if c.unique}
    assert [c.key for c in unique if isinstance(c.type, BoundedString) and not isinstance(c.type, KeyString)] == []


def test_the_models_match_the_migrations(db):
    """The bounded types are the same columns to the database: no migration is missing."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
