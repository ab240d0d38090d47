"""Persistence: SQLAlchemy models, the engine/session factory and Alembic migrations."""

from bot.storage.db import Database
from bot.storage.models import Article, Base, Bulletin, ForecastRecord, Source, Story, Summary

__all__ = ["Article", "Base", "Bulletin", "Database", "ForecastRecord", "Source", "Story", "Summary"]
