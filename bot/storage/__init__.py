"""Persistence: SQLAlchemy models, the engine/session factory and Alembic migrations."""

from bot.storage.db import Database
from bot.storage.models import Article, Base, Bulletin, Delivery, ForecastRecord, Source, Story, Subscriber, Summary

__all__ = [
    "Article", "Base", "Bulletin", "Database", "Delivery", "ForecastRecord", "Source", "Story", "Subscriber", "Summary",
]
