"""The Discord client: slash commands only, no privileged intents."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, Literal

import discord
from discord.ext import commands

from bot.core.posts import ROOM_FORBIDDEN, ROOM_UNSUPPORTED, RoleGrant, Room, RoomRequest
from bot.discordbot.frontend import DiscordFrontend
from bot.discordbot.health import INTERVAL_SECONDS, keep_writing, write_health
from bot.discordbot.live import LivePoster
from bot.discordbot.translator import CatalogTranslator
from bot.discordbot.tree import CoachTree
from bot.discordbot.views import ASK_MARK, ActionButton, submitted_text

log = logging.getLogger("bot.discord")

# A session's thread hides after a day without messages.
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440
CANNOT_ON_CHANNEL_TYPE = 50024  # Discord: "Cannot execute action on this channel type"

EXTENSIONS: tuple[str, ...] = (
    "bot.exts.general",
    "bot.exts.concepts",
    "bot.exts.sandbox",
    "bot.exts.quiz",
    "bot.exts.progress",
    "bot.exts.practice",
    "bot.exts.admin",
    "bot.exts.study",
)


def intents() -> discord.Intents:
    """Only what a slash-command bot needs: guild events (no privileged intents)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


class CoachBot(commands.Bot):
    """Loads one extension per feature; the cogs only translate to and from the core."""

    def __init__(
        self,
        coach: Any,
        *,
        extensions: Sequence[str] = EXTENSIONS,
        health_interval: float = INTERVAL_SECONDS,
        **options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            tree_cls=CoachTree,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.coach = coach
        self.front = DiscordFrontend(coach)
        self.extension_names = tuple(extensions)
        self.health_interval = health_interval
        self._health_task: asyncio.Task[None] | None = None
        settings = coach.settings
        self.live = LivePoster(
            self,
            lambda: coach.translator(settings.default_locale),
            settings.discord.live_edit_seconds,
            self.front.prompts,
            memory=lambda: coach.store.live_messages if coach.store is not None else None,
        )
        self._unsubscribe: Callable[[], None] | None = None
        self._stop_granting: Callable[[], None] | None = None
        self._stop_rooms: Callable[[], None] | None = None

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CatalogTranslator(lambda: self.coach.library.catalog))
        self.add_dynamic_items(ActionButton)
        self._unsubscribe = self.coach.posts.subscribe(self.live.post)
        self._stop_granting = self.coach.posts.can_grant(self.grant_role)
        self._stop_rooms = self.coach.posts.can_open_rooms(self.open_thread)
        for name in self.extension_names:
            await self.load_extension(name)
        path = self.coach.settings.discord.health_file
        if path is not None:
            self._health_task = asyncio.create_task(
                keep_writing(self, self.coach, self.front.stats, path, self.health_interval)
            )
        log.info(
            "ready to serve",
            extra={
                "extensions": len(self.extension_names),
                "commands": len(self.tree.get_commands()),
            },
        )

    async def grant_role(self, grant: RoleGrant) -> bool:
        """Give a milestone's role; False when Discord refuses (no Manage Roles, or the role
        is above the bot's): the coach tells the server once and carries on."""
        try:
            await self.http.add_role(
                int(grant.guild_id), int(grant.user_id), int(grant.role_id), reason=grant.reason
            )
        except (discord.Forbidden, discord.NotFound, ValueError):
            return False
        return True

    async def open_thread(self, request: RoomRequest) -> Room:
        """A public thread of the channel for a session (a group practice), named as asked.

        A session opened in a thread stays there. A channel that cannot have threads (voice,
        stage, forum, a DM) is ``unsupported``; without Create Public Threads or Send
        Messages in Threads there (known from the cache, else from Discord's 403) it is
        ``forbidden``: the session then runs in the channel."""
        if not request.channel_id.isdigit():
            return Room()
        try:
            channel = await self._channel(int(request.channel_id))
        except discord.Forbidden:
            return Room(refused=ROOM_FORBIDDEN)
        except discord.NotFound:
            return Room()
        if isinstance(channel, discord.Thread):
            return Room(channel_id=request.channel_id)
        if not isinstance(channel, discord.TextChannel):
            return Room(refused=ROOM_UNSUPPORTED)
        if not self._may_thread(channel):
            return Room(refused=ROOM_FORBIDDEN)
        kind = discord.ChannelType.news_thread if channel.is_news() else None
        try:
            thread = await channel.create_thread(
                name=request.name,
                type=kind or discord.ChannelType.public_thread,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                reason=request.reason,
            )
        except discord.Forbidden:
            return Room(refused=ROOM_FORBIDDEN)
        except discord.HTTPException as exc:
            if exc.code == CANNOT_ON_CHANNEL_TYPE:
                return Room(refused=ROOM_UNSUPPORTED)
            raise
        log.info("opened a thread", extra={"channel": request.channel_id, "thread": thread.id})
        return Room(channel_id=str(thread.id))

    async def _channel(self, channel_id: int) -> object:
        """The channel from the cache (the guilds intent keeps it), else from Discord."""
        return self.get_channel(channel_id) or await self.fetch_channel(channel_id)

    @staticmethod
    def _may_thread(channel: discord.TextChannel) -> bool:
        """Whether the bot may open a thread there and post in it, when the cache knows the
        bot's roles; True when it does not (Discord's answer decides)."""
        me = channel.guild.me if channel.guild is not None else None
        if me is None:
            return True
        allowed = channel.permissions_for(me)
        return allowed.create_public_threads and allowed.send_messages_in_threads

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Typed answers (modal submits with a ``~<action>`` id), before or after a restart."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if custom_id.startswith(ASK_MARK):
            text = submitted_text(data.get("components"))
            await self.front.press(interaction, custom_id[len(ASK_MARK) :], text)

    async def on_ready(self) -> None:
        log.info(
            "connected to the gateway", extra={"user": str(self.user), "guilds": len(self.guilds)}
        )

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._stop_granting is not None:
            self._stop_granting()
            self._stop_granting = None
        if self._stop_rooms is not None:
            self._stop_rooms()
            self._stop_rooms = None
        await self.live.close()
        if self._health_task is not None:
            self._health_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health_task
            self._health_task = None
        await super().close()
        path = self.coach.settings.discord.health_file
        if path is not None:
            with contextlib.suppress(Exception):
                await write_health(self, self.coach, self.front.stats, path)
