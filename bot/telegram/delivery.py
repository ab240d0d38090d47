"""The one path every message takes to Telegram: split, paced, failures classified.

- Messages are HTML, packed from whole units (see ``render.split_message``) into parts of at
  most 4096 UTF-16 code units, never cut inside a tag.
- Pushes (``broadcast=True``) are paced evenly at ``broadcast_per_second`` so that any one
  second stays under Telegram's ~30 messages/s and interactive replies keep room.
- A flood wait (RetryAfter) on a reply is waited out in that chat's own handler (other chats
  are handled concurrently); on a push it is returned, so the push engine reschedules the
  chat instead of holding a sender on it.
- Forbidden (blocked, kicked, deactivated) and "chat not found" mark the chat inactive.
- ChatMigrated moves the chat's subscriptions to the new id and resends there.
- Timeouts and network errors are transient (a reply is tried once more; a push is retried
  later with backoff); other Bad Requests are permanent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from aiolimiter import AsyncLimiter
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.subscriptions import ChatRef, Subscriptions
from bot.telegram.render import split_message

log = logging.getLogger(__name__)

MAX_REPLY_FLOOD_WAIT = 60.0  # a reply waits out at most this much flood control in all
GONE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send", "not enough rights")


@dataclass
class Outcome:
    """How a send went. ``error`` is None on success; ``retry_after`` is set for a flood wait."""

    error: str | None = None
    blocked: bool = False
    permanent: bool = False
    retry_after: float | None = None
    chat_id: int | None = None  # where the message went (after a group migration, the new id)

    @property
    def ok(self) -> bool:
        return self.error is None


class Deliverer:
    """Sends HTML messages for the handlers and the pushes."""

    def __init__(self, bot: Bot, subscriptions: Subscriptions, broadcast_per_second: float = 25.0) -> None:
        self.bot = bot
        self.subscriptions = subscriptions
        # a bucket of two: a late wake-up is made up at once, yet any second holds at most rate + 2
        self._broadcast = AsyncLimiter(2, 2 / broadcast_per_second)

    async def send(
        self,
        ref: ChatRef,
        html_text: str | Sequence[str],
        broadcast: bool = False,
        keyboard: InlineKeyboardMarkup | None = None,
    ) -> Outcome:
        """Send ``html_text`` (HTML, or a rendering's units; split as needed) to ``ref``; the
        keyboard goes on the last part."""
        parts = split_message(html_text)
        chat_id = ref.chat_id
        for index, part in enumerate(parts):
            markup = keyboard if index == len(parts) - 1 else None
            # a push that already delivered its first part waits out a flood wait like a reply,
            # so that a retry never repeats the parts the chat already has
            reschedule = broadcast and index == 0
            outcome = await self._send_part(chat_id, ref.thread_id, part, markup, broadcast, reschedule)
            chat_id = outcome.chat_id or chat_id
            if not outcome.ok:
                return outcome
        return Outcome(chat_id=chat_id)

    async def _send_part(self, chat_id: int, thread_id: int, text: str, markup, paced: bool, reschedule: bool) -> Outcome:
        timeouts = 0
        waited = 0.0
        while True:
            if paced:
                await self._broadcast.acquire()
            try:
                await self.bot.send_message(
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    message_thread_id=thread_id or None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    reply_markup=markup,
                )
                return Outcome(chat_id=chat_id)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                if reschedule:
                    return Outcome(f"flood control: retry after {wait:g}s", retry_after=wait, chat_id=chat_id)
                if waited + wait > MAX_REPLY_FLOOD_WAIT:
                    return Outcome(f"flood control persisted for chat {chat_id}", chat_id=chat_id)
                log.info("flood control: waiting %.1fs before resending to %s", wait, chat_id)
                waited += wait
                await asyncio.sleep(wait + 0.1)
            except ChatMigrated as exc:
                log.info("chat %s migrated to %s", chat_id, exc.new_chat_id)
                await asyncio.to_thread(self.subscriptions.migrate, chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
            except Forbidden as exc:
                return await self._gone(chat_id, exc.message)
            except TimedOut as exc:
                timeouts += 1
                if paced or timeouts > 1:  # a push is retried later, with backoff
                    return Outcome(f"timed out: {exc.message}", chat_id=chat_id)
            except BadRequest as exc:
                if any(marker in exc.message.lower() for marker in GONE):
                    return await self._gone(chat_id, exc.message)
                log.warning("could not send to %s: %s", chat_id, exc.message)
                return Outcome(f"BadRequest: {exc.message}", permanent=True, chat_id=chat_id)
            except (NetworkError, TelegramError) as exc:
                log.warning("could not send to %s: %s", chat_id, exc.message)
                return Outcome(f"{type(exc).__name__}: {exc.message}", chat_id=chat_id)

    async def _gone(self, chat_id: int, reason: str) -> Outcome:
        await asyncio.to_thread(self.subscriptions.deactivate, chat_id, reason)
        log.info("chat %s is unreachable (%s): subscription deactivated", chat_id, reason)
        return Outcome(f"forbidden: {reason}", blocked=True, permanent=True, chat_id=chat_id)


def _seconds(value) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
