"""What every chat handler needs: the shared services, the chat and its subscriber, replies."""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.digest import Stories
from bot.follows import Follows
from bot.ingest.pipeline import Ingestor
from bot.storage import Subscriber
from bot.storage.models import utcnow
from bot.subscriptions import ChatRef, Subscriptions
from bot.telegram.delivery import Deliverer
from bot.telegram.push import Pusher
from bot.texts import language_from_telegram, t
from bot.weather import WeatherService


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
    clock: Callable[[], datetime] = utcnow
    role: str = "all"  # "bot": sources are fetched by worker processes

    def now(self) -> datetime:
        return self.clock()


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


def chat_ref(update: Update) -> ChatRef:
    """The chat (and forum topic) an update came from."""
    message = update.effective_message
    thread = message.message_thread_id if message is not None and message.is_topic_message else 0
    return ChatRef(update.effective_chat.id, thread or 0, update.effective_chat.type)


async def current_subscriber(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Services, ChatRef, Subscriber]:
    """The services, the chat and its subscriber row (created on first contact)."""
    svc = services(context)
    ref = chat_ref(update)
    user = update.effective_user
    language = language_from_telegram(user.language_code if user else None) or svc.settings.region.language
    subscriber = await asyncio.to_thread(svc.subscriptions.get, ref, language)
    return svc, ref, subscriber


class NotAllowed(Exception):
    """A group member who is not an admin tried to change the group's subscription."""


async def may_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """In private chats always; in groups only the group's admins (and the bot's admins)."""
    chat, user = update.effective_chat, update.effective_user
    if chat.type == "private" or user is None or user.id in services(context).settings.telegram.admins:
        return True
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in ("creator", "administrator")


async def check_may_change(update: Update, context: ContextTypes.DEFAULT_TYPE, subscriber: Subscriber) -> None:
    """Raise NotAllowed (answered politely) for a group member who is not an admin, and for a chat
    whose digest the operator set in ``[[channels]]`` (a change here would be undone at restart)."""
    if subscriber.managed:
        await reply(update, context, t("managed_chat", subscriber.language))
        raise NotAllowed
    if not await may_change(update, context):
        await reply(update, context, t("group_admins_only", subscriber.language))
        raise NotAllowed


async def change_settings(update: Update, context: ContextTypes.DEFAULT_TYPE, **changes) -> tuple[Services, ChatRef, Subscriber]:
    """Apply setting changes for the chat; raises NotAllowed (answered politely) for non-admins in groups."""
    svc, ref, subscriber = await current_subscriber(update, context)
    await check_may_change(update, context, subscriber)
    subscriber = await asyncio.to_thread(svc.subscriptions.update, ref, subscriber.language, svc.now(), **changes)
    return svc, ref, subscriber


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, keyboard=None, escape: bool = True) -> None:
    """Reply in the update's chat and topic, through the one sending path."""
    await services(context).deliverer.send(chat_ref(update), html.escape(text) if escape else text, keyboard=keyboard)


async def edit(update: Update, html_text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Show ``html_text`` in place of the message whose button was tapped."""
    query = update.callback_query
    if query.message is not None:
        try:
            await query.edit_message_text(html_text, reply_markup=keyboard, parse_mode="HTML")
        except BadRequest as exc:  # the already-selected button: the view is already what it should be
            if "message is not modified" not in str(exc).lower():
                raise
