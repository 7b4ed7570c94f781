"""Moments and time zones, as the learner lives them.

**Moments in text.** A capability that shows a point in time (a review that is due, when a
sandbox stops) writes :func:`moment` into its text: a neutral marker that each front end
renders for its reader. Discord renders it with ``discord.utils.format_dt`` (every client
shows it in its own reader's time zone and language); the console in the terminal's local
time zone. Styles are the usual short codes: ``t``/``T`` time, ``d``/``D`` date, ``f``/``F``
date and time, ``R`` relative.

**A learner's zone.** Streak days, "today" and the daily question follow the learner's time
zone: the one they chose (``/timezone``), else their server's, else ``Asia/Seoul`` for
Korean readers, else the coach's default (:func:`learner_zone`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

STYLES = "tTdDfFR"
KOREAN_ZONE = "Asia/Seoul"
DEFAULT_ZONE = "UTC"
_MARKER = re.compile(r"\u27e6t:(-?\d+):([" + STYLES + r"])\u27e7")


def moment(when: datetime, style: str = "f") -> str:
    """``when`` as a marker for the front end to render (``⟦t:1767258000:f⟧``)."""
    if style not in STYLES or len(style) != 1:
        raise ValueError(f"unknown moment style {style!r}")
    if when.tzinfo is None:
        raise ValueError("moments must be timezone-aware")
    return f"\u27e6t:{int(when.timestamp())}:{style}\u27e7"


def has_moments(text: str) -> bool:
    return _MARKER.search(text) is not None


def render_moments(text: str, render: Callable[[datetime, str], str]) -> str:
    """``text`` with every moment marker replaced by ``render(when, style)``."""
    return _MARKER.sub(
        lambda found: render(datetime.fromtimestamp(int(found[1]), UTC), found[2]), text
    )


_FORMATS = {
    "t": "%H:%M",
    "T": "%H:%M:%S",
    "d": "%Y-%m-%d",
    "D": "%Y-%m-%d",
    "f": "%Y-%m-%d %H:%M %Z",
    "F": "%A %Y-%m-%d %H:%M %Z",
    "R": "%Y-%m-%d %H:%M %Z",  # relative words are the capability's; the exact moment here
}


def in_zone(when: datetime, style: str, zone: ZoneInfo | None = None) -> str:
    """A moment as plain text in ``zone`` (the machine's local zone when None)."""
    local = when.astimezone(zone) if zone is not None else when.astimezone()
    return local.strftime(_FORMATS.get(style, _FORMATS["f"]))


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine knows (``tzdata`` ships them where the system
    has none)."""
    return frozenset(available_timezones())


def valid_zone(name: str) -> bool:
    if name not in zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str | None, default: str = DEFAULT_ZONE) -> ZoneInfo:
    """The zone called ``name``, or ``default`` when it is missing or unknown."""
    for candidate in (name, default, DEFAULT_ZONE):
        if candidate and valid_zone(candidate):
            return ZoneInfo(candidate)
    return ZoneInfo("UTC")


def learner_zone(
    chosen: str | None, server: str | None, locale: str | None, default: str = DEFAULT_ZONE
) -> str:
    """The zone a learner's days follow: chosen, else the server's, else Seoul for Korean
    readers, else the default."""
    for candidate in (chosen, server):
        if candidate and valid_zone(candidate):
            return candidate
    if locale == "ko":
        return KOREAN_ZONE
    return default if valid_zone(default) else DEFAULT_ZONE


def local_day(when: datetime, zone_name: str | None) -> date:
    """The calendar day of ``when`` in the zone called ``zone_name``."""
    return when.astimezone(zone(zone_name)).date()
