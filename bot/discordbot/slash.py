"""Slash commands built from the core's command table.

The core's :class:`~bot.core.commands.CommandSpec` is the one declaration of a command (its
path, options, kinds, choices, completers); each extension names the commands it serves and
how Discord should treat them (:class:`~bot.discordbot.frontend.Policy`). This module turns
the two into real ``app_commands.Command`` / ``Group`` objects whose callbacks only translate.
Names and descriptions are ``locale_str`` s keyed into the message catalog, so the
:class:`~bot.discordbot.translator.CatalogTranslator` can localize them.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str

from bot.core.commands import CommandSpec, CommandTable, OptionKind, OptionSpec
from bot.core.i18n import DEFAULT_LOCALE, Catalog
from bot.discordbot import limits
from bot.discordbot.frontend import SHARE_OPTION, DiscordFrontend, python_name
from bot.discordbot.policy import Policy

log = logging.getLogger("bot.discord.slash")

ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)
IN_SERVERS = app_commands.AppCommandContext(guild=True)
IN_SERVERS_AND_DMS = app_commands.AppCommandContext(guild=True, dm_channel=True)
Built = app_commands.Command[Any, ..., Any] | app_commands.Group


def english(catalog: Catalog, key: str, fallback: str) -> str:
    text = catalog.t(DEFAULT_LOCALE, key)
    text = fallback if text == key else text
    return limits.cut(text.strip() or fallback, limits.COMMAND_DESCRIPTION)


def text(catalog: Catalog, key: str, fallback: str) -> locale_str:
    return locale_str(english(catalog, key, fallback), key=key)


def name(value: str, key: str) -> locale_str:
    return locale_str(value, key=key)


def group_key(path: tuple[str, ...]) -> str:
    return "commands." + "_".join(path).replace("-", "_")


class TextChannelOption(app_commands.Transformer):
    """A channel option that offers text channels only and hands over the channel Discord
    resolved in the payload (no cache needed)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return value


def annotation(option: OptionSpec) -> Any:
    """The Python type that makes discord.py declare the option as the core wants it."""
    kind = option.kind
    if kind is OptionKind.INTEGER:
        if option.min_value is None and option.max_value is None:
            return int
        return app_commands.Range[int, option.min_value, option.max_value]
    if kind is OptionKind.BOOLEAN:
        return bool
    if kind is OptionKind.ATTACHMENT:
        return discord.Attachment
    if kind is OptionKind.MEMBER:
        return discord.User
    if kind is OptionKind.CHANNEL:
        return app_commands.Transform[app_commands.AppCommandChannel, TextChannelOption]
    if option.max_length and not option.choices:
        return app_commands.Range[str, None, min(option.max_length, 6000)]
    return str


