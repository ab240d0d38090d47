"""The ``newsbot`` command line as a real subprocess, cut off from the internet."""

from __future__ import annotations

import subprocess
import sys

from tests.support.data import ROOT

CLOSED_PORT = "http://127.0.0.1:9/v1"  # the weather provider of these runs: refused at once, never the internet


def newsbot(*args: str, cwd, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m bot.cli *args`` in ``cwd`` with a bare environment (plus ``env``); its result."""
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "NEWSBOT_WEATHER_API_BASE_URL": CLOSED_PORT, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, input=stdin, capture_output=True, text=True,
        env={**environment, "PYTHONPATH": str(ROOT)}, timeout=120,
    )
