"""Between interactions and the core: who asks, answering in time, delivering replies, errors.

:class:`DiscordFrontend` is the Discord implementation of :class:`bot.core.frontend.Frontend`.
Every slash command, button press and modal submit goes through it:

* the interaction becomes an :class:`~bot.core.context.Actor` (attachments become uploads);
* before anything is sent, a command's checks run (server only, manager only, practice
  channel, cooldown, commands out of date) and **who will see the answer** is decided from
  its :class:`~bot.discordbot.policy.Policy` and its ``share`` option: Discord fixes a
  deferred answer's visibility when it is acknowledged, so every reply of one command is
  shown with that visibility;
* the core runs; commands that touch Docker or disk are deferred at once, anything else is
  answered directly when it finishes within :data:`ACK_BUDGET` and deferred otherwise;
* a press answers the presser only, except the replies that take the place of the message the
  button was on (:attr:`~bot.core.reply.Placement.REPLACE`): those edit that message, also
  when the press had to be acknowledged first (a deferred *update*, never "thinking");
* replies are fitted to Discord (:mod:`bot.discordbot.render`) and sent with
  ``AllowedMentions.none()``; an answer whose interaction expired (Discord's 15 minutes) is
  delivered in the channel when public, else by direct message;
* one error path (:meth:`DiscordFrontend.report_error`) turns user mistakes and refusals into
  a short translated message per cause and unexpected errors into a log entry with an id
  that the user is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta
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
from bot.discordbot import cooldowns, limits
from bot.discordbot.cooldowns import Cooldowns, Rate
from bot.discordbot.policy import OnCooldown, OutOfDate, Policy, WrongChannel
from bot.discordbot.render import Message, Renderer, merge
from bot.discordbot.views import AnswerModal, PromptMemory

if TYPE_CHECKING:
    from bot.coach import Coach
    from bot.settings import Settings

log = logging.getLogger("bot.discord")

ACK_BUDGET = 2.0  # seconds we may wait for the core before acknowledging (Discord allows 3)
AUTOCOMPLETE_BUDGET = 1.5  # seconds for suggestions; later, none (Discord allows 3)
SHARE_OPTION = "share"
EXPIRED_CODES = frozenset({10062, 10015, 50027})  # unknown interaction / webhook, bad token

__all__ = ["DiscordFrontend", "Policy", "guild_key", "python_name"]


def python_name(option: str) -> str:
    return option.replace("-", "_")


def guild_key(interaction: discord.Interaction) -> str:
    return str(interaction.guild_id) if interaction.guild_id else f"dm:{interaction.user.id}"


def rates(settings: Settings) -> dict[str, Rate]:
    """The cooldown buckets, from the settings."""
    chosen = settings.discord.cooldowns
    return {
        cooldowns.SANDBOX: Rate(1, float(settings.sandbox.cooldown_seconds)),
        cooldowns.PROGRESS: Rate(chosen.progress.uses, chosen.progress.seconds),
        cooldowns.QUIZ: Rate(chosen.quiz.uses, chosen.quiz.seconds),
        cooldowns.PRESS: Rate(chosen.press.uses, chosen.press.seconds),
    }


def discord_time(moment: datetime, style: discord.utils.TimestampStyle = "R") -> str:
    """A moment as a Discord timestamp (every client shows it in its reader's time zone and
    language), rounded up to the second so that "try again" is never early."""
    whole = moment.replace(microsecond=0)
    if whole < moment:
        whole += timedelta(seconds=1)
    return discord.utils.format_dt(whole, style)


def expired(error: BaseException) -> bool:
    """Whether Discord refused because the interaction can no longer be answered."""
    if not isinstance(error, discord.HTTPException):
        return False
    return error.status == 401 or error.code in EXPIRED_CODES


def leaf_options(data: Any) -> list[dict[str, Any]]:
    """The options of a command payload below its subcommand and group levels."""
    options = list((data or {}).get("options") or [])
    while options and options[0].get("type") in (1, 2):
        options = list(options[0].get("options") or [])
    return options


class Answer:
    """How one interaction is being answered: its visibility, fixed before anything is sent,
    and whether its token still works (else: the channel when public, a DM when private)."""

    def __init__(self, interaction: discord.Interaction, *, ephemeral: bool) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral
        self.fallback = False
        self.acknowledged = False
        self.late_note: str | None = None  # said once, above an answer delivered elsewhere

    @property
    def done(self) -> bool:
        return self.fallback or self.interaction.response.is_done()

    async def acknowledge(self, *, update: bool = False) -> None:
        """ "Thinking…" with the answer's visibility; or, for a press whose answer edits the
        pressed message, a silent deferred update."""
        if self.done:
            return
        try:
            if update:
                await self.interaction.response.defer(thinking=False)
            else:
                await self.interaction.response.defer(thinking=True, ephemeral=self.ephemeral)
            self.acknowledged = True
        except discord.HTTPException as exc:
            if not expired(exc):
                raise
            self._expire(exc)

    async def send(self, message: Message) -> None:
        """A new message with the answer's visibility."""
        message.ephemeral = self.ephemeral
        if not self.fallback:
            try:
                if not self.interaction.response.is_done():
                    await self.interaction.response.send_message(**message.kwargs())
                else:
                    await self.interaction.followup.send(**message.kwargs())
                return
            except discord.HTTPException as exc:
                if not expired(exc):
                    raise
                self._expire(exc)
        await self._deliver_elsewhere(message)

    async def replace(self, message: Message) -> None:
        """Edit the message the button was on into ``message``."""
        if not self.fallback:
            try:
                if not self.interaction.response.is_done():
                    await self.interaction.response.edit_message(**message.edit_kwargs())
                else:
                    await self.interaction.edit_original_response(**message.edit_kwargs())
                return
            except discord.HTTPException as exc:
                if not expired(exc):
                    raise
                self._expire(exc)
        pressed = self.interaction.message
        if pressed is not None and not pressed.flags.ephemeral:
            await pressed.edit(**message.channel_edit_kwargs())  # with the bot's own token
            return
        await self._deliver_elsewhere(message)

    def _expire(self, error: discord.HTTPException) -> None:
        self.fallback = True
        log.warning(
            "interaction expired before it was answered; answering elsewhere",
            extra={"status": error.status, "code": error.code, "private": self.ephemeral},
        )

    async def _deliver_elsewhere(self, message: Message) -> None:
        """The token no longer works: a public answer goes to the channel, a private one to
        the member's DMs (with the bot's token, which does not expire)."""
        interaction = self.interaction
        if self.ephemeral or interaction.channel_id is None:
            target: discord.abc.Messageable = await interaction.user.create_dm()
        else:
            target = interaction.client.get_partial_messageable(
                interaction.channel_id, guild_id=interaction.guild_id
            )
        if self.late_note:
            note, self.late_note = self.late_note, None
            await target.send(content=note, allowed_mentions=discord.AllowedMentions.none())
        await target.send(**message.channel_kwargs())


