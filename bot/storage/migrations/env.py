"""Alembic environment: runs on the connection handed over by :class:`bot.storage.Database`."""

from alembic import context
from sqlalchemy import create_engine

from bot.storage.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # invoked from the alembic CLI, e.g. to autogenerate a revision
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///newsbot.db")
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
