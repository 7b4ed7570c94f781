"""Per-server settings chosen by its managers (migration 0004), cached in memory.

The Discord layer asks for the practice channel on every sandbox command, so reads are
served from a dictionary after the first one per server. This process is the only writer
of the database, and every change goes through :meth:`GuildRepo.set_practice_channel`,
which refreshes the cache once the change is committed.
"""

from __future__ import annotations

from bot.core.clock import Clock
from bot.store.db import Database
from bot.store.timefmt import stamp


class GuildRepo:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._channels: dict[str, str | None] = {}
        self._changes = 0  # bumped by every write: a read started before it is not cached

    async def practice_channel(self, guild_id: str) -> str | None:
        """The channel where practice runs on ``guild_id``, if a manager chose one."""
        if guild_id in self._channels:
            return self._channels[guild_id]
        changes = self._changes
        value = await self.db.scalar(
            "SELECT practice_channel_id FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        channel = str(value) if value else None
        if changes == self._changes:
            self._channels[guild_id] = channel
        return channel

    async def timezone(self, guild_id: str) -> str | None:
        """The time zone a manager chose for ``guild_id`` (its members' default)."""
        value = await self.db.scalar(
            "SELECT timezone FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return str(value) if value else None

    async def set_timezone(self, guild_id: str, timezone: str | None) -> None:
        await self.db.execute(
            "INSERT INTO guild_settings (guild_id, timezone, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET timezone = excluded.timezone, "
            "updated_at = excluded.updated_at",
            (guild_id, timezone, stamp(self.clock.now())),
        )

    async def set_practice_channel(self, guild_id: str, channel_id: str | None) -> None:
        """Choose the practice channel of ``guild_id`` (None: any channel)."""
        self._changes += 1
        self._channels.pop(guild_id, None)
        await self.db.execute(
            "INSERT INTO guild_settings (guild_id, practice_channel_id, updated_at) "
            "VALUES (?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
            "practice_channel_id = excluded.practice_channel_id, "
            "updated_at = excluded.updated_at",
            (guild_id, channel_id or None, stamp(self.clock.now())),
        )
        self._changes += 1
        self._channels[guild_id] = channel_id or None
