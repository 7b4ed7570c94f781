"""/concept and /concepts (reading a concept is recorded, so it may touch disk)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from bot.discordbot.cog import FeatureCog
from bot.discordbot.policy import Policy

if TYPE_CHECKING:
    from bot.discordbot.client import CoachBot


class Concepts(FeatureCog):
    POLICIES: ClassVar[Mapping[str, Policy]] = {
        "concept": Policy(public=True),
        "concepts": Policy(public=True),
    }


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Concepts(bot))
