"""Study groups (migration 0006): server study settings, channel rounds and their answers,
group practice sessions. Deadlines live here so that timers survive a restart."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.core.clock import Clock
from bot.store.db import Database
from bot.store.quiz import QuizRepo, Recorded, Schedule, question_rows
from bot.store.timefmt import parse, stamp
from bot.store.users import Who, ensure_member


@dataclass(frozen=True, slots=True)
class StudyGuild:
    guild_id: str
    locale: str | None = None
    server_locale: str | None = None
    daily_channel_id: str | None = None
    daily_time: str | None = None
    daily_timezone: str | None = None
    daily_last_day: str | None = None
    summary_last_week: str | None = None
    plan: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupQuestion:
    position: int
    question_id: str
    option_order: tuple[int, ...]
    shown_at: datetime | None


@dataclass(frozen=True, slots=True)
class GroupRound:
    round_id: int
    guild_id: str
    channel_id: str
    kind: str
    host_id: str | None
    locale: str
    topic: str | None
    seconds: int
    position: int
    deadline: datetime
    started_at: datetime
    ended_at: datetime | None
    questions: tuple[GroupQuestion, ...]

    @property
    def size(self) -> int:
        return len(self.questions)

    @property
    def live(self) -> bool:
        return self.ended_at is None

    @property
    def current(self) -> GroupQuestion:
        return self.questions[min(self.position, len(self.questions) - 1)]


@dataclass(frozen=True, slots=True)
class Standing:
    """One player's score in a round."""

    user_id: str
    display_name: str
    points: int
    correct: int
    answered: int


@dataclass(frozen=True, slots=True)
class GroupAnswer:
    round_id: int
    position: int
    question_id: str
    given: str
    correct: bool
    seconds: float
    rating: int
    points: int


@dataclass(frozen=True, slots=True)
class GroupPractice:
    practice_id: int
    guild_id: str
    channel_id: str
    scenario_id: str
    host_id: str | None
    locale: str
    started_at: datetime
    ended_at: datetime | None
    room_id: str | None = None  # a room of its own (a Discord thread) where it runs

    @property
    def posts_to(self) -> str:
        """Where its board and summary go: its room, else the channel it was opened in."""
        return self.room_id or self.channel_id


@dataclass(frozen=True, slots=True)
class PracticeMember:
    user_id: str
    display_name: str
    steps_done: int
    hints: int
    finished: bool


@dataclass(frozen=True, slots=True)
class ConceptProgress:
    """How many members of a server read a concept, passed its questions, did its scenario."""

    concept_id: str
    read: int
    passed: int
    completed: int


def _order(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",")) if text else ()


_SETTINGS = (
    "SELECT guild_id, locale, daily_channel_id, daily_time, daily_timezone, daily_last_day, "
    "summary_last_week, plan, server_locale FROM study_settings"
)


def _guild(row: Sequence[object]) -> StudyGuild:
    return StudyGuild(
        guild_id=str(row[0]),
        locale=str(row[1]) if row[1] else None,
        daily_channel_id=str(row[2]) if row[2] else None,
        daily_time=str(row[3]) if row[3] else None,
        daily_timezone=str(row[4]) if row[4] else None,
        daily_last_day=str(row[5]) if row[5] else None,
        summary_last_week=str(row[6]) if row[6] else None,
        plan=tuple(json.loads(str(row[7]) or "[]")),
        server_locale=str(row[8]) if row[8] else None,
    )


