"""/quiz and /review."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from bot.discordbot.cog import FeatureCog
from bot.discordbot.frontend import Policy

if TYPE_CHECKING:
    from bot.discordbot.client import CoachBot


class Quiz(FeatureCog):
    POLICIES: ClassVar[Mapping[str, Policy]] = {
        "quiz": Policy(defer=True),
        "review": Policy(defer=True),
    }


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Quiz(bot))
