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
- A photo (the forecast chart, a story's image) goes first, with its caption when that fits
  Telegram's 1,024 characters (else the caption opens the text that follows); a photo that
  Telegram refuses is dropped and the caption and text go out as text, so nothing is lost. An
  uploaded picture is sent again by the file id Telegram gave it, not uploaded once per chat.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiolimiter import AsyncLimiter
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.console import metrics
from bot.subscriptions import ChatRef, Subscriptions
from bot.telegram.render import split_message, utf16_length

log = logging.getLogger(__name__)

MAX_REPLY_FLOOD_WAIT = 60.0  # a reply waits out at most this much flood control in all
GONE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send", "not enough rights")
MAX_CAPTION = 1024  # Telegram's limit on a photo's caption, in UTF-16 code units of its visible text
MAX_FILE_IDS = 256  # uploaded pictures remembered by their file id
_TAG = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class Photo:
    """A picture to send before a message's text: PNG or JPEG bytes (or a URL Telegram fetches),
    and its caption (HTML)."""

    image: bytes | str
    caption: str = ""


def caption_fits(caption: str) -> bool:
    """Whether the HTML ``caption`` fits under a photo (Telegram counts its visible text)."""
    return utf16_length(html.unescape(_TAG.sub("", caption))) <= MAX_CAPTION


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
        self._file_ids: OrderedDict[str, str] = OrderedDict()  # sha256 of an uploaded picture -> its file id

    async def send(
        self,
        ref: ChatRef,
        html_text: str | Sequence[str],
        broadcast: bool = False,
        keyboard: InlineKeyboardMarkup | None = None,
        photo: Photo | None = None,
        continued: bool = False,
        preview: bool = False,
    ) -> Outcome:
        """Send ``photo`` (if any), then ``html_text`` (HTML, or a rendering's units; split as
        needed) to ``ref``; the keyboard goes on the last part. ``continued``: a push whose
        earlier messages went out already (a flood wait is waited out, not rescheduled);
        ``preview``: the first link shows its preview (a Telegraph page opens in Instant View)."""
        units = [html_text] if isinstance(html_text, str) else list(html_text)
        chat_id = ref.chat_id
        if photo is not None:
            if photo.caption and not caption_fits(photo.caption):
                units.insert(0, photo.caption)
            last = not split_message(units)
            markup = keyboard if last else None
            outcome = await self._send_photo(chat_id, ref.thread_id, photo, markup, broadcast, broadcast and not continued)
            chat_id = outcome.chat_id or chat_id
            if outcome.permanent and not outcome.blocked:  # Telegram refused the picture: the words still go
                log.warning("photo refused in chat %s (%s); sending the text alone", chat_id, outcome.error)
                if photo.caption and caption_fits(photo.caption):
                    units.insert(0, photo.caption)
                photo = None
            elif not outcome.ok:
                return outcome
        parts = split_message(units)
        for index, part in enumerate(parts):
            markup = keyboard if index == len(parts) - 1 else None
            # a push that already delivered its first part waits out a flood wait like a reply,
            # so that a retry never repeats the parts the chat already has
            reschedule = broadcast and index == 0 and photo is None and not continued
            outcome = await self._send_part(chat_id, ref.thread_id, part, markup, broadcast, reschedule, preview)
            chat_id = outcome.chat_id or chat_id
            if not outcome.ok:
                return outcome
        return Outcome(chat_id=chat_id)

    async def _send_part(
        self, chat_id: int, thread_id: int, text: str, markup, paced: bool, reschedule: bool, preview: bool = False
    ) -> Outcome:
        return await self._attempt(
            chat_id,
            lambda target: self.bot.send_message(
                target,
                text,
                parse_mode=ParseMode.HTML,
                message_thread_id=thread_id or None,
                link_preview_options=LinkPreviewOptions(is_disabled=not preview),
                reply_markup=markup,
            ),
            paced,
            reschedule,
        )

    async def _send_photo(self, chat_id: int, thread_id: int, photo: Photo, markup, broadcast: bool, reschedule: bool) -> Outcome:
        """The photo, by the file id of an earlier upload of the same picture when there is one."""
        key = hashlib.sha256(photo.image).hexdigest() if isinstance(photo.image, bytes) else None
        known = self._file_ids.get(key) if key else None
        caption = photo.caption if photo.caption and caption_fits(photo.caption) else None
        sent: list[Message] = []

        async def call(target: int, image: bytes | str) -> None:
            sent.append(
                await self.bot.send_photo(
                    target,
                    image,
                    caption=caption,
                    parse_mode=ParseMode.HTML if caption else None,
                    message_thread_id=thread_id or None,
                    reply_markup=markup,
                )
            )

        if key is not None and known is not None:
            outcome = await self._attempt(chat_id, lambda target: call(target, known), broadcast, reschedule)
            if not outcome.permanent or outcome.blocked:
                return outcome
            self._file_ids.pop(key, None)  # Telegram no longer knows the id: upload the picture again
            chat_id = outcome.chat_id or chat_id
        outcome = await self._attempt(chat_id, lambda target: call(target, photo.image), broadcast, reschedule)
        if outcome.ok and key and sent and sent[-1].photo:
            self._file_ids[key] = sent[-1].photo[-1].file_id
            while len(self._file_ids) > MAX_FILE_IDS:
                self._file_ids.popitem(last=False)
        return outcome

    async def _attempt(self, chat_id: int, call: Callable[[int], Awaitable[object]], paced: bool, reschedule: bool) -> Outcome:
        """One message to ``chat_id`` by ``call(chat_id)``, with the retries and failure handling above."""
        timeouts = 0
        waited = 0.0
        while True:
            if paced:
                await self._broadcast.acquire()
            try:
                await call(chat_id)
                return Outcome(chat_id=chat_id)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                metrics.flood_wait(paced)
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
                # "not enough rights to send photos": the chat may still take text
                if any(marker in exc.message.lower() for marker in GONE) and "photo" not in exc.message.lower():
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
