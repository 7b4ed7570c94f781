"""The bounded thread pools every docker-py call runs on: fair between learners, with timeouts.

docker-py blocks (it is built on requests), so the event loop never calls it directly:
:meth:`DockerExecutor.call` runs a call on a pool thread and waits at most ``timeout`` seconds
once the call has a thread, raising :class:`CallTimedOut` past that (the thread goes on until
the engine answers). What the call itself raises passes through unchanged: the worker
(:mod:`bot.sandbox.workers`) maps it.

**Fairness.** Calls do not queue first come, first served: every learner has a queue of their
own (the learner a call is made for is :data:`OWNER`, set for the learner's turn by the
manager with :func:`acting_for`; background work — the reaper, reconciliation, the warm pool —
shares one queue of its own), and a free thread goes to the waiting learner who was served
longest ago (round-robin; among equals, who waited first) and holds fewer than ``per_owner``
threads. So one
learner's many calls (a ``ps`` that inspects six containers, a ``stop a b c d``) or slow ones
cannot make everybody else wait behind them; with nobody else waiting they use every thread.

The ``timeout`` of a call is the engine's time: it starts when the call gets a thread, so a
long queue in a burst is never mistaken for an engine that stopped answering. The queue itself
is bounded by ``queue_timeout`` (:class:`QueueTimedOut`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from bot.core import metrics
from bot.sandbox.errors import SandboxError

T = TypeVar("T")
BACKGROUND = ""  # the owner of calls made for nobody in particular
OWNER: ContextVar[str] = ContextVar("sandbox_call_owner", default=BACKGROUND)


@contextmanager
def acting_for(owner: str) -> Iterator[None]:
    """Docker calls made inside (and in tasks started inside) are ``owner``'s."""
    token = OWNER.set(owner)
    try:
        yield
    finally:
        OWNER.reset(token)


class CallTimedOut(SandboxError):
    """A pool call gave no answer within its timeout (counted from when it got a thread)."""


class QueueTimedOut(SandboxError):
    """A call waited longer than the executor's queue timeout for a thread."""


@dataclass
class ExecutorStats:
    submitted: int = 0
    running: int = 0
    queued: int = 0
    max_queued: int = 0
    timeouts: int = 0
    queue_timeouts: int = 0
    failures: int = 0  # calls that raised
    busy_seconds: float = 0.0