class SlashBuilder:
    """Builds the commands of one extension from the core table, with discord.py's public
    ``app_commands`` API only (``describe``, ``rename``, ``choices``, ``autocomplete``,
    checks and contexts applied in code)."""

    def __init__(self, front: DiscordFrontend, table: CommandTable, catalog: Catalog) -> None:
        self.front = front
        self.table = table
        self.catalog = catalog

    def build(self, policies: Mapping[str, Policy]) -> list[Built]:
        """One top-level command or group per name in ``policies`` that the core has."""
        built: list[Built] = []
        for top, policy in policies.items():
            specs = [spec for spec in self.table.all() if spec.path[0] == top]
            if not specs:
                log.warning("no core command for /%s; skipped", top)
                continue
            built.append(self._top(top, specs, policy))
        return built

    def _top(self, top: str, specs: list[CommandSpec], policy: Policy) -> Built:
        admin = all(spec.admin_only for spec in specs)
        server_only = policy.server_only or admin
        if len(specs) == 1 and specs[0].path == (top,):
            command = self._command(specs[0], policy, None)
            app_commands.allowed_contexts(guilds=True, dms=not server_only)(command)
            if server_only:
                app_commands.guild_only()(command)
            if admin:
                app_commands.default_permissions(manage_guild=True)(command)
            return command
        root = self._group((top,), None, admin, server_only)
        groups: dict[tuple[str, ...], app_commands.Group] = {(top,): root}
        for spec in specs:
            if len(spec.path) == 1:
                log.warning("/%s is both a command and a group on Discord; skipped", top)
                continue
            parent = groups.get(spec.path[:-1])
            if parent is None:
                parent = self._group(spec.path[:-1], root, admin, server_only)
                groups[spec.path[:-1]] = parent
            parent.add_command(self._command(spec, policy, parent))
        return root

    def _group(
        self,
        path: tuple[str, ...],
        parent: app_commands.Group | None,
        admin: bool,
        server_only: bool,
    ) -> app_commands.Group:
        key = group_key(path)
        extra: dict[str, Any] = {}
        if parent is None:
            extra["allowed_contexts"] = IN_SERVERS if server_only else IN_SERVERS_AND_DMS
            if server_only:
                extra["guild_only"] = True
            if admin:
                extra["default_permissions"] = ADMIN_PERMISSIONS
        group = app_commands.Group(
            name=name(path[-1], key + ".name"),
            description=text(self.catalog, key + ".group", path[-1]),
            parent=parent,
            extras={"path": path},
            **extra,
        )
        if parent is not None:
            parent.add_command(group)
        return group

    def _command(
        self, spec: CommandSpec, policy: Policy, parent: app_commands.Group | None
    ) -> app_commands.Command[Any, ..., Any]:
        front = self.front

        async def callback(interaction: discord.Interaction[Any], /, **values: Any) -> None:
            await front.run_command(interaction, spec, policy, values)

        async def check(interaction: discord.Interaction[Any]) -> bool:
            return await front.check(interaction, spec, policy)

        described = self._declare_options(callback, spec, policy.share or spec.share_option)
        command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name=name(spec.path[-1], spec.key + ".name"),
            description=text(self.catalog, spec.key + ".description", spec.name),
            callback=described,
            parent=parent,
            extras={"path": spec.path, "policy": policy},
        )
        for option in spec.options:
            if option.completer is not None and not option.choices:
                command.autocomplete(python_name(option.name))(self._completer(spec, option.name))
        command.add_check(check)
        return command

    def _declare_options(self, callback: Any, spec: CommandSpec, share: bool) -> Any:
        """``callback`` with the signature, names, texts and choices of the core's options.

        The signature is Python's own protocol (``__signature__``, read by ``inspect``);
        names, descriptions and choices go through ``app_commands.rename``, ``describe`` and
        ``choices``, as if written as decorators.
        """
        params = [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            )
        ]
        descriptions: dict[str, str | locale_str] = {}
        renames: dict[str, str | locale_str] = {}
        choices: dict[str, list[app_commands.Choice[str]]] = {}
        for option in spec.options:
            py = python_name(option.name)
            default = inspect.Parameter.empty if option.required else None
            params.append(
                inspect.Parameter(
                    py,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=annotation(option),
                    default=default,
                )
            )
            descriptions[py] = text(self.catalog, f"{spec.key}.options.{option.name}", option.name)
            renames[py] = name(option.name, f"{spec.key}.options_names.{option.name}")
            if option.choices:
                choices[py] = [
                    app_commands.Choice(
                        name=text(
                            self.catalog, f"{spec.key}.choices.{option.name}.{choice}", choice
                        ),
                        value=choice,
                    )
                    for choice in option.choices[: limits.AUTOCOMPLETE_CHOICES]
                ]
        if share:
            params.append(
                inspect.Parameter(
                    SHARE_OPTION, inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=False
                )
            )
            descriptions[SHARE_OPTION] = text(self.catalog, "discord.share.description", "share")
            renames[SHARE_OPTION] = name(SHARE_OPTION, "discord.share.name")
        callback.__signature__ = inspect.Signature(params)
        if descriptions:
            callback = app_commands.describe(**descriptions)(callback)
        if renames:
            callback = app_commands.rename(**renames)(callback)
        if choices:
            callback = app_commands.choices(**choices)(callback)
        return callback

    def _completer(self, spec: CommandSpec, option: str) -> Any:
        front = self.front

        async def complete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return await front.complete(interaction, spec, option, current)

        return complete