class StudyRepo:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def _now(self) -> str:
        return stamp(self.clock.now())

    # settings -------------------------------------------------------------------------
    async def settings(self, guild_id: str) -> StudyGuild:
        row = await self.db.fetchone(_SETTINGS + " WHERE guild_id = ?", (guild_id,))
        return _guild(row) if row is not None else StudyGuild(guild_id)

    async def _set(self, guild_id: str, column: str, value: object) -> None:
        assert column in {"locale", "plan", "server_locale"}
        await self.db.execute(
            f"INSERT INTO study_settings (guild_id, {column}, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT (guild_id) DO UPDATE SET {column} = excluded.{column}, "
            "updated_at = excluded.updated_at",
            (guild_id, value, self._now()),
        )

    async def set_locale(self, guild_id: str, locale: str | None) -> None:
        await self._set(guild_id, "locale", locale)

    async def note_server_locale(self, guild_id: str, locale: str) -> None:
        """Remember the server's own language (the fallback for what is posted there)."""
        current = await self.settings(guild_id)
        if current.server_locale != locale:
            await self._set(guild_id, "server_locale", locale)

    async def set_plan(self, guild_id: str, concepts: Sequence[str]) -> None:
        await self._set(guild_id, "plan", json.dumps(list(concepts)))

    async def set_daily(
        self, guild_id: str, channel_id: str | None, time: str | None, timezone: str | None
    ) -> None:
        """Choose (or, with None, stop) the daily question. A day already posted stays posted."""
        await self.db.execute(
            "INSERT INTO study_settings (guild_id, daily_channel_id, daily_time, daily_timezone, "
            "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
            "daily_channel_id = excluded.daily_channel_id, daily_time = excluded.daily_time, "
            "daily_timezone = excluded.daily_timezone, updated_at = excluded.updated_at",
            (guild_id, channel_id, time, timezone, self._now()),
        )

    async def daily_guilds(self) -> list[StudyGuild]:
        rows = await self.db.fetchall(_SETTINGS + " WHERE daily_channel_id IS NOT NULL")
        return [_guild(row) for row in rows]

    async def claim_daily(self, guild_id: str, day: str) -> bool:
        """Mark ``day`` (local) as the day whose question is posted; False if it already was.
        Claimed before posting: a restart during the post never posts the day twice."""
        changed = await self.db.execute(
            "UPDATE study_settings SET daily_last_day = ? WHERE guild_id = ? "
            "AND (daily_last_day IS NULL OR daily_last_day < ?)",
            (day, guild_id, day),
        )
        return changed == 1

    async def claim_summary(self, guild_id: str, week: str) -> bool:
        changed = await self.db.execute(
            "UPDATE study_settings SET summary_last_week = ? WHERE guild_id = ? "
            "AND (summary_last_week IS NULL OR summary_last_week < ?)",
            (week, guild_id, week),
        )
        return changed == 1

    # role rewards ---------------------------------------------------------------------
    async def set_reward(self, guild_id: str, milestone: str, role_id: str | None) -> None:
        if role_id is None:
            await self.db.execute(
                "DELETE FROM study_rewards WHERE guild_id = ? AND milestone = ?",
                (guild_id, milestone),
            )
            return
        await self.db.execute(
            "INSERT INTO study_rewards (guild_id, milestone, role_id) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id, milestone) DO UPDATE SET role_id = excluded.role_id",
            (guild_id, milestone, role_id),
        )

    async def rewards(self, guild_id: str) -> dict[str, str]:
        rows = await self.db.fetchall(
            "SELECT milestone, role_id FROM study_rewards WHERE guild_id = ?", (guild_id,)
        )
        return {str(r[0]): str(r[1]) for r in rows}

    async def claim_reward(self, who: Who, milestone: str) -> bool:
        """Mark ``milestone`` as rewarded for ``who``; False when it already was."""
        when = self._now()

        async def job(conn: aiosqlite.Connection) -> bool:
            await ensure_member(conn, who, when)
            cursor = await conn.execute(
                "INSERT INTO study_rewarded (guild_id, user_id, milestone, granted_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (who.guild_id, who.user_id, milestone, when),
            )
            return cursor.rowcount == 1

        return await self.db.write(job)

    async def unclaim_reward(self, who: Who, milestone: str) -> None:
        await self.db.execute(
            "DELETE FROM study_rewarded WHERE guild_id = ? AND user_id = ? AND milestone = ?",
            (who.guild_id, who.user_id, milestone),
        )

    async def roles_refused(self, guild_id: str, refused: bool) -> bool:
        """Record whether the bot may give roles in ``guild_id``; True when a refusal is new
        (the server has not been told yet)."""
        if not refused:
            await self.db.execute(
                "UPDATE study_settings SET roles_refused_at = NULL WHERE guild_id = ?", (guild_id,)
            )
            return False
        changed = await self.db.execute(
            "INSERT INTO study_settings (guild_id, roles_refused_at, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET roles_refused_at = excluded.roles_refused_at "
            "WHERE roles_refused_at IS NULL",
            (guild_id, self._now(), self._now()),
        )
        return changed == 1

    async def rooms_refused(self, guild_id: str, reason: str | None) -> bool:
        """Record why a room (a thread) could not be opened in ``guild_id`` (None: one was);
        True when the reason is new (the server has not been told it yet)."""
        if reason is None:
            await self.db.execute(
                "UPDATE study_settings SET rooms_refused = NULL WHERE guild_id = ? "
                "AND rooms_refused IS NOT NULL",
                (guild_id,),
            )
            return False
        changed = await self.db.execute(
            "INSERT INTO study_settings (guild_id, rooms_refused, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET rooms_refused = excluded.rooms_refused "
            "WHERE rooms_refused IS NOT excluded.rooms_refused",
            (guild_id, reason, self._now()),
        )
        return changed == 1

    async def concepts_read_by(self, user_id: str, guild_id: str) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT concept_id FROM concept_reads WHERE user_id = ? AND guild_id = ?",
            (user_id, guild_id),
        )
        return {str(r[0]) for r in rows}

    async def scenarios_completed_by(self, user_id: str, guild_id: str) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT scenario_id FROM practice_completions WHERE user_id = ? AND guild_id = ?",
            (user_id, guild_id),
        )
        return {str(r[0]) for r in rows}

    # rounds ---------------------------------------------------------------------------
    async def create_round(
        self,
        host: Who | None,
        guild_id: str,
        channel_id: str,
        kind: str,
        *,
        locale: str,
        topic: str | None,
        seconds: int,
        deadline: datetime,
        questions: Sequence[tuple[str, Sequence[int]]],
    ) -> int | None:
        """A new round whose first question is on show; None when a quiz round is already live
        in the channel (one at a time). ``host`` None: the coach's own (the daily question)."""
        when = self._now()

        async def job(conn: aiosqlite.Connection) -> int | None:
            if kind == "quiz":
                live = list(
                    await conn.execute_fetchall(
                        "SELECT 1 FROM study_rounds WHERE guild_id = ? AND channel_id = ? "
                        "AND kind = 'quiz' AND ended_at IS NULL",
                        (guild_id, channel_id),
                    )
                )
                if live:
                    return None
            if host is not None:
                await ensure_member(conn, host, when)
            cursor = await conn.execute(
                "INSERT INTO study_rounds (guild_id, channel_id, kind, host_id, locale, topic, "
                "seconds, size, deadline, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    channel_id,
                    kind,
                    host.user_id if host is not None else None,
                    locale,
                    topic,
                    seconds,
                    len(questions),
                    stamp(deadline),
                    when,
                ),
            )
            round_id = int(cursor.lastrowid or 0)
            await conn.executemany(
                "INSERT INTO study_round_questions (round_id, position, question_id, "
                "option_order, shown_at) VALUES (?, ?, ?, ?, ?)",
                question_rows(round_id, questions, when),
            )
            return round_id

        return await self.db.write(job)

    async def round(self, round_id: int) -> GroupRound | None:
        head = await self.db.fetchone(
            "SELECT round_id, guild_id, channel_id, kind, host_id, locale, topic, seconds, "
            "position, deadline, started_at, ended_at FROM study_rounds WHERE round_id = ?",
            (round_id,),
        )
        if head is None:
            return None
        rows = await self.db.fetchall(
            "SELECT position, question_id, option_order, shown_at FROM study_round_questions "
            "WHERE round_id = ? ORDER BY position",
            (round_id,),
        )
        return GroupRound(
            round_id=head[0],
            guild_id=head[1],
            channel_id=head[2],
            kind=head[3],
            host_id=head[4],
            locale=head[5],
            topic=head[6],
            seconds=head[7],
            position=head[8],
            deadline=parse(head[9]),
            started_at=parse(head[10]),
            ended_at=parse(head[11]) if head[11] else None,
            questions=tuple(
                GroupQuestion(r[0], r[1], _order(r[2]), parse(r[3]) if r[3] else None) for r in rows
            ),
        )

    async def live_round(self, guild_id: str, channel_id: str) -> GroupRound | None:
        value = await self.db.scalar(
            "SELECT round_id FROM study_rounds WHERE guild_id = ? AND channel_id = ? "
            "AND kind = 'quiz' AND ended_at IS NULL",
            (guild_id, channel_id),
        )
        return await self.round(int(value)) if value is not None else None

    async def open_rounds(self, kind: str | None = None) -> list[int]:
        """Every round still running (all kinds, or one)."""
        rows = await self.db.fetchall(
            "SELECT round_id FROM study_rounds WHERE ended_at IS NULL "
            "AND (? IS NULL OR kind = ?) ORDER BY round_id",
            (kind, kind),
        )
        return [int(row[0]) for row in rows]

    async def due_rounds(self, now: datetime) -> list[int]:
        """Running rounds whose question closed at or before ``now``."""
        rows = await self.db.fetchall(
            "SELECT round_id FROM study_rounds WHERE ended_at IS NULL AND deadline <= ? "
            "ORDER BY deadline",
            (stamp(now),),
        )
        return [int(row[0]) for row in rows]

    async def join(self, round_id: int, who: Who) -> bool:
        when = self._now()

        async def job(conn: aiosqlite.Connection) -> bool:
            await ensure_member(conn, who, when)
            cursor = await conn.execute(
                "INSERT INTO study_players (round_id, user_id, display_name, joined_at, since) "
                "SELECT ?, ?, ?, ?, position FROM study_rounds WHERE round_id = ? "
                "ON CONFLICT DO NOTHING",
                (round_id, who.user_id, who.display_name[:100], when, round_id),
            )
            return cursor.rowcount == 1

        return await self.db.write(job)

    async def record_answer(self, who: Who, answer: GroupAnswer, schedule: Schedule) -> Recorded:
        """One member's answer to the question on show, with its FSRS card, in one write.

        Nothing is recorded when the member already answered it, or when the question is no
        longer on show (the timer or the host moved on: checked inside the transaction).
        """
        when = self._now()

        async def job(conn: aiosqlite.Connection) -> Recorded:
            on_show = list(
                await conn.execute_fetchall(
                    "SELECT 1 FROM study_rounds WHERE round_id = ? AND position = ? "
                    "AND ended_at IS NULL",
                    (answer.round_id, answer.position),
                )
            )
            if not on_show:
                return Recorded(False)
            await ensure_member(conn, who, when)
            await conn.execute(
                "INSERT INTO study_players (round_id, user_id, display_name, joined_at, since) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (answer.round_id, who.user_id, who.display_name[:100], when, answer.position + 1),
            )
            cursor = await conn.execute(
                "INSERT INTO study_answers (round_id, position, user_id, guild_id, question_id, "
                "given, correct, seconds, rating, points, answered_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    answer.round_id,
                    answer.position,
                    who.user_id,
                    who.guild_id,
                    answer.question_id,
                    answer.given[:500],
                    int(answer.correct),
                    max(0.0, answer.seconds),
                    answer.rating,
                    answer.points,
                    when,
                ),
            )
            if cursor.rowcount == 0:
                return Recorded(False)
            due = await QuizRepo._reschedule(conn, who, answer.question_id, schedule, when)
            return Recorded(True, due)

        return await self.db.write(job)

    async def advance(self, round_id: int, position: int, deadline: datetime) -> bool:
        """Show the next question if ``position`` is still on show (False: someone else moved
        the round on first: a timer and ``/study next`` never skip two questions)."""
        when = self._now()

        async def job(conn: aiosqlite.Connection) -> bool:
            cursor = await conn.execute(
                "UPDATE study_rounds SET position = position + 1, deadline = ? "
                "WHERE round_id = ? AND position = ? AND ended_at IS NULL "
                "AND position + 1 < size",
                (stamp(deadline), round_id, position),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute(
                "UPDATE study_round_questions SET shown_at = ? WHERE round_id = ? AND position = ?",
                (when, round_id, position + 1),
            )
            return True

        return await self.db.write(job)

    async def end_round(self, round_id: int, reason: str) -> bool:
        """End the round (False: it had already ended)."""
        changed = await self.db.execute(
            "UPDATE study_rounds SET ended_at = ?, end_reason = ? "
            "WHERE round_id = ? AND ended_at IS NULL",
            (self._now(), reason, round_id),
        )
        return changed == 1

    async def standings(self, round_id: int) -> list[Standing]:
        """Every player, best first (points, then correct answers, then who joined first)."""
        rows = await self.db.fetchall(
            "SELECT p.user_id, p.display_name, coalesce(sum(a.points), 0), "
            "coalesce(sum(a.correct), 0), count(a.user_id) "
            "FROM study_players p LEFT JOIN study_answers a "
            "ON a.round_id = p.round_id AND a.user_id = p.user_id "
            "WHERE p.round_id = ? GROUP BY p.user_id "
            "ORDER BY 3 DESC, 4 DESC, p.joined_at, p.user_id",
            (round_id,),
        )
        return [Standing(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    async def answered(self, round_id: int, position: int) -> dict[str, bool]:
        """Who answered question ``position`` and whether they were right."""
        rows = await self.db.fetchall(
            "SELECT user_id, correct FROM study_answers WHERE round_id = ? AND position = ?",
            (round_id, position),
        )
        return {str(r[0]): bool(r[1]) for r in rows}

    async def players(self, round_id: int) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM study_players WHERE round_id = ?", (round_id,)
        )
        return {str(r[0]) for r in rows}

    async def waiting_on(self, round_id: int, position: int) -> int:
        """Players the round waits for on question ``position`` (joined with ``/study join``,
        or by answering an earlier question) who have not answered it yet; -1 when it waits
        for nobody (then only the timer or the host moves on)."""
        row = await self.db.fetchone(
            "SELECT count(*), coalesce(sum(NOT EXISTS (SELECT 1 FROM study_answers a "
            "WHERE a.round_id = p.round_id AND a.position = ? AND a.user_id = p.user_id)), 0) "
            "FROM study_players p WHERE p.round_id = ? AND p.since <= ?",
            (position, round_id, position),
        )
        if row is None or not row[0]:
            return -1
        return int(row[1])

    async def answer_count(self, round_id: int) -> int:
        return int(
            await self.db.scalar(
                "SELECT count(*) FROM study_answers WHERE round_id = ?", (round_id,), 0
            )
        )

    # the group's record (daily question, plan) -----------------------------------------
    async def group_stats(self, guild_id: str) -> dict[str, tuple[int, int]]:
        """Per question: attempts and correct answers of the whole server."""
        rows = await self.db.fetchall(
            "SELECT question_id, sum(attempts), sum(correct) FROM question_stats "
            "WHERE guild_id = ? GROUP BY question_id",
            (guild_id,),
        )
        return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}

    async def concepts_read(self, guild_id: str) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT concept_id FROM concept_reads WHERE guild_id = ?", (guild_id,)
        )
        return {str(r[0]) for r in rows}

    async def recent_daily(self, guild_id: str, limit: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT q.question_id FROM study_rounds r JOIN study_round_questions q "
            "ON q.round_id = r.round_id WHERE r.guild_id = ? AND r.kind = 'daily' "
            "ORDER BY r.round_id DESC LIMIT ?",
            (guild_id, limit),
        )
        return [str(r[0]) for r in rows]

    async def member_count(self, guild_id: str) -> int:
        return int(
            await self.db.scalar(
                "SELECT count(*) FROM memberships WHERE guild_id = ?", (guild_id,), 0
            )
        )

    async def concept_progress(
        self,
        guild_id: str,
        concepts: Iterable[str],
        questions: dict[str, list[str]],
        scenarios: dict[str, list[str]],
    ) -> list[ConceptProgress]:
        """For each concept: members who read it, who answered each of its questions right at
        least once (``questions``: concept -> question ids), and who completed one of its
        scenarios (``scenarios``: concept -> scenario ids)."""
        found: list[ConceptProgress] = []
        for concept in concepts:
            read = await self.db.scalar(
                "SELECT count(DISTINCT user_id) FROM concept_reads "
                "WHERE guild_id = ? AND concept_id = ?",
                (guild_id, concept),
                0,
            )
            asked = questions.get(concept, [])
            passed = 0
            if asked:
                marks = ",".join("?" * len(asked))
                passed = await self.db.scalar(
                    "SELECT count(*) FROM (SELECT user_id FROM question_stats "
                    f"WHERE guild_id = ? AND correct > 0 AND question_id IN ({marks}) "
                    "GROUP BY user_id HAVING count(*) = ?)",
                    (guild_id, *asked, len(asked)),
                    0,
                )
            done = scenarios.get(concept, [])
            completed = 0
            if done:
                marks = ",".join("?" * len(done))
                completed = await self.db.scalar(
                    "SELECT count(DISTINCT user_id) FROM practice_completions "
                    f"WHERE guild_id = ? AND scenario_id IN ({marks})",
                    (guild_id, *done),
                    0,
                )
            found.append(ConceptProgress(concept, int(read), int(passed), int(completed)))
        return found

    # group practice -------------------------------------------------------------------
    async def open_practice(
        self, host: Who, channel_id: str, scenario_id: str, locale: str
    ) -> int | None:
        """A new group practice in the channel; None when one is already open there (opened
        in it, or running in it as its room)."""
        when = self._now()

        async def job(conn: aiosqlite.Connection) -> int | None:
            live = list(
                await conn.execute_fetchall(
                    "SELECT 1 FROM study_practices WHERE guild_id = ? AND ended_at IS NULL "
                    "AND (channel_id = ? OR room_id = ?)",
                    (host.guild_id, channel_id, channel_id),
                )
            )
            if live:
                return None
            await ensure_member(conn, host, when)
            cursor = await conn.execute(
                "INSERT INTO study_practices (guild_id, channel_id, scenario_id, host_id, "
                "locale, started_at) VALUES (?, ?, ?, ?, ?, ?)",
                (host.guild_id, channel_id, scenario_id, host.user_id, locale, when),
            )
            return int(cursor.lastrowid or 0)

        return await self.db.write(job)

    _PRACTICE = (
        "SELECT practice_id, guild_id, channel_id, scenario_id, host_id, locale, started_at, "
        "ended_at, room_id FROM study_practices"
    )

    @staticmethod
    def _practice(row: Sequence[object]) -> GroupPractice:
        return GroupPractice(
            practice_id=int(str(row[0])),
            guild_id=str(row[1]),
            channel_id=str(row[2]),
            scenario_id=str(row[3]),
            host_id=str(row[4]) if row[4] else None,
            locale=str(row[5]),
            started_at=parse(str(row[6])),
            ended_at=parse(str(row[7])) if row[7] else None,
            room_id=str(row[8]) if row[8] else None,
        )

    async def practice(self, practice_id: int) -> GroupPractice | None:
        row = await self.db.fetchone(self._PRACTICE + " WHERE practice_id = ?", (practice_id,))
        return self._practice(row) if row is not None else None

    async def live_practice(self, guild_id: str, channel_id: str) -> GroupPractice | None:
        """The open group practice of ``channel_id``: opened there, or running there (its
        room); the one running in the room first, when both are open."""
        row = await self.db.fetchone(
            self._PRACTICE + " WHERE guild_id = ? AND ended_at IS NULL "
            "AND (room_id = ? OR channel_id = ?) ORDER BY room_id = ? DESC LIMIT 1",
            (guild_id, channel_id, channel_id, channel_id),
        )
        return self._practice(row) if row is not None else None

    async def set_room(self, practice_id: int, room_id: str) -> None:
        """The group practice runs in ``room_id`` (a thread opened for it) from now on."""
        await self.db.execute(
            "UPDATE study_practices SET room_id = ? WHERE practice_id = ?", (room_id, practice_id)
        )

    async def practices_of(self, user_id: str) -> list[GroupPractice]:
        """The open group practices ``user_id`` takes part in."""
        rows = await self.db.fetchall(
            self._PRACTICE + " WHERE ended_at IS NULL AND practice_id IN "
            "(SELECT practice_id FROM study_practice_members WHERE user_id = ?)",
            (user_id,),
        )
        return [self._practice(row) for row in rows]

    async def join_practice(self, practice_id: int, who: Who) -> bool:
        when = self._now()

        async def job(conn: aiosqlite.Connection) -> bool:
            await ensure_member(conn, who, when)
            cursor = await conn.execute(
                "INSERT INTO study_practice_members (practice_id, user_id, display_name, "
                "joined_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (practice_id, who.user_id, who.display_name[:100], when),
            )
            return cursor.rowcount == 1

        return await self.db.write(job)

    async def practice_members(self, practice_id: int) -> list[PracticeMember]:
        rows = await self.db.fetchall(
            "SELECT user_id, display_name, steps_done, hints, finished_at IS NOT NULL "
            "FROM study_practice_members WHERE practice_id = ? ORDER BY joined_at, user_id",
            (practice_id,),
        )
        return [PracticeMember(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    async def update_member(
        self, practice_id: int, user_id: str, steps_done: int, finished: bool
    ) -> bool:
        """Record a member's place; True when it changed (the board needs an update)."""
        changed = await self.db.execute(
            "UPDATE study_practice_members SET steps_done = ?, finished_at = CASE WHEN ? "
            "THEN coalesce(finished_at, ?) END WHERE practice_id = ? AND user_id = ? "
            "AND (steps_done != ? OR (finished_at IS NOT NULL) != ?)",
            (steps_done, finished, self._now(), practice_id, user_id, steps_done, finished),
        )
        return changed == 1

    async def add_hint(self, practice_id: int, user_id: str) -> None:
        await self.db.execute(
            "UPDATE study_practice_members SET hints = hints + 1 "
            "WHERE practice_id = ? AND user_id = ?",
            (practice_id, user_id),
        )

    async def end_practice(self, practice_id: int) -> bool:
        changed = await self.db.execute(
            "UPDATE study_practices SET ended_at = ? WHERE practice_id = ? AND ended_at IS NULL",
            (self._now(), practice_id),
        )
        return changed == 1
