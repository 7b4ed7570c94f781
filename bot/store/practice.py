"""Practice sessions, finished steps and completed scenarios (migration 0003)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.clock import Clock
from bot.store.activity import activity_bump
from bot.store.db import Database
from bot.store.timefmt import parse, stamp
from bot.store.users import Statement, Who, write_for_member

# A session keeps at most this many recorded commands (checks look at the recent ones).
USED_LIMIT = 200
_COLUMNS = (
    "user_id, guild_id, scenario_id, step_index, hints_shown, skipped, used, remembered, "
    "last_fail, started_at, step_started_at"
)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A saved practice session, as the ``practice_sessions`` row holds it.

    ``used`` is ``(step index, token)`` pairs (``run``, ``volume create``, ``sh:wget``);
    ``remembered`` maps container names to the ids an earlier step captured. The practice
    capability turns this record into its working session and back.
    """

    user_id: str
    guild_id: str
    scenario_id: str
    started_at: datetime
    step_started_at: datetime
    step_index: int = 0
    hints_shown: int = 0
    skipped: int = 0
    used: tuple[tuple[int, str], ...] = ()
    remembered: tuple[tuple[str, str], ...] = ()
    last_fail: str | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """A scenario finished in one server: how often, and steps skipped in the latest run."""

    scenario_id: str
    times: int
    skipped: int


@dataclass(frozen=True, slots=True)
class PracticeSummary:
    """What ``/progress`` shows about practice in one server."""

    steps_done: int
    steps_skipped: int
    completions: tuple[Completion, ...]

    @property
    def anything(self) -> bool:
        """Whether there is any practice to show."""
        return bool(self.steps_done or self.steps_skipped or self.completions)

    @property
    def scenarios_completed(self) -> tuple[str, ...]:
        """Ids of the completed scenarios, first completed first."""
        return tuple(c.scenario_id for c in self.completions)


def _session(row: Any) -> SessionRecord:
    used = tuple((int(index), str(command)) for index, command in json.loads(row["used"]))
    remembered = json.loads(row["remembered"]).items()
    return SessionRecord(
        user_id=row["user_id"],
        guild_id=row["guild_id"],
        scenario_id=row["scenario_id"],
        step_index=int(row["step_index"]),
        hints_shown=int(row["hints_shown"]),
        skipped=int(row["skipped"]),
        used=used,
        remembered=tuple(sorted((str(k), str(v)) for k, v in remembered)),
        last_fail=row["last_fail"],
        started_at=parse(row["started_at"]),
        step_started_at=parse(row["step_started_at"]),
    )


def _values(session: SessionRecord) -> tuple[Any, ...]:
    return (
        session.user_id,
        session.guild_id,
        session.scenario_id,
        session.step_index,
        session.hints_shown,
        session.skipped,
        json.dumps([list(pair) for pair in session.used[-USED_LIMIT:]]),
        json.dumps(dict(session.remembered), sort_keys=True),
        session.last_fail,
        stamp(session.started_at),
        stamp(session.step_started_at),
    )


class PracticeRepo:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # sessions -----------------------------------------------------------------------
    async def load_session(self, user_id: str) -> SessionRecord | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM practice_sessions WHERE user_id = ?", (user_id,)
        )
        return _session(row) if row else None

    async def start_session(self, who: Who, session: SessionRecord) -> None:
        """Begin ``session`` for ``who``, replacing any session they had."""
        when = stamp(self.clock.now())
        await write_for_member(
            self.db,
            who,
            when,
            (
                f"INSERT OR REPLACE INTO practice_sessions ({_COLUMNS}, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*_values(session), when),
            ),
        )

    async def save_session(self, session: SessionRecord) -> None:
        """Save where ``session`` is now (nothing happens if it was ended meanwhile)."""
        values = _values(session)
        await self.db.execute(
            "UPDATE practice_sessions SET guild_id = ?, scenario_id = ?, step_index = ?, "
            "hints_shown = ?, skipped = ?, used = ?, remembered = ?, last_fail = ?, "
            "started_at = ?, step_started_at = ?, updated_at = ? "
            "WHERE user_id = ? AND scenario_id = ?",
            (*values[1:], stamp(self.clock.now()), session.user_id, session.scenario_id),
        )

    async def end_session(self, user_id: str) -> None:
        await self.db.execute("DELETE FROM practice_sessions WHERE user_id = ?", (user_id,))

    # results ------------------------------------------------------------------------
    async def record_step(self, who: Who, scenario_id: str, step_id: str, skipped: bool) -> None:
        """A step passed (or was skipped); a passed step counts toward today's activity."""
        when = stamp(self.clock.now())
        statements: list[Statement] = [
            (
                "INSERT INTO practice_steps (user_id, guild_id, scenario_id, step_id, skipped, "
                "first_done, last_done) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id, guild_id, scenario_id, step_id) DO UPDATE SET "
                "skipped = min(skipped, excluded.skipped), last_done = excluded.last_done",
                (who.user_id, who.guild_id, scenario_id, step_id, int(skipped), when, when),
            )
        ]
        if not skipped:
            statements.append(activity_bump(who, when, practice=1))
        await write_for_member(self.db, who, when, *statements)

    async def record_completion(self, who: Who, scenario_id: str, skipped: int) -> None:
        when = stamp(self.clock.now())
        await write_for_member(
            self.db,
            who,
            when,
            (
                "INSERT INTO practice_completions (user_id, guild_id, scenario_id, skipped, "
                "first_completed, last_completed) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id, guild_id, scenario_id) DO UPDATE SET "
                "times = times + 1, skipped = excluded.skipped, "
                "last_completed = excluded.last_completed",
                (who.user_id, who.guild_id, scenario_id, skipped, when, when),
            ),
        )

    # reading ------------------------------------------------------------------------
    async def completed_scenarios(self, user_id: str, guild_id: str) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT scenario_id FROM practice_completions WHERE user_id = ? AND guild_id = ?",
            (user_id, guild_id),
        )
        return {row["scenario_id"] for row in rows}

    async def steps_done(self, user_id: str, guild_id: str) -> int:
        """Practice steps passed (not skipped) in this server, each counted once."""
        return int(
            await self.db.scalar(
                "SELECT count(*) FROM practice_steps "
                "WHERE user_id = ? AND guild_id = ? AND skipped = 0",
                (user_id, guild_id),
                0,
            )
        )

    async def summary(self, user_id: str, guild_id: str) -> PracticeSummary:
        rows = await self.db.fetchall(
            "SELECT skipped, count(*) AS n FROM practice_steps "
            "WHERE user_id = ? AND guild_id = ? GROUP BY skipped",
            (user_id, guild_id),
        )
        counts = {int(row["skipped"]): int(row["n"]) for row in rows}
        completed = await self.db.fetchall(
            "SELECT scenario_id, times, skipped FROM practice_completions "
            "WHERE user_id = ? AND guild_id = ? ORDER BY first_completed, scenario_id",
            (user_id, guild_id),
        )
        return PracticeSummary(
            steps_done=counts.get(0, 0),
            steps_skipped=counts.get(1, 0),
            completions=tuple(
                Completion(row["scenario_id"], int(row["times"]), int(row["skipped"]))
                for row in completed
            ),
        )
