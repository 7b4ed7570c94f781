"""The messages the coach posts on its own (:mod:`bot.core.posts`), sent and edited in place
within Discord's rate limits.

Discord lets a bot post or edit about five messages per five seconds in one channel. A
channel round with many members changes its scoreboard far more often than that, so each
channel has one queue worked at most once per ``interval``: a live message (a post with a
key) waiting in the queue is replaced by its newer version instead of being queued again, so
only the latest board is ever sent, and no change is lost (the last one always shows).

Which message shows a live post is remembered in memory and in the store
(:mod:`bot.store.live`), so that after a restart a resumed round edits its own scoreboard
instead of posting a new one; a message someone deleted is posted again, once, and the new
one is remembered.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.core.i18n import Translator
from bot.core.posts import Post
from bot.discordbot.render import Message, Renderer, merge
from bot.discordbot.views import PromptMemory
from bot.store.live import LiveMessageRepo

log = logging.getLogger("bot.discord.live")

MEDIUM = "discord"
THREAD_ARCHIVED = 50083  # Discord: the operation cannot be done in an archived thread
UNKNOWN_CHANNEL = 10003


@dataclass
class LiveStats:
    """What the queues did (the benchmark and the health report read it)."""

    posted: int = 0
    sent: int = 0
    edited: int = 0
    coalesced: int = 0
    failed: int = 0
    moments: list[float] = field(default_factory=list)  # when each send or edit was made


class LivePoster:
    """Shows posts in their channel: a new message, or an edit of the live message."""

    def __init__(
        self,
        client: discord.Client,
        translator: Callable[[], Translator],
        interval: float,
        prompts: PromptMemory | None = None,
        memory: Callable[[], LiveMessageRepo | None] = lambda: None,
    ) -> None:
        """``memory``: where message ids outlive the process (None: in memory only)."""
        self.client = client
        self.memory = memory
        self.translator = translator
        self.interval = interval
        self.prompts = prompts
        self.stats = LiveStats()
        self._ids: dict[str, tuple[str, int]] = {}  # key -> (channel, message) showing it
        self._gone: set[str] = set()  # channels Discord said no longer exist
        self._pending: dict[str, Post] = {}
        self._queues: dict[str, asyncio.Queue[str]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._once = itertools.count()

    async def post(self, post: Post) -> None:
        """Queue ``post`` (returns at once; the channel's worker shows it in turn)."""
        if not post.channel_id.isdigit():
            log.warning(
                "a post for a channel Discord cannot have", extra={"channel": post.channel_id}
            )
            return
        self.stats.posted += 1
        key = post.key or f"once:{next(self._once)}"
        if key in self._pending:
            self._pending[key] = post  # the newer version takes the queued one's turn
            self.stats.coalesced += 1
            return
        self._pending[key] = post
        self._queue(post.channel_id).put_nowait(key)

    def _queue(self, channel_id: str) -> asyncio.Queue[str]:
        queue = self._queues.get(channel_id)
        if queue is None:
            queue = self._queues[channel_id] = asyncio.Queue()
            self._workers[channel_id] = asyncio.create_task(
                self._work(queue), name=f"live-channel-{channel_id}"
            )
        return queue

    async def _work(self, queue: asyncio.Queue[str]) -> None:
        loop = asyncio.get_running_loop()
        ready_at = 0.0
        while True:
            key = await queue.get()
            try:
                wait = ready_at - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                post = self._pending.pop(key, None)
                if post is None:
                    continue
                try:
                    await self._show(key, post)
                except discord.HTTPException:
                    self.stats.failed += 1
                    log.warning(
                        "could not post in a channel",
                        exc_info=True,
                        extra={"channel": post.channel_id, "key": post.key},
                    )
                ready_at = loop.time() + self.interval
                self.stats.moments.append(loop.time())
            finally:
                queue.task_done()

    async def _show(self, key: str, post: Post) -> None:
        """Show ``post`` in its channel; if Discord says that channel is gone (a deleted
        thread) and the post has a fallback, there from now on."""
        target = post.channel_id
        if target in self._gone and post.fallback:
            target = post.fallback
        try:
            await self._show_in(key, post, target)
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_CHANNEL or not post.fallback or target == post.fallback:
                raise
            self._gone.add(post.channel_id)
            log.info(
                "a post's channel is gone: shown in its fallback",
                extra={"channel": post.channel_id, "fallback": post.fallback, "key": post.key},
            )
            await self._show_in(key, post, post.fallback)

    async def _show_in(self, key: str, post: Post, channel_id: str) -> None:
        messages = merge(Renderer(self.translator(), prompts=self.prompts).render(post.reply))
        guild = int(post.guild_id) if post.guild_id.isdigit() else None
        channel = self.client.get_partial_messageable(int(channel_id), guild_id=guild)
        first, *rest = messages
        known = await self._known(post, channel_id) if post.key is not None else None
        if known is not None:
            try:
                await self._edit(channel, known, first)
                return
            except discord.NotFound:  # deleted by someone: post it again
                self._ids.pop(key, None)
        sent = await channel.send(**_kwargs(first))
        self.stats.sent += 1
        if post.key is not None:
            self._ids[key] = (channel_id, sent.id)
            await self._remember(post, channel_id, sent.id)
        for message in rest:
            await channel.send(**_kwargs(message))
            self.stats.sent += 1

    async def _edit(
        self, channel: discord.PartialMessageable, message_id: int, message: Message
    ) -> None:
        """Edit a live message; in a thread Discord archived (a day without messages) the
        thread is unarchived first (the bot may, unless a moderator locked it)."""
        target = channel.get_partial_message(message_id)
        try:
            await target.edit(**message.channel_edit_kwargs())
        except discord.HTTPException as exc:
            if exc.code != THREAD_ARCHIVED:
                raise
            await self.client.http.edit_channel(
                channel.id, archived=False, reason="a live board changed"
            )
            await target.edit(**message.channel_edit_kwargs())
        self.stats.edited += 1

    async def _known(self, post: Post, channel_id: str) -> int | None:
        """The message showing ``post``: this process's, else the one the store remembers
        (made before a restart) if it is in ``channel_id``."""
        assert post.key is not None
        known = self._ids.get(post.key)
        if known is not None:
            return known[1] if known[0] == channel_id else None
        repo = self.memory()
        if repo is None:
            return None
        try:
            found = await repo.find(MEDIUM, post.key)
        except Exception:  # no memory now: a new message (shown, if not where it was)
            log.warning("could not read a live message's id", exc_info=True)
            return None
        if found is None or found.channel_id != channel_id or not found.message_id.isdigit():
            return None
        self._ids[post.key] = (channel_id, int(found.message_id))
        return int(found.message_id)

    async def _remember(self, post: Post, channel_id: str, message_id: int) -> None:
        repo = self.memory()
        if repo is None or post.key is None:
            return
        try:
            await repo.remember(MEDIUM, post.key, channel_id, str(message_id))
        except Exception:  # the message is shown; only a restart would post it again
            log.warning("could not remember a live message", exc_info=True, extra={"key": post.key})

    async def drain(self) -> None:
        """Wait until every queued post has been shown."""
        for queue in list(self._queues.values()):
            await queue.join()

    async def close(self) -> None:
        for task in self._workers.values():
            task.cancel()
        for task in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        self._queues.clear()


def _kwargs(message: Message) -> dict[str, Any]:
    return message.channel_kwargs()
