"""Backups, restores and checks of the SQLite file, and the lock a running coach holds.

* **Backups** use SQLite's online backup API in one step: the copy is one consistent
  snapshot (a read transaction in WAL mode), and writers are not blocked while it is taken.
  The copy is checked (``integrity_check``) and written to a temporary name first, so a
  backup file that exists is complete.
* **The running lock.** Every process that opens the database (``python -m bot run``, every
  console) holds a *shared* ``flock`` on ``<database>.lock`` until it closes the store.
  ``db restore`` needs the lock *exclusively*, so it refuses while anything has the database
  open, and nothing can open it while a restore runs. The kernel drops the lock when a
  process dies, so a crash never leaves a stale lock behind.
* **Upgrades.** Before pending migrations run, the database is backed up to the backup
  folder (``pre-migration-v<N>-<time>.sqlite3``); the newest :data:`AUTO_BACKUPS_KEPT` stay.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.store.migrate import current_version, discover

AUTO_BACKUPS_KEPT = 10
AUTO_PREFIX = "pre-migration-"


class MaintenanceError(RuntimeError):
    """A backup, restore or check that cannot be done; the message says why."""


class DatabaseInUse(MaintenanceError):
    """Something has the database open (or a restore is running)."""


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class RunningLock:
    """The shared lock a process holds while it has the database open."""

    def __init__(self, db_path: Path) -> None:
        self.path = lock_path(db_path)
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseInUse(
                f"{self.path.with_suffix('')}: a restore is running; start again when it ends"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops the lock


@contextlib.contextmanager
def exclusive(db_path: Path) -> Iterator[None]:
    """Hold the database alone, or raise :class:`DatabaseInUse` at once."""
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(
                f"{db_path}: the coach is running with this database (the bot or a console); "
                "stop it first (docker compose stop coach)"
            ) from None
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def preparing(db_path: Path) -> Iterator[None]:
    """One process at a time brings the database up to date (backup, then migrations):
    processes starting together wait here, then find the work done."""
    path = db_path.with_name(db_path.name + ".prepare.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------- checks
@dataclass(frozen=True, slots=True)
class CheckResult:
    path: Path
    integrity: str
    foreign_key_problems: int
    version: int
    latest: int
    size_bytes: int

    @property
    def ok(self) -> bool:
        sound = self.integrity == "ok" and self.foreign_key_problems == 0
        return sound and self.version <= self.latest

    def lines(self) -> list[str]:
        pending = self.latest - self.version
        level = f"schema version {self.version} of {self.latest}"
        if pending > 0:
            level += f" ({pending} migration(s) pending: they run, after a backup, at next start)"
        elif self.version > self.latest:
            level += " (NEWER than this code: upgrade Docker Coach before opening it)"
        keys = f"{self.foreign_key_problems} problem(s)" if self.foreign_key_problems else "ok"
        return [
            f"database: {self.path} ({self.size_bytes:,} bytes)",
            f"integrity: {self.integrity}",
            f"foreign keys: {keys}",
            level,
            "OK" if self.ok else "NOT OK",
        ]


def _connect_existing(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise MaintenanceError(f"{path}: no such database file")
    conn = sqlite3.connect(path, isolation_level=None, timeout=5)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def check(path: Path) -> CheckResult:
    """Integrity check, foreign keys and migration level of the database at ``path``."""
    conn = _connect_existing(path)
    try:
        return _check(conn, path)
    except sqlite3.DatabaseError as exc:
        raise MaintenanceError(f"{path}: not a readable SQLite database: {exc}") from exc
    finally:
        conn.close()


def _check(conn: sqlite3.Connection, path: Path) -> CheckResult:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    integrity = "; ".join(str(row[0]) for row in rows[:5]) or "?"
    fk_problems = len(conn.execute("PRAGMA foreign_key_check").fetchall())
    migrations = discover()
    return CheckResult(
        path=path,
        integrity=integrity,
        foreign_key_problems=fk_problems,
        version=current_version(conn),
        latest=migrations[-1].version if migrations else 0,
        size_bytes=path.stat().st_size,
    )


# ------------------------------------------------------------------------------ backups
def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def backup_target(target: str | os.PathLike[str]) -> Path:
    """``target`` itself, or a new time-stamped file inside it when it names a folder: one
    that exists, or any path written with a trailing slash (made if missing, so the first
    nightly ``db backup /data/backups/`` starts the folder instead of becoming a file)."""
    text = os.fspath(target)
    path = Path(text)
    if not (path.is_dir() or text.endswith(("/", os.sep))):
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a file of that name
        raise MaintenanceError(f"{path}: cannot be a backup folder ({exc.strerror})") from exc
    stamp = _stamp()
    dated = path / f"coach-{stamp}.sqlite3"
    number = 1
    while dated.exists():  # two backups within one second: both kept
        number += 1
        dated = path / f"coach-{stamp}-{number}.sqlite3"
    return dated


def backup(
    db_path: Path, target: str | os.PathLike[str], *, overwrite: bool = False
) -> CheckResult:
    """Copy the database to ``target`` (a file, or a folder for a dated file: see
    :func:`backup_target`) while it may be in use; return the copy's check."""
    source = _connect_existing(db_path)
    try:
        path = backup_target(target)
        if path.exists() and not overwrite:
            raise MaintenanceError(f"{path}: already exists (choose another name, or --force)")
        return _copy(source, path)
    finally:
        source.close()


