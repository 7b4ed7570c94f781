"""Learning activity: concept reads, days with activity, totals and leaderboards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.core.clock import Clock
from bot.store.activity import activity_bump
from bot.store.db import Database
from bot.store.timefmt import parse, stamp, to_date
from bot.store.users import Who, write_for_member


@dataclass(frozen=True, slots=True)
class DayActivity:
    day: date
    answers: int
    correct: int
    reads: int
    practice: int
    next_due: datetime | None

    @property
    def events(self) -> int:
        return self.answers + self.reads + self.practice


@dataclass(frozen=True, slots=True)
class Totals:
    concepts_read: int
    answers: int
    correct: int
    practice_events: int


@dataclass(frozen=True, slots=True)
class LeaderRow:
    user_id: str
    display_name: str
    points: int
    correct: int
    answers: int
    practice: int
    active_days: int


class ProgressRepo:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def record_read(self, who: Who, concept_id: str) -> None:
        when = stamp(self.clock.now())
        await write_for_member(
            self.db,
            who,
            when,
            (
                "INSERT INTO concept_reads (user_id, guild_id, concept_id, first_read, last_read)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, guild_id, concept_id) "
                "DO UPDATE SET last_read = excluded.last_read, times = times + 1",
                (who.user_id, who.guild_id, concept_id, when, when),
            ),
            activity_bump(who, when, reads=1),
        )

    async def record_practice_step(self, who: Who, steps: int = 1) -> None:
        """Count finished practice steps toward today's activity (streaks, chart, points)."""
        when = stamp(self.clock.now())
        await write_for_member(self.db, who, when, activity_bump(who, when, practice=steps))

    async def days(
        self, user_id: str, guild_id: str, since: date | None = None
    ) -> list[DayActivity]:
        """Days with activity, oldest first."""
        rows = await self.db.fetchall(
            "SELECT day, answers, correct, reads, practice, next_due FROM activity "
            "WHERE user_id = ? AND guild_id = ? AND day >= ? ORDER BY day",
            (user_id, guild_id, since.isoformat() if since else ""),
        )
        return [
            DayActivity(to_date(r[0]), r[1], r[2], r[3], r[4], parse(r[5]) if r[5] else None)
            for r in rows
        ]

    async def totals(self, user_id: str, guild_id: str) -> Totals:
        row = await self.db.fetchone(
            "SELECT (SELECT count(*) FROM concept_reads WHERE user_id = ?1 AND guild_id = ?2), "
            "coalesce(sum(answers), 0), coalesce(sum(correct), 0), coalesce(sum(practice), 0) "
            "FROM activity WHERE user_id = ?1 AND guild_id = ?2",
            (user_id, guild_id),
        )
        assert row is not None
        return Totals(row[0], row[1], row[2], row[3])

    async def concepts_read(self, user_id: str, guild_id: str) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT concept_id FROM concept_reads WHERE user_id = ? AND guild_id = ?",
            (user_id, guild_id),
        )
        return {row[0] for row in rows}

    async def leaderboard(
        self, guild_id: str, since: date | None = None, limit: int = 10
    ) -> list[LeaderRow]:
        """Members of ``guild_id`` by points (correct answers + practice steps) since a day."""
        rows = await self.db.fetchall(
            "SELECT a.user_id, m.display_name, sum(a.correct) + sum(a.practice) AS points, "
            "sum(a.correct), sum(a.answers), sum(a.practice), count(*) "
            "FROM activity a JOIN memberships m "
            "ON m.guild_id = a.guild_id AND m.user_id = a.user_id "
            "WHERE a.guild_id = ? AND a.day >= ? "
            "GROUP BY a.user_id HAVING points > 0 OR sum(a.answers) > 0 "
            "ORDER BY points DESC, sum(a.answers) DESC, count(*) DESC, a.user_id LIMIT ?",
            (guild_id, since.isoformat() if since else "", limit),
        )
        return [LeaderRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]
