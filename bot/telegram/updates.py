"""Concurrent update processing with per-chat ordering.

python-telegram-bot hands every update to the update processor as its own task. This one
lets updates from different chats run at the same time, so a slow command (an admin's
``/fetch``, ``/weather`` while the provider hangs, a reply waiting out its chat's flood
limit) never holds anyone else, while one chat's updates still run one after another, in
the order they came, so "tap a button, then type a time" keeps its meaning.

A chat's update takes one of the global slots only once it is that chat's turn: updates
waiting behind their own chat hold no slot, so a few chats flooding the bot (one account in
many groups, or many accounts) occupy one slot each and never starve everyone else. Beyond
``max_queued_per_chat`` waiting updates, a chat's further updates are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


@dataclass
class _ChatQueue:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    updates: int = 0  # running or waiting for their turn
    dropping: bool = False  # a drop was logged since the chat's queue was last empty


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats concurrently, one chat's in order; a bounded queue per chat."""

    def __init__(self, max_concurrent_updates: int = 256, max_queued_per_chat: int = 16) -> None:
        super().__init__(max_concurrent_updates)
        self.max_queued_per_chat = max_queued_per_chat
        self._chats: dict[int, _ChatQueue] = {}  # only chats with updates running or waiting

    # PTB marks process_update final; it is overridden on purpose, for the order the docstring gives
    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:  # type: ignore[misc]
        """Wait for the chat's turn, then for a global slot, then run ``coroutine``.

        The base class takes the global slot first; that order would let queued updates of a
        few chats hold every slot while they wait for their own chat.
        """
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await super().process_update(update, coroutine)
            return
        queue = self._chats.setdefault(chat.id, _ChatQueue())
        if queue.updates >= self.max_queued_per_chat:
            if not queue.dropping:  # one line per burst, not one per dropped update
                log.warning("chat %s has %d updates waiting: dropping its further ones", chat.id, queue.updates)
                queue.dropping = True
            if isinstance(coroutine, Coroutine):  # PTB passes the handler's coroutine
                coroutine.close()  # never awaited: close it quietly
            return
        queue.updates += 1
        try:
            async with queue.lock:
                await super().process_update(update, coroutine)
        finally:
            queue.updates -= 1
            if not queue.updates:
                del self._chats[chat.id]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update: its chat's turn and its global slot are already taken."""
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
