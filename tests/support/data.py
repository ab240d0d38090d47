"""Where the shared test data lives, and the zone the demo district keeps."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository
DEMO = ROOT / "bot" / "demo"
SEED_TEXT = ROOT / "tests" / "fixtures" / "liangping-2023-02-24.txt"  # copy of shared/seed
SHANGHAI = ZoneInfo("Asia/Shanghai")
