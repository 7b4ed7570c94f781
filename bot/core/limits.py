"""Discord's limits, in one place, and helpers to fit text into them."""

from __future__ import annotations

MESSAGE_CONTENT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_TOTAL = 6000
AUTOCOMPLETE_CHOICES = 25
COMMAND_DESCRIPTION = 100
BUTTON_LABEL = 80
CUSTOM_ID = 100
ATTACHMENT_BYTES = 10 * 1024 * 1024


def cut(text: str, limit: int, note: str = "…") -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with ``note`` when cut."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(note))
    return text[:keep] + note


def cut_lines(text: str, limit: int, note: str) -> tuple[str, bool]:
    """Cut ``text`` at a line boundary so that it plus ``note`` fits ``limit``.

    Returns the text and whether it was cut.
    """
    if len(text) <= limit:
        return text, False
    budget = max(0, limit - len(note) - 1)
    head = text[:budget]
    newline = head.rfind("\n")
    if newline > budget // 2:
        head = head[:newline]
    return head + "\n" + note, True


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\*_~`|>#[]()"})


def escape_markdown(text: str) -> str:
    """Show user-chosen text (a display name) literally inside markdown."""
    return text.translate(_MARKDOWN)
