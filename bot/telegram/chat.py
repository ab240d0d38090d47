"""What every chat handler needs: the shared services, the chat and its subscriber, replies."""

from __future__ import annotations

import asyncio
import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from telegram import CallbackQuery, Chat, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.digest import Stories
from bot.follows import Follows
from bot.ingest.pipeline import Ingestor
from bot.storage import Subscriber
from bot.storage.models import utcnow
from bot.subscriptions import ChatRef, Subscriptions
from bot.telegram.delivery import Deliverer, Photo
from bot.telegram.push import Pusher
from bot.telegraph import FullTexts
from bot.texts import language_from_telegram, t
from bot.weather_service import WeatherService


@dataclass(frozen=True)
class Rate:
    """How often a chat may use a costly command: ``burst`` uses at once, then one every ``seconds``."""

    burst: int
    seconds: float


class Cooldown:
    """Per chat and command, a bucket of ``Rate.burst`` uses that refills one use every
    ``Rate.seconds``: a flooding chat must not keep the database or the weather provider busy.
    A chat over its rate is told once, then ignored until it may go again."""

    MAX_KEYS = 10_000  # beyond this many remembered buckets, the full ones are forgotten

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, int], tuple[float, datetime, bool]] = {}  # -> (uses left, when, told)

    def check(self, command: str, chat_id: int, rate: Rate, now: datetime) -> tuple[Literal["go", "tell", "quiet"], float]:
        """Returns "go" (a use is taken), "tell" (the first refusal since the last use) or "quiet", and
        the seconds until the next use is allowed."""
        key = (command, chat_id)
        left, at, told = self._buckets.get(key, (float(rate.burst), now, False))
        left = min(float(rate.burst), left + max((now - at).total_seconds(), 0.0) / rate.seconds)
        if len(self._buckets) >= self.MAX_KEYS:
            full = timedelta(seconds=rate.burst * rate.seconds)
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}
        if left >= 1:
            self._buckets[key] = (left - 1, now, False)
            return "go", 0.0
        self._buckets[key] = (left, now, True)
        return ("quiet" if told else "tell"), (1 - left) * rate.seconds


@dataclass
class Services:
    """What the handlers and jobs share; kept in ``application.bot_data['services']``."""

    settings: Settings
    subscriptions: Subscriptions
    stories: Stories
    deliverer: Deliverer
    weather: WeatherService
    ingestor: Ingestor
    pusher: Pusher
    follows: Follows
    full_texts: FullTexts
    clock: Callable[[], datetime] = utcnow
    role: str = "all"  # "bot": sources are fetched by worker processes
    cooldown: Cooldown = field(default_factory=Cooldown)  # per chat, for costly commands

    def now(self) -> datetime:
        return self.clock()


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


def update_chat(update: Update) -> Chat:
    """The chat of an update the handlers take: every message and command has one, and so has a
    tap on a button under a message (a tap on an inline message's button, which has none, is
    turned away by ``settings_button`` before anything asks)."""
    assert update.effective_chat is not None
    return update.effective_chat


def update_message(update: Update) -> Message:
    """The message of an update from a command or message handler (they take new messages only)."""
    assert update.effective_message is not None
    return update.effective_message


def button_query(update: Update) -> CallbackQuery:
    """The button tap of an update from the ``CallbackQueryHandler``."""
    assert update.callback_query is not None
    return update.callback_query


def chat_data(context: ContextTypes.DEFAULT_TYPE) -> dict:
    """PTB's per-chat data, which it keeps for every update with a chat (all that reach this)."""
    assert context.chat_data is not None
    return context.chat_data


def chat_ref(update: Update) -> ChatRef:
    """The chat (and forum topic) an update came from."""
    message = update.effective_message
    thread = message.message_thread_id if message is not None and message.is_topic_message else 0
    chat = update_chat(update)
    return ChatRef(chat.id, thread or 0, chat.type)


def reader_language(update: Update, svc: Services) -> str:
    """The language of the person behind ``update``: their Telegram client's, else the region's."""
    user = update.effective_user
    return language_from_telegram(user.language_code if user else None) or svc.settings.region.language


async def current_subscriber(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Services, ChatRef, Subscriber]:
    """The services, the chat and its subscriber row (created on first contact).

    A private chat's language follows its reader's Telegram client until ``/lang`` is used; a
    group's or channel's is the region's until an admin picks one: no member's client decides it.
    """
    svc = services(context)
    ref = chat_ref(update)
    language = reader_language(update, svc) if ref.chat_type == "private" else svc.settings.region.language
    subscriber = await asyncio.to_thread(svc.subscriptions.get, ref, language)
    return svc, ref, subscriber


class NotAllowed(Exception):
    """A group member who is not an admin tried to change the group's subscription."""


async def may_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """In private chats always; in groups only the group's admins (and the bot's admins)."""
    chat, user, message = update_chat(update), update.effective_user, update.effective_message
    if chat.type == "private" or (user is not None and user.id in services(context).settings.telegram.admins):
        return True
    if update.callback_query is None and message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id  # an anonymous admin writes as the group itself
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in ("creator", "administrator")


async def check_may_change(update: Update, context: ContextTypes.DEFAULT_TYPE, subscriber: Subscriber) -> None:
    """Raise NotAllowed (answered politely) for a group member who is not an admin, and for a chat
    whose digest the operator set in ``[[channels]]`` (a change here would be undone at restart)."""
    if subscriber.managed:
        await refuse(update, context, t("managed_chat", subscriber.language))
        raise NotAllowed
    if not await may_change(update, context):
        await refuse(update, context, t("group_admins_only", subscriber.language))
        raise NotAllowed


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Say no to the one who asked: an alert on the tapped button (nothing posted to the
    group), else a reply."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, context, text)


async def change_settings(update: Update, context: ContextTypes.DEFAULT_TYPE, **changes) -> tuple[Services, ChatRef, Subscriber]:
    """Apply setting changes for the chat; raises NotAllowed (answered politely) for non-admins in groups."""
    svc, ref, subscriber = await current_subscriber(update, context)
    await check_may_change(update, context, subscriber)
    subscriber = await asyncio.to_thread(svc.subscriptions.update, ref, subscriber.language, svc.now(), **changes)
    return svc, ref, subscriber


async def reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    text: str | list[str],
    keyboard=None,
    escape: bool = True,
    photo: Photo | None = None,
) -> None:
    """Reply in the update's chat and topic, through the one sending path (``text``: plain text,
    or with ``escape=False`` HTML or a rendering's units; a ``photo`` goes first)."""
    if escape:
        assert isinstance(text, str), "a rendering's units are HTML already: escape=False"
        text = html.escape(text)
    await services(context).deliverer.send(chat_ref(update), text, keyboard=keyboard, photo=photo)


async def edit(update: Update, html_text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Show ``html_text`` in place of the message whose button was tapped."""
    query = button_query(update)
    if query.message is not None:
        try:
            await query.edit_message_text(html_text, reply_markup=keyboard, parse_mode="HTML")
        except BadRequest as exc:  # the already-selected button: the view is already what it should be
            if "message is not modified" not in str(exc).lower():
                raise


async def within_rate(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str, rate: Rate, language: str) -> bool:
    """Whether the chat may run ``command`` now; the first refusal after a use is answered."""
    svc = services(context)
    verdict, wait = svc.cooldown.check(command, update_chat(update).id, rate, svc.now())
    if verdict == "tell":
        await reply(update, context, t("cooldown", language, seconds=math.ceil(wait)))
    return verdict == "go"
