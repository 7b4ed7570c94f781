"""The reaper's decisions and actions: stop idle sandboxes, destroy long-idle ones.

Activity lives in memory (``Sandbox.last_activity``, set by every command); after a restart
it is derived from the engine's times (see :mod:`bot.sandbox.reconcile`). :class:`Periodic`
runs a round every few seconds until closed (the manager owns it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from docker.api import APIClient

from bot.sandbox.errors import EngineError, EngineNotFound
from bot.sandbox.naming import Scope
from bot.sandbox.provision import Sandbox
from bot.sandbox.workers import engine_call

log = logging.getLogger("bot.sandbox.reaper")
STOP_GRACE_SECONDS = 1


def stop_blocking(api: APIClient, scope: Scope) -> int:
    """Stop every running container of the sandbox, the host shell included; how many were
    stopped. One that cannot be stopped does not keep the others running: the first such
    error is raised after trying them all (the next round tries again)."""
    stopped = 0
    failure: EngineError | None = None
    for summary in scope.mine(api.containers(filters=scope.filters())):
        try:
            engine_call(api.stop, summary["Id"], timeout=STOP_GRACE_SECONDS)
            stopped += 1
        except EngineNotFound:  # removed meanwhile: nothing left to stop
            continue
        except EngineError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
    return stopped


def due(sandbox: Sandbox, now: datetime, stop_after: timedelta, destroy_after: timedelta) -> str:
    """``"destroy"``, ``"stop"`` or ``""`` for one sandbox at ``now``."""
    idle = now - sandbox.last_activity
    if idle >= destroy_after:
        return "destroy"
    if idle >= stop_after and not sandbox.stopped:
        return "stop"
    return ""


class Periodic:
    """Runs ``job`` every ``interval`` seconds until closed; a failing round is logged and the
    next one runs as usual."""

    def __init__(self, name: str, job: Callable[[], Awaitable[None]], interval: float) -> None:
        self.name = name
        self._job = job
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._job()
            except Exception:
                log.exception("periodic job failed", extra={"job": self.name})

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