def _copy(source: sqlite3.Connection, target: Path) -> CheckResult:
    target.parent.mkdir(parents=True, exist_ok=True)
    # A name of this copy's own: two processes backing up at once never share a file.
    partial = target.with_name(f"{target.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    copy = sqlite3.connect(partial, isolation_level=None)
    try:
        source.backup(copy)  # every page in one step: one consistent snapshot
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        result = _check(copy, partial)
    except BaseException:
        copy.close()
        partial.unlink(missing_ok=True)
        raise
    copy.close()
    if not result.ok:
        partial.unlink(missing_ok=True)
        raise MaintenanceError(f"the copy failed its check: {result.integrity}")
    _fsync(partial)
    os.replace(partial, target)
    _fsync(target.parent)
    return CheckResult(
        target, result.integrity, result.foreign_key_problems, result.version, result.latest,
        target.stat().st_size,
    )  # fmt: skip


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_before_migrating(conn: sqlite3.Connection, db_path: Path, folder: Path) -> Path | None:
    """Back up a database that has data and pending migrations; None when there is nothing to
    keep. Old automatic backups beyond :data:`AUTO_BACKUPS_KEPT` are removed."""
    migrations = discover()
    latest = migrations[-1].version if migrations else 0
    version = current_version(conn)
    if version == 0 or version >= latest:
        return None
    target = folder / f"{AUTO_PREFIX}v{version}-{_stamp()}.sqlite3"
    _copy(conn, target)
    autos = sorted(folder.glob(f"{AUTO_PREFIX}*.sqlite3"), key=lambda p: p.stat().st_mtime)
    for old in autos[:-AUTO_BACKUPS_KEPT]:
        old.unlink(missing_ok=True)
    return target


# ----------------------------------------------------------------------------- restore
def restore(source: Path, db_path: Path, safety_folder: Path) -> tuple[CheckResult, Path | None]:
    """Replace the database with the backup ``source``; refuse while anything has it open.

    The current database (if any) is first backed up to ``safety_folder``; returns the
    restored database's check and that safety copy.
    """
    checked = check(source)
    if not checked.ok:
        raise MaintenanceError(f"{source}: not restorable: " + "; ".join(checked.lines()[1:4]))
    with exclusive(db_path):
        safety: Path | None = None
        if db_path.exists():
            current = _connect_existing(db_path)
            try:
                current.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                safety = safety_folder / f"pre-restore-{_stamp()}.sqlite3"
                _copy(current, safety)
            finally:
                current.close()
        incoming = sqlite3.connect(source, isolation_level=None)
        staged = db_path.with_name(db_path.name + ".restoring")
        try:
            _copy(incoming, staged)
        finally:
            incoming.close()
        for leftover in ("-wal", "-shm", "-journal"):
            db_path.with_name(db_path.name + leftover).unlink(missing_ok=True)
        os.replace(staged, db_path)
        _fsync(db_path.parent)
        return check(db_path), safety
