"""Engine and session factory; the schema is brought up to date by Alembic on open."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_SECONDS = 60  # another process holding the database this long still gets waited for


def advisory_key(name: str) -> int:
    """A stable 32-bit PostgreSQL advisory lock id for ``name``."""
    return zlib.crc32(f"newsbot:{name}".encode())


MIGRATION_LOCK = advisory_key("migrations")


class Sessions(Protocol):
    """What a reader of the database needs: a :class:`Database`, or the console's read-only
    sessions (``bot.console.snapshot.Reader``)."""

    def session(self) -> AbstractContextManager[Session]: ...


class Database:
    """A migrated database: ``with db.session() as s: ...`` commits on success."""

    def __init__(self, url: str) -> None:
        self.url = url
        sqlite = url.startswith("sqlite")
        connect_args = {"timeout": SQLITE_BUSY_SECONDS} if sqlite else {}
        self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.upgrade()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def shared(self) -> bool:
        """Whether several newsbot processes may use this database at once (PostgreSQL; SQLite
        is for one process). Claims held by other processes are honoured only then."""
        return self.engine.dialect.name == "postgresql"

    def upgrade(self) -> None:
        """Apply every pending Alembic migration.

        On PostgreSQL, processes started together take turns: each migrates holding an advisory
        lock on its connection, so the next one waits, then finds the schema up to date.
        """
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as connection:
            try:
                if self.shared:
                    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
                    connection.commit()
                with connection.begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
            finally:
                if self.shared:  # closed for real, not pooled: that frees the lock whatever happened
                    connection.invalidate()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block succeeds and rolls back when it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # the driver's own transaction handling off: _sqlite_begin starts every transaction
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: durable against a crash of the process
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cursor.close()


def _sqlite_begin(connection) -> None:
    """Take SQLite's write lock when a transaction starts, waiting out other writers.

    A deferred transaction that reads and then writes fails at once ("database is locked")
    when another connection wrote in between, whatever the busy timeout; an immediate one
    waits its turn, so worker threads and other processes simply queue.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")
