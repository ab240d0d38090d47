"""The one path every message takes to Telegram: split, paced, retried, failures handled.

- Messages are split at paragraph boundaries under 4096 characters, sent as HTML.
- Flood waits (RetryAfter) are waited out and retried; the message is never dropped.
- Forbidden (blocked, kicked, deactivated) marks the chat's subscriptions inactive.
- ChatMigrated moves the chat's subscriptions to the new id and resends there.
- A timeout is retried once. Pushes are paced (``broadcast_per_second``) so that
  interactive replies, which skip that pacing, stay fast.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiolimiter import AsyncLimiter
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.subscriptions import ChatRef, Subscriptions

log = logging.getLogger(__name__)

MAX_FLOOD_WAITS = 20  # a chat that keeps flooding this long is reported failed, not spun on forever


@dataclass
class Outcome:
    """How a send went. ``error`` is None on success."""

    error: str | None = None
    blocked: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class Deliverer:
    """Sends HTML messages for the handlers and the pushes."""

    def __init__(self, bot: Bot, subscriptions: Subscriptions, broadcast_per_second: float = 25.0) -> None:
        self.bot = bot
        self.subscriptions = subscriptions
        self._broadcast = AsyncLimiter(broadcast_per_second, 1)

    async def send(
        self, ref: ChatRef, html_text: str, broadcast: bool = False, keyboard: InlineKeyboardMarkup | None = None
    ) -> Outcome:
        """Send ``html_text`` (split as needed) to ``ref``; the keyboard goes on the last part."""
        from bot.telegram.render import split_message

        parts = split_message(html_text)
        chat_id = ref.chat_id
        for index, part in enumerate(parts):
            markup = keyboard if index == len(parts) - 1 else None
            if broadcast:
                await self._broadcast.acquire()
            outcome, chat_id = await self._send_part(chat_id, ref.thread_id, part, markup)
            if not outcome.ok:
                return outcome
        return Outcome()

    async def _send_part(self, chat_id: int, thread_id: int, text: str, markup) -> tuple[Outcome, int]:
        timeouts = flood_waits = 0
        while True:
            try:
                await self.bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML, message_thread_id=thread_id or None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True), reply_markup=markup,
                )
                return Outcome(), chat_id
            except RetryAfter as exc:
                flood_waits += 1
                if flood_waits > MAX_FLOOD_WAITS:
                    return Outcome(f"flood control persisted for chat {chat_id}"), chat_id
                wait = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else float(exc.retry_after)
                log.info("flood control: waiting %.1fs before resending to %s", wait, chat_id)
                await asyncio.sleep(wait + 0.1)
            except ChatMigrated as exc:
                log.info("chat %s migrated to %s", chat_id, exc.new_chat_id)
                await asyncio.to_thread(self.subscriptions.migrate, chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
            except Forbidden as exc:
                await asyncio.to_thread(self.subscriptions.deactivate, chat_id, exc.message)
                log.info("chat %s is unreachable (%s): subscription deactivated", chat_id, exc.message)
                return Outcome(f"forbidden: {exc.message}", blocked=True), chat_id
            except TimedOut as exc:
                timeouts += 1
                if timeouts > 1:
                    return Outcome(f"timed out twice: {exc.message}"), chat_id
            except (BadRequest, NetworkError) as exc:
                log.warning("could not send to %s: %s", chat_id, exc.message)
                return Outcome(f"{type(exc).__name__}: {exc.message}"), chat_id
