"""The embedded database holds encrypted credentials, settings and the activity log: only its owner may read it."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from integration_hub.store.database import make_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "home" / "hub.db"
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        wal_files = [db.with_name("hub.db-wal"), db.with_name("hub.db-shm")]
        assert all(p.exists() for p in wal_files)  # WAL mode: the write is still in the -wal file
        assert [_mode(p) for p in (db, *wal_files)] == [0o600, 0o600, 0o600]
    engine.dispose()
    assert _mode(db.parent) == 0o700


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    db.touch(mode=0o644)
    db.chmod(0o644)
    make_engine(f"sqlite:///{db}").dispose()
    assert _mode(db) == 0o600
