"""Several ``newsbot run`` processes on one PostgreSQL database (issue #10): pushes claimed so
that each goes out once, one long-polling leader, a worker and a bot splitting the work.
SQLite refuses the multi-process roles."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from bot.storage import Database, Delivery, Subscriber
from summarizer.text import ZH_HANT
from tests.support.bot import ADMIN, TOKEN
from tests.support.cli import newsbot
from tests.support.config import POSTGRES_URL
from tests.support.data import DEMO
from tests.support.processes import HELP, limit, midday_zone, now, received
from tests.support.waiting import wait_until
from tests.support.web import Reply

pytestmark = pytest.mark.slow  # processes started and killed: `pytest -m "not slow"` leaves them out

postgres = pytest.mark.skipif(not POSTGRES_URL, reason="set NEWSBOT_TEST_POSTGRES_URL (.ci/run starts a PostgreSQL)")


@pytest.mark.parametrize("role", ["bot", "worker"])
def test_sqlite_refuses_the_multi_process_roles(tmp_path, role):
    result = newsbot("run", "--role", role, cwd=tmp_path, env={"NEWSBOT_TELEGRAM_TOKEN": TOKEN})
    assert result.returncode == 2
    assert "shares the work with other newsbot processes through PostgreSQL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture
def pg_url():
    """A fresh, migrated PostgreSQL database for the processes to share."""
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    Database(POSTGRES_URL).close()
    return POSTGRES_URL


def write(tmp_path: Path, url: str, fake_telegram, extra: str = "", per_second: float = 25.0) -> Path:
    path = tmp_path / "newsbot.toml"
    path.write_text(
        f'[database]\nurl = "{url}"\n[telegram]\napi_base_url = "{fake_telegram.base_url}"\nadmins = [{ADMIN}]\n'
        f'broadcast_per_second = {per_second}\n[weather]\nprovider = "none"\n[fetch]\nmin_delay_seconds = 0\n' + extra,
        encoding="utf-8",
    )
    return path


def seed(url: str, chats: range) -> None:
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        session.add_all(
            Subscriber(chat_id=chat, thread_id=0, chat_type="private", language=ZH_HANT, language_chosen=True,
                       push_time="07:30", timezone=midday_zone(), news_mode="daily", active=True,
                       next_push_at=now() - timedelta(minutes=1))
            for chat in chats
        )
    engine.dispose()


def claims(url: str) -> dict[int, str]:
    engine = create_engine(url)
    with Session(engine) as session:
        rows = session.execute(select(Subscriber.chat_id, Delivery.status).join(Delivery, Delivery.subscriber_id == Subscriber.id))
        state = {chat: status for chat, status in rows}
    engine.dispose()
    return state


@postgres
@limit(200)
async def test_two_processes_push_each_digest_once_and_one_survives_a_kill(tmp_path, fake_telegram, bots, pg_url):
    chats = range(20_000, 20_300)
    seed(pg_url, chats)
    fake_telegram.send_latency = 0.1
    config = write(tmp_path, pg_url, fake_telegram, per_second=10)  # two processes: 20 sends/s in all
    first = await bots.start(config)
    second = await bots.start(config)

    fake_telegram.user_says(901, "/help")  # exactly one process long-polls: one answer, not two
    await wait_until(lambda: fake_telegram.messages_to(901), 60, "an answer to /help", bots)
    await wait_until(lambda: sum(received(fake_telegram, chats).values()) >= 60, 60, "the broadcast to be under way", bots)
    assert len(fake_telegram.messages_to(901)) == 1

    in_flight = {chat for chat, status in claims(pg_url).items() if status == "sending"}
    delivered_at_kill = set(received(fake_telegram, chats))
    await first.kill()  # the other process takes over: its claims lapse after a minute
    await wait_until(lambda: len(received(fake_telegram, chats)) == len(chats), 150, "every digest after the kill", bots)
    await wait_until(lambda: set(claims(pg_url).values()) == {"sent"}, 30, "every push recorded as sent", bots)

    counts = received(fake_telegram, chats)
    twice = {chat for chat, n in counts.items() if n > 1}
    assert max(counts.values()) <= 2 and twice <= in_flight, f"sent twice without being in flight: {sorted(twice - in_flight)}"
    assert len(delivered_at_kill) < len(chats)
    fake_telegram.user_says(902, "/help")  # the survivor became the long-polling leader
    await wait_until(lambda: fake_telegram.messages_to(902), 30, "the survivor to answer", bots)
    assert fake_telegram.messages_to(902)[0]["text"] == HELP
    assert await second.stop() == 0, second.log()


@postgres
@limit(150)
async def test_a_worker_ingests_and_the_bot_shows_it(tmp_path, fake_telegram, bots, pg_url, server):
    server.routes["/list.html"] = Reply('<a href="/news/1.html">1</a><a href="/news/2.html">2</a>')
    server.routes["/news/1.html"] = Reply((DEMO / "liangping/2023-02-25-prepared-food.html").read_bytes())
    server.routes["/news/2.html"] = Reply((DEMO / "chongqing/2023-02-25-railway.html").read_bytes())
    config = write(tmp_path, pg_url, fake_telegram, extra=(
        f'[[sources]]\nname = "梁平新聞網"\nkind = "page"\nurl = "{server.url("/list.html")}"\n'))
    bot = await bots.start(config, "--role", "bot")
    worker = await bots.start(config, "--role", "worker")

    async def latest() -> str:
        fake_telegram.user_says(903, "/latest")
        count = len(fake_telegram.messages_to(903)) + 1
        await wait_until(lambda: len(fake_telegram.messages_to(903)) >= count, 30, "an answer to /latest", bots)
        return fake_telegram.messages_to(903)[-1]["text"]

    for _ in range(60):
        text_now = await latest()
        if "梁平預制菜產業園" in text_now:
            break
        await asyncio.sleep(1)
    assert "梁平預制菜產業園" in text_now and "渝西高鐵" in text_now
    assert len(server.hits_for("/list.html")) == 1  # fetched by the worker alone, once

    fake_telegram.user_says(ADMIN, "/fetch", language_code="en")  # the bot role leaves fetching to the workers
    await wait_until(lambda: fake_telegram.messages_to(ADMIN), 30, "an answer to /fetch", bots)
    assert fake_telegram.messages_to(ADMIN)[0]["text"].startswith("Fetch requested")
    await wait_until(lambda: len(server.hits_for("/list.html")) == 2, 90, "the worker to fetch again", bots)
    assert await worker.stop() == 0, worker.log()
    assert await bot.stop() == 0, bot.log()
