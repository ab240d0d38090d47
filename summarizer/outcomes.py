"""How often each profile's summaries are the model's own, and why the rest fell back: a
rolling window per profile in this process, with a warning when most of it fell back."""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque

log = logging.getLogger(__name__)

WINDOW = 50  # the last this many summaries of a profile are watched
WARN_SHARE = 0.5  # a warning when more than this share of them fell back


def reason_class(reason: str | None) -> str:
    """A fallback reason without its detail: "faithfulness check: number", "model unavailable"."""
    if not reason:
        return "accepted"
    head, _, rest = reason.partition(": ")
    if head == "faithfulness check" and rest:
        return f"{head}: {rest.partition(': ')[0]}"
    return head


class Outcomes:
    """Rolling outcomes of the model profiles' summaries (thread-safe)."""

    def __init__(self, window: int = WINDOW) -> None:
        self._window = window
        self._recent: dict[str, deque[str]] = {}
        self._since_warning: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(self, profile: str, model: str, reason: str | None) -> None:
        """One summary of ``profile``: accepted (``reason`` None) or fallen back for ``reason``.
        Logs a warning naming the model and the main reason when more than half of the last
        ``window`` fell back, then again every ``window`` summaries while that lasts."""
        with self._lock:
            recent = self._recent.setdefault(profile, deque(maxlen=self._window))
            recent.append(reason_class(reason))
            fallen = [r for r in recent if r != "accepted"]
            count = self._since_warning.get(profile, self._window)
            if len(recent) < self._window or len(fallen) <= WARN_SHARE * len(recent):
                self._since_warning[profile] = self._window
                return
            if count < self._window:
                self._since_warning[profile] = count + 1
                return
            self._since_warning[profile] = 1
            main, times = Counter(fallen).most_common(1)[0]
        log.warning(
            "profile %s (model %s): %d of its last %d summaries fell back to the extractive summarizer, mostly for %s (%d)",
            profile,
            model,
            len(fallen),
            len(recent),
            main,
            times,
        )

    def snapshot(self, profile: str) -> tuple[int, Counter[str]]:
        """(summaries watched, count by reason class) for ``profile``."""
        with self._lock:
            recent = list(self._recent.get(profile, ()))
        return len(recent), Counter(recent)
