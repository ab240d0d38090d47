"""Real ``newsbot run`` processes against the fake Bot API: starting, stopping and killing
them, waiting on what they do (with deadlines), and counting the digests they sent."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bot.telegram.commands import help_text
from bot.texts import t
from summarizer.text import ZH_HANT
from tests.support.data import ROOT

DIGEST_MARK = f"☀️ {t('weather', ZH_HANT)}"  # the daily digest opens with the weather
HELP = help_text(ZH_HANT)  # /help from a zh-hant Telegram client that is not an admin


def limit(seconds: float):
    """Fail the test (instead of hanging CI) when it runs longer than ``seconds``."""

    def decorate(test):
        @functools.wraps(test)
        async def run(*args, **kwargs):
            await asyncio.wait_for(test(*args, **kwargs), timeout=seconds)

        return run

    return decorate


class BotProcess:
    """One ``newsbot run`` process; its log (stderr) goes to a file."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log_path = log
        self.stopping = False  # the test ended it: an exit is expected

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, no last commit."""
        self.stopping = True
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), timeout=30)

    async def stop(self) -> int:
        """SIGTERM, as an operator stops it; the exit code."""
        self.stopping = True
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout=60)


class Bots:
    """The ``newsbot run`` processes of one test, started in ``folder`` with ``token``."""

    def __init__(self, folder: Path, token: str) -> None:
        self.folder = folder
        self.token = token
        self.started: list[BotProcess] = []

    async def start(self, config: Path, *args: str) -> BotProcess:
        """A ``newsbot run -c config`` process, with more ``args`` (e.g. ``--role worker``)."""
        log = self.folder / f"newsbot-{len(self.started) + 1}.log"
        env = {**os.environ, "NEWSBOT_TELEGRAM_TOKEN": self.token, "PYTHONPATH": str(ROOT)}
        with open(log, "wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", "-c", str(config), *args, cwd=self.folder, env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
            )
        self.started.append(BotProcess(process, log))
        return self.started[-1]

    def logs(self) -> str:
        return "\n".join(f"--- {b.log_path.name} ---\n{b.log()[-3000:]}" for b in self.started)

    def check_running(self) -> None:
        """Fail at once, with its log, when a process exits that the test did not stop."""
        for bot in self.started:
            if bot.process.returncode is not None and not bot.stopping:
                raise AssertionError(f"newsbot run exited with {bot.process.returncode}\n{self.logs()}")

    async def kill_all(self) -> None:
        """Kill every process still running (at teardown)."""
        for bot in self.started:
            if bot.process.returncode is None:
                bot.process.kill()
                await asyncio.wait_for(bot.process.wait(), timeout=30)


def received(fake, chats: range) -> Counter:
    """How many messages each of ``chats`` got on the fake Bot API; every one must be a digest."""
    wanted = set(chats)
    messages = [m for m in list(fake.sent) if m["chat_id"] in wanted]
    strays = [m["text"][:80] for m in messages if DIGEST_MARK not in m["text"]]
    assert not strays, f"subscribers got something other than the digest: {strays}"
    return Counter(m["chat_id"] for m in messages)


def midday_zone() -> str:
    """A fixed-offset zone where it is about noon now: the local day cannot turn during a test
    (the daily push is keyed by the subscriber's local date)."""
    offset = 12 - datetime.now(UTC).hour  # -11 … 12 hours
    return f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-8 is UTC+8


def now() -> datetime:
    return datetime.now(UTC)
