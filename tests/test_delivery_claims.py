"""Delivery across processes: claims that lapse on the wall clock and are taken once
the message is built, stories bounded by the push's cursor, one broadcaster per bot token, and
migrations that take turns."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text, update

from bot.storage import Article, Database, Delivery, Source, Story, Subscriber, Summary
from bot.storage.db import MIGRATION_LOCK
from bot.storage.models import utcnow
from bot.subscriptions import Subscriptions
from tests.support.bot import DAY, DUE, Clock, add_subscribers, stop
from tests.support.config import POSTGRES_URL

postgres = pytest.mark.skipif(not POSTGRES_URL, reason="set NEWSBOT_TEST_POSTGRES_URL (.ci/run starts a PostgreSQL)")
OTHER_PROCESS = "elsewhere:4242:cafe0000"


def subscriber_id(db, chat_id: int) -> int:
    with db.session() as session:
        return session.scalar(select(Subscriber.id).where(Subscriber.chat_id == chat_id))


def deliveries(db) -> list[Delivery]:
    with db.session() as session:
        return list(session.scalars(select(Delivery)))


def test_a_claim_taken_late_in_a_long_tick_is_honoured_for_its_whole_lease(db, make_settings):
    subscriptions = Subscriptions(db, make_settings(""))
    add_subscribers(db, [900])
    sid = subscriber_id(db, 900)
    tick_start = utcnow() - timedelta(minutes=2)  # a long tick: its start is long past when it claims
    assert subscriptions.claim(sid, "digest:x", tick_start) == "go"
    with db.session() as session:  # as if another process had claimed it just now
        session.execute(update(Delivery).values(claimed_by=OTHER_PROCESS))
    [claim] = deliveries(db)
    assert claim.claimed_until > utcnow()  # a lease from the moment it was taken, on the wall clock
    # another process (a tick that started just now) must not send it again; SQLite has one process
    assert subscriptions.claim(sid, "digest:x", utcnow()) == ("later" if db.shared else "go")


def test_a_claim_whose_lease_lapsed_is_taken_over(db, make_settings):
    subscriptions = Subscriptions(db, make_settings(""))
    add_subscribers(db, [901])
    sid = subscriber_id(db, 901)
    assert subscriptions.claim(sid, "digest:x", utcnow()) == "go"
    with db.session() as session:  # the other process died a while ago
        session.execute(update(Delivery).values(claimed_by=OTHER_PROCESS, claimed_until=utcnow() - timedelta(seconds=1)))
    assert subscriptions.claim(sid, "digest:x", utcnow()) == "go"


def add_story(db, title: str, first_seen) -> None:
    with db.session() as session:
        source = session.scalar(select(Source).where(Source.name == "梁平新聞網"))
        if source is None:
            source = Source(name="梁平新聞網", kind="page", url="http://e.example/")
        story = Story(first_seen_at=first_seen, updated_at=first_seen)
        article = Article(source=source, story=story, url=f"http://e.example/{title}", canonical_url=f"http://e.example/{title}",
                          content_hash=title, title=title, language="zh-Hant", text="正文", published_at=first_seen,
                          fetched_at=first_seen)
        session.add(Summary(article=article, profile="p", model="m", language="zh-Hant", text=f"{title}的摘要。"))


async def test_no_claim_is_taken_while_the_edition_cannot_be_built(bot, fake_telegram, db):
    _, services, _ = bot
    add_subscribers(db, [902])
    add_story(db, "新聞", DUE - timedelta(hours=1))
    with db.engine.begin() as connection:  # building the digest fails
        connection.execute(text("DROP TABLE summaries"))
    assert await services.pusher.tick(DUE) == 0
    assert deliveries(db) == [] and fake_telegram.messages_to(902) == []


async def test_a_story_stored_while_a_push_is_built_comes_in_the_next_push_once(bot, fake_telegram, db):
    _, services, _ = bot
    add_subscribers(db, [903])
    add_story(db, "早前新聞", DUE - timedelta(hours=1))
    add_story(db, "構建時新聞", DUE + timedelta(seconds=1))  # stored after the tick began
    assert await services.pusher.tick(DUE) == 1
    assert await services.pusher.tick(DUE + timedelta(days=1)) == 1
    first, second = (m["text"] for m in fake_telegram.messages_to(903))
    assert "早前新聞" in first and "構建時新聞" not in first
    assert "構建時新聞" in second and "早前新聞" not in second


@postgres
async def test_one_process_at_a_time_broadcasts_with_a_bot_token(make_bot, fake_telegram, db):
    if not db.shared:
        pytest.skip("with SQLite there is one process")
    clock = Clock(DAY)
    first_app, first = await make_bot(clock)
    second_app, second = await make_bot(clock)  # another process: its own connection for the lock
    try:
        chats = range(910, 930)
        add_subscribers(db, chats)
        fake_telegram.held = {910}  # the first process's broadcast stays under way
        broadcast = asyncio.ensure_future(first.pusher.tick(DUE))
        deadline = time.monotonic() + 30
        while 910 not in fake_telegram.unanswered:
            assert not broadcast.done() and time.monotonic() < deadline, "the first broadcast never got under way"
            await asyncio.sleep(0.01)
        assert await second.pusher.tick(DUE) == 0  # skipped: the token's pace is the first's to keep
        fake_telegram.release()
        assert await broadcast == len(chats)
        assert all(len(fake_telegram.messages_to(chat)) == 1 for chat in chats)
        add_subscribers(db, [931])
        assert await second.pusher.tick(DUE) == 1  # the lock is free again: the other process pushes
    finally:
        fake_telegram.release()
        await stop(first_app)
        await stop(second_app)


def fresh_schema() -> None:
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrate_in_threads(count: int) -> list[BaseException | None]:
    """``count`` threads opening (migrating) the database at once: what each raised."""
    start = threading.Barrier(count)
    outcomes: list[BaseException | None] = [None] * count

    def open_database(index: int) -> None:
        start.wait()
        try:
            Database(POSTGRES_URL).close()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcomes[index] = exc

    threads = [threading.Thread(target=open_database, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return outcomes


@postgres
def test_processes_started_together_on_an_empty_database_both_migrate():
    fresh_schema()
    assert migrate_in_threads(3) == [None, None, None]
    engine = create_engine(POSTGRES_URL)
    with engine.connect() as connection:
        assert len(connection.execute(text("SELECT version_num FROM alembic_version")).all()) == 1
    engine.dispose()


@postgres
def test_a_migration_waits_for_the_one_under_way():
    fresh_schema()
    engine = create_engine(POSTGRES_URL)
    holder = engine.connect()  # another process is migrating
    holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
    holder.commit()
    try:
        waiting = threading.Thread(target=lambda: Database(POSTGRES_URL).close())
        waiting.start()
        with engine.connect() as connection:
            query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = :key")
            deadline = time.monotonic() + 30
            while not connection.execute(query, {"key": MIGRATION_LOCK}).scalar():
                assert waiting.is_alive(), "the migration did not wait for the lock"
                assert time.monotonic() < deadline, "the migration never asked for the lock"
                connection.commit()
                time.sleep(0.01)
            assert waiting.is_alive()  # still waiting: nothing migrated meanwhile
            assert connection.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None
        holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        holder.commit()
        waiting.join(120)
        assert not waiting.is_alive()
    finally:
        holder.close()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        engine.dispose()
