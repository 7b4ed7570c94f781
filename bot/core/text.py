"""Text helpers for reply authors, independent of any front end.

Reply bodies are markdown, so text a user chose (a display name, a topic they typed) is
escaped before it goes in, and such text is kept short where a message quotes it, so that a
message about a 5,000-character input stays a readable sentence. These are rules about
user-chosen text only: fitting a reply to a medium is each front end's job, and a
capability never shortens its own output.
"""

from __future__ import annotations

QUOTE_CHARS = 80
"""How much of a user's own text a message quotes ("no concept named …")."""

_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\*_~`|>#[]()"})


def escape_markdown(text: str) -> str:
    """Show user-chosen text (a display name) literally inside markdown."""
    return text.translate(_MARKDOWN)


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """User-chosen ``text`` as a message quotes it: at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def human_bytes(size: int) -> str:
    """``size`` in binary units, as the sandbox's limits are given (``512 MiB``, ``1.5 GiB``)."""
    value = float(size)
    unit = _UNITS[0]
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            break
        value /= 1024
    if unit == "B":
        return f"{int(value)} B"
    return f"{value:.1f} {unit}" if abs(value) < 10 else f"{value:.0f} {unit}"


def channel_label(channel: str) -> str:
    """``<#id>`` (a Discord mention, shown as the channel's name) or ``#name`` (console)."""
    return f"<#{channel}>" if channel.isdigit() else "#" + channel.lstrip("#")
