"""Crash safety, tested with the real ``newsbot run`` process (issue #8).

Each test starts ``python -m bot.cli run`` against the fake Bot API (``tests.fakes.telegram``)
with subscribers written straight into its SQLite database, then breaks something: the
process is killed with SIGKILL mid-broadcast, the Bot API goes away for 30 s, another
process holds the database's write lock for 20 s, the Bot API answers in 7 s, one chat
floods the bot. What must hold afterwards: every subscriber has the day's digest exactly
once (a duplicate only where a send was in flight at the kill), and replies still come.

The push job runs every 10 s, so these tests take seconds each; every wait has a deadline
and every process is killed at teardown.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from bot.storage import Database, Delivery, Subscriber
from bot.telegram.push import CONCURRENCY
from bot.texts import t
from summarizer.text import ZH_HANT
from tests.fakes.telegram import FakeTelegram
from tests.support.bot import ADMIN
from tests.support.config import write_config
from tests.support.processes import HELP, limit, midday_zone, now, received
from tests.support.waiting import wait_until
from tests.support.web import Reply

pytestmark = pytest.mark.slow  # outages and kills, in real time: `pytest -m "not slow"` leaves them out

ERROR = t("error", ZH_HANT)  # 抱歉，出了點問題，請稍後再試。


def config(tmp_path: Path, fake_telegram: FakeTelegram, per_second: float = 25.0, extra: str = "") -> Path:
    return write_config(tmp_path, (
        f'[telegram]\napi_base_url = "{fake_telegram.base_url}"\nadmins = [{ADMIN}]\nbroadcast_per_second = {per_second}\n'
        '[weather]\nprovider = "none"\n' + extra
    ))


class Store:
    """The bot's SQLite database (where ``write_config`` puts it), as the tests see it."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "news.db"
        Database(f"sqlite:///{self.path}").close()  # migrated, as `newsbot run` would
        self.engine = create_engine(f"sqlite:///{self.path}", connect_args={"timeout": 60})

    def seed(self, chats: range, due: datetime) -> None:
        """Active daily subscribers (zh-Hant), due at ``due``."""
        zone = midday_zone()
        with Session(self.engine) as session, session.begin():
            session.add_all(
                Subscriber(chat_id=chat, thread_id=0, chat_type="private", language=ZH_HANT, language_chosen=True,
                           push_time="07:30", timezone=zone, news_mode="daily", active=True, next_push_at=due)
                for chat in chats
            )

    def make_due(self, chats: range, due: datetime) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(update(Subscriber).where(Subscriber.chat_id.in_(list(chats))).values(next_push_at=due))

    def deliveries(self) -> dict[int, tuple[str, int]]:
        """chat id -> (status, attempts) of its daily push (one push key per chat in these tests)."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(Subscriber.chat_id, Delivery.status, Delivery.attempts, Delivery.push_key)
                .join(Delivery, Delivery.subscriber_id == Subscriber.id)
            ).all()
        assert all(row.push_key.startswith("digest:") for row in rows), rows
        assert len({row.chat_id for row in rows}) == len(rows), f"more than one push key per chat: {rows}"
        return {row.chat_id: (row.status, row.attempts) for row in rows}

    def all_sent(self, chats: range) -> bool:
        state = self.deliveries()
        return all(state.get(chat, ("",))[0] == "sent" for chat in chats)

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def store(tmp_path):
    instance = Store(tmp_path)
    yield instance
    instance.close()


async def ready(fake_telegram: FakeTelegram, bots, chat: int = 900) -> None:
    """The process is up and answering: a /help gets its answer."""
    fake_telegram.user_says(chat, "/help")
    await wait_until(lambda: fake_telegram.messages_to(chat), 60, "the bot to answer its first /help", bots)


# -- 1. kill -9 during a broadcast, then restart ------------------------------------------

@limit(150)
async def test_kill_9_mid_broadcast_then_restart_delivers_each_digest_once(tmp_path, fake_telegram, bots, store):
    """SIGKILL with part of a 200-chat broadcast out; after a restart every chat has the digest,
    and the only chats that got it twice are ones whose send was in flight at the kill (their
    claim was written, their ``sent`` record was not)."""
    chats = range(10_000, 10_200)
    store.seed(chats, due=now() - timedelta(minutes=1))
    fake_telegram.send_latency = 0.25  # with 20 sends/s, about five are in flight at any moment
    cfg = config(tmp_path, fake_telegram, per_second=20)

    first = await bots.start(cfg)
    await wait_until(lambda: sum(received(fake_telegram, chats).values()) >= 40, 60, "the broadcast to be under way", bots)
    in_flight = dict(fake_telegram.unanswered)  # requests the fake had but had not answered
    await first.kill()

    state = store.deliveries()  # what the restarted process will find
    claimed = {chat for chat, (status, _) in state.items() if status == "sending"}
    await wait_until(lambda: not fake_telegram.unanswered, 10, "the fake to finish the requests the killed process left")
    before = received(fake_telegram, chats)
    assert 40 <= len(before) < len(chats), f"the kill was not mid-broadcast: {len(before)} of {len(chats)} delivered"
    assert max(before.values()) == 1, "a chat got the digest twice before any crash"
    recorded = {chat for chat, (status, _) in state.items() if status == "sent"}
    assert recorded <= set(before), "a push recorded as sent never reached its chat"
    assert claimed and len(claimed) <= CONCURRENCY, f"{len(claimed)} pushes claimed at the kill"
    unrecorded = set(before) - recorded  # delivered, but the process died before writing `sent`
    assert unrecorded <= claimed, f"delivered but neither sent nor claimed at the kill: {sorted(unrecorded - claimed)}"

    second = await bots.start(cfg)
    await wait_until(lambda: len(received(fake_telegram, chats)) == len(chats) and store.all_sent(chats), 90,
                     "every chat's digest after the restart", bots)
    assert await second.stop() == 0, second.log()

    after = received(fake_telegram, chats)
    twice = {chat for chat, count in after.items() if count > 1}
    assert set(after) == set(chats) and max(after.values()) <= 2, after.most_common(3)
    assert twice <= unrecorded, f"sent twice without having been in flight at the kill: {sorted(twice - unrecorded)}"
    assert len(twice) <= CONCURRENCY
    print(f"\nkill -9: {len(before)}/{len(chats)} delivered at the kill, {len(claimed)} claimed (`sending`), "
          f"{sum(in_flight.values())} requests unanswered, {len(unrecorded)} delivered but unrecorded; "
          f"{len(twice)} chats got the digest twice")


# -- 2. a 30 s Bot API outage ---------------------------------------------------------------

@limit(200)
async def test_a_30_s_bot_api_outage_delays_pushes_but_loses_and_repeats_none(tmp_path, fake_telegram, bots, store):
    """The Bot API goes away just as 20 pushes fall due (15 s of hung-up connections, then 15 s
    of 502 Bad Gateway); within two minutes of its return every chat has its digest, once."""
    chats = range(20_000, 20_020)
    store.seed(chats, due=now() + timedelta(days=1))
    await bots.start(config(tmp_path, fake_telegram))
    await ready(fake_telegram, bots)

    fake_telegram.down = "drop"
    store.make_due(chats, now())
    await asyncio.sleep(15)  # the outage is what this test is about: 30 s span a push and its first retry
    fake_telegram.down = "502"
    await asyncio.sleep(15)
    assert not received(fake_telegram, chats), "delivered during the outage?"
    refused = fake_telegram.refused
    attempted = {chat for chat, (status, attempts) in store.deliveries().items() if attempts}
    fake_telegram.down = False
    assert refused and attempted == set(chats), f"the pushes were not tried during the outage ({refused} refused, {attempted})"

    fake_telegram.user_says(901, "/help")
    took = await wait_until(lambda: len(received(fake_telegram, chats)) == len(chats) and store.all_sent(chats), 120,
                            "every digest within two minutes of the outage's end", bots)
    await wait_until(lambda: fake_telegram.messages_to(901), 120, "a /help answered after the outage", bots)
    assert [m["text"] for m in fake_telegram.messages_to(901)] == [HELP]
    counts = received(fake_telegram, chats)
    assert set(counts.values()) == {1}, counts.most_common(3)
    print(f"\noutage: {refused} requests refused; all {len(chats)} digests out {took:.1f}s after it ended")


# -- 3. the database locked by another process for 20 s ---------------------------------

LOCKER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
print("released", flush=True)
"""


