"""/help."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from bot.discordbot.cog import FeatureCog
from bot.discordbot.policy import Policy

if TYPE_CHECKING:
    from bot.discordbot.client import CoachBot


class General(FeatureCog):
    POLICIES: ClassVar[Mapping[str, Policy]] = {
        "help": Policy(),
    }


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(General(bot))
