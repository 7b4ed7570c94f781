"""Versioned schema migrations: ``migrations/NNNN_name.sql``, applied in order.

The database's ``PRAGMA user_version`` is the number of the last migration applied. Each
migration runs in its own ``BEGIN IMMEDIATE`` transaction that first reads ``user_version``
and then applies the file and bumps the version: a failed migration leaves the database
exactly at the previous version, and several processes opening one new database at once
apply each migration exactly once (the others wait for the write lock, then see the new
version and skip it). Adding a migration is dropping the next numbered file into the folder.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.core.errors import StoreError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(StoreError):
    """The migration files or the database's version make no sense together."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def statements(self) -> list[str]:
        """The file's statements one by one (``CREATE TRIGGER … END;`` stays whole)."""
        return list(split_statements(self.sql()))


def split_statements(script: str) -> Iterator[str]:
    """Split an SQL script at the semicolons that end a statement.

    ``sqlite3.complete_statement`` knows about string literals, comments and trigger bodies,
    so a semicolon inside one of them does not end the statement.
    """
    pieces = script.split(";")
    pending = ""
    for number, piece in enumerate(pieces, start=1):
        pending += piece if number == len(pieces) else piece + ";"
        if sqlite3.complete_statement(pending):
            if _has_sql(pending):
                yield pending.strip()
            pending = ""
    if _has_sql(pending):
        raise MigrationError(f"unfinished SQL statement at the end: {pending.strip()[:80]!r}")


def _has_sql(text: str) -> bool:
    lines = (line.split("--", 1)[0].strip() for line in text.splitlines())
    return any(line and line != ";" for line in lines)


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

    Returns the versions this call applied (another process may have applied the rest).
    """
    migrations = discover() if migrations is None else migrations
    latest = migrations[-1].version if migrations else 0
    _refuse_newer(current_version(conn), latest)
    applied: list[int] = []
    for migration in migrations:
        if upto is not None and migration.version > upto:
            break
        if _apply(conn, migration, latest):
            applied.append(migration.version)
    return applied


def _refuse_newer(version: int, latest: int) -> None:
    if version > latest:
        raise MigrationError(
            f"the database is at schema version {version}, newer than this code "
            f"({latest}); upgrade Docker Coach before opening it"
        )


def _apply(conn: sqlite3.Connection, migration: Migration, latest: int) -> bool:
    """Apply ``migration`` if the database is right before it; False if it is already past.

    The version is read inside the write transaction, so no other connection can apply
    the same migration between the read and the bump.
    """
    statements = migration.statements()
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = current_version(conn)
        _refuse_newer(version, latest)
        if version >= migration.version:
            conn.execute("COMMIT")
            return False
        if version != migration.version - 1:
            raise MigrationError(
                f"migration {migration.name} needs schema version {migration.version - 1}, "
                f"the database is at {version}"
            )
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(conn)
        raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
    except BaseException:
        _rollback(conn)
        raise
    return True


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")
