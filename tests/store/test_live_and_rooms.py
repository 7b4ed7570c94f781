"""Migration 0008 on a real SQLite file: the messages live posts are shown in (kept across
restarts, pruned when old) and group practices that run in a room (a Discord thread)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.core.clock import FixedClock
from bot.store import Store
from bot.store.live import KEEP, LiveMessage
from tests.store.helpers import person


async def test_a_live_message_outlives_the_process_and_old_ones_are_pruned(
    tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "coach.sqlite3"
    store = await Store.open(path, clock)
    try:
        await store.live_messages.remember("discord", "study:board:1", "10", "111")
        await store.live_messages.remember("discord", "study:board:1", "10", "222")  # re-posted
        await store.live_messages.remember("console", "study:board:1", "console", "9")
    finally:
        await store.close()
    store = await Store.open(path, clock)  # a restart
    try:
        repo = store.live_messages
        assert await repo.find("discord", "study:board:1") == LiveMessage("10", "222")
        assert await repo.find("console", "study:board:1") == LiveMessage("console", "9")
        assert await repo.find("discord", "study:board:2") is None
        clock.advance(KEEP + timedelta(minutes=1))
        await repo.remember("discord", "study:board:3", "10", "333")  # writing prunes the old
        assert await repo.find("discord", "study:board:1") is None
        assert await repo.find("discord", "study:board:3") == LiveMessage("10", "333")
        await repo.forget("discord", "study:board:3")
        assert await repo.find("discord", "study:board:3") is None
    finally:
        await store.close()


async def test_a_practice_in_a_room_is_found_from_the_room_and_its_channel(
    tmp_path: Path, clock: FixedClock
) -> None:
    store = await Store.open(tmp_path / "coach.sqlite3", clock)
    try:
        study, alice = store.study, person("alice")
        practice_id = await study.open_practice(alice, "chan", "first-container", "en")
        assert practice_id is not None
        await study.set_room(practice_id, "thread")
        for where in ("chan", "thread"):
            found = await study.live_practice("g1", where)
            assert found is not None and found.practice_id == practice_id
            assert found.posts_to == "thread"
        assert await study.live_practice("g2", "thread") is None  # another server
        assert await study.open_practice(alice, "thread", "first-container", "en") is None
        assert await study.open_practice(alice, "chan", "first-container", "en") is None
        other = await study.open_practice(alice, "elsewhere", "first-container", "en")
        assert other is not None
        plain = await study.live_practice("g1", "elsewhere")
        assert plain is not None and plain.room_id is None and plain.posts_to == "elsewhere"
        assert await study.end_practice(practice_id)
        assert await study.live_practice("g1", "thread") is None
        again = await study.open_practice(alice, "thread", "first-container", "en")
        assert again is not None  # the room is free once its practice ended
    finally:
        await store.close()


async def test_a_room_refusal_is_told_once_per_reason(tmp_path: Path, clock: FixedClock) -> None:
    store = await Store.open(tmp_path / "coach.sqlite3", clock)
    try:
        study = store.study
        assert await study.rooms_refused("g1", "forbidden")
        assert not await study.rooms_refused("g1", "forbidden")
        assert await study.rooms_refused("g1", "unsupported")  # another reason: told
        assert await study.rooms_refused("g2", "forbidden")  # another server
        assert not await study.rooms_refused("g1", None)  # a room was opened: forgotten
        assert await study.rooms_refused("g1", "forbidden")  # refused again later: told again
    finally:
        await store.close()
