"""A semaphore whose waiters go in order of urgency, then of arrival.

A worker's start slots use it: a learner whose container is already created gets the next
slot for its start ahead of the class's creations still waiting, so that each container comes
up as soon as it is made instead of after every other learner's has been made.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator


class PriorityGate:
    """At most ``slots`` holders at once; a freed slot goes to the most urgent waiter (lowest
    ``rank``), the longest waiting among equals. A waiter cancelled while it waits takes no
    slot; one cancelled just after being handed a slot hands it on."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        self._free = slots
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    def waiting(self) -> int:
        """How many wait for a slot now."""
        return sum(1 for _, _, waiter in self._waiters if not waiter.done())

    def locked(self) -> bool:
        """Whether a new holder would have to wait."""
        return self._free == 0 or self.waiting() > 0

    @contextlib.asynccontextmanager
    async def slot(self, rank: int = 0) -> AsyncIterator[None]:
        """Hold a slot for the block (waiting behind more urgent and earlier waiters)."""
        await self._acquire(rank)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, rank: int) -> None:
        if not self.locked():
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (rank, next(self._arrivals), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a slot as it was cancelled: the next waiter's
            raise

    def _release(self) -> None:
        while self._waiters:
            _rank, _arrival, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to it
                return
        self._free += 1
