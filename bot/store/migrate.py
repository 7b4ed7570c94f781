"""Versioned schema migrations: ``migrations/NNNN_name.sql``, applied in order.

The database's ``PRAGMA user_version`` is the number of the last migration applied. Each
pending file runs in its own transaction together with the new ``user_version``, so a
failed migration leaves the database exactly at the previous version. Adding a migration
is dropping the next numbered file into the folder.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """The migration files or the database's version make no sense together."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def discover(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file, by version; numbers must run 1, 2, 3… without gaps."""
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), path.stem, path))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"{migration.path.name}: expected migration number {expected:04d} "
                "(numbers run without gaps or duplicates)"
            )
    return found


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    conn: sqlite3.Connection, migrations: list[Migration] | None = None, upto: int | None = None
) -> list[int]:
    """Apply pending migrations (up to ``upto``) on a connection in autocommit mode.

    Returns the versions applied.
    """
    migrations = discover() if migrations is None else migrations
    latest = migrations[-1].version if migrations else 0
    version = current_version(conn)
    if version > latest:
        raise MigrationError(
            f"the database is at schema version {version}, newer than this code "
            f"({latest}); upgrade Docker Coach before opening it"
        )
    applied: list[int] = []
    for migration in migrations:
        if migration.version <= version or (upto is not None and migration.version > upto):
            continue
        _apply(conn, migration)
        applied.append(migration.version)
    return applied


def _apply(conn: sqlite3.Connection, migration: Migration) -> None:
    script = (
        "BEGIN IMMEDIATE;\n"
        f"{migration.sql()}\n;\n"
        f"PRAGMA user_version = {int(migration.version)};\n"
        "COMMIT;\n"
    )
    try:
        conn.executescript(script)
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.rollback()
        raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
