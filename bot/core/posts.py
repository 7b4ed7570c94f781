"""Messages the coach posts on its own: a channel's live scoreboard, a group's practice
board, the daily question.

A capability publishes a :class:`Post` to the coach's :class:`Outbox`; every front end that
can show a channel subscribes and shows it there. A post with a ``key`` is a *live* message:
the first post with that key is a new message, later ones take its place (a front end that
can edit messages edits that one, within its medium's rate limits, keeping only the latest
content when edits come faster than it may make them; a terminal prints it again).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.reply import Reply

log = logging.getLogger("bot.posts")


@dataclass(frozen=True, slots=True)
class Post:
    """``reply`` for everyone in ``channel_id`` of ``guild_id``; ``key`` names a live message."""

    guild_id: str
    channel_id: str
    reply: Reply
    key: str | None = None


Subscriber = Callable[[Post], Awaitable[None]]


class Outbox:
    """Where capabilities publish posts and front ends receive them (in order)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every post from now on; call the returned function to stop."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

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
