"""Messages the coach posts on its own: a channel's live scoreboard, a group's practice
board, the daily question.

A capability publishes a :class:`Post` to the coach's :class:`Outbox`; every front end that
can show a channel subscribes and shows it there. A post with a ``key`` is a *live* message:
the first post with that key is a new message, later ones take its place (a front end that
can edit messages edits that one, within its medium's rate limits, keeping only the latest
content when edits come faster than it may make them; a terminal prints it again).

A session that lasts (a group practice) may ask for a *room* of its own in its channel
(:meth:`Outbox.open_room`): a front end whose medium has them (Discord's threads) opens one
and says where it is; the others leave the session in its channel.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.core.reply import Reply

T = TypeVar("T")
log = logging.getLogger("bot.posts")


@dataclass(frozen=True, slots=True)
class Post:
    """``reply`` for everyone in ``channel_id`` of ``guild_id``; ``key`` names a live message;
    ``fallback``: where to show it if ``channel_id`` is gone (a session's room someone
    deleted: the channel the session was opened in)."""

    guild_id: str
    channel_id: str
    reply: Reply
    key: str | None = None
    fallback: str | None = None


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """Give ``user_id`` the role ``role_id`` in ``guild_id`` (a milestone's reward)."""

    guild_id: str
    user_id: str
    role_id: str
    reason: str


ROOM_FORBIDDEN = "forbidden"  # the medium has rooms, but the bot may not open one there
ROOM_UNSUPPORTED = "unsupported"  # that kind of channel cannot have rooms


@dataclass(frozen=True, slots=True)
class RoomRequest:
    """A session opened in ``channel_id`` of ``guild_id`` asks for a room of its own called
    ``name`` (a thread of that channel, on Discord); ``reason`` is for the server's logs."""

    guild_id: str
    channel_id: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Room:
    """Where a session runs: ``channel_id``, a room of its own (or the channel itself, when
    it already is a room); None: the channel it was opened in. ``refused`` says why a
    medium that has rooms did not open one (:data:`ROOM_FORBIDDEN`, :data:`ROOM_UNSUPPORTED`)."""

    channel_id: str | None = None
    refused: str | None = None


Subscriber = Callable[[Post], Awaitable[None]]
Granter = Callable[[RoleGrant], Awaitable[bool]]
RoomOpener = Callable[[RoomRequest], Awaitable[Room]]


def _registered(items: list[T], item: T) -> Callable[[], None]:
    """Add ``item`` to ``items``; the returned function takes it out again (once)."""
    items.append(item)

    def remove() -> None:
        if item in items:
            items.remove(item)

    return remove


class Outbox:
    """Where capabilities publish posts and front ends receive them (in order)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._granters: list[Granter] = []
        self._openers: list[RoomOpener] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every post from now on; call the returned function to stop."""
        return _registered(self._subscribers, subscriber)

    def can_grant(self, granter: Granter) -> Callable[[], None]:
        """A front end whose medium has roles gives them (True: given; False: refused, the
        bot may not manage roles there)."""
        return _registered(self._granters, granter)

    async def grant(self, grant: RoleGrant) -> bool | None:
        """Give a role through the front ends that can: True when one did, False when they
        were refused, None when no front end has roles (a terminal)."""
        outcome: bool | None = None
        for granter in list(self._granters):
            try:
                given = await granter(grant)
            except Exception:
                log.exception("a front end could not give a role", extra={"role": grant.role_id})
                continue
            if given:
                return True
            outcome = False
        return outcome

    def can_open_rooms(self, opener: RoomOpener) -> Callable[[], None]:
        """A front end whose medium has rooms (threads) opens them for sessions."""
        return _registered(self._openers, opener)

    async def open_room(self, request: RoomRequest) -> Room:
        """A room for a session: the first front end that opens one says where; else why
        one was refused; ``Room()`` (stay in the channel) when no front end has rooms or
        one failed unexpectedly (logged)."""
        outcome = Room()
        for opener in list(self._openers):
            try:
                room = await opener(request)
            except Exception:
                log.exception("a front end could not open a room", extra={"room": request.name})
                continue
            if room.channel_id is not None:
                return room
            outcome = room if room.refused else outcome
        return outcome

    @property
    def audience(self) -> int:
        """How many front ends receive posts (none: nobody would see them)."""
        return len(self._subscribers)

    async def publish(self, post: Post) -> None:
        """Hand ``post`` to every subscriber; one that fails is logged, the others still get it."""
        for subscriber in list(self._subscribers):
            try:
                await subscriber(post)
            except Exception:
                log.exception("a front end could not show a post", extra={"key": post.key})
