"""The command tree: one error handler for every slash command."""

from __future__ import annotations

import discord
from discord import app_commands


class CoachTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        front = interaction.client.front  # type: ignore[attr-defined]
        kind = (
            "autocomplete"
            if interaction.type is discord.InteractionType.autocomplete
            else "command"
        )
        await front.report_error(interaction, error, kind)
