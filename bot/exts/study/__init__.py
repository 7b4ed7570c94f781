"""/study quiz | next | stop | join | practice | end | plan: study groups in a channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from bot.discordbot.cog import FeatureCog
from bot.discordbot.policy import Policy

if TYPE_CHECKING:
    from bot.discordbot.client import CoachBot


class Study(FeatureCog):
    # The round's questions and boards are posted in the channel by the coach (posts);
    # the answer to the command itself is private.
    POLICIES: ClassVar[Mapping[str, Policy]] = {
        "study": Policy(defer=True, server_only=True),
    }


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Study(bot))
