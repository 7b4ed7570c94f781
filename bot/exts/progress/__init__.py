"""/progress, /leaderboard, /forget-me, /language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from bot.discordbot.cog import FeatureCog
from bot.discordbot.frontend import Policy

if TYPE_CHECKING:
    from bot.discordbot.client import CoachBot


class Progress(FeatureCog):
    POLICIES: ClassVar[Mapping[str, Policy]] = {
        "progress": Policy(defer=True, share=True),
        "leaderboard": Policy(defer=True, private=False),
        "forget-me": Policy(defer=True),
        "language": Policy(defer=True),
    }


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Progress(bot))
