"""The reaper: stops idle sandboxes, destroys long-idle ones, and keeps workers checked.

Activity lives in memory (``Sandbox.last_activity``, set by every command); after a restart
it is derived from the engine's times (see :mod:`bot.sandbox.reconcile`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from docker.api import APIClient
from docker.errors import APIError, NotFound

from bot.sandbox.naming import Scope
from bot.sandbox.provision import Sandbox

log = logging.getLogger("bot.sandbox.reaper")
STOP_GRACE_SECONDS = 1


def stop_blocking(api: APIClient, scope: Scope) -> int:
    """Stop every running container of the sandbox, the host shell included."""
    stopped = 0
    for summary in scope.mine(api.containers(filters=scope.filters())):
        try:
            api.stop(summary["Id"], timeout=STOP_GRACE_SECONDS)
            stopped += 1
        except (APIError, NotFound):
            continue
    return stopped


def due(sandbox: Sandbox, now: datetime, stop_after: timedelta, destroy_after: timedelta) -> str:
    """``"destroy"``, ``"stop"`` or ``""`` for one sandbox at ``now``."""
    idle = now - sandbox.last_activity
    if idle >= destroy_after:
        return "destroy"
    if idle >= stop_after and not sandbox.stopped:
        return "stop"
    return ""


class Reaper:
    """Runs :meth:`tick` every ``interval`` seconds until closed."""

    def __init__(self, tick: Callable[[], Awaitable[None]], interval: float) -> None:
        self._tick = tick
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="sandbox-reaper")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._tick()
            except Exception:
                log.exception("reaper tick failed")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