@limit(150)
async def test_sqlite_locked_20_s_by_another_process_delays_but_breaks_nothing(tmp_path, fake_telegram, bots, store):
    """Another process holds the write lock for 20 s while pushes fall due and a new user sends
    /help: the help comes (not "something went wrong") once the lock frees, and so does every
    digest, once."""
    chats = range(30_000, 30_020)
    store.seed(chats, due=now() + timedelta(days=1))
    bot = await bots.start(config(tmp_path, fake_telegram))
    await ready(fake_telegram, bots)

    store.make_due(chats, now() + timedelta(seconds=2))
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCKER, str(tmp_path / "news.db"), "20", stdout=asyncio.subprocess.PIPE)
    try:
        assert (await asyncio.wait_for(locker.stdout.readline(), timeout=60)).strip() == b"locked"
        fake_telegram.user_says(901, "/help")  # a new user: the bot must write their row first
        await asyncio.sleep(15)  # of the lock's 20 s
        assert not fake_telegram.messages_to(901) and not received(fake_telegram, chats), "answered while the database was locked?"
        assert (await asyncio.wait_for(locker.stdout.readline(), timeout=30)).strip() == b"released"
        assert await asyncio.wait_for(locker.wait(), timeout=30) == 0
    finally:
        if locker.returncode is None:
            locker.kill()
            await locker.wait()

    await wait_until(lambda: fake_telegram.messages_to(901), 60, "the /help answer after the lock freed", bots)
    await wait_until(lambda: len(received(fake_telegram, chats)) == len(chats) and store.all_sent(chats), 60,
                     "every digest after the lock freed", bots)
    assert [m["text"] for m in fake_telegram.messages_to(901)] == [HELP]
    assert not [m for m in fake_telegram.sent if m["text"] == ERROR], "someone was told that something went wrong"
    assert set(received(fake_telegram, chats).values()) == {1}
    assert "database is locked" not in bot.log(), bot.log()


