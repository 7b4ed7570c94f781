"""Which event loop runs the coach — asyncio's own, or uvloop (``event_loop`` in the
settings) — and at which priority its thread runs (``event_loop_priority``).

On a machine whose cores the engine saturates (a whole class starting containers at once),
the loop's thread waits for a core like any other: its lag is the machine's, not its own
work's. ``realtime`` puts the loop's thread (only that thread: the threads it starts later,
docker-py's among them, are reset to the normal policy) in the lowest real-time class, so it
runs as soon as it has something to do (docs/performance.md measures it). That needs the right
to (``CAP_SYS_NICE`` or ``RLIMIT_RTPRIO`` ≥ 1; in a container also a real-time CPU budget):
without it the loop stays at normal priority and the log says why.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Callable

from bot.core.errors import ConfigError

LOOPS = ("asyncio", "uvloop")
PRIORITIES = ("normal", "realtime")
REALTIME_PRIORITY = 1  # the lowest real-time priority: above every normal thread, no higher

log = logging.getLogger("bot.core.loops")


def raise_thread_priority() -> str | None:
    """Put the calling thread in the round-robin real-time class; threads it starts later get
    the normal policy again. None when done, else why not."""
    setter = getattr(os, "sched_setscheduler", None)
    if setter is None:
        return "this system has no real-time scheduling for threads"
    policy = os.SCHED_RR | getattr(os, "SCHED_RESET_ON_FORK", 0)
    try:
        setter(0, policy, os.sched_param(REALTIME_PRIORITY))
    except OSError as exc:
        return (
            f"{exc.strerror or exc} (needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least "
            f"{REALTIME_PRIORITY}; in a container also a real-time CPU budget)"
        )
    return None


def loop_factory(name: str, priority: str = "normal") -> Callable[[], asyncio.AbstractEventLoop]:
    """A factory of new event loops of kind ``name`` whose thread runs at ``priority`` (set
    when the loop is made, on the thread that will run it); :class:`ConfigError` when uvloop
    is asked for and not installed, or the priority is unknown."""
    if priority not in PRIORITIES:
        raise ConfigError(
            [f"event_loop_priority: unknown priority {priority!r} (one of {', '.join(PRIORITIES)})"]
        )
    make = _factory(name)
    if priority == "normal":
        return make

    def prioritised() -> asyncio.AbstractEventLoop:
        refused = raise_thread_priority()
        if refused is None:
            log.info("event loop thread at real-time priority")
        else:
            log.warning("event loop thread stays at normal priority: %s", refused)
        return make()

    return prioritised


def _factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
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
