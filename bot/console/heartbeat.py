"""Each process's heartbeat row: its role, when it started and last beat, and its recent
unhandled errors (redacted), kept in ``bot_state`` under ``process:<id>``.

The status page lists them; the admin alerts tell of the errors whichever process had them.
Rows of processes silent for :data:`FORGET_AFTER` are deleted by the next beat of any
process, so the rows stay as many as the processes that ran lately.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.redact import redact
from bot.storage import BotState, Database
from bot.storage.locks import PROCESS_ID

PREFIX = "process:"
_AFTER_PREFIX = "process;"  # the first key past every "process:..." key (';' follows ':')
ALIVE_FOR = timedelta(minutes=5)  # a process whose last beat is older is shown as silent
FORGET_AFTER = timedelta(days=1)
ERROR_WINDOW = timedelta(hours=1)
MAX_ERRORS = 100  # recent errors kept in memory
ERROR_CHARS = 300


@dataclass(frozen=True)
class ProcessBeat:
    """One process as its heartbeat row tells it."""

    process: str
    role: str
    host: str
    pid: int
    started_at: datetime
    beat_at: datetime
    errors: int  # unhandled errors in the last hour (up to MAX_ERRORS)
    last_error: str | None

    def alive(self, now: datetime) -> bool:
        """Whether it beat within :data:`ALIVE_FOR`."""
        return now - self.beat_at <= ALIVE_FOR


class ErrorLog(logging.Handler):
    """Keeps this process's recent unhandled errors (records of level ERROR with a traceback:
    ``log.exception``, the bot's error handler), redacted, at most :data:`MAX_ERRORS`."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self._recent: deque[tuple[float, str]] = deque(maxlen=MAX_ERRORS)
        self._lock_recent = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        elif record.exc_text:  # formatted (and redacted) already by another handler's filter
            cause = record.exc_text.strip().splitlines()[-1]
        else:
            return
        text = redact(f"{record.getMessage()}: {cause}")[:ERROR_CHARS]
        with self._lock_recent:
            self._recent.append((time.time(), text))

    def recent(self, after: float = 0.0, window: timedelta = ERROR_WINDOW) -> tuple[int, str | None]:
        """Errors within ``window`` (and after the epoch time ``after``), and the latest one's text."""
        since = max(after, time.time() - window.total_seconds())
        with self._lock_recent:
            recent = [text for at, text in self._recent if at >= since]
        return len(recent), recent[-1] if recent else None

    def install(self) -> None:
        """Listen to the root logger (once)."""
        root = logging.getLogger()
        if self not in root.handlers:
            root.addHandler(self)


ERRORS = ErrorLog()


def beat(db: Database, role: str, started_at: datetime, now: datetime) -> None:
    """Write this process's row (its errors since ``started_at``); delete those of processes
    silent for a day."""
    errors, last_error = ERRORS.recent(after=started_at.timestamp())
    value = {
        "role": role,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": started_at.isoformat(),
        "beat_at": now.isoformat(),
        "errors": errors,
        "last_error": last_error,
    }
    key = PREFIX + PROCESS_ID
    with db.session() as session:
        row = session.get(BotState, key)
        if row is None:
            session.add(BotState(key=key, value=json.dumps(value)))
        else:
            row.value = json.dumps(value)
    with db.session() as session:
        stale = [p.process for p in processes(session) if now - p.beat_at > FORGET_AFTER]
        if stale:
            session.execute(delete(BotState).where(BotState.key.in_([PREFIX + p for p in stale])))


def processes(session: Session) -> list[ProcessBeat]:
    """Every process with a heartbeat row, by role then start (one indexed key range)."""
    rows = session.execute(select(BotState.key, BotState.value).where(BotState.key >= PREFIX, BotState.key < _AFTER_PREFIX))
    found = []
    for key, value in rows:
        try:
            data = json.loads(value)
            found.append(
                ProcessBeat(
                    process=key.removeprefix(PREFIX),
                    role=str(data["role"]),
                    host=str(data["host"]),
                    pid=int(data["pid"]),
                    started_at=datetime.fromisoformat(data["started_at"]),
                    beat_at=datetime.fromisoformat(data["beat_at"]),
                    errors=int(data.get("errors") or 0),
                    last_error=data.get("last_error"),
                )
            )
        except (ValueError, KeyError, TypeError):  # a row this version cannot read: left to expire
            continue
    return sorted(found, key=lambda p: (p.role, p.started_at))
