"""The push engine and update processing as a service: isolation, merging, concurrency, order.

The real Application against the fake Bot API (fixtures from tests/conftest.py)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from bot.storage import Delivery, Subscriber
from bot.subscriptions import retry_delay
from tests.support.bot import DUE, add_subscribers, subscriber
from tests.support.waiting import wait_until
from tests.support.web import Reply


async def test_one_broken_subscriber_does_not_stop_the_others(bot, fake_telegram, db):
    _, services, _ = bot
    add_subscribers(db, range(600, 610))
    with db.session() as session:  # a row the engine cannot handle (an unknown timezone)
        session.scalars(select(Subscriber).where(Subscriber.chat_id == 604)).one().timezone = "Mars/Olympus_Mons"
    assert await services.pusher.tick(DUE) == 9
    assert {m["chat_id"] for m in fake_telegram.sent} == set(range(600, 610)) - {604}
    assert await services.pusher.tick(DUE + timedelta(minutes=1)) == 0  # the others are not sent twice


async def test_a_group_migrating_onto_a_subscribed_chat_is_merged_and_later_pushes_go_on(bot, fake_telegram, db):
    _, services, _ = bot
    add_subscribers(db, [-300, -100300, 611])
    with db.session() as session:  # the supergroup's row exists already, unsubscribed
        row = session.scalars(select(Subscriber).where(Subscriber.chat_id == -100300)).one()
        row.active, row.next_push_at, row.chat_type = False, None, "supergroup"
    fake_telegram.migrations[-300] = -100300
    assert await services.pusher.tick(DUE) == 2
    assert len(fake_telegram.messages_to(-100300)) == 1 and len(fake_telegram.messages_to(611)) == 1
    with db.session() as session:
        rows = session.scalars(select(Subscriber).where(Subscriber.chat_id.in_([-300, -100300]))).all()
    assert [(r.chat_id, r.active, r.last_push_date) for r in rows] == [(-100300, True, "2023-02-24")]
    assert await services.pusher.tick(DUE + timedelta(days=1)) == 2  # and the next day both again


async def test_a_failing_push_is_retried_within_seconds_with_backoff(bot, fake_telegram, db):
    _, services, _ = bot
    add_subscribers(db, [612, 613])
    fake_telegram.failing[612] = 2  # two 502s, then it answers
    assert await services.pusher.tick(DUE) == 1
    first_retry = subscriber(db, 612).next_push_at
    assert DUE + timedelta(seconds=5) <= first_retry <= DUE + timedelta(seconds=7)
    assert await services.pusher.tick(first_retry) == 0
    second_retry = subscriber(db, 612).next_push_at
    assert first_retry + timedelta(seconds=10) <= second_retry <= first_retry + timedelta(seconds=13)
    assert await services.pusher.tick(second_retry) == 1
    assert len(fake_telegram.messages_to(612)) == 1 and len(fake_telegram.messages_to(613)) == 1
    with db.session() as session:
        delivery = session.scalars(select(Delivery).join(Subscriber).where(Subscriber.chat_id == 612)).one()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert subscriber(db, 612).next_push_at == DUE + timedelta(days=1)


def test_backoff_starts_in_seconds_and_is_capped():
    delays = [retry_delay(n).total_seconds() for n in range(1, 15)]
    assert 5 <= delays[0] <= 6.25 and 10 <= delays[1] <= 12.5
    assert all(delay <= 1800 * 1.25 for delay in delays) and delays[-1] >= 1800


async def test_pushes_run_concurrently(bot, fake_telegram, db):
    _, services, _ = bot
    add_subscribers(db, range(620, 660))
    fake_telegram.send_latency = 0.2
    assert await services.pusher.tick(DUE) == 40
    assert fake_telegram.max_in_flight >= 4  # sequential sends would never overlap
    assert sorted({m["chat_id"] for m in fake_telegram.sent}) == list(range(620, 660))


async def test_a_slow_command_in_one_chat_does_not_hold_another(bot, fake_telegram, news_site):
    released = threading.Event()

    def hanging(hit):  # the weather provider hangs until the test lets it answer
        released.wait(15)
        return Reply("{}")

    news_site.routes["/v1/forecast"] = hanging
    fake_telegram.user_says(700, "/weather")
    await wait_until(lambda: news_site.hits_for("/v1/forecast"), 15, "the /weather command to ask the provider")
    fake_telegram.user_says(701, "/help")
    await fake_telegram.wait_for_messages(701, 1)
    assert fake_telegram.messages_to(700) == []  # still waiting for the weather
    released.set()
    await fake_telegram.wait_for_messages(700, 1)


async def test_one_chats_updates_keep_their_order(bot, fake_telegram):
    for command in ("/help", "/lang en", "/help", "/lang zh-Hans", "/help"):
        fake_telegram.user_says(702, command)
    replies = [m["text"] for m in await fake_telegram.wait_for_messages(702, 5)]
    assert replies[0].startswith("可用命令") and replies[2].startswith("Commands:") and replies[4].startswith("可用命令")
    assert replies[1] == "Language set to English."
