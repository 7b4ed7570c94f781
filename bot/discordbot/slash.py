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
from bot.discordbot.frontend import DiscordFrontend, Policy, python_name

log = logging.getLogger("bot.discord.slash")

SHARE_OPTION = "share"
ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)
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
        return app_commands.AppCommandChannel  # resolved from the payload, no cache needed
    if option.max_length and not option.choices:
        return app_commands.Range[str, None, min(option.max_length, 6000)]
    return str


class SlashBuilder:
    """Builds the commands of one extension from the core table."""

    def __init__(self, front: DiscordFrontend, table: CommandTable, catalog: Catalog) -> None:
        self.front = front
        self.table = table
        self.catalog = catalog
        self.cooldown_seconds = float(front.settings.sandbox.cooldown_seconds)

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
        if len(specs) == 1 and specs[0].path == (top,):
            command = self._command(specs[0], policy, None)
            if specs[0].admin_only:
                app_commands.guild_only()(command)
                command.default_permissions = ADMIN_PERMISSIONS
            return command
        admin = all(spec.admin_only for spec in specs)
        root = self._group((top,), None, admin)
        groups: dict[tuple[str, ...], app_commands.Group] = {(top,): root}
        for spec in specs:
            if len(spec.path) == 1:
                log.warning("/%s is both a command and a group on Discord; skipped", top)
                continue
            parent = groups.get(spec.path[:-1])
            if parent is None:
                parent = self._group(spec.path[:-1], root, admin)
                groups[spec.path[:-1]] = parent
            parent.add_command(self._command(spec, policy, parent))
        return root

    def _group(
        self, path: tuple[str, ...], parent: app_commands.Group | None, admin: bool
    ) -> app_commands.Group:
        key = group_key(path)
        extra: dict[str, Any] = {}
        if parent is None and admin:
            extra = {"guild_only": True, "default_permissions": ADMIN_PERMISSIONS}
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

        self._declare_options(callback, spec, policy.share or spec.share_option)
        command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name=name(spec.path[-1], spec.key + ".name"),
            description=text(self.catalog, spec.key + ".description", spec.name),
            callback=callback,
            parent=parent,
            extras={"path": spec.path},
        )
        for option in spec.options:
            if option.kind is OptionKind.CHANNEL:
                command._params[python_name(option.name)].channel_types = [discord.ChannelType.text]
            if option.completer is not None and not option.choices:
                command._params[python_name(option.name)].autocomplete = self._completer(
                    spec, option.name
                )
        if policy.cooldown and self.cooldown_seconds > 0:
            app_commands.checks.cooldown(1, self.cooldown_seconds, key=lambda i: i.user.id)(command)
        if spec.admin_only:
            app_commands.checks.has_permissions(manage_guild=True)(command)
        return command

    def _declare_options(self, callback: Any, spec: CommandSpec, share: bool) -> None:
        """Give ``callback`` the signature, names, texts and choices of the core's options."""
        params = [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            )
        ]
        descriptions: dict[str, locale_str] = {}
        renames: dict[str, locale_str] = {}
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
        callback.__discord_app_commands_param_description__ = descriptions
        callback.__discord_app_commands_param_rename__ = renames
        callback.__discord_app_commands_param_choices__ = choices

    def _completer(self, spec: CommandSpec, option: str) -> Any:
        front = self.front

        async def complete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return await front.complete(interaction, spec, option, current)

        return complete
