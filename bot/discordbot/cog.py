"""The base of every feature cog: it adds its slash commands on load, removes them on unload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from discord.ext import commands

from bot.discordbot.policy import Policy
from bot.discordbot.slash import Built, SlashBuilder

if TYPE_CHECKING:
    from bot.discordbot.client import CoachBot


class FeatureCog(commands.Cog):
    """Subclasses set :attr:`POLICIES`: the top-level commands they serve and how."""

    POLICIES: ClassVar[Mapping[str, Policy]] = {}

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot
        self.built: list[Built] = []

    async def cog_load(self) -> None:
        coach = self.bot.coach
        builder = SlashBuilder(self.bot.front, coach.table, coach.library.catalog)
        self.built = builder.build(self.POLICIES)
        for command in self.built:
            self.bot.tree.add_command(command, override=True)

    async def cog_unload(self) -> None:
        for command in self.built:
            self.bot.tree.remove_command(command.name)
        self.built = []
