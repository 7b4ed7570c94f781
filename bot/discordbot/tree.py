"""The command tree: one error handler for every slash command (and stale registrations)."""

from __future__ import annotations

from typing import Protocol

import discord
from discord import app_commands


class ErrorReporter(Protocol):
    async def report_error(
        self, interaction: discord.Interaction, error: BaseException, kind: str
    ) -> None: ...


class CoachTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        """Every failed check, bad value and crash of a command; also a command or option
        Discord still offers but this version does not have (``CommandNotFound``,
        ``CommandSignatureMismatch``: a forgotten ``sync``), for commands and their
        autocomplete alike (errors *inside* an autocomplete callback never get here:
        discord.py logs and drops them, and the front end's callback does not raise)."""
        front: ErrorReporter = interaction.client.front  # type: ignore[attr-defined]
        kind = (
            "autocomplete"
            if interaction.type is discord.InteractionType.autocomplete
            else ("command")
        )
        await front.report_error(interaction, error, kind)
