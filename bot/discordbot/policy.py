"""How the Discord front end treats a command, and the ways a command can be refused before it
runs (each with a message of its own).

Each extension declares a :class:`Policy` per top-level command it serves. The policy is read
*before* anything is sent to Discord: whether to acknowledge at once, who will see the answer
(Discord fixes an answer's visibility when it is acknowledged), which cooldown bucket it
draws from, and whether it belongs to a server (refused in DMs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from discord import app_commands


@dataclass(frozen=True, slots=True)
class Policy:
    """How the front end treats a command (declared by each extension).

    * ``defer``: acknowledge at once ("thinking…"): the command touches Docker or disk;
    * ``public``: the answer is shown to the channel (concepts, the leaderboard); otherwise
      only the member who asked sees it, unless they ``share`` it;
    * ``share``: offer a ``share`` option that makes the answer public;
    * ``cooldown``: the per-user bucket the command draws from (``bot.discordbot.cooldowns``);
    * ``practice``: only in the server's practice channel (or its threads), when one is set;
    * ``server_only``: belongs to a server (progress there, its members, its managers):
      not offered in DMs, and refused there if a stale registration still offers it.
    """

    defer: bool = False
    public: bool = False
    share: bool = False
    cooldown: str | None = None
    practice: bool = False
    server_only: bool = False


class WrongChannel(app_commands.CheckFailure):
    """Practice commands run in the server's practice channel only."""

    def __init__(self, channel_id: str) -> None:
        super().__init__(f"practice happens in channel {channel_id}")
        self.channel_id = channel_id


class OnCooldown(app_commands.CheckFailure):
    """The member used up their bucket; ``retry_at`` is when it has room again."""

    def __init__(self, bucket: str, retry_at: datetime) -> None:
        super().__init__(f"cooldown {bucket} until {retry_at.isoformat()}")
        self.bucket = bucket
        self.retry_at = retry_at


class OutOfDate(app_commands.CheckFailure):
    """Discord sent a command or option this bot does not have: the server's registered
    commands are older (or newer) than the running code; someone forgot ``sync``."""

    def __init__(self, what: str) -> None:
        super().__init__(f"unknown to this version: {what}")
        self.what = what
