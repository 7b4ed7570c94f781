"""/progress, /leaderboard, /forget-me, /language, /timezone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from bot.discordbot import cooldowns
from bot.discordbot.cog import FeatureCog
from bot.discordbot.policy import Policy

if TYPE_CHECKING:
    from bot.discordbot.client import CoachBot


class Progress(FeatureCog):
    POLICIES: ClassVar[Mapping[str, Policy]] = {
        "progress": Policy(defer=True, share=True, cooldown=cooldowns.PROGRESS),
        "leaderboard": Policy(defer=True, public=True, server_only=True),
        "forget-me": Policy(defer=True),
        "language": Policy(defer=True),
        "timezone": Policy(defer=True),
    }


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Progress(bot))
