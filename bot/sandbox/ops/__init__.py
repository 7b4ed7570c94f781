"""One small function per docker subcommand, looked up by the parser's canonical path."""

from __future__ import annotations

from functools import partial
from types import ModuleType

from bot.sandbox.ops import containers, files, images, storage
from bot.sandbox.ops.base import Ctx, Op, Output


def _named(module: ModuleType, words: str, group: str = "") -> dict[tuple[str, ...], Op]:
    """``docker [group] <word>`` → ``module.[group_]<word>`` for each word."""
    return {
        ((group, word) if group else (word,)): getattr(module, f"{group}_{word}" if group else word)
        for word in words.split()
    }


OPERATIONS: dict[tuple[str, ...], Op] = {
    **_named(images, "search pull images"),
    ("image", "ls"): images.images,
    ("run",): containers.run,
    ("create",): partial(containers.run, create_only=True),
    **_named(containers, "start stop restart pause unpause kill rm ps logs"),
    ("exec",): containers.exec_,
    ("cp",): files.cp,
    **_named(containers, "inspect rename top port stats"),
    ("container", "prune"): containers.prune,
    **_named(storage, "create ls inspect rm prune", group="volume"),
    **_named(storage, "create ls inspect rm connect disconnect prune", group="network"),
}

__all__ = ["OPERATIONS", "Ctx", "Op", "Output"]
