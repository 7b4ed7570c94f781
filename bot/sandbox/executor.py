"""The bounded thread pools every docker-py call runs on, with timeouts.

docker-py blocks (it is built on requests), so the event loop never calls it directly:
:meth:`DockerExecutor.call` runs a call on a pool thread and waits at most ``timeout`` seconds,
raising :class:`CallTimedOut` past that (the thread goes on until the engine answers). What the
call itself raises passes through unchanged: the worker (:mod:`bot.sandbox.workers`) maps it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from bot.core import metrics
from bot.sandbox.errors import SandboxError

T = TypeVar("T")


class CallTimedOut(SandboxError):
    """A pool call gave no answer within its timeout."""


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
        future = loop.run_in_executor(self._pool, _tracked, tracked, fn)
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


def _tracked(tracked: metrics.TrackedCall, fn: Callable[[], T]) -> T:
    """On the pool thread: the call leaves the queue and runs."""
    tracked.start()
    return fn()
