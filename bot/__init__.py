"""newsbot service: ingestion, storage, digests, the Telegram bot and its scheduler."""

__version__ = "0.1.0"
