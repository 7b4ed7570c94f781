"""Transitional: nothing in the core knows Discord's limits any more.

Discord's limits live in :mod:`bot.discordbot.limits`. Only ``bot.sandbox.service`` still
imports this module, until the sandbox stops cutting its output (issue 10, the sandbox
split); delete this file when it does. Do not import it anywhere else.
"""

from __future__ import annotations

EMBED_DESCRIPTION = 4096
EMBED_FIELD_VALUE = 1024


def cut(text: str, limit: int, note: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(note))] + note


def cut_lines(text: str, limit: int, note: str) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    budget = max(0, limit - len(note) - 1)
    head = text[:budget]
    newline = head.rfind("\n")
    if newline > budget // 2:
        head = head[:newline]
    return head + "\n" + note, True
