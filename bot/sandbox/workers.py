"""Workers: the Docker engines that host sandboxes, their health and placement — and the
boundary between the coach and docker-py.

A worker is reached through docker-py (``unix://``, ``tcp://`` with TLS, ``ssh://``). It is
*healthy* after a successful ping; a failed call marks it down and the next use pings it
again, so a worker that comes back is used again without a restart. New sandboxes go to the
healthy worker with the fewest sandboxes.

Every docker-py call runs through :meth:`Worker.run` (or :meth:`~Worker.stream`,
:meth:`~Worker.slow`) on a thread pool, and this module is the one place where docker-py's
and requests' exceptions become the coach's own (:func:`engine_failure`): ``APIError`` →
:class:`~bot.sandbox.errors.EngineError` (404 → ``EngineNotFound``, 409 → ``EngineConflict``)
with the status and the engine's explanation; connection failures and timeouts →
``WorkerDown`` → the worker is marked down and the user gets :class:`Unavailable`. Blocking
helpers that must react to one engine answer inside a thread (a removal of something already
gone) call docker-py through :func:`engine_call`, which maps the same way.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, TypeVar

import docker
import requests
from docker.api import APIClient
from docker.errors import APIError, DockerException
from docker.tls import TLSConfig
from docker.types import NetworkingConfig

from bot.core import metrics
from bot.core.errors import Unavailable
from bot.sandbox import naming
from bot.sandbox.errors import (
    EngineConflict,
    EngineError,
    EngineNotFound,
    SandboxError,
    TookTooLong,
    WorkerDown,
)
from bot.sandbox.executor import CallTimedOut, DockerExecutor, QueueTimedOut
from bot.settings import WorkerSettings

log = logging.getLogger("bot.sandbox.workers")
PING_TIMEOUT = 5.0
RETRY_AFTER_SECONDS = 2.0
T = TypeVar("T")
P = ParamSpec("P")

# --------------------------------------------------------------------------------------------
# The error boundary
# --------------------------------------------------------------------------------------------

_UNREACHABLE_WORDS = ("connection", "connect to", "no such file", "refused", "ssh", "tls")


def _explanation(exc: APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc)


def _engine_error(explanation: str, status: int | None) -> EngineError:
    if status == 404:
        return EngineNotFound(explanation, status)
    if status == 409:
        return EngineConflict(explanation, status)
    return EngineError(explanation, status)


def engine_failure(exc: BaseException) -> SandboxError | None:
    """The coach's exception for one raised by docker-py or requests (None: neither's)."""
    if isinstance(exc, SandboxError):
        return exc
    if isinstance(exc, APIError):
        return _engine_error(_explanation(exc), exc.status_code)
    if isinstance(exc, requests.HTTPError):  # a plain request (the archive stat)
        response = exc.response
        status = response.status_code if response is not None else None
        text = (response.text if response is not None else "") or str(exc)
        return _engine_error(text, status)
    if isinstance(exc, requests.ConnectionError | requests.Timeout | OSError):
        return WorkerDown(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, DockerException):
        text = str(exc)
        if any(word in text.lower() for word in _UNREACHABLE_WORDS):
            return WorkerDown(f"{type(exc).__name__}: {text}")
        return EngineError(text)
    return None


def engine_call(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Inside a blocking helper: call docker-py with its errors mapped (see the module doc)."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        mapped = engine_failure(exc)
        if mapped is None or mapped is exc:
            raise
        raise mapped from exc


# --------------------------------------------------------------------------------------------
# docker-py calls whose type stubs are missing or wrong
# --------------------------------------------------------------------------------------------


def inspect_image(api: APIClient, name: str) -> dict[str, Any]:
    """``APIClient.inspect_image`` (untyped in the stubs)."""
    attrs: dict[str, Any] = api.inspect_image(name)  # type: ignore[no-untyped-call]
    return attrs


def networking_config(api: APIClient, network: str, aliases: list[str]) -> NetworkingConfig:
    """A networking config joining ``network`` with ``aliases`` (the stubs type the argument
    of ``create_networking_config`` as one endpoint; docker-py takes a dict of them)."""
    endpoints = {network: api.create_endpoint_config(aliases=aliases)}
    return api.create_networking_config(endpoints)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Workers
# --------------------------------------------------------------------------------------------


def _make_client(settings: WorkerSettings, timeout: float, pool_size: int) -> docker.DockerClient:
    """Build (and version-negotiate) a client; blocking, so it runs on the executor."""
    if settings.url is None:
        return docker.from_env(timeout=int(timeout), max_pool_size=pool_size)
    tls: TLSConfig | bool = False
    if settings.url.startswith("tcp://") and (settings.tls_verify or settings.tls_client_cert):
        client_cert = None
        if settings.tls_client_cert and settings.tls_client_key:
            client_cert = (str(settings.tls_client_cert), str(settings.tls_client_key))
        tls = TLSConfig(
            client_cert=client_cert,
            ca_cert=str(settings.tls_ca_cert) if settings.tls_ca_cert else None,
            verify=settings.tls_verify,
        )
    return docker.DockerClient(
        base_url=settings.url,
        tls=tls,
        timeout=int(timeout),
        max_pool_size=pool_size,
        version="auto",
        use_ssh_client=settings.url.startswith("ssh://"),
    )


class Worker:
    """One engine and what the coach knows about it."""

    def __init__(
        self,
        settings: WorkerSettings,
        executor: DockerExecutor,
        api_timeout: float,
        streams: DockerExecutor | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self.executor = executor
        self.streams = streams or executor
        self.api_timeout = api_timeout
        self.client: docker.DockerClient | None = None
        self.healthy = False
        self.last_error: str | None = None
        self._last_attempt = 0.0
        # Capacity is checked and a sandbox created under this lock (see the manager).
        self.provision_lock = asyncio.Lock()
        # Container creations and starts running on the engine at once (``heavy`` calls):
        # past a few, each one gets slower and the engine does no more per second.
        self.starts = asyncio.Semaphore(settings.concurrent_starts)

    @property
    def api(self) -> APIClient:
        if self.client is None:
            raise Unavailable("sandbox.worker_unavailable")
        return self.client.api

    async def connect(self) -> bool:
        """Create the client if needed and ping; remember the outcome."""
        self._last_attempt = time.monotonic()
        pool_size = self.executor.size + (
            self.streams.size if self.streams is not self.executor else 0
        )
        settings, timeout = self.settings, self.api_timeout
        try:
            if self.client is None:
                self.client = await self.executor.call(
                    lambda: _make_client(settings, timeout, pool_size), PING_TIMEOUT + 5
                )
            await self.executor.call(self.client.api.ping, PING_TIMEOUT)
        except Exception as exc:  # every failure here means "not usable now", and is kept
            self.mark_down(exc)
            return False
        if not self.healthy:
            log.info("worker up", extra={"worker": self.name})
        metrics.set_worker_up(self.name, True)
        self.healthy = True
        self.last_error = None
        return True

    def mark_down(self, exc: BaseException) -> None:
        if self.healthy:
            log.warning("worker down", extra={"worker": self.name, "error": str(exc)[:200]})
        metrics.set_worker_up(self.name, False)
        self.healthy = False
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]
        self._last_attempt = time.monotonic()

    async def ensure(self) -> None:
        """Raise :class:`Unavailable` unless the worker answers (re-pinging a down worker)."""
        if self.healthy:
            return
        if time.monotonic() - self._last_attempt < RETRY_AFTER_SECONDS:
            raise Unavailable("sandbox.worker_unavailable")  # asked moments ago: no pile-up
        if not await self.connect():
            raise Unavailable("sandbox.worker_unavailable")

    async def run(
        self,
        fn: Callable[[APIClient], T],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        heavy: bool = False,
    ) -> T:
        """``fn(api)`` on the API pool, errors mapped; a worker that does not answer is marked
        down and :class:`Unavailable` raised. ``heavy``: the call creates or starts a
        container, and waits its turn among the worker's ``concurrent_starts``."""
        if heavy:
            async with self.starts:
                return await self._on(self.executor, fn, timeout)
        return await self._on(self.executor, fn, timeout)

    async def stream(
        self,
        fn: Callable[[APIClient], T],
        *,
        timeout: float,  # noqa: ASYNC109
        heavy: bool = False,
    ) -> T:
        """Like :meth:`run`, on the pool reserved for long stream reads."""
        if heavy:
            async with self.starts:
                return await self._on(self.streams, fn, timeout)
        return await self._on(self.streams, fn, timeout)

    async def slow(self, fn: Callable[[APIClient], T], *, timeout: float) -> T:  # noqa: ASYNC109
        """Like :meth:`run` for calls whose time depends on more than the worker (pulls,
        index searches): running out of time raises :class:`TookTooLong` instead of marking
        the worker down (the thread goes on until the engine answers)."""
        try:
            return await self._on(self.executor, fn, timeout, slow=True)
        except CallTimedOut as exc:
            raise TookTooLong(str(exc)) from exc

    async def _on(
        self,
        pool: DockerExecutor,
        fn: Callable[[APIClient], T],
        timeout: float | None,  # noqa: ASYNC109
        slow: bool = False,
    ) -> T:
        await self.ensure()
        try:
            return await pool.call(functools.partial(engine_call, fn, self.api), timeout)
        except CallTimedOut as exc:
            if slow:
                raise
            self.mark_down(exc)
            raise Unavailable("sandbox.worker_unavailable") from exc
        except QueueTimedOut as exc:  # busy, not down: the engine answers, slowly
            raise Unavailable("sandbox.worker_busy") from exc
        except WorkerDown as exc:
            metrics.engine_error("unreachable")
            self.mark_down(exc)
            raise Unavailable("sandbox.worker_unavailable") from exc
        except EngineError as exc:
            if exc.status is not None and exc.status >= 500:
                metrics.engine_error("api")
            raise

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # closing a broken client is best effort
                log.debug("closing client failed", exc_info=True)


