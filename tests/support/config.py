"""Config files for the bot under test, and the PostgreSQL the database tests may also use."""

from __future__ import annotations

import os
from pathlib import Path

POSTGRES_URL = os.environ.get("NEWSBOT_TEST_POSTGRES_URL")  # unset: the database tests run on SQLite only


def write_config(tmp_path: Path, text: str) -> Path:
    """A TOML config in ``tmp_path`` whose database also lives there."""
    path = tmp_path / "newsbot.toml"
    if "[database]" not in text:
        text = f'[database]\nurl = "sqlite:///{tmp_path / "news.db"}"\n\n' + text
    path.write_text(text, encoding="utf-8")
    return path