# -- 4. a Bot API that answers in 7 s --------------------------------------------------------

@limit(120)
async def test_a_bot_api_answering_in_7_s_gets_each_digest_once(tmp_path, fake_telegram, bots, store):
    """A slow answer is not a failure: each push goes out once (a client that gives up before
    the answer, and retries, sends the digest twice)."""
    chats = range(40_000, 40_010)
    store.seed(chats, due=now() - timedelta(minutes=1))
    fake_telegram.send_latency = 7.0
    bot = await bots.start(config(tmp_path, fake_telegram))
    await wait_until(lambda: store.all_sent(chats), 60, "every push recorded as sent", bots)
    assert await bot.stop() == 0, bot.log()
    assert received(fake_telegram, chats) == Counter({chat: 1 for chat in chats})
    sends = [params for method, params in fake_telegram.calls if method == "sendMessage" and int(params["chat_id"]) in chats]
    assert len(sends) == len(chats), f"{len(sends)} sendMessage calls for {len(chats)} pushes"


# -- 5. one chat's burst, and a slow admin /fetch, do not hold anyone else --------------

@limit(90)
async def test_a_burst_from_one_chat_does_not_hold_another_chats_help(tmp_path, fake_telegram, bots):
    """50 commands from one chat, then one /help from another: the other chat's answer comes
    before the burst chat's last reply (its replies are answered one after another)."""
    fake_telegram.send_latency = 0.1
    await bots.start(config(tmp_path, fake_telegram))
    await ready(fake_telegram, bots)

    burst, other = 910, 911
    for _ in range(50):
        fake_telegram.user_says(burst, "/help")
    fake_telegram.user_says(other, "/help")
    await wait_until(lambda: fake_telegram.messages_to(other), 60, "the other chat's answer", bots)
    await asyncio.sleep(0.5)
    await wait_until(lambda: not fake_telegram.unanswered, 60, "the burst's replies", bots)
    settled = -1
    while settled != len(fake_telegram.messages_to(burst)):  # the burst chat's replies have stopped coming
        settled = len(fake_telegram.messages_to(burst))
        await asyncio.sleep(1)
    order = [m["chat_id"] for m in fake_telegram.sent]
    last_burst_reply = len(order) - 1 - order[::-1].index(burst)
    assert order.index(other) < last_burst_reply, f"{other} answered only after all {settled} burst replies"
    assert [m["text"] for m in fake_telegram.messages_to(other)] == [HELP]
    assert {m["text"] for m in fake_telegram.messages_to(burst)} == {HELP}
    print(f"\nburst: {settled} of 50 burst commands answered; the other chat's reply came "
          f"{sum(1 for c in order[:order.index(other)] if c == burst)} burst replies in")


@limit(90)
async def test_a_slow_admin_fetch_does_not_hold_another_chats_help(tmp_path, fake_telegram, bots, server):
    """While an admin's /fetch waits on a source that takes 8 s to answer, another chat's /help
    is answered (before the fetch is done)."""
    server.routes["/slow.html"] = Reply("<html><body><p>nothing new</p></body></html>", delay=8)
    await bots.start(config(tmp_path, fake_telegram, extra=(
        "[fetch]\nmin_delay_seconds = 0\nmax_retries = 0\ntimeout_seconds = 30\n"
        f'[[sources]]\nname = "slow"\nkind = "page"\nurl = "{server.url("/slow.html")}"\n'
    )))
    await ready(fake_telegram, bots)

    started, done = t("fetch_started", ZH_HANT), t("fetch_done", ZH_HANT, new=0, errors=0).split("：")[0]
    fake_telegram.user_says(ADMIN, "/fetch")
    await wait_until(lambda: any(m["text"] == started for m in fake_telegram.messages_to(ADMIN)), 30, "/fetch to start", bots)
    fake_telegram.user_says(912, "/help")
    await wait_until(lambda: fake_telegram.messages_to(912), 30, "the other chat's /help", bots)
    still_fetching = await wait_until(lambda: any(m["text"].startswith(done) for m in fake_telegram.messages_to(ADMIN)), 60,
                                      "/fetch to finish", bots)
    order = [(m["chat_id"], m["text"]) for m in fake_telegram.sent]
    answered = order.index((912, HELP))
    finished = next(n for n, (chat, text) in enumerate(order) if chat == ADMIN and text.startswith(done))
    assert answered < finished, "the other chat's /help was answered only after the admin's /fetch"
    assert server.hits_for("/slow.html") and still_fetching > 2, "the fetch was not slow: the test proves nothing"
    assert [m["text"] for m in fake_telegram.messages_to(912)] == [HELP]