class DiscordFrontend(Frontend[discord.Interaction]):
    """The Discord front end (:class:`bot.core.frontend.Frontend` of interactions)."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach
        self.settings = coach.settings
        self.stats: Counter[str] = Counter()
        self.cooldowns = Cooldowns(coach.clock.now, rates(coach.settings))
        self.prompts = PromptMemory()

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

    # checks: before anything is sent ----------------------------------------------------
    async def check(
        self, interaction: discord.Interaction, spec: CommandSpec, policy: Policy
    ) -> bool:
        """Every reason to refuse a command before it runs, each with its own error; the
        cooldown is taken last, so a refused command does not use it up."""
        self._check_known_options(interaction)
        if (policy.server_only or spec.admin_only) and interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if spec.admin_only and not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        if policy.practice:
            await self._check_practice_channel(interaction)
        if policy.cooldown is not None:
            retry_at = self.cooldowns.take(policy.cooldown, str(interaction.user.id))
            if retry_at is not None:
                raise OnCooldown(policy.cooldown, retry_at)
        return True

    @staticmethod
    def _check_known_options(interaction: discord.Interaction) -> None:
        command = interaction.command
        if not isinstance(command, app_commands.Command):
            return
        known = {parameter.display_name for parameter in command.parameters}
        sent = {str(option.get("name")) for option in leaf_options(interaction.data)}
        unknown = sorted(sent - known)
        if unknown:
            raise OutOfDate(f"/{command.qualified_name} {', '.join(unknown)}")

    async def _check_practice_channel(self, interaction: discord.Interaction) -> None:
        store = self.coach.store
        if store is None or not interaction.guild_id:
            return
        chosen = await store.guilds.practice_channel(str(interaction.guild_id))  # cached
        parent = getattr(interaction.channel, "parent_id", None)  # a thread in that channel
        if chosen and chosen not in (str(interaction.channel_id), str(parent)):
            raise WrongChannel(chosen)

    # slash commands -------------------------------------------------------------------
    async def run_command(
        self,
        interaction: discord.Interaction,
        spec: CommandSpec,
        policy: Policy,
        values: dict[str, Any],
    ) -> None:
        started = time.perf_counter()
        share = bool(values.pop(python_name(SHARE_OPTION), False))
        answer = Answer(interaction, ephemeral=not (policy.public or share))
        options, uploads = self._options(spec, values)
        actor = self.actor(interaction, uploads)
        deferred = await self._respond(
            answer,
            self.coach.run(actor, spec.path, options),
            defer_now=policy.defer or spec.touches_worker,
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

    async def complete(
        self, interaction: discord.Interaction, spec: CommandSpec, option: str, current: str
    ) -> list[app_commands.Choice[str]]:
        """Suggestions within :data:`AUTOCOMPLETE_BUDGET`, else none; a value longer than
        Discord's 100 characters is left out (cut, it would submit another command)."""
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
        fitting = [s for s in found if s.value and len(s.value) <= limits.CHOICE_NAME]
        return [
            app_commands.Choice(
                name=limits.cut(s.label or s.value, limits.CHOICE_NAME), value=s.value
            )
            for s in fitting[: limits.AUTOCOMPLETE_CHOICES]
        ]

    # buttons and typed answers --------------------------------------------------------
    async def press(self, interaction: discord.Interaction, action: str, value: str | None) -> None:
        """A button (``value`` None) or a submitted form. The answer goes to the presser
        only, except the replies that edit the message the button was on."""
        started = time.perf_counter()
        kind = "modal" if value is not None else "press"
        name = action.split(":", 1)[0]
        try:
            if value is None and await self._pressing_too_fast(interaction):
                self._log(kind, name, interaction, started, "cooldown", False)
                return
            answer = Answer(interaction, ephemeral=True)
            actor = self.actor(interaction)
            deferred = await self._respond(answer, self.coach.press(actor, action, value))
        except Exception as exc:
            await self.report_error(interaction, exc, kind, name=name, started=started)
            return
        self._log(kind, name, interaction, started, "ok", deferred)

    async def _pressing_too_fast(self, interaction: discord.Interaction) -> bool:
        """The press bucket: over it, the member is told once when to try again; further
        presses until then are acknowledged without a message (no flood, not even in DMs)."""
        key = str(interaction.user.id)
        retry_at = self.cooldowns.take(cooldowns.PRESS, key)
        if retry_at is None:
            return False
        if self.cooldowns.first_refusal(cooldowns.PRESS, key, retry_at):
            await self.report_error(interaction, OnCooldown(cooldowns.PRESS, retry_at), "press")
        else:
            with contextlib.suppress(discord.HTTPException):
                await interaction.response.defer(thinking=False)
        return True

    async def open_prompt(self, interaction: discord.Interaction, action: str, label: str) -> None:
        try:
            tr = await self.translator(interaction)
            placeholder = self.prompts.placeholder(action) or tr("discord.answer_placeholder")
            modal = AnswerModal(self, action, label, label, placeholder)
            await interaction.response.send_modal(modal)
        except Exception as exc:
            await self.report_error(interaction, exc, "prompt", name=action.split(":", 1)[0])

    # answering ------------------------------------------------------------------------
    async def _respond(
        self, answer: Answer, work: Awaitable[list[Reply]], *, defer_now: bool = False
    ) -> bool:
        """Run ``work`` and deliver its replies, acknowledging first when it may be slow."""
        task = asyncio.ensure_future(work)
        if not defer_now:
            await asyncio.wait({task}, timeout=ACK_BUDGET)
        if not task.done():
            await answer.acknowledge(update=self._is_press_on_message(answer.interaction))
        await self.deliver(answer, await task)
        return answer.acknowledged

    @staticmethod
    def _is_press_on_message(interaction: discord.Interaction) -> bool:
        pressed = interaction.type in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        )
        return pressed and interaction.message is not None

    async def present(self, interaction: discord.Interaction, replies: Sequence[Reply]) -> None:
        """Send every reply, fitted to Discord, in order (:class:`bot.core.frontend.Frontend`),
        privately: only a command's policy can make an answer public (see :meth:`run_command`)."""
        await self.deliver(Answer(interaction, ephemeral=True), replies)

    async def deliver(self, answer: Answer, replies: Sequence[Reply]) -> None:
        interaction = answer.interaction
        tr = await self.translator(interaction)
        renderer = Renderer(tr, interaction.filesize_limit, self.prompts)
        answer.late_note = tr("discord.late_answer")
        if not replies:
            replies = [Reply(body=tr("discord.done"), tone=Tone.SUCCESS)]
        replacing = self._replacing(interaction, replies)
        if replacing:
            first, *rest = merge(renderer.render_all(replies[:replacing]))
            await answer.replace(first)
            for message in rest:
                await answer.send(message)
        for message in merge(renderer.render_all(replies[replacing:])):
            await answer.send(message)

    def _replacing(self, interaction: discord.Interaction, replies: Sequence[Reply]) -> int:
        """How many leading replies take the place of the pressed message (0 for commands)."""
        if not self._is_press_on_message(interaction):
            return 0
        count = 0
        while count < len(replies) and replies[count].placement is Placement.REPLACE:
            count += 1
        return count

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
        elif outcome == "out_of_date":
            log.warning(
                "commands out of date: run `python -m bot sync`",
                extra={"kind": kind, "what": getattr(original, "what", str(original))},
            )
        command = name or self._command_name(interaction)
        self._log(kind, command, interaction, started, outcome, interaction.response.is_done())
        if interaction.type is discord.InteractionType.autocomplete:
            if not interaction.response.is_done():
                with contextlib.suppress(discord.HTTPException):
                    await interaction.response.autocomplete([])  # no suggestions
            return
        title = tr("general.unexpected_title" if outcome == "error" else "general.error_title")
        # Private; after a deferral, Discord shows the first follow-up as the deferral was.
        answer = Answer(interaction, ephemeral=True)
        try:
            for message in Renderer(tr).render(Reply(title=title, body=text, tone=Tone.ERROR)):
                await answer.send(message)
        except discord.HTTPException:
            log.warning("could not tell the user about an error", extra={"kind": kind})

    @staticmethod
    def _command_name(interaction: discord.Interaction) -> str:
        command = interaction.command
        if command is not None:
            return command.qualified_name
        data: dict[str, Any] = dict(interaction.data or {})
        return str(data.get("name") or data.get("custom_id") or "?")

    @staticmethod
    def _describe(tr: Translator, error: BaseException) -> tuple[str, str]:
        """The outcome (for logs and counts) and the message, one per cause."""
        if isinstance(error, UserError):
            return "user_error", tr(error.key, **error.params)
        if isinstance(error, OnCooldown):
            return "cooldown", tr("discord.cooldown", when=discord_time(error.retry_at))
        if isinstance(
            error, OutOfDate | app_commands.CommandNotFound | app_commands.CommandSignatureMismatch
        ):
            return "out_of_date", tr("discord.out_of_date")
        if isinstance(error, WrongChannel):
            return "denied", tr("discord.practice_elsewhere", channel=f"<#{error.channel_id}>")
        if isinstance(error, app_commands.NoPrivateMessage):
            return "denied", tr("discord.guild_only")
        if isinstance(error, app_commands.MissingPermissions):
            names = ", ".join(permission_name(tr, p) for p in error.missing_permissions)
            return "denied", tr("discord.missing_permissions", permissions=names)
        if isinstance(error, app_commands.BotMissingPermissions):
            names = ", ".join(permission_name(tr, p) for p in error.missing_permissions)
            return "denied", tr("discord.bot_missing_permissions", permissions=names)
        if isinstance(error, app_commands.CheckFailure):
            return "denied", tr("discord.check_failed")
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


def permission_name(tr: Translator, permission: str) -> str:
    """A permission as Discord's apps name it ("Manage Server"), in the reader's language."""
    key = f"discord.permissions.{permission}"
    if tr.catalog.has(key):
        return tr(key)
    return permission.replace("_", " ").title()
