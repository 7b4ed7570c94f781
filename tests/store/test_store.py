"""The store on real SQLite files: settings, constraints, forgetting, scoping, concurrency."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.store import Store, WriterFailed
from bot.store.db import LOCAL_DAY
from bot.store.practice import SessionRecord
from bot.store.quiz import AnswerInput
from tests.store.helpers import answer_round, fixed_schedule, person

# Tables of migrations 0001-0002 that hold a user_id (later migrations add more).
OURS = {
    "users", "memberships", "activity", "concept_reads", "rounds", "answers",
    "question_stats", "cards",
}  # fmt: skip


@pytest.fixture
async def store(tmp_path: Path, clock: FixedClock):
    opened = await Store.open(tmp_path / "data" / "coach.sqlite3", clock)
    try:
        yield opened
    finally:
        await opened.close()


async def pragma(store: Store, name: str):
    async def job(conn):
        rows = await conn.execute_fetchall(f"PRAGMA {name}")
        return rows[0][0]

    return await store.db.write(job)


async def test_connection_settings(store: Store) -> None:
    assert store.path.parent.is_dir()
    assert await pragma(store, "journal_mode") == "wal"
    assert await pragma(store, "synchronous") == 2  # FULL
    assert await pragma(store, "foreign_keys") == 1
    assert await pragma(store, "busy_timeout") >= 1000


async def test_an_answer_is_recorded_once(store: Store) -> None:
    alice = person("alice")
    round_id = await store.quiz.create_round(alice, "quiz", None, [("q0", ())])
    answer = AnswerInput(round_id, 0, "q0", "1", True, 2.0, 4)
    due = store.clock.now() + timedelta(days=2)
    first = await store.quiz.record_answer(alice, answer, fixed_schedule(due))
    second = await store.quiz.record_answer(alice, answer, fixed_schedule(due))
    assert first.recorded and not second.recorded
    assert await store.quiz.answer_count(round_id) == 1
    totals = await store.progress.totals("alice", "g1")
    assert (totals.answers, totals.correct) == (1, 1)


async def test_the_unique_constraint_is_in_the_schema(store: Store) -> None:
    alice = person("alice")
    await answer_round(store, alice, questions=1)
    conn = sqlite3.connect(store.path)
    conn.create_function(*LOCAL_DAY)  # the schema's triggers use it (migration 0005)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(
                "INSERT INTO answers (round_id, position, user_id, guild_id, question_id, given,"
                " correct, seconds, rating, answered_at) "
                "SELECT round_id, position, user_id, guild_id, question_id, given, correct, "
                "seconds, rating, answered_at FROM answers"
            )
    finally:
        conn.close()


async def test_forget_user_deletes_every_row_in_every_table(store: Store) -> None:
    alice, bob = person("alice"), person("bob")
    now = store.clock.now()
    for who in (alice, bob, person("alice", "g2")):
        await answer_round(store, who)
        await store.progress.record_read(who, "volume")
        await store.progress.record_practice_step(who)
        record = SessionRecord(who.user_id, who.guild_id, "volumes", now, now)
        await store.practice.start_session(who, record)
        await store.practice.record_step(who, "volumes", "write", skipped=False)
        await store.practice.record_completion(who, "volumes", skipped=0)
    await store.users.set_locale(alice, "ko")
    assert await store.known_user_ids() == {"alice", "bob"}
    tables = [
        row[0]
        for row in await store.db.fetchall(
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p "
            "WHERE m.type = 'table' AND p.name = 'user_id'"
        )
    ]
    assert set(tables) >= OURS | {"practice_sessions", "practice_steps", "practice_completions"}

    async def rows_of(user: str, table: str) -> int:
        return int(
            await store.db.scalar(f"SELECT count(*) FROM {table} WHERE user_id = ?", (user,))
        )

    for table in tables:  # a table this test writes nothing to would prove nothing
        assert await rows_of("alice", table) > 0, table
    assert await store.forget_user("alice")
    assert await store.known_user_ids() == {"bob"}
    for table in tables:
        assert await rows_of("alice", table) == 0, table
        assert await rows_of("bob", table) > 0, table
    orphans = await store.db.scalar(
        "SELECT count(*) FROM round_questions WHERE round_id NOT IN (SELECT round_id FROM rounds)"
    )
    assert orphans == 0
    assert not await store.forget_user("alice")


async def test_progress_is_scoped_by_server(store: Store) -> None:
    await answer_round(store, person("alice", "g1"), questions=3)
    await answer_round(store, person("alice", "g2"), questions=1, correct=False)
    g1 = await store.progress.totals("alice", "g1")
    g2 = await store.progress.totals("alice", "g2")
    assert (g1.answers, g1.correct) == (3, 3)
    assert (g2.answers, g2.correct) == (1, 0)
    assert [r.user_id for r in await store.progress.leaderboard("g3")] == []


async def test_many_users_answering_at_once(store: Store) -> None:
    users = [person(f"user{i}", f"g{i % 3}") for i in range(40)]
    rounds = await asyncio.gather(
        *(
            store.quiz.create_round(u, "quiz", None, [(f"q{j}", ()) for j in range(5)])
            for u in users
        )
    )
    due = store.clock.now() + timedelta(days=1)

    async def answer_all(who, round_id):
        results = []
        for position in range(5):
            answer = AnswerInput(round_id, position, f"q{position}", "0", position % 2 == 0, 1, 3)
            results.append(await store.quiz.record_answer(who, answer, fixed_schedule(due)))
        return results

    before = store.db.batches
    outcomes = await asyncio.gather(*(answer_all(u, r) for u, r in zip(users, rounds, strict=True)))
    assert all(o.recorded for results in outcomes for o in results)
    assert await store.db.scalar("SELECT count(*) FROM answers") == 200
    assert await store.db.scalar("SELECT sum(answers) FROM activity") == 200
    assert await store.db.scalar("SELECT count(*) FROM rounds WHERE finished_at IS NULL") == 0
    # Group commit: concurrent answers shared transactions.
    assert store.db.batches - before < 200


async def test_a_failing_job_does_not_take_its_batch_down(store: Store) -> None:
    alice = person("alice")
    await store.users.ensure(alice)

    async def bad(conn):
        await conn.execute(
            "INSERT INTO memberships (guild_id, user_id, display_name, "
            "first_seen, last_seen) VALUES ('g', 'nobody', '', '', '')"
        )

    async def good(conn):
        await conn.execute("UPDATE users SET display_name = 'Al' WHERE user_id = 'alice'")
        return "ok"

    results = await asyncio.gather(
        store.db.write(good), store.db.write(bad), store.db.write(good), return_exceptions=True
    )
    assert results[0] == "ok" and results[2] == "ok"
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert await store.db.scalar("SELECT display_name FROM users WHERE user_id = 'alice'") == "Al"
    assert await store.db.scalar("SELECT count(*) FROM memberships WHERE user_id = 'nobody'") == 0


async def test_locale_preference(store: Store) -> None:
    alice = person("alice")
    assert await store.users.locale("alice") is None
    await store.users.set_locale(alice, "ko")
    assert await store.users.locale("alice") == "ko"
    with pytest.raises(sqlite3.IntegrityError):
        await store.users.set_locale(alice, "fr")
    assert await store.users.locale("alice") == "ko"  # a refused change leaves the old one


async def test_locale_is_read_once_and_follows_changes(store: Store) -> None:
    """Every request asks for the language: it comes from memory, and is never stale."""
    alice = person("alice")
    await store.users.set_locale(alice, "ko")
    reads: list[str] = []
    scalar = store.db.scalar

    async def counting(sql: str, *args, **kwargs):
        reads.append(sql)
        return await scalar(sql, *args, **kwargs)

    store.db.scalar = counting  # type: ignore[method-assign]
    for _ in range(3):
        assert await store.users.locale("alice") == "ko"
        assert await store.users.locale("bob") is None
    assert len(reads) == 1  # bob once; alice was remembered when she chose
    await store.users.set_locale(alice, "en")
    assert await store.users.locale("alice") == "en"
    racing = asyncio.create_task(store.users.locale("carol"))
    await asyncio.sleep(0)
    await store.users.set_locale(person("carol"), "ko")  # while carol's read is in flight
    await racing
    assert await store.users.locale("carol") == "ko"
    await store.forget_user("alice")
    assert await store.users.locale("alice") is None


async def test_closing_finishes_queued_writes(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "c.sqlite3"
    store = await Store.open(path, clock)
    pending = [
        asyncio.create_task(store.progress.record_read(person(f"u{i}"), "volume"))
        for i in range(20)
    ]
    await asyncio.sleep(0)
    await store.close()
    await asyncio.gather(*pending)
    reopened = await Store.open(path, clock)
    try:
        assert len(await reopened.known_user_ids()) == 20
    finally:
        await reopened.close()


class _WriterBug(BaseException):
    """Not an ``Exception``: the writer does not treat it as one failing job."""


async def test_a_writer_that_stops_fails_every_write_and_close_raises(
    tmp_path: Path, clock: FixedClock
) -> None:
    store = await Store.open(tmp_path / "w.sqlite3", clock)

    async def bug(_conn: object) -> None:
        raise _WriterBug("the writer itself broke")

    queued = asyncio.create_task(store.progress.record_read(person("queued"), "volume"))
    with pytest.raises(WriterFailed, match="_WriterBug: the writer itself broke"):
        await store.db.write(bug)
    with pytest.raises(WriterFailed):
        await queued  # waiting behind the broken batch: failed, not left hanging
    with pytest.raises(WriterFailed):
        await store.progress.record_read(person("later"), "volume")
    with pytest.raises(WriterFailed):
        await store.close()  # the failure surfaces at close instead of vanishing
