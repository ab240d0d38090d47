"""Concurrent update processing with per-chat ordering.

python-telegram-bot hands every update to the update processor as its own task. This one
lets updates from different chats run at the same time, so a slow command (an admin's
``/fetch``, ``/weather`` while the provider hangs, a reply waiting out its chat's flood
limit) never holds anyone else, while one chat's updates still run one after another, in
the order they came, so "tap a button, then type a time" keeps its meaning.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats concurrently, one chat's in order; a bounded queue per chat."""

    def __init__(self, max_concurrent_updates: int = 256, max_queued_per_chat: int = 16) -> None:
        super().__init__(max_concurrent_updates)
        self.max_queued_per_chat = max_queued_per_chat
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}  # chat id -> (its lock, updates holding or waiting)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run ``coroutine`` once the chat's earlier updates are done."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock, count = self._chats.get(chat.id, (None, 0))
        if count >= self.max_queued_per_chat:
            log.warning("chat %s sent more than %d updates at once: dropping one", chat.id, self.max_queued_per_chat)
            coroutine.close()  # type: ignore[attr-defined]  # never awaited: close it quietly
            return
        lock = lock or asyncio.Lock()
        self._chats[chat.id] = (lock, count + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, count = self._chats[chat.id]
            if count <= 1:
                del self._chats[chat.id]  # the table holds only chats with work in progress
            else:
                self._chats[chat.id] = (lock, count - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
