"""Per-server settings (guild_settings): kept across restarts, cached, refreshed on change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.core.clock import FixedClock
from bot.store import Store


@asynccontextmanager
async def opened(path: Path, clock: FixedClock) -> AsyncIterator[Store]:
    store = await Store.open(path, clock)
    try:
        yield store
    finally:
        await store.close()


async def test_the_practice_channel_is_kept_per_server(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "coach.sqlite3"
    async with opened(path, clock) as store:
        assert await store.guilds.practice_channel("g1") is None
        await store.guilds.set_practice_channel("g1", "123")
        assert await store.guilds.practice_channel("g1") == "123"
        assert await store.guilds.practice_channel("g2") is None
    async with opened(path, clock) as store:
        assert await store.guilds.practice_channel("g1") == "123"
        await store.guilds.set_practice_channel("g1", None)
        assert await store.guilds.practice_channel("g1") is None
        row = await store.db.fetchone("SELECT * FROM guild_settings WHERE guild_id = 'g1'")
        assert row is not None and row["practice_channel_id"] is None and row["updated_at"]


async def test_reads_are_cached_and_a_change_refreshes_them(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with opened(tmp_path / "coach.sqlite3", clock) as store:
        await store.guilds.set_practice_channel("g1", "123")
        # Behind the repository's back: the cached answer stays (only this process writes).
        await store.db.execute("UPDATE guild_settings SET practice_channel_id = '999'")
        assert await store.guilds.practice_channel("g1") == "123"
        await store.guilds.set_practice_channel("g1", "456")
        assert await store.guilds.practice_channel("g1") == "456"
        assert await store.db.scalar("SELECT practice_channel_id FROM guild_settings") == "456"


async def test_a_read_racing_a_change_never_caches_the_old_value(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with opened(tmp_path / "coach.sqlite3", clock) as store:
        await store.guilds.set_practice_channel("g1", "old")
        store.guilds._channels.clear()  # a cold cache, as after a restart
        real_scalar, have_read, release = store.db.scalar, asyncio.Event(), asyncio.Event()

        async def late_scalar(*args):  # the real read, whose answer arrives late
            value = await real_scalar(*args)
            have_read.set()
            await release.wait()
            return value

        store.db.scalar = late_scalar  # type: ignore[method-assign]
        read = asyncio.create_task(store.guilds.practice_channel("g1"))
        await have_read.wait()
        await store.guilds.set_practice_channel("g1", "new")
        release.set()
        assert await read == "old"  # it read before the change...
        store.db.scalar = real_scalar  # type: ignore[method-assign]
        assert await store.guilds.practice_channel("g1") == "new"  # ...and was not cached


async def test_the_plan_counts_who_read_passed_every_question_and_completed_a_scenario(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Per concept: members who read it; who answered each of its questions right at least
    once (not only some); who completed one of its scenarios. Another server's do not count."""
    from datetime import timedelta

    from bot.store.quiz import AnswerInput
    from tests.store.helpers import fixed_schedule, person

    store = await Store.open(tmp_path / "coach.sqlite3", clock)
    try:
        questions = {"volume": ["v1", "v2"], "network": ["n1"]}
        scenarios = {"volume": ["volumes"], "network": ["networks"]}
        due = clock.now() + timedelta(days=1)

        async def answers(who, rights: dict[str, bool]) -> None:
            ids = [(qid, ()) for qid in rights]
            round_id = await store.quiz.create_round(who, "quiz", "docker", ids)
            for position, (qid, right) in enumerate(rights.items()):
                answer = AnswerInput(round_id, position, qid, "0", right, 3.0, 3)
                await store.quiz.record_answer(who, answer, fixed_schedule(due))

        ann, ben, cat = person("ann", "g"), person("ben", "g"), person("cat", "other")
        await store.progress.record_read(ann, "volume")
        await store.progress.record_read(ben, "volume")
        await store.progress.record_read(cat, "volume")
        await answers(ann, {"v1": True, "v2": False})
        await answers(ann, {"v2": True})  # right at last: both volume questions passed
        await answers(ben, {"v1": True, "n1": False})  # v2 never right: not passed
        await answers(cat, {"v1": True, "v2": True})
        await store.practice.record_completion(ben, "volumes", 0)
        await store.practice.record_completion(cat, "volumes", 0)
        found = await store.study.concept_progress("g", ["volume", "network"], questions, scenarios)
        assert [(p.concept_id, p.read, p.passed, p.completed) for p in found] == [
            ("volume", 2, 1, 1),
            ("network", 0, 0, 0),
        ]
    finally:
        await store.close()
