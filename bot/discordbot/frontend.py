"""Between interactions and the core: who asks, answering in time, delivering replies, errors.

:class:`DiscordFrontend` is the Discord implementation of :class:`bot.core.frontend.Frontend`.
Every slash command, button press and modal submit goes through it:

* the interaction becomes an :class:`~bot.core.context.Actor` (attachments become uploads);
* the core runs; commands that touch Docker or disk are deferred at once, anything else is
  answered directly when it finishes within :data:`ACK_BUDGET` and deferred otherwise;
* replies are fitted to Discord (:mod:`bot.discordbot.render`) and sent with
  ``AllowedMentions.none()``; a reply that replaces the message a button was pressed on
  edits that message when the press is answered in time;
* one error path (:meth:`DiscordFrontend.report_error`) turns user mistakes into a short
  translated message and unexpected errors into a log entry with an id that the user is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.core.commands import CommandSpec, MemberRef, OptionKind
from bot.core.context import Actor, Upload
from bot.core.errors import UserError
from bot.core.frontend import Frontend
from bot.core.i18n import Translator, normalize_locale
from bot.core.reply import Placement, Reply, Tone
from bot.core.text import shorten
from bot.discordbot import limits
from bot.discordbot.render import Message, Renderer
from bot.discordbot.views import AnswerModal

if TYPE_CHECKING:
    from bot.coach import Coach

log = logging.getLogger("bot.discord")

ACK_BUDGET = 2.0  # seconds we may wait for the core before acknowledging (Discord allows 3)
AUTOCOMPLETE_BUDGET = 2.5


@dataclass(frozen=True, slots=True)
class Policy:
    """How the front end treats a command (declared by each extension)."""

    defer: bool = False  # acknowledge at once: the command touches Docker or disk
    cooldown: bool = False  # per-user cooldown (settings.sandbox.cooldown_seconds)
    practice: bool = False  # only in the server's practice channel, when one is chosen
    private: bool = True  # visibility of a deferred answer when the user did not share
    share: bool = False  # offer a ``share`` option that makes the answer public


def python_name(option: str) -> str:
    return option.replace("-", "_")


def guild_key(interaction: discord.Interaction) -> str:
    return str(interaction.guild_id) if interaction.guild_id else f"dm:{interaction.user.id}"


class DiscordFrontend(Frontend[discord.Interaction]):
    """The Discord front end (:class:`bot.core.frontend.Frontend` of interactions)."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach
        self.settings = coach.settings
        self.stats: Counter[str] = Counter()

    # who and in which language --------------------------------------------------------
    def actor(self, interaction: discord.Interaction, uploads: Sequence[Upload] = ()) -> Actor:
        user = interaction.user
        is_admin = bool(interaction.guild_id) and interaction.permissions.manage_guild
        return Actor(
            user_id=str(user.id),
            display_name=user.display_name,
            guild_id=guild_key(interaction),
            locale=interaction.locale.value,
            is_admin=is_admin,
            uploads=tuple(uploads),
        )

    async def translator(self, interaction: discord.Interaction) -> Translator:
        """The user's chosen language, else the interaction's locale, else English."""
        locale = normalize_locale(interaction.locale.value)
        with contextlib.suppress(Exception):
            locale = (await self.coach.localize(self.actor(interaction))).locale
        return self.coach.translator(locale)

    # slash commands -------------------------------------------------------------------
    async def run_command(
        self,
        interaction: discord.Interaction,
        spec: CommandSpec,
        policy: Policy,
        values: dict[str, Any],
    ) -> None:
        started = time.perf_counter()
        share = bool(values.pop("share", False))
        options, uploads = self._options(spec, values)
        actor = self.actor(interaction, uploads)
        if policy.practice:
            await self._check_practice_channel(interaction)

        async def work() -> list[Reply]:
            replies = await self.coach.run(actor, spec.path, options)
            return [r.but(private=False) for r in replies] if share else replies

        deferred = await self._respond(
            interaction,
            work(),
            defer_now=policy.defer or spec.touches_worker,
            ephemeral=policy.private and not share,
        )
        self._log("command", spec.name, interaction, started, "ok", deferred)

    def _options(
        self, spec: CommandSpec, values: dict[str, Any]
    ) -> tuple[dict[str, Any], list[Upload]]:
        options: dict[str, Any] = {}
        uploads: list[Upload] = []
        for option in spec.options:
            value = values.get(python_name(option.name))
            if value is None:
                continue
            if option.kind is OptionKind.ATTACHMENT:
                uploads.append(self._upload(value))
            elif option.kind is OptionKind.MEMBER:
                options[option.name] = MemberRef(str(value.id), value.display_name)
            elif option.kind is OptionKind.CHANNEL:
                options[option.name] = str(value.id)
            else:
                options[option.name] = value
        return options, uploads

    def _upload(self, attachment: discord.Attachment) -> Upload:
        limit = self.settings.discord.attachment_bytes
        if attachment.size > limit:
            raise UserError(
                "discord.attachment_too_big",
                name=shorten(attachment.filename),
                size=attachment.size,
                limit=limit,
            )
        return Upload(attachment.filename, attachment.size, attachment.read)

    async def _check_practice_channel(self, interaction: discord.Interaction) -> None:
        store = self.coach.store
        if store is None or not interaction.guild_id:
            return
        chosen = await store.guilds.practice_channel(str(interaction.guild_id))  # cached
        parent = getattr(interaction.channel, "parent_id", None)  # a thread in that channel
        if chosen and chosen not in (str(interaction.channel_id), str(parent)):
            raise UserError("discord.practice_elsewhere", channel=f"<#{chosen}>")

    async def complete(
        self, interaction: discord.Interaction, spec: CommandSpec, option: str, current: str
    ) -> list[app_commands.Choice[str]]:
        started = time.perf_counter()
        try:
            found = await asyncio.wait_for(
                self.coach.complete(self.actor(interaction), spec.path, option, current or ""),
                AUTOCOMPLETE_BUDGET,
            )
            outcome = "ok"
        except TimeoutError:
            found, outcome = [], "timeout"
        self._log("autocomplete", f"{spec.name} {option}", interaction, started, outcome, False)
        # A value is submitted as the option: cutting one would submit something else, so
        # values that do not fit are left out; labels are only shown, so they are cut.
        fitting = [s for s in found if s.value and len(s.value) <= limits.CHOICE_NAME]
        return [
            app_commands.Choice(
                name=limits.cut(s.label or s.value, limits.CHOICE_NAME), value=s.value
            )
            for s in fitting[: limits.AUTOCOMPLETE_CHOICES]
        ]

    # buttons and typed answers --------------------------------------------------------
    async def press(self, interaction: discord.Interaction, action: str, value: str | None) -> None:
        started = time.perf_counter()
        kind = "modal" if value is not None else "press"
        name = action.split(":", 1)[0]
        try:
            actor = self.actor(interaction)
            deferred = await self._respond(
                interaction, self.coach.press(actor, action, value), defer_now=False, ephemeral=True
            )
        except Exception as exc:
            await self.report_error(interaction, exc, kind, name=name, started=started)
            return
        self._log(kind, name, interaction, started, "ok", deferred)

    async def open_prompt(self, interaction: discord.Interaction, action: str, label: str) -> None:
        try:
            await interaction.response.send_modal(AnswerModal(self, action, label, label))
        except Exception as exc:
            await self.report_error(interaction, exc, "prompt", name=action.split(":", 1)[0])

    # answering ------------------------------------------------------------------------
    async def _respond(
        self,
        interaction: discord.Interaction,
        work: Awaitable[list[Reply]],
        *,
        defer_now: bool,
        ephemeral: bool,
    ) -> bool:
        """Run ``work`` and deliver its replies, deferring first when it may be slow."""
        task = asyncio.ensure_future(work)
        if not defer_now:
            await asyncio.wait({task}, timeout=ACK_BUDGET)
        deferred = False
        if not task.done():
            await interaction.response.defer(thinking=True, ephemeral=ephemeral)
            deferred = True
        await self.present(interaction, await task)
        return deferred

    async def present(self, interaction: discord.Interaction, replies: Sequence[Reply]) -> None:
        """Send every reply, fitted to Discord, in order (:class:`bot.core.frontend.Frontend`)."""
        tr = await self.translator(interaction)
        renderer = Renderer(tr, interaction.filesize_limit)
        if not replies:
            replies = [Reply(body=tr("discord.done"), tone=Tone.SUCCESS)]
        for index, reply in enumerate(replies):
            replace = index == 0 and reply.placement is Placement.REPLACE
            for message in renderer.render(reply):
                await self._send(interaction, message, replace=replace)
                replace = False

    @staticmethod
    async def _send(
        interaction: discord.Interaction, message: Message, *, replace: bool = False
    ) -> None:
        """Answer the interaction, or follow up once it is answered (or deferred).

        ``replace`` edits the message a button was pressed on instead, when the press is
        still unanswered; after a deferral the reply follows as a new message.
        """
        if replace and interaction.message is not None and not interaction.response.is_done():
            await interaction.response.edit_message(**message.edit_kwargs())
        elif interaction.response.is_done():
            await interaction.followup.send(**message.kwargs())
        else:
            await interaction.response.send_message(**message.kwargs())

    # errors ---------------------------------------------------------------------------
    async def report_error(
        self,
        interaction: discord.Interaction,
        error: BaseException,
        kind: str,
        *,
        name: str | None = None,
        started: float | None = None,
    ) -> None:
        """The one place where failures become messages (and log entries)."""
        original = getattr(error, "original", None) or error
        tr = await self.translator(interaction)
        outcome, text = self._describe(tr, original)
        if outcome == "error":
            error_id = uuid.uuid4().hex[:8]
            log.error(
                "interaction failed",
                exc_info=original,
                extra={"kind": kind, "command": name or "?", "error_id": error_id},
            )
            text = tr("general.unexpected", error_id=error_id)
        command = name or (interaction.command.qualified_name if interaction.command else "?")
        self._log(kind, command, interaction, started, outcome, interaction.response.is_done())
        if interaction.type is discord.InteractionType.autocomplete:
            return
        title = tr("general.unexpected_title" if outcome == "error" else "general.error_title")
        if isinstance(original, UserError):
            title = tr(original.title_key)  # trouble on our side has its own heading
        messages = Renderer(tr).render(Reply(title=title, body=text, tone=Tone.ERROR))
        try:
            for message in messages:
                await self._send(interaction, message)
        except discord.HTTPException:
            log.warning("could not tell the user about an error", extra={"kind": kind})

    @staticmethod
    def _describe(tr: Translator, error: BaseException) -> tuple[str, str]:
        if isinstance(error, UserError):
            return "user_error", tr(error.key, **error.params)
        if isinstance(error, app_commands.CommandOnCooldown):
            return "cooldown", tr("discord.cooldown", seconds=f"{error.retry_after:.1f}")
        if isinstance(error, app_commands.NoPrivateMessage):
            return "denied", tr("discord.guild_only")
        if isinstance(error, app_commands.MissingPermissions | app_commands.CheckFailure):
            return "denied", tr("general.admin_only")
        if isinstance(error, app_commands.TransformerError):
            return "user_error", tr("discord.bad_value", value=shorten(str(error.value)))
        return "error", ""

    # logs -----------------------------------------------------------------------------
    def _log(
        self,
        kind: str,
        name: str,
        interaction: discord.Interaction,
        started: float | None,
        outcome: str,
        deferred: bool,
    ) -> None:
        self.stats[kind] += 1
        self.stats[f"outcome:{outcome}"] += 1
        ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
        log.info(
            "interaction",
            extra={
                "kind": kind,
                "command": name,
                "user": str(interaction.user.id) if interaction.user else None,
                "guild": guild_key(interaction) if interaction.user else None,
                "locale": interaction.locale.value,
                "outcome": outcome,
                "deferred": deferred,
                "ms": ms,
            },
        )
