"""Persistence: SQLAlchemy models, the engine/session factory and Alembic migrations."""

from bot.storage.db import Database
from bot.storage.models import (
    Article, Base, Bulletin, BotState, Delivery, ForecastRecord, PageRetry, Source, Story, Subscriber, Summary,
)

__all__ = [
    "Article", "Base", "Bulletin", "BotState", "Database", "Delivery", "ForecastRecord", "PageRetry", "Source", "Story",
    "Subscriber", "Summary",
]
