"""Workers: the Docker engines that host sandboxes, their health and placement.

A worker is reached through docker-py (``unix://``, ``tcp://`` with TLS, ``ssh://``). It is
*healthy* after a successful ping; a failed call marks it down and the next use pings it
again, so a worker that comes back is used again without a restart. New sandboxes go to the
healthy worker with the fewest sandboxes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import docker
from docker.api import APIClient
from docker.tls import TLSConfig

from bot.core import metrics
from bot.core.errors import Unavailable
from bot.sandbox import naming
from bot.sandbox.executor import DockerExecutor, WorkerDown
from bot.settings import WorkerSettings

log = logging.getLogger("bot.sandbox.workers")
PING_TIMEOUT = 5.0
RETRY_AFTER_SECONDS = 2.0


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


class TookTooLong(Exception):
    """A call that may rightly be slow (a pull, an index search) did not end in time; the
    worker itself answered and stays healthy."""


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
        self.provision_lock = asyncio.Lock()

    @property
    def api(self) -> APIClient:
        if self.client is None:
            raise Unavailable("sandbox.worker_unavailable")
        return self.client.api

    async def connect(self) -> bool:
        """Create the client if needed and ping; remember the outcome."""
        self._last_attempt = time.monotonic()
        try:
            if self.client is None:
                self.client = await self.executor.call(
                    _make_client,
                    self.settings,
                    self.api_timeout,
                    self.executor.size
                    + (self.streams.size if self.streams is not self.executor else 0),
                    timeout=PING_TIMEOUT + 5,
                )
            await self.executor.call(self.client.api.ping, timeout=PING_TIMEOUT)
        except Exception as exc:  # every failure here means "not usable now"
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
        self.healthy = False
        metrics.set_worker_up(self.name, False)
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

    async def call(self, fn_name: str, /, *args: Any, timeout: float | None = None, **kw: Any):  # noqa: ASYNC109
        """Call ``APIClient.<fn_name>`` on the executor; a connection failure marks us down."""
        await self.ensure()
        return await self._on(self.executor, getattr(self.api, fn_name), args, kw, timeout)

    async def run(self, fn: Any, /, *args: Any, timeout: float | None = None, **kw: Any):  # noqa: ASYNC109
        """Run an arbitrary blocking function (given the API client) on the executor."""
        await self.ensure()
        return await self._on(self.executor, fn, (self.api, *args), kw, timeout)

    async def stream(self, fn: Any, /, *args: Any, timeout: float, **kw: Any):  # noqa: ASYNC109
        """Like :meth:`run`, on the pool reserved for long stream reads."""
        await self.ensure()
        return await self._on(self.streams, fn, (self.api, *args), kw, timeout)

    async def slow(self, fn: Any, /, *args: Any, timeout: float, **kw: Any):  # noqa: ASYNC109
        """Like :meth:`run` for calls whose time depends on more than the worker (pulls,
        index searches): running out of time raises :class:`TookTooLong` instead of marking
        the worker down (the thread goes on until the engine answers)."""
        await self.ensure()
        try:
            return await self.executor.call(fn, self.api, *args, timeout=timeout, **kw)
        except WorkerDown as exc:
            if isinstance(exc.__cause__, TimeoutError):
                raise TookTooLong(str(exc)) from exc
            self.mark_down(exc)
            raise Unavailable("sandbox.worker_unavailable") from exc

    async def _on(
        self,
        pool: DockerExecutor,
        fn: Any,
        args: tuple,
        kw: dict,
        timeout: float | None,  # noqa: ASYNC109
    ) -> Any:
        try:
            return await pool.call(fn, *args, timeout=timeout, **kw)
        except WorkerDown as exc:
            self.mark_down(exc)
            raise Unavailable("sandbox.worker_unavailable") from exc

    async def sandbox_count(self) -> int:
        """Host shells on this engine of *every* coach instance: capacity is physical."""
        hosts = await self.call(
            "containers", all=True, filters={"label": [f"{naming.KIND}={naming.KIND_HOST}"]}
        )
        metrics.set_sandboxes(self.name, len(hosts))
        return len(hosts)

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # closing a broken client is best effort
                log.debug("closing client failed", exc_info=True)


class WorkerPool:
    """Every configured worker."""

    def __init__(
        self,
        settings: tuple[WorkerSettings, ...],
        executor: DockerExecutor,
        api_timeout: float,
        streams: DockerExecutor | None = None,
    ) -> None:
        self.workers = [Worker(s, executor, api_timeout, streams) for s in settings]

    def get(self, name: str) -> Worker | None:
        return next((w for w in self.workers if w.name == name), None)

    async def connect_all(self) -> None:
        await asyncio.gather(*(w.connect() for w in self.workers))

    async def pick(self) -> tuple[Worker, int]:
        """The least-loaded healthy worker and its sandbox count; :class:`Unavailable` if none."""
        best: tuple[Worker, int] | None = None
        for worker in self.workers:
            try:
                await worker.ensure()
                count = await worker.sandbox_count()
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
        return best

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
