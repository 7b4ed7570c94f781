"""Facts about the database itself (migration 0006): its id and its sandbox instance.

Both are read once per process (they never change while it runs) and cached.
"""

from __future__ import annotations

from bot.store.db import Database

DERIVED_PREFIX = "coach-"


class MetaRepo:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._values: dict[str, str | None] = {}

    async def _value(self, key: str) -> str | None:
        if key not in self._values:
            value = await self.db.scalar("SELECT value FROM coach_meta WHERE key = ?", (key,))
            self._values[key] = None if value is None else str(value)
        return self._values[key]

    async def database_id(self) -> str:
        """The database's own random id (16 hex digits), made by its migration."""
        value = await self._value("database_id")
        if value is None:  # pragma: no cover - the migration always writes it
            raise LookupError("coach_meta has no database_id")
        return value

    async def sandbox_instance(self) -> str:
        """The sandbox instance of this database: ``default`` for a database that knew people
        before instances were derived, else ``coach-<its id>`` (one of its own)."""
        value = await self._value("sandbox_instance")
        return value or DERIVED_PREFIX + await self.database_id()