class DockerExecutor:
    """``size`` threads, handed out round-robin between owners, plus per-call timeouts."""

    def __init__(
        self,
        size: int,
        default_timeout: float,
        per_owner: int | None = None,
        queue_timeout: float | None = None,
    ) -> None:
        self.size = size
        self.default_timeout = default_timeout
        self.per_owner = max(1, min(per_owner or size, size))
        self.queue_timeout = queue_timeout
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="docker")
        self.stats = ExecutorStats()
        self._free = size
        self._running: Counter[str] = Counter()
        # owner → their waiting calls, in the order the owners started waiting
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()
        # owner → when they were last given a thread (kept while they run or wait)
        self._served: dict[str, int] = {}
        self._turn = 0

    # slots ---------------------------------------------------------------------------
    def _can_run(self, owner: str) -> bool:
        return self._running[owner] < self.per_owner

    def _take(self, owner: str) -> None:
        self._free -= 1
        self._running[owner] += 1
        self.stats.running += 1
        self._turn += 1
        self._served[owner] = self._turn

    def _release(self, owner: str) -> None:
        self._free += 1
        self._running[owner] -= 1
        if not self._running[owner]:
            del self._running[owner]
            if owner not in self._waiting:
                self._served.pop(owner, None)
        self.stats.running -= 1
        self._hand_out()

    def _next_owner(self) -> str | None:
        """The waiting owner served longest ago (never served first; ties: who waited
        first) among those below their share of threads."""
        best: str | None = None
        for owner in self._waiting:
            if self._can_run(owner) and (
                best is None or self._served.get(owner, 0) < self._served.get(best, 0)
            ):
                best = owner
        return best

    def _hand_out(self) -> None:
        """Give free threads to waiting calls, one owner after the other."""
        while self._free > 0:
            owner = self._next_owner()
            if owner is None:
                return
            queue = self._waiting[owner]
            grant = queue.popleft()
            if not queue:
                del self._waiting[owner]
            self.stats.queued -= 1
            self._take(owner)
            grant.set_result(None)

    async def _slot(self, owner: str) -> None:
        """Wait for a thread of one's own turn (at once when one is free and nobody waits)."""
        if self._free > 0 and not self._waiting and self._can_run(owner):
            self._take(owner)
            return
        grant: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(owner, deque()).append(grant)
        self.stats.queued += 1
        self.stats.max_queued = max(self.stats.max_queued, self.stats.queued)
        self._hand_out()  # a free thread others cannot take (their share is full)
        try:
            await asyncio.wait_for(asyncio.shield(grant), self.queue_timeout)
        except BaseException as exc:
            if grant.done() and not grant.cancelled():
                self._release(owner)  # the thread came just as we gave up: pass it on
            else:
                grant.cancel()
                self._forget(owner, grant)
            if isinstance(exc, TimeoutError):
                self.stats.queue_timeouts += 1
                metrics.executor_queue_timeout()
                raise QueueTimedOut(f"no free thread within {self.queue_timeout:.0f} s") from exc
            raise

    def _forget(self, owner: str, grant: asyncio.Future[None]) -> None:
        queue = self._waiting.get(owner)
        if queue is not None and grant in queue:
            queue.remove(grant)
            self.stats.queued -= 1
            if not queue:
                del self._waiting[owner]
                if owner not in self._running:
                    self._served.pop(owner, None)

    # calls -----------------------------------------------------------------------------
    async def call(self, fn: Callable[[], T], timeout: float | None = None) -> T:  # noqa: ASYNC109
        """``fn()`` on a thread in the caller's turn; :class:`CallTimedOut` when it runs
        longer than ``timeout``."""
        loop = asyncio.get_running_loop()
        owner = OWNER.get()
        limit = timeout or self.default_timeout
        self.stats.submitted += 1
        tracked = metrics.TrackedCall()
        try:
            await self._slot(owner)
        except BaseException:
            tracked.finish()
            raise
        started = time.perf_counter()
        # A slot is a thread of its own: the call starts at once, so its timeout is the
        # engine's time, never the queue's (that one is bounded by ``queue_timeout``).
        future = loop.run_in_executor(self._pool, _tracked, tracked.start, fn)
        try:
            return await asyncio.wait_for(future, limit)
        except TimeoutError as exc:
            if not future.cancelled():  # raised by fn itself: not ours to reinterpret
                self.stats.failures += 1
                raise
            self.stats.timeouts += 1
            metrics.engine_error("timeout")
            raise CallTimedOut(f"no answer within {limit:.0f} s") from exc
        except Exception:
            self.stats.failures += 1
            raise
        finally:
            tracked.finish()
            self.stats.busy_seconds += time.perf_counter() - started
            self._release(owner)

    def learners_waiting(self) -> bool:
        """Whether a call made for a learner (not background work) waits for a thread."""
        return any(owner != BACKGROUND for owner in self._waiting)

    def as_dict(self) -> dict[str, int]:
        return {
            "threads": self.size,
            "submitted": self.stats.submitted,
            "running": self.stats.running,
            "queued": self.stats.queued,
            "max_queued": self.stats.max_queued,
            "timeouts": self.stats.timeouts,
            "queue_timeouts": self.stats.queue_timeouts,
            "failures": self.stats.failures,
        }

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _tracked(on_thread: Callable[[], None], fn: Callable[[], T]) -> T:
    """On the pool thread: the call leaves the queue and runs."""
    on_thread()
    return fn()
