"""/quiz and /review."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from bot.discordbot import cooldowns
from bot.discordbot.cog import FeatureCog
from bot.discordbot.policy import Policy

if TYPE_CHECKING:
    from bot.discordbot.client import CoachBot


class Quiz(FeatureCog):
    POLICIES: ClassVar[Mapping[str, Policy]] = {
        "quiz": Policy(defer=True, cooldown=cooldowns.QUIZ),
        "review": Policy(defer=True, cooldown=cooldowns.QUIZ),
    }


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Quiz(bot))
