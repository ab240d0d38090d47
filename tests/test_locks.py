"""Leadership through a PostgreSQL advisory lock: won by one process, lost when its connection is."""

from __future__ import annotations

from sqlalchemy import text

from bot.storage.locks import Leadership


def test_one_leader_and_a_lost_connection_loses_the_leadership(db):
    first, second = Leadership(db, "test-lock"), Leadership(db, "test-lock")
    assert first.acquire() and first.still_held()
    if not db.shared:  # SQLite: one process, always the leader
        assert second.acquire()
        return
    assert not second.acquire()
    pid = first._connection.execute(text("SELECT pg_backend_pid()")).scalar()
    first._connection.commit()
    with db.engine.connect() as admin:  # the server cuts the leader's connection (a restart, a proxy, a DBA)
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()
    assert not first.still_held()
    assert second.acquire() and second.still_held()
    assert not first.acquire()  # the other process leads now
    second.release()
    assert first.acquire()
    first.release()
