"""The bounded thread pools every docker-py call runs on, with timeouts.

docker-py blocks (it is built on requests), so the event loop never calls it directly:
:meth:`DockerExecutor.call` runs a call on a pool thread and waits at most ``timeout`` seconds
once the call runs, raising :class:`CallTimedOut` past that (the thread goes on until the
engine answers). Waiting for a free thread is bounded too, by the same amount: a call that
could not even start in time is taken out of the queue and :class:`CallTimedOut` raised with
``queued`` set. So a class arriving at once (many calls in the queue) is not mistaken for an
engine that does not answer, and a learner never waits more than twice the timeout. What the
call itself raises passes through unchanged: the worker (:mod:`bot.sandbox.workers`) maps it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.core import metrics
from bot.sandbox.errors import SandboxError

T = TypeVar("T")


class CallTimedOut(SandboxError):
    """A pool call gave no answer within its timeout (``queued``: it never got a thread)."""

    def __init__(self, message: str, queued: bool = False) -> None:
        super().__init__(message)
        self.queued = queued


@dataclass
class ExecutorStats:
    submitted: int = 0
    running: int = 0
    timeouts: int = 0
    failures: int = 0  # calls that raised
    busy_seconds: float = 0.0


class DockerExecutor:
    """A ``ThreadPoolExecutor`` of ``size`` threads plus per-call timeouts."""

    def __init__(self, size: int, default_timeout: float) -> None:
        self.size = size
        self.default_timeout = default_timeout
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="docker")
        self.stats = ExecutorStats()

    async def call(self, fn: Callable[[], T], timeout: float | None = None) -> T:  # noqa: ASYNC109
        """``fn()`` on the pool; :class:`CallTimedOut` when it takes longer than ``timeout``."""
        loop = asyncio.get_running_loop()
        limit = timeout or self.default_timeout
        self.stats.submitted += 1
        self.stats.running += 1
        started = time.perf_counter()
        tracked = metrics.TrackedCall()
        running: asyncio.Future[None] = loop.create_future()

        def on_thread() -> None:
            tracked.start()
            loop.call_soon_threadsafe(_settle, running)

        future = loop.run_in_executor(self._pool, _tracked, on_thread, fn)
        try:
            either: set[asyncio.Future[Any]] = {running, future}
            await asyncio.wait(either, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
            if not running.done() and not future.done():
                future.cancel()  # still queued: it never runs
                self.stats.timeouts += 1
                raise CallTimedOut(f"no free thread within {limit:.0f} s", queued=True)
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
            running.cancel()
            tracked.finish()
            self.stats.running -= 1
            self.stats.busy_seconds += time.perf_counter() - started

    def as_dict(self) -> dict[str, int]:
        return {
            "threads": self.size,
            "submitted": self.stats.submitted,
            "running": self.stats.running,
            "timeouts": self.stats.timeouts,
            "failures": self.stats.failures,
        }

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _tracked(on_thread: Callable[[], None], fn: Callable[[], T]) -> T:
    """On the pool thread: the call leaves the queue and runs."""
    on_thread()
    return fn()


def _settle(running: asyncio.Future[None]) -> None:
    if not running.done():
        running.set_result(None)