def _host_shells(api: APIClient) -> int:
    hosts = api.containers(all=True, filters={"label": [f"{naming.KIND}={naming.KIND_HOST}"]})
    return len(hosts)


class Capacity(Protocol):
    """How many sandboxes a worker holds now, as counted against its ``max_sandboxes``."""

    async def used(self, worker: Worker) -> int: ...


class PhysicalCapacity:
    """Host shells on the engine of *every* coach instance: memory and CPU are physical."""

    async def used(self, worker: Worker) -> int:
        count = await worker.run(_host_shells)
        metrics.set_sandboxes(worker.name, count)
        return count


class WorkerPool:
    """Every configured worker."""

    def __init__(
        self,
        settings: tuple[WorkerSettings, ...],
        executor: DockerExecutor,
        api_timeout: float,
        streams: DockerExecutor | None = None,
        capacity: Capacity | None = None,
    ) -> None:
        self.workers = [Worker(s, executor, api_timeout, streams) for s in settings]
        self.capacity = capacity or PhysicalCapacity()

    def get(self, name: str) -> Worker | None:
        return next((w for w in self.workers if w.name == name), None)

    async def connect_all(self) -> None:
        await asyncio.gather(*(w.connect() for w in self.workers))

    async def has_room(self, worker: Worker) -> bool:
        return await self.capacity.used(worker) < worker.settings.max_sandboxes

    async def pick(self) -> Worker:
        """The least-loaded healthy worker with room; :class:`Unavailable` if none."""
        best: tuple[Worker, int] | None = None
        for worker in self.workers:
            try:
                await worker.ensure()
                count = await self.capacity.used(worker)
            except Unavailable:
                continue
            if count >= worker.settings.max_sandboxes:
                continue
            if best is None or count < best[1]:
                best = (worker, count)
        if best is None:
            if any(w.healthy for w in self.workers):
                raise Unavailable("sandbox.workers_full")
            raise Unavailable("sandbox.worker_unavailable")
        return best[0]

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
