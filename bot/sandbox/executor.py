"""The bounded thread pool every docker-py call runs on, with timeouts.

docker-py blocks (it is built on requests), so the event loop never calls it directly:
:meth:`DockerExecutor.call` runs the call on a worker thread and waits at most ``timeout``
seconds. Connection failures (``requests.exceptions.ConnectionError`` is not a
``DockerException``) and timeouts become :class:`WorkerDown`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from docker.errors import APIError, DockerException

from bot.core import metrics

T = TypeVar("T")


class WorkerDown(Exception):
    """The worker's engine did not answer (connection refused, timed out, TLS/SSH failure)."""


@dataclass
class ExecutorStats:
    submitted: int = 0
    running: int = 0
    timeouts: int = 0
    failures: int = 0
    busy_seconds: float = 0.0


class DockerExecutor:
    """A ``ThreadPoolExecutor`` of ``size`` threads plus per-call timeouts."""

    def __init__(self, size: int, default_timeout: float) -> None:
        self.size = size
        self.default_timeout = default_timeout
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="docker")
        self.stats = ExecutorStats()

    async def call(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,
        timeout: float | None = None,  # noqa: ASYNC109 - enforced with wait_for below
        **kwargs: Any,
    ) -> T:
        """Run ``fn(*args, **kwargs)`` on the pool; raise :class:`WorkerDown` when unreachable."""
        loop = asyncio.get_running_loop()
        self.stats.submitted += 1
        self.stats.running += 1
        started = time.perf_counter()
        tracked = metrics.TrackedCall()
        future = loop.run_in_executor(self._pool, _tracked, tracked, fn, args, kwargs)
        try:
            return await asyncio.wait_for(future, timeout or self.default_timeout)
        except TimeoutError as exc:
            self.stats.timeouts += 1
            metrics.engine_error("timeout")
            raise WorkerDown(f"no answer within {timeout or self.default_timeout:.0f} s") from exc
        except APIError as exc:
            if exc.is_server_error():
                metrics.engine_error("api")
            raise
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            self.stats.failures += 1
            metrics.engine_error("unreachable")
            raise WorkerDown(str(exc)) from exc
        except DockerException as exc:
            if _looks_unreachable(exc):
                self.stats.failures += 1
                metrics.engine_error("unreachable")
                raise WorkerDown(str(exc)) from exc
            raise
        except OSError as exc:
            self.stats.failures += 1
            metrics.engine_error("unreachable")
            raise WorkerDown(str(exc)) from exc
        finally:
            tracked.finish()
            self.stats.running -= 1
            self.stats.busy_seconds += time.perf_counter() - started

    def as_dict(self) -> dict[str, float]:
        return {
            "threads": self.size,
            "submitted": self.stats.submitted,
            "running": self.stats.running,
            "timeouts": self.stats.timeouts,
            "failures": self.stats.failures,
        }

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _tracked(
    tracked: metrics.TrackedCall,
    fn: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> T:
    tracked.start()
    return fn(*args, **kwargs)


def _looks_unreachable(exc: DockerException) -> bool:
    text = str(exc).lower()
    return any(
        word in text
        for word in ("connection", "connect to", "no such file", "refused", "ssh", "tls")
    )
