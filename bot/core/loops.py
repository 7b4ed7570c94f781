"""Which event loop runs the coach: asyncio's own, or uvloop (``event_loop`` in the settings)."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable

from bot.core.errors import ConfigError

LOOPS = ("asyncio", "uvloop")


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """A factory of new event loops of kind ``name``; :class:`ConfigError` when uvloop is
    asked for and not installed."""
    if name == "asyncio":
        return asyncio.new_event_loop
    if name == "uvloop":
        try:
            uvloop = importlib.import_module("uvloop")
        except ImportError as exc:
            raise ConfigError(["event_loop: uvloop is not installed (pip install uvloop)"]) from exc
        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    raise ConfigError([f"event_loop: unknown loop {name!r} (one of {', '.join(LOOPS)})"])
