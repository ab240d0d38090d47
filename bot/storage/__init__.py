"""Persistence: SQLAlchemy models, the engine/session factory and Alembic migrations."""

from bot.storage.db import Database
from bot.storage.models import (
    Article,
    Base,
    BotState,
    Bulletin,
    Delivery,
    Follow,
    FollowHit,
    ForecastRecord,
    PageRetry,
    Source,
    Story,
    Subscriber,
    Summary,
    WarningRecord,
    WeatherEvent,
)

__all__ = [
    "Article",
    "Base",
    "BotState",
    "Bulletin",
    "Database",
    "Delivery",
    "Follow",
    "FollowHit",
    "ForecastRecord",
    "PageRetry",
    "Source",
    "Story",
    "Subscriber",
    "Summary",
    "WarningRecord",
    "WeatherEvent",
]
