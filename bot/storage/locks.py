"""This process's identity for row claims, and leadership through a PostgreSQL advisory lock
(SQLite: always the leader).

The lock is held by a connection of its own for as long as the process wants it; when the
process dies, PostgreSQL closes the connection and frees the lock for another process.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from sqlalchemy import Connection, text

from bot.storage.db import Database, advisory_key

log = logging.getLogger(__name__)

# who holds a claim (a push being sent, a source being fetched, an article being summarized)
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leadership:
    """``acquire()`` → True while this process is the one leader for ``name``."""

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.key = advisory_key(name)
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        """Try to become (or stay) the leader; never waits."""
        if not self.db.shared:
            return True
        if self._connection is not None:
            return True
        connection = self.db.engine.connect()
        try:
            won = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar())
            connection.commit()
        except Exception:
            connection.close()
            raise
        if won:
            self._connection = connection
        else:
            connection.close()
        return won

    def still_held(self) -> bool:
        """Whether the lock is still ours: its connection answers and PostgreSQL still lists the
        lock as granted to it. When not (the connection was cut, the server restarted), the
        leadership is released, so that ``acquire`` can try again."""
        if not self.db.shared:
            return True
        if self._connection is None:
            return False
        try:
            held = bool(
                self._connection.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :key"
                    ),
                    {"key": self.key},
                ).scalar()
            )
            self._connection.commit()
        except Exception as exc:  # the connection is gone: so is the lock
            log.warning("lost the connection that holds the %s lock: %s", self.key, exc)
            held = False
        if not held:
            self.release()
        return held

    def release(self) -> None:
        """Give the leadership up: the lock is freed at once (another process may take it right
        after), then its connection goes back to the pool; a connection that cannot unlock is
        closed for real (in the pool, the lock would live on), which frees the lock too."""
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        try:
            unlocked = bool(connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}).scalar())
            connection.commit()
        except Exception as exc:  # the connection is gone, and the lock with it
            log.debug("could not unlock %s: %s", self.key, exc)
            unlocked = False
        if not unlocked:
            connection.invalidate()
        connection.close()
