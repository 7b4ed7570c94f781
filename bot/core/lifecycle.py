"""The coach's gate: admits requests until shutdown begins, then lets running ones finish.

Every request passes :meth:`Gate.admitted` (``Coach._guarded``). On SIGTERM the front end
closes the gate, so new commands are answered "shutting down" instead of started, and waits
(bounded) for :meth:`Gate.drained` before closing Discord, the engine clients and the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class Gate:
    def __init__(self) -> None:
        self._closing = False
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def running(self) -> int:
        return self._running

    def close(self) -> None:
        """Admit nothing more (idempotent)."""
        self._closing = True

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """Count one request as running for the duration of the block."""
        self._running += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()

    async def drained(self, timeout: float) -> bool:  # noqa: ASYNC109 - a bound, not a deadline API
        """Wait until nothing runs, at most ``timeout`` seconds; True if drained."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
