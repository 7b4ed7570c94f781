"""/docker, /sh, /download, /sandbox: always deferred, per-user cooldown, private by default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from bot.discordbot import cooldowns
from bot.discordbot.cog import FeatureCog
from bot.discordbot.policy import Policy

if TYPE_CHECKING:
    from bot.discordbot.client import CoachBot


class Sandbox(FeatureCog):
    POLICIES: ClassVar[Mapping[str, Policy]] = {
        "docker": Policy(defer=True, cooldown=cooldowns.SANDBOX, practice=True, share=True),
        "sh": Policy(defer=True, cooldown=cooldowns.SANDBOX, practice=True, share=True),
        "download": Policy(defer=True, cooldown=cooldowns.SANDBOX, practice=True, share=True),
        "sandbox": Policy(defer=True, cooldown=cooldowns.SANDBOX, share=True),
    }


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Sandbox(bot))
