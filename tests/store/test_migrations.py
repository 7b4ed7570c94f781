"""Migrations: from empty and from every earlier version, whatever files exist."""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import sqlite3
from multiprocessing.synchronize import Barrier
from pathlib import Path
from queue import Queue

import pytest

from bot.core.clock import FixedClock
from bot.store import Store
from bot.store.migrate import (
    MIGRATIONS_DIR,
    MigrationError,
    discover,
    migrate,
    split_statements,
)

MIGRATIONS = discover()
LATEST = MIGRATIONS[-1].version


def schema(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "ORDER BY type, name"
        ).fetchall()
    finally:
        conn.close()
    return [(t, n, " ".join((s or "").split())) for t, n, s in rows]


def version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def at_version(path: Path, upto: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, MIGRATIONS, upto=upto)
        if upto >= 1:
            conn.execute(
                "INSERT INTO users (user_id, display_name, created_at) "
                "VALUES ('old', 'Old', '2025-01-01T00:00:00.000000Z')"
            )
    finally:
        conn.close()


def test_files_are_numbered_without_gaps() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1))
    assert LATEST >= 2


async def test_from_empty(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "coach.sqlite3"
    store = await Store.open(path, FixedClock())
    try:
        assert await store.integrity_check() == "ok"
    finally:
        await store.close()
    assert version(path) == LATEST


@pytest.mark.parametrize("start", range(LATEST), ids=lambda v: f"from-v{v}")
async def test_from_each_earlier_version(tmp_path: Path, start: int) -> None:
    fresh = tmp_path / "fresh.sqlite3"
    store = await Store.open(fresh, FixedClock())
    await store.close()

    old = tmp_path / "old.sqlite3"
    at_version(old, start)
    assert version(old) == start
    store = await Store.open(old, FixedClock())
    try:
        assert await store.integrity_check() == "ok"
        if start >= 1:
            assert "old" in await store.known_user_ids()
    finally:
        await store.close()
    assert version(old) == LATEST
    assert schema(old) == schema(fresh)


def _copy_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    return folder


def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    folder = _copy_migrations(tmp_path)
    broken = folder / f"{LATEST + 1:04d}_broken.sql"
    broken.write_text("CREATE TABLE half (x INTEGER);\nTHIS IS NOT SQL;\n")
    path = tmp_path / "db.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(MigrationError, match="broken"):
            migrate(conn, discover(folder))
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "half" not in tables
    finally:
        conn.close()


def test_gaps_in_numbers_are_refused(tmp_path: Path) -> None:
    folder = _copy_migrations(tmp_path)
    (folder / f"{LATEST + 2:04d}_skipped.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="expected migration number"):
        discover(folder)


async def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 5}")
    conn.close()
    with pytest.raises(MigrationError, match="newer than this code"):
        await Store.open(path, FixedClock())


def _open_after(path: Path, start: Barrier, results: Queue[str]) -> None:
    """One of the processes below: wait for the others, then open the new database."""

    async def open_and_close() -> None:
        store = await Store.open(path, FixedClock())
        await store.close()

    start.wait()
    try:
        asyncio.run(open_and_close())
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")
    else:
        results.put("ok")


@pytest.mark.slow
def test_ten_processes_opening_one_new_database_at_once(tmp_path: Path) -> None:
    """Each migration is applied exactly once; nobody sees "table … already exists"."""
    processes = 10
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes)
    results = context.Queue()
    path = tmp_path / "shared.sqlite3"
    workers = [
        context.Process(target=_open_after, args=(path, start, results)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=60)
    assert outcomes == ["ok"] * processes
    assert version(path) == LATEST
    fresh = tmp_path / "alone.sqlite3"
    at_version(fresh, LATEST)
    assert schema(path) == schema(fresh)


def test_statements_are_split_where_they_end() -> None:
    script = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE t (x TEXT DEFAULT 'a;b');\n"
        "CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN\n"
        "  UPDATE t SET x = 'c;d';\n"
        "END;\n"
    )
    statements = list(split_statements(script))
    assert len(statements) == 2
    assert statements[0].endswith("DEFAULT 'a;b');")
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    with pytest.raises(MigrationError, match="unfinished"):
        list(split_statements("CREATE TABLE u (x INTEGER)"))
