"""/admin: server managers only (Manage Server)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from bot.discordbot.cog import FeatureCog
from bot.discordbot.policy import Policy

if TYPE_CHECKING:
    from bot.discordbot.client import CoachBot


class Admin(FeatureCog):
    POLICIES: ClassVar[Mapping[str, Policy]] = {
        "admin": Policy(defer=True, server_only=True),
    }


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Admin(bot))
