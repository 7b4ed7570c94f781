"""The SQLite connections: one writer with group commit, one read-only reader.

Writes are *jobs* (``async def job(conn) -> T``) queued to a single writer task. The writer
takes every job waiting, runs them in one ``BEGIN IMMEDIATE`` transaction and commits; only
then does each caller get its result. With ``synchronous=FULL`` a result therefore means
"on disk". Many users answering at once share one commit (and one fsync) instead of queueing
for one each. If any job in a batch fails, the batch is rolled back and every job is run
again alone, so one bad job never takes others down with it. A job must only touch the
database (it may run twice).

Reads go to a second, read-only connection: WAL lets it read committed data while the
writer writes, and it never sees a batch that is still open.

If the writer task itself ever stops with an error (a bug, not a failing job: those are
settled one by one), every waiting caller gets a :class:`WriterFailed` at once, later writes
are refused with it, and :meth:`Database.close` raises it: a write is never left hanging
and the failure never disappears at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.core.errors import StoreError
from bot.store.maintenance import RunningLock, backup_before_migrating, preparing
from bot.store.migrate import migrate
from bot.store.timefmt import sql_local_day

log = logging.getLogger("bot.store")

T = TypeVar("T")
Job = Callable[[aiosqlite.Connection], Awaitable[T]]

BUSY_TIMEOUT_MS = 5000
BATCH_LIMIT = 256


class StoreClosed(StoreError):
    """The store was closed; nothing more can be written."""


class WriterFailed(StoreError):
    """The writer task stopped with an error; nothing more can be written."""


# The SQL function the schema's triggers use to count activity on the learner's own day.
LOCAL_DAY = ("local_day", 2, sql_local_day)


def _pragmas(read_only: bool) -> list[str]:
    common = [f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", "PRAGMA foreign_keys = ON"]
    if read_only:
        return [*common, "PRAGMA query_only = ON"]
    return ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", *common]


def _prepare(path: Path, backups: Path | None = None) -> str:
    """Create the file, switch it to WAL and bring the schema up to date (blocking); a
    database with pending migrations is backed up to ``backups`` (default: ``backups/``
    beside it) first.

    Returns the ``file:`` URI of a read-only connection to it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.create_function(*LOCAL_DAY, deterministic=True)
        for pragma in _pragmas(read_only=False):
            conn.execute(pragma)
        with preparing(path):
            saved = backup_before_migrating(conn, path, backups or path.parent / "backups")
            if saved is not None:
                log.info("backed up before migrating", extra={"backup": str(saved)})
            migrate(conn)
    finally:
        conn.close()
    return path.resolve().as_uri() + "?mode=ro"


