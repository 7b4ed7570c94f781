"""The outbox's rooms: a front end that has them opens one; the others leave the session in
its channel."""

from __future__ import annotations

import pytest

from bot.core.posts import ROOM_FORBIDDEN, Outbox, Room, RoomRequest

ASKED = RoomRequest("g1", "c1", "Your first container", "group practice")


async def test_no_front_end_with_rooms_keeps_the_session_in_its_channel() -> None:
    assert await Outbox().open_room(ASKED) == Room()


async def test_the_first_room_opened_wins_and_a_failing_opener_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox, asked = Outbox(), []

    async def broken(request: RoomRequest) -> Room:
        raise RuntimeError("no")

    async def refusing(request: RoomRequest) -> Room:
        asked.append(request)
        return Room(refused=ROOM_FORBIDDEN)

    async def opening(request: RoomRequest) -> Room:
        return Room(channel_id="thread-1")

    for opener in (broken, refusing):
        outbox.can_open_rooms(opener)
    assert await outbox.open_room(ASKED) == Room(refused=ROOM_FORBIDDEN)
    assert asked == [ASKED] and "could not open a room" in caplog.text
    stop = outbox.can_open_rooms(opening)
    assert await outbox.open_room(ASKED) == Room(channel_id="thread-1")
    stop()
    assert await outbox.open_room(ASKED) == Room(refused=ROOM_FORBIDDEN)
