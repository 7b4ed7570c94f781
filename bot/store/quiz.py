"""Quiz rounds, answers, per-question tallies and FSRS cards."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.core.clock import Clock
from bot.core.errors import StoreError
from bot.store.db import Database
from bot.store.timefmt import parse, stamp
from bot.store.users import Who, ensure_member

# Given a question's stored FSRS card (JSON, None for a new one), the card after this answer
# and when it is due next. Runs inside the write transaction.
Schedule = Callable[[str | None], tuple[str, datetime]]


@dataclass(frozen=True, slots=True)
class RoundQuestion:
    position: int
    question_id: str
    option_order: tuple[int, ...]
    shown_at: datetime | None
    answered: bool
    correct: bool | None


@dataclass(frozen=True, slots=True)
class Round:
    round_id: int
    user_id: str
    guild_id: str
    kind: str
    topic: str | None
    created_at: datetime
    finished_at: datetime | None
    questions: tuple[RoundQuestion, ...]

    @property
    def size(self) -> int:
        return len(self.questions)

    @property
    def score(self) -> int:
        return sum(1 for q in self.questions if q.correct)

    def question(self, position: int) -> RoundQuestion | None:
        return self.questions[position] if 0 <= position < len(self.questions) else None


@dataclass(frozen=True, slots=True)
class Recorded:
    """The outcome of recording an answer: ``recorded`` is False when it was already there."""

    recorded: bool
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class CardRow:
    question_id: str
    card: str
    due: datetime
    reviews: int


@dataclass(frozen=True, slots=True)
class QuestionStat:
    question_id: str
    attempts: int
    correct: int
    last_correct: bool
    last_answered: datetime


@dataclass(frozen=True, slots=True)
class AnswerInput:
    round_id: int
    position: int
    question_id: str
    given: str
    correct: bool
    seconds: float
    rating: int


def question_rows(
    round_id: int, questions: Sequence[tuple[str, Sequence[int]]], when: str
) -> list[tuple[int, int, str, str, str | None]]:
    """The rows of a new round's questions: (round, position, question, option order, shown
    at — only the first question is shown at once)."""
    return [
        (round_id, i, qid, ",".join(map(str, order)), when if i == 0 else None)
        for i, (qid, order) in enumerate(questions)
    ]


def _order(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",")) if text else ()


class QuizRepo:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def create_round(
        self,
        who: Who,
        kind: str,
        topic: str | None,
        questions: Sequence[tuple[str, Sequence[int]]],
    ) -> int:
        """A new round of ``(question_id, option_order)``; its first question counts as shown."""
        if not questions:
            raise StoreError("a round needs at least one question")
        when = stamp(self.clock.now())

        async def job(conn: aiosqlite.Connection) -> int:
            await ensure_member(conn, who, when)
            cursor = await conn.execute(
                "INSERT INTO rounds (user_id, guild_id, kind, topic, size, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (who.user_id, who.guild_id, kind, topic, len(questions), when),
            )
            round_id = int(cursor.lastrowid or 0)
            await conn.executemany(
                "INSERT INTO round_questions (round_id, position, question_id, option_order, "
                "shown_at) VALUES (?, ?, ?, ?, ?)",
                question_rows(round_id, questions, when),
            )
            return round_id

        return await self.db.write(job)

    async def round(self, round_id: int) -> Round | None:
        head = await self.db.fetchone(
            "SELECT round_id, user_id, guild_id, kind, topic, created_at, finished_at "
            "FROM rounds WHERE round_id = ?",
            (round_id,),
        )
        if head is None:
            return None
        rows = await self.db.fetchall(
            "SELECT q.position, q.question_id, q.option_order, q.shown_at, a.correct "
            "FROM round_questions q LEFT JOIN answers a "
            "ON a.round_id = q.round_id AND a.position = q.position "
            "WHERE q.round_id = ? ORDER BY q.position",
            (round_id,),
        )
        questions = tuple(
            RoundQuestion(
                position=row[0],
                question_id=row[1],
                option_order=_order(row[2]),
                shown_at=parse(row[3]) if row[3] else None,
                answered=row[4] is not None,
                correct=None if row[4] is None else bool(row[4]),
            )
            for row in rows
        )
        return Round(
            round_id=head[0],
            user_id=head[1],
            guild_id=head[2],
            kind=head[3],
            topic=head[4],
            created_at=parse(head[5]),
            finished_at=parse(head[6]) if head[6] else None,
            questions=questions,
        )

    async def record_answer(self, who: Who, answer: AnswerInput, schedule: Schedule) -> Recorded:
        """Record one answer and update its FSRS card, in one transaction.

        Nothing is changed when the question was already answered (the UNIQUE constraint).
        The ``answers_tally`` trigger updates the day's activity and the question's tally,
        shows the next question (its answer time starts now) or finishes the round. The
        round's creation made sure ``who`` exists; this hot path skips that.
        """
        when = stamp(self.clock.now())
        values = (
            answer.round_id,
            answer.position,
            who.user_id,
            who.guild_id,
            answer.question_id,
            answer.given[:500],
            int(answer.correct),
            max(0.0, answer.seconds),
            answer.rating,
            when,
        )

        async def job(conn: aiosqlite.Connection) -> Recorded:
            cursor = await conn.execute(
                "INSERT INTO answers (round_id, position, user_id, guild_id, question_id, given, "
                "correct, seconds, rating, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (round_id, position) DO NOTHING",
                values,
            )
            if cursor.rowcount == 0:
                return Recorded(False)
            due = await self._reschedule(conn, who, answer.question_id, schedule, when)
            return Recorded(True, due)

        return await self.db.write(job)

    @staticmethod
    async def _reschedule(
        conn: aiosqlite.Connection, who: Who, question_id: str, schedule: Schedule, when: str
    ) -> datetime:
        rows = list(
            await conn.execute_fetchall(
                "SELECT card FROM cards WHERE user_id = ? AND guild_id = ? AND question_id = ?",
                (who.user_id, who.guild_id, question_id),
            )
        )
        card, due = schedule(rows[0][0] if rows else None)
        await conn.execute(
            "INSERT INTO cards (user_id, guild_id, question_id, card, due, last_review) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, guild_id, question_id) "
            "DO UPDATE SET card = excluded.card, due = excluded.due, "
            "last_review = excluded.last_review, reviews = reviews + 1",
            (who.user_id, who.guild_id, question_id, card, stamp(due), when),
        )
        return due

    async def due_cards(
        self, user_id: str, guild_id: str, now: datetime, limit: int
    ) -> list[CardRow]:
        rows = await self.db.fetchall(
            "SELECT question_id, card, due, reviews FROM cards "
            "WHERE user_id = ? AND guild_id = ? AND due <= ? ORDER BY due LIMIT ?",
            (user_id, guild_id, stamp(now), limit),
        )
        return [CardRow(r[0], r[1], parse(r[2]), r[3]) for r in rows]

    async def upcoming(self, user_id: str, guild_id: str, limit: int = 5) -> list[CardRow]:
        """The next cards to review, soonest first (due ones included)."""
        rows = await self.db.fetchall(
            "SELECT question_id, card, due, reviews FROM cards "
            "WHERE user_id = ? AND guild_id = ? ORDER BY due LIMIT ?",
            (user_id, guild_id, limit),
        )
        return [CardRow(r[0], r[1], parse(r[2]), r[3]) for r in rows]

    async def count_due(self, user_id: str, guild_id: str, now: datetime) -> int:
        return int(
            await self.db.scalar(
                "SELECT count(*) FROM cards WHERE user_id = ? AND guild_id = ? AND due <= ?",
                (user_id, guild_id, stamp(now)),
                0,
            )
        )

    async def question_stats(self, user_id: str, guild_id: str) -> list[QuestionStat]:
        rows = await self.db.fetchall(
            "SELECT question_id, attempts, correct, last_correct, last_answered "
            "FROM question_stats WHERE user_id = ? AND guild_id = ?",
            (user_id, guild_id),
        )
        return [QuestionStat(r[0], r[1], r[2], bool(r[3]), parse(r[4])) for r in rows]

    async def answer_count(self, round_id: int) -> int:
        return int(
            await self.db.scalar("SELECT count(*) FROM answers WHERE round_id = ?", (round_id,), 0)
        )