class Database:
    def __init__(
        self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection
    ) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._queue: deque[tuple[Job[Any], asyncio.Future[Any]]] = deque()
        self._in_flight: list[tuple[Job[Any], asyncio.Future[Any]]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._failure: WriterFailed | None = None
        self._task = asyncio.create_task(self._write_loop(), name="store-writer")
        self._task.add_done_callback(self._writer_stopped)
        self.running_lock: RunningLock | None = None  # held until close (db restore waits)
        self.batches = 0
        self.jobs = 0

    @classmethod
    async def connect(
        cls, path: Path, *, separate_reader: bool = True, backups: Path | None = None
    ) -> Database:
        lock = RunningLock(path)
        await asyncio.to_thread(lock.acquire)
        try:
            database = await cls._connect(path, separate_reader, backups)
        except BaseException:
            lock.release()
            raise
        database.running_lock = lock
        return database

    @classmethod
    async def _connect(cls, path: Path, separate_reader: bool, backups: Path | None) -> Database:
        read_only_uri = await asyncio.to_thread(_prepare, path, backups)
        writer = await aiosqlite.connect(path, isolation_level=None)
        reader: aiosqlite.Connection | None = None
        try:
            for pragma in _pragmas(read_only=False):
                await writer.execute(pragma)
            if separate_reader:
                reader = await aiosqlite.connect(read_only_uri, uri=True, isolation_level=None)
                for pragma in _pragmas(read_only=True):
                    await reader.execute(pragma)
        except BaseException:
            await writer.close()
            if reader is not None:
                await reader.close()
            raise
        for conn in {writer, reader or writer}:
            conn.row_factory = sqlite3.Row
            await conn.create_function(*LOCAL_DAY, deterministic=True)
        return cls(path, writer, reader or writer)

    # reads --------------------------------------------------------------------------
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(await self._reader.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def scalar(self, sql: str, params: Sequence[Any] = (), default: Any = None) -> Any:
        row = await self.fetchone(sql, params)
        return default if row is None or row[0] is None else row[0]

    # writes -------------------------------------------------------------------------
    async def write(self, job: Job[T]) -> T:
        """Run ``job`` in a write transaction; return once it is committed to disk."""
        if self._failure is not None:
            raise self._failure
        if self._closing:
            raise StoreClosed("the store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        # Mark a failure as seen even if the caller stopped waiting (no "never retrieved").
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._queue.append((job, future))
        self._wake.set()
        # Shielded: a caller that gives up does not undo a write that is under way.
        return await asyncio.shield(future)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """A one-statement write; returns the number of rows changed."""

        async def job(conn: aiosqlite.Connection) -> int:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

        return await self.write(job)

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(BATCH_LIMIT, len(self._queue)))]
                self._in_flight = batch
                await self._commit(batch)
                self._in_flight = []
            if self._closing:
                return

    def _writer_stopped(self, task: asyncio.Task[None]) -> None:
        """Fail every write still waiting if the writer ended any other way than closing."""
        if task.cancelled():
            error = WriterFailed("the store's writer was cancelled")
        elif task.exception() is not None:
            cause = task.exception()
            error = WriterFailed(f"the store's writer stopped: {type(cause).__name__}: {cause}")
            error.__cause__ = cause
            log.error("the store's writer stopped", exc_info=cause)
        else:
            return
        self._failure = error
        waiting = [*self._in_flight, *self._queue]
        self._in_flight = []
        self._queue.clear()
        for _job, future in waiting:
            _settle(future, error=error)

    async def _commit(self, batch: list[tuple[Job[Any], asyncio.Future[Any]]]) -> None:
        conn = self._writer
        results: list[Any] = []
        try:
            await conn.execute("BEGIN IMMEDIATE")
            for job, _future in batch:
                results.append(await job(conn))
            await conn.execute("COMMIT")
        except Exception as exc:
            await self._rollback()
            if len(batch) > 1:
                for item in batch:
                    await self._commit([item])
                return
            _settle(batch[0][1], error=exc)
            return
        self.batches += 1
        self.jobs += len(batch)
        for (_job, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)

    async def _rollback(self) -> None:
        try:
            if self._writer.in_transaction:
                await self._writer.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("rollback failed")

    async def run_script(self, statements: Iterable[str]) -> None:
        """Statements without parameters, in one transaction (maintenance, tests)."""

        async def job(conn: aiosqlite.Connection) -> None:
            for statement in statements:
                await conn.execute(statement)

        await self.write(job)

    # life cycle ---------------------------------------------------------------------
    async def close(self) -> None:
        """Finish every queued write, then close both connections.

        Raises :class:`WriterFailed` (after closing the connections) if the writer had
        stopped with an error: the writes it dropped must not go unnoticed.
        """
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        try:
            # Waiting on the task does not re-raise here: the done callback has turned
            # its error into self._failure, which is raised below.
            await asyncio.wait([self._task])
            if self._failure is None:
                await self._optimize()
        finally:
            try:
                if self._reader is not self._writer:
                    await self._reader.close()
                await self._writer.close()
            finally:
                if self.running_lock is not None:
                    self.running_lock.release()
        if self._failure is not None:
            raise self._failure

    async def _optimize(self) -> None:
        try:
            await self._writer.execute("PRAGMA optimize")
        except sqlite3.Error:
            # Only statistics for the query planner are lost; the data is committed.
            log.warning("PRAGMA optimize failed at close", exc_info=True)


def _settle(
    future: asyncio.Future[Any], *, result: Any = None, error: BaseException | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
