"""db backup / restore / check, the running lock, and the backup before migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.store import Store, maintenance
from bot.store.migrate import discover, migrate
from tests.conftest import make_actor
from tests.support import run_bot


async def make_db(path: Path) -> None:
    store = await Store.open(path, FixedClock())
    await store.progress.record_read(make_actor("ann"), "volume")
    await store.close()


def count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def test_backup_is_a_checked_single_file_and_never_overwrites(tmp_path: Path):
    db = tmp_path / "coach.sqlite3"
    await make_db(db)
    made = maintenance.backup(db, tmp_path / "b.sqlite3")
    assert made.ok and made.version == discover()[-1].version
    assert not (tmp_path / "b.sqlite3-wal").exists()  # journal_mode DELETE: one file
    assert count(tmp_path / "b.sqlite3", "SELECT COUNT(*) FROM concept_reads") == 1
    with pytest.raises(maintenance.MaintenanceError, match="already exists"):
        maintenance.backup(db, tmp_path / "b.sqlite3")
    folder = tmp_path / "nightly"
    folder.mkdir()
    dated = maintenance.backup(db, folder)
    assert dated.path.parent == folder and dated.path.name.startswith("coach-")


async def test_restore_refuses_while_a_coach_has_the_database_open(tmp_path: Path):
    db = tmp_path / "coach.sqlite3"
    await make_db(db)
    backup = maintenance.backup(db, tmp_path / "b.sqlite3").path
    store = await Store.open(db, FixedClock())
    try:
        with pytest.raises(maintenance.DatabaseInUse, match="running"):
            maintenance.restore(backup, db, tmp_path / "safety")
    finally:
        await store.close()
    restored, safety = maintenance.restore(backup, db, tmp_path / "safety")
    assert restored.ok and safety is not None and safety.exists()


async def test_restore_puts_the_backup_in_place_and_keeps_the_replaced_database(tmp_path: Path):
    db = tmp_path / "coach.sqlite3"
    await make_db(db)
    backup = maintenance.backup(db, tmp_path / "b.sqlite3").path
    store = await Store.open(db, FixedClock())
    await store.progress.record_read(make_actor("bo"), "image")  # after the backup
    await store.close()
    restored, safety = maintenance.restore(backup, db, tmp_path / "safety")
    assert restored.ok
    assert count(db, "SELECT COUNT(*) FROM concept_reads") == 1  # the backup's content
    assert safety is not None and count(safety, "SELECT COUNT(*) FROM concept_reads") == 2
    reopened = await Store.open(db, FixedClock())  # and the coach opens it again
    await reopened.close()


async def test_a_restore_in_progress_keeps_coaches_out(tmp_path: Path):
    db = tmp_path / "coach.sqlite3"
    await make_db(db)
    with maintenance.exclusive(db), pytest.raises(maintenance.DatabaseInUse, match="restore"):
        await Store.open(db, FixedClock())


def test_check_reports_pending_and_newer_schemas_and_damage(tmp_path: Path):
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db, isolation_level=None) as conn:
        migrate(conn, upto=1)
    pending = maintenance.check(db)
    assert pending.ok and "pending" in "\n".join(pending.lines())
    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer, isolation_level=None) as conn:
        conn.execute("PRAGMA user_version = 999")
    assert not maintenance.check(newer).ok
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(maintenance.MaintenanceError, match="not a readable"):
        maintenance.check(junk)
    with pytest.raises(maintenance.MaintenanceError, match="no such database"):
        maintenance.check(tmp_path / "missing.sqlite3")


async def test_pending_migrations_run_after_an_automatic_backup(tmp_path: Path):
    db = tmp_path / "coach.sqlite3"
    with sqlite3.connect(db, isolation_level=None) as conn:
        migrate(conn, upto=1)
        conn.execute(
            "INSERT INTO users (user_id, created_at) VALUES ('old-learner', '2025-01-01T00:00:00Z')"
        )
    store = await Store.open(db, FixedClock(), backups=tmp_path / "backups")
    await store.close()
    [saved] = (tmp_path / "backups").glob("pre-migration-v1-*.sqlite3")
    assert maintenance.check(saved).version == 1
    assert count(saved, "SELECT COUNT(*) FROM users") == 1
    assert maintenance.check(db).version == discover()[-1].version
    again = await Store.open(db, FixedClock(), backups=tmp_path / "backups")  # nothing pending
    await again.close()
    assert len(list((tmp_path / "backups").glob("*.sqlite3"))) == 1


async def test_db_commands_exit_codes(tmp_path: Path):
    db = tmp_path / "coach.sqlite3"
    await make_db(db)
    check = run_bot("db", "check", "--db", str(db))
    assert check.returncode == 0 and check.stdout.strip().endswith("OK")
    backup = run_bot("db", "backup", str(tmp_path / "b.sqlite3"), "--db", str(db))
    assert backup.returncode == 0, backup.stderr
    again = run_bot("db", "backup", str(tmp_path / "b.sqlite3"), "--db", str(db))
    assert again.returncode == 2 and "already exists" in again.stderr
    restore = run_bot("db", "restore", str(tmp_path / "b.sqlite3"), "--db", str(db))
    assert restore.returncode == 0, restore.stderr


async def test_nightly_backup_into_a_folder_that_does_not_exist_yet(tmp_path: Path):
    """docs/deploy.md's cron line, `db backup /data/backups/`, on a fresh server: the folder
    is made, and every night (twice in one second too) adds a dated file to it."""
    db = tmp_path / "coach.sqlite3"
    await make_db(db)
    folder = tmp_path / "data" / "backups"
    for _night in range(2):
        made = run_bot("db", "backup", f"{folder}/", "--db", str(db))
        assert made.returncode == 0, made.stderr
    assert folder.is_dir()
    dated = sorted(folder.glob("coach-*.sqlite3"))
    assert len(dated) == 2
    assert all(count(path, "SELECT COUNT(*) FROM concept_reads") == 1 for path in dated)
    (tmp_path / "a-file").write_text("")
    refused = run_bot("db", "backup", f"{tmp_path / 'a-file'}/", "--db", str(db))
    assert refused.returncode == 2 and "cannot be a backup folder" in refused.stderr
