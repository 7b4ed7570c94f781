"""Which message a front end made for each live post (migration 0008), so that a restarted
coach edits a channel's scoreboard or practice board in place instead of posting it again.

A live post (:class:`bot.core.posts.Post` with a key) is shown as one message that later
versions replace. The front end keeps the message's id in memory while it runs and here for
after a restart; rows nobody updated for :data:`KEEP` are pruned when a new one is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.core.clock import Clock
from bot.store.db import Database
from bot.store.timefmt import stamp

KEEP = timedelta(days=30)  # a round or a practice is long over by then


@dataclass(frozen=True, slots=True)
class LiveMessage:
    channel_id: str
    message_id: str


class LiveMessageRepo:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def find(self, medium: str, key: str) -> LiveMessage | None:
        """The message ``medium`` made for the post called ``key``, if it remembers one."""
        row = await self.db.fetchone(
            "SELECT channel_id, message_id FROM live_messages WHERE medium = ? AND post_key = ?",
            (medium, key),
        )
        return LiveMessage(str(row[0]), str(row[1])) if row is not None else None

    async def remember(self, medium: str, key: str, channel_id: str, message_id: str) -> None:
        """``message_id`` in ``channel_id`` shows the post called ``key`` from now on."""
        now = self.clock.now()
        await self.db.execute(
            "INSERT INTO live_messages (medium, post_key, channel_id, message_id, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (medium, post_key) DO UPDATE SET "
            "channel_id = excluded.channel_id, message_id = excluded.message_id, "
            "updated_at = excluded.updated_at",
            (medium, key, channel_id, message_id, stamp(now)),
        )
        await self.db.execute(
            "DELETE FROM live_messages WHERE updated_at < ?", (stamp(now - KEEP),)
        )

    async def forget(self, medium: str, key: str) -> None:
        await self.db.execute(
            "DELETE FROM live_messages WHERE medium = ? AND post_key = ?", (medium, key)
        )
