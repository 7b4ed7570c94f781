"""People: who they are in each server, and the language they chose."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiosqlite

from bot.core.clock import Clock
from bot.store.db import Database
from bot.store.timefmt import stamp


class Who(Protocol):
    """Anything that names a person in a server (``bot.core.context.Actor`` does)."""

    @property
    def user_id(self) -> str: ...

    @property
    def guild_id(self) -> str: ...

    @property
    def display_name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Member:
    user_id: str
    guild_id: str
    display_name: str


async def ensure_member(conn: aiosqlite.Connection, who: Who, when: str) -> None:
    """Inside a write job: make sure ``who`` has a users row and a membership row."""
    name = who.display_name[:100]
    locale = getattr(who, "locale", None)  # the language it speaks there (a learner's zone)
    await conn.execute(
        "INSERT INTO users (user_id, display_name, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (user_id) DO NOTHING",
        (who.user_id, name, when),
    )
    await conn.execute(
        "INSERT INTO memberships (guild_id, user_id, display_name, first_seen, last_seen, "
        "locale) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) "
        "DO UPDATE SET display_name = excluded.display_name, last_seen = excluded.last_seen, "
        "locale = coalesce(excluded.locale, locale)",
        (who.guild_id, who.user_id, name, when, when, locale),
    )


# One SQL statement with its parameters, for :func:`write_for_member`.
Statement = tuple[str, Sequence[Any]]


async def write_for_member(db: Database, who: Who, when: str, *statements: Statement) -> None:
    """Make sure ``who`` exists (users, memberships), then run ``statements``, in one write."""

    async def job(conn: aiosqlite.Connection) -> None:
        await ensure_member(conn, who, when)
        for sql, params in statements:
            await conn.execute(sql, params)

    await db.write(job)


class UserRepo:
    """People in the store. The chosen language is read on every request (the core, then the
    front end when it delivers), so it is cached in memory: this process is the only writer,
    and :meth:`set_locale` and :meth:`forget` keep the cache right."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._ensured: set[tuple[str, str]] = set()
        self._locales: dict[str, str | None] = {}
        self._locale_changes = 0  # bumped by every change: a read started before is not cached

    async def ensure(self, who: Who) -> None:
        """Make ``who`` a known user of their server (cheap after the first call).

        For parts that keep nothing else in the store but need the person to count as known
        (the sandbox reconciler keeps sandboxes of known users only).
        """
        key = (who.user_id, who.guild_id)
        if key in self._ensured:
            return
        await write_for_member(self.db, who, stamp(self.clock.now()))
        self._ensured.add(key)

    async def set_locale(self, who: Who, locale: str | None) -> None:
        """Remember the language ``who`` chose (None: follow the front end again)."""
        self._forget_locale(who.user_id)
        await write_for_member(
            self.db,
            who,
            stamp(self.clock.now()),
            ("UPDATE users SET locale = ? WHERE user_id = ?", (locale, who.user_id)),
        )
        self._forget_locale(who.user_id)
        self._locales[who.user_id] = locale

    async def locale(self, user_id: str) -> str | None:
        """The language ``user_id`` chose, if any (from memory after the first read)."""
        if user_id in self._locales:
            return self._locales[user_id]
        changes = self._locale_changes
        found = await self.db.scalar("SELECT locale FROM users WHERE user_id = ?", (user_id,))
        value = str(found) if found is not None else None
        if changes == self._locale_changes:
            self._locales[user_id] = value
        return value

    def _forget_locale(self, user_id: str) -> None:
        self._locale_changes += 1
        self._locales.pop(user_id, None)

    async def set_timezone(self, who: Who, timezone: str | None) -> None:
        """Remember the time zone ``who`` chose (an IANA name; None: the default again)."""
        await write_for_member(
            self.db,
            who,
            stamp(self.clock.now()),
            ("UPDATE users SET timezone = ? WHERE user_id = ?", (timezone, who.user_id)),
        )

    async def timezone(self, user_id: str) -> str | None:
        """The time zone ``user_id`` chose, if any."""
        value = await self.db.scalar("SELECT timezone FROM users WHERE user_id = ?", (user_id,))
        return str(value) if value else None

    async def zone_of(self, user_id: str, guild_id: str) -> str | None:
        """The zone the learner's days follow in ``guild_id`` as the store sees it (chosen,
        else the server's, else Seoul for Korean); None: the coach's default."""
        value = await self.db.scalar(
            "SELECT zone FROM learner_zones WHERE user_id = ? AND guild_id = ?",
            (user_id, guild_id),
        )
        return str(value) if value else None

    async def member(self, guild_id: str, user_id: str) -> Member | None:
        row = await self.db.fetchone(
            "SELECT user_id, guild_id, display_name FROM memberships "
            "WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return Member(row[0], row[1], row[2]) if row else None

    async def names_in(self, guild_id: str) -> dict[str, str]:
        """Every member known on ``guild_id``: user id → display name (one query)."""
        rows = await self.db.fetchall(
            "SELECT user_id, display_name FROM memberships WHERE guild_id = ?", (guild_id,)
        )
        return {row[0]: row[1] for row in rows}

    async def known_user_ids(self) -> set[str]:
        rows = await self.db.fetchall("SELECT user_id FROM users")
        return {row[0] for row in rows}

    async def forget(self, user_id: str) -> bool:
        """Delete everything about ``user_id`` (every table cascades from users)."""
        self._forget_locale(user_id)
        deleted = await self.db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
        self._forget_locale(user_id)
        self._ensured = {key for key in self._ensured if key[0] != user_id}
        return deleted > 0
