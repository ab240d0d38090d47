"""The bot under test, in process: its token and admin, the demo day, an injectable clock,
starting and stopping the real Application, and rows and updates the tests put in."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from telegram.ext import Application

from bot.storage import Database, Story, Subscriber
from bot.telegram.app import build_application
from summarizer import Summarizer
from tests.support.data import SHANGHAI

TOKEN = "123456:TEST-token-never-logged"
ADMIN = 1001
DAY = datetime(2023, 2, 24, 7, 0, tzinfo=SHANGHAI)
DUE = DAY.replace(minute=30)  # when the subscribers of ``add_subscribers`` are due


class Clock:
    """The bot's clock, set by the test (``clock.now = ...``)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def start_application(settings, db: Database, summarizer: Summarizer, clock: Callable[[], datetime]) -> Application:
    """The real Application, long polling the fake Bot API, its jobs not scheduled (tests tick)."""
    application = build_application(settings, db, summarizer, clock=clock, schedule=False)
    await application.initialize()
    await application.post_init(application)
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    return application


async def stop(application: Application) -> None:
    """Stop polling and the Application, whatever state it is in, then run its ``post_shutdown``
    as ``run_polling`` does (the console lets go of its threads and advisory locks)."""
    if application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


def seen_before(db: Database, moment: datetime) -> None:
    """Ingestion stamps stories with the wall clock: for a test whose clock stands at ``moment``
    (in the past), the stories were first seen an hour before it (a push takes only those)."""
    with db.session() as session:
        session.execute(update(Story).values(first_seen_at=moment - timedelta(hours=1)))


def subscriber(db: Database, chat_id: int) -> Subscriber:
    """The subscriber row of ``chat_id``."""
    with db.session() as session:
        return session.scalars(select(Subscriber).where(Subscriber.chat_id == chat_id)).one()


def add_subscribers(db: Database, chat_ids, **fields) -> None:
    """Active subscribers due at 07:30 on DAY."""
    with db.session() as session:
        for chat_id in chat_ids:
            session.add(Subscriber(chat_id=chat_id, thread_id=0, chat_type="private", language="zh-Hant", language_chosen=False,
                                   push_time="07:30", timezone="Asia/Shanghai", news_mode="daily", active=True,
                                   next_push_at=DUE, **fields))


async def say(fake, chat_id: int, text: str, language_code: str = "zh-hant") -> dict:
    """A user writes ``text`` to the bot on the fake Bot API; the bot's reply."""
    before = len(fake.messages_to(chat_id))
    fake.user_says(chat_id, text, language_code=language_code)
    return (await fake.wait_for_messages(chat_id, before + 1))[-1]


def update_from(chat_id: int, text: str, update_id: int) -> dict:
    """A command from a private chat as Telegram posts it to a webhook."""
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        "chat": {"id": chat_id, "type": "private", "first_name": "R"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Resident", "language_code": "en"},
    }}
