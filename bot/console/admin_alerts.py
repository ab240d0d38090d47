"""Problems told to ``[telegram] admins`` in their private chats before readers notice them.

Problems, from the latest :class:`~bot.console.snapshot.Snapshot`:

- a source failing for ``[status] source_down_hours`` (since its last success);
- a profile whose last 50 summaries fell back more than ``[status] fallback_share`` of the time;
- pushes of the last hour failing more than ``[status] delivery_failure_share`` (20 or more);
- unhandled errors in any process within the last hour (from the heartbeat rows; redacted).

The new problems and the cleared ones of a check go out as one message, through the one send
path (:class:`bot.telegram.delivery.Deliverer`). Nothing is said about one problem more than
once an hour (:data:`REPEAT`): a problem that clears and comes back within the hour is told
when the hour is over, if it is still there. The state lives in ``bot_state`` (one row), so it
holds across restarts and processes; one process at a time checks (an advisory lock).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from bot.config import Settings
from bot.console import metrics
from bot.console.snapshot import Snapshot
from bot.storage import BotState, Database
from bot.storage.locks import Leadership
from bot.subscriptions import ChatRef
from bot.telegram.delivery import Deliverer
from bot.texts import t

log = logging.getLogger(__name__)

STATE_KEY = "console:admin-alerts"
REPEAT = timedelta(hours=1)
MAX_PROBLEMS = 200  # problems remembered at most (the state row stays small)
MIN_PUSHES = 20  # the failure share of fewer pushes than this says nothing
MIN_SUMMARIES = 10  # likewise for a profile's fallbacks


@dataclass
class Entry:
    """What was last said about one problem, and when."""

    text: str
    said_at: datetime
    announced: bool  # True: told as a problem (and not yet as cleared)

    def to_json(self) -> dict:
        return {"text": self.text, "said_at": self.said_at.isoformat(), "announced": self.announced}

    @classmethod
    def from_json(cls, data: dict) -> Entry:
        return cls(str(data["text"]), datetime.fromisoformat(data["said_at"]), bool(data["announced"]))


def problems(snapshot: Snapshot, settings: Settings, language: str) -> dict[str, str]:
    """The problems in ``snapshot``: key → one line (HTML) for ``language``."""
    found: dict[str, str] = {}
    status = settings.status
    down_after = timedelta(hours=status.source_down_hours)
    for source in snapshot.sources:
        if source.status(snapshot.taken_at, down_after) == "down":
            found[f"source:{source.name}"] = t(
                "admin_source_down",
                language,
                source=escape(source.name),
                hours=f"{status.source_down_hours:g}",
                error=escape(source.last_error or "?"),
            )
    for profile in snapshot.fallbacks:
        if profile.total >= MIN_SUMMARIES and profile.fallen > status.fallback_share * profile.total:
            found[f"profile:{profile.profile}"] = t(
                "admin_fallbacks",
                language,
                profile=escape(profile.profile),
                fallen=profile.fallen,
                total=profile.total,
                reason=escape(profile.main_reason or "?"),
            )
    failed, total = snapshot.recent_pushes
    if total >= MIN_PUSHES and failed > status.delivery_failure_share * total:
        found["deliveries"] = t("admin_deliveries", language, failed=failed, total=total)
    for process in snapshot.processes:
        if process.errors and process.alive(snapshot.taken_at):
            found[f"errors:{process.role}"] = t(
                "admin_errors",
                language,
                count=process.errors,
                process=escape(f"{process.host}:{process.pid}"),
                role=escape(process.role),
                error=escape(process.last_error or "?"),
            )
    return found


def plan(state: dict[str, Entry], current: dict[str, str], now: datetime) -> tuple[list[str], list[str]]:
    """What to say now (new problem lines, cleared lines), updating ``state`` as if said.

    A problem is told when it is not announced yet and nothing was said about it for
    :data:`REPEAT`; a cleared one likewise (it is told as cleared only if it was told)."""
    new, cleared = [], []
    for key, text in current.items():
        entry = state.get(key)
        if entry is None or (not entry.announced and now - entry.said_at >= REPEAT):
            state[key] = Entry(text, now, True)
            new.append(text)
    for key, entry in list(state.items()):
        if key in current:
            continue
        if entry.announced and now - entry.said_at >= REPEAT:
            state[key] = Entry(entry.text, now, False)
            cleared.append(entry.text)
        elif not entry.announced and now - entry.said_at >= REPEAT:
            del state[key]  # nothing left to say about it
    if len(state) > MAX_PROBLEMS:
        for key in sorted(state, key=lambda k: state[k].said_at)[: len(state) - MAX_PROBLEMS]:
            del state[key]
    return new, cleared


def message(new: list[str], cleared: list[str], language: str) -> str:
    """The one message of a check (HTML)."""
    parts = []
    if new:
        parts.append("\n".join([t("admin_problems", language), *(f"• {line}" for line in new)]))
    if cleared:
        parts.append("\n".join([t("admin_cleared", language), *(f"• {line}" for line in cleared)]))
    return "\n\n".join(parts)


class AdminAlerts:
    """Checks a snapshot for problems and tells the admins (see the module's text)."""

    def __init__(self, settings: Settings, db: Database, deliverer: Deliverer) -> None:
        self.settings = settings
        self.db = db
        self.deliverer = deliverer
        self.language = settings.region.language
        self._leadership = Leadership(db, "admin-alerts")

    async def check(self, snapshot: Snapshot, now: datetime) -> str | None:
        """Tell the admins what changed; the message sent (None: nothing to say, or another
        process checks)."""
        admins = self.settings.telegram.admins
        if not admins or not await asyncio.to_thread(self._leadership.acquire):
            return None
        current = problems(snapshot, self.settings, self.language)
        text = await asyncio.to_thread(self._plan, current, now)
        if text is None:
            return None
        for admin in admins:
            outcome = await self.deliverer.send(ChatRef(admin, 0, "private"), text)
            metrics.delivered("admin", outcome)
            if not outcome.ok:
                log.warning("could not alert admin %s: %s", admin, outcome.error)
        return text

    def _plan(self, current: dict[str, str], now: datetime) -> str | None:
        """Read the state, decide, and write it back before sending (a crash loses an alert
        rather than repeating it)."""
        with self.db.session() as session:
            row = session.get(BotState, STATE_KEY)
            state = _load(row.value if row else None)
            new, cleared = plan(state, current, now)
            if not new and not cleared:
                return None
            value = json.dumps({key: entry.to_json() for key, entry in state.items()})
            if row is None:
                session.add(BotState(key=STATE_KEY, value=value))
            else:
                row.value = value
        return message(new, cleared, self.language)

    def close(self) -> None:
        self._leadership.release()


def _load(value: str | None) -> dict[str, Entry]:
    if not value:
        return {}
    try:
        return {key: Entry.from_json(data) for key, data in json.loads(value).items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("the admin alerts' state could not be read; starting afresh")
        return {}
