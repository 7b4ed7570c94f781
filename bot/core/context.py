"""Who is asking, from where, in which language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.core.i18n import normalize_locale


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the user attached (a Discord attachment, a file named in the console)."""

    filename: str
    size: int
    read: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind a request.

    ``user_id`` and ``guild_id`` are strings so that the console (``console``) and Discord
    (snowflakes) share one store. ``guild_id`` scopes progress and leaderboards;
    ``channel_id`` is where the request was made (a study group's round lives in a channel;
    the console is one channel, ``console``); ``guild_locale`` the server's own language
    (Discord's preferred locale), the last fallback for what the coach posts there.
    """

    user_id: str
    display_name: str
    guild_id: str = "console"
    locale: str = "en"
    is_admin: bool = False
    uploads: tuple[Upload, ...] = field(default=())
    channel_id: str = "console"
    guild_locale: str | None = None  # the server's preferred language, where it has one

    def __post_init__(self) -> None:
        object.__setattr__(self, "locale", normalize_locale(self.locale))
