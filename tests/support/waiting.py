"""Waiting on a condition (instead of sleeping a fixed time), with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_until(predicate: Callable[[], object], timeout: float, what: str, bots=None) -> float:
    """Poll ``predicate`` (letting the event loop run) until it holds; the seconds it took. Fails
    after ``timeout`` s naming ``what``; with ``bots`` (``tests.support.processes.Bots``), also
    as soon as one of their processes exits unasked, and with their logs."""
    start = time.monotonic()
    while not predicate():
        if bots:
            bots.check_running()
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}\n{bots.logs() if bots else ''}")
        await asyncio.sleep(0.02 if bots is None else 0.1)
    return time.monotonic() - start
