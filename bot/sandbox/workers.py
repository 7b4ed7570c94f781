"""Workers: the Docker engines that host sandboxes, their health and placement — and the
boundary between the coach and docker-py.

A worker is reached through docker-py (``unix://``, ``tcp://`` with TLS, ``ssh://``). It is
*healthy* while its engine answers, and *ready* once it is healthy, this coach holds its
instance there (:mod:`bot.sandbox.lease`) and it has been reconciled: only a ready worker
serves learners. Bringing a worker up (ping, engine facts, lease, reconciliation) is the
manager's job, installed as :attr:`Worker.bring_up_hook`; it runs in the background at start,
on a learner's command when the worker is not ready (one attempt at a time, at most every
:data:`RETRY_AFTER_SECONDS`) and on every reaper round, so a worker that comes back is used
again — and its sandboxes adopted — without a restart.

A call that gets no answer in time is followed by a short ping on a thread of its own: no
answer marks the worker down ("unavailable"); an answer means the engine is only slow, and
the learner is told so without the worker being taken out of service. Lists and inspects
where a learner waits use :meth:`Worker.read` (``read_timeout_seconds``).

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
import enum
import functools
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import docker
import requests
from docker.api import APIClient
from docker.errors import APIError, DockerException
from docker.tls import TLSConfig
from docker.types import NetworkingConfig

from bot.core import metrics
from bot.core.errors import Unavailable
from bot.core.gates import PriorityGate
from bot.sandbox.errors import (
    EngineConflict,
    EngineError,
    EngineNotFound,
    SandboxError,
    TookTooLong,
    WorkerDown,
)
from bot.sandbox.executor import CallTimedOut, DockerExecutor, QueueTimedOut
from bot.sandbox.limits import DiskSupport
from bot.settings import WorkerSettings


class Slot(enum.IntEnum):
    """Which of a worker's start slots' queues a heavy call waits in."""

    START = 0  # a container already made is started (or restarted): the queue's head
    CREATE = 1  # a container or a sandbox is made: behind every start waiting


log = logging.getLogger("bot.sandbox.workers")
PING_TIMEOUT = 3.0
RETRY_AFTER_SECONDS = 2.0
# docker-py's own HTTP timeout, for every call (it cannot be set per call): the longest any
# call may take (a sandbox's removal). What a learner waits is bounded per call, sooner, by
# the executor's timeout.
CLIENT_TIMEOUT_FACTOR = 4
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

# Docker's built-in default-address-pools (libnetwork), used when the engine names none:
# 172.17-31.0.0/16 as /16s and 192.168.0.0/16 as /20s, 31 networks.
BUILTIN_POOLS: tuple[tuple[str, int], ...] = (
    *((f"172.{n}.0.0/16", 16) for n in range(17, 32)),
    ("192.168.0.0/16", 20),
)


@dataclass(frozen=True, slots=True)
class EngineFacts:
    """What the engine says about itself (``docker info``), read when it is brought up."""

    pools: tuple[tuple[str, int], ...]  # default-address-pools: (base, size of each network)
    memory_bytes: int
    configured_pools: bool  # False: the engine named none, Docker's built-in pools apply

    @property
    def pool_networks(self) -> int:
        return sum(2 ** (size - ipaddress.ip_network(base).prefixlen) for base, size in self.pools)

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> EngineFacts:
        pools = tuple(
            (str(pool["Base"]), int(pool["Size"]))
            for pool in info.get("DefaultAddressPools") or ()
            if pool.get("Base") and pool.get("Size")
        )
        return cls(pools or BUILTIN_POOLS, int(info.get("MemTotal") or 0), bool(pools))


def _ping(api: APIClient) -> None:
    """Blocking: ``GET /_ping`` with a short timeout of its own (a hung engine holds a
    thread for :data:`PING_TIMEOUT`, not for the client's long timeout)."""
    response = api.get(f"{api.base_url}/_ping", timeout=PING_TIMEOUT)
    response.raise_for_status()


def _make_client(settings: WorkerSettings, timeout: float, pool_size: int) -> docker.DockerClient:
    """Build (and version-negotiate, within :data:`PING_TIMEOUT`) a client whose calls time
    out after ``timeout``; blocking, so it runs on the executor."""
    client = _new_client(settings, pool_size)
    client.api.timeout = int(timeout)
    return client


def _new_client(settings: WorkerSettings, pool_size: int) -> docker.DockerClient:
    timeout = int(PING_TIMEOUT)
    if settings.url is None:
        return docker.from_env(timeout=timeout, max_pool_size=pool_size)
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


def _read_facts(api: APIClient) -> EngineFacts:
    return EngineFacts.from_info(api.info())


class Worker:
    """One engine and what the coach knows about it."""

    def __init__(
        self,
        settings: WorkerSettings,
        executor: DockerExecutor,
        api_timeout: float,
        streams: DockerExecutor | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self.executor = executor
        self.streams = streams or executor
        self.api_timeout = api_timeout
        self.read_timeout = read_timeout or api_timeout
        self.client: docker.DockerClient | None = None
        self.healthy = False  # the engine answered the last ping or call
        self.ready = False  # healthy, our instance's lease held, reconciled: serves learners
        # Why a worker that answers cannot serve learners (another coach holds our instance
        # here, the host image is missing), as the error they get.
        self.problem: Unavailable | None = None
        self.facts: EngineFacts | None = None
        self.last_error: str | None = None
        # Counts the times the engine was found unreachable: what was seen running before
        # may have stopped since (an engine restart stops every container).
        self.epoch = 0
        self._last_attempt = -RETRY_AFTER_SECONDS
        # Pings run on a thread of their own, so that a pool full of calls waiting on a slow
        # engine cannot make a live engine look dead.
        self._pinger = DockerExecutor(1, PING_TIMEOUT)
        # Sandboxes being created here (their ids): counted as used while they are made.
        self.pending: set[str] = set()
        # Held only while capacity is checked and a place reserved (see the manager).
        self.provision_lock = asyncio.Lock()
        # Container creations and starts running on the engine at once (``heavy`` calls):
        # past a few, each one gets slower and the engine does no more per second. A start
        # goes ahead of the creations waiting: a class's containers come up as each is made,
        # not after every other learner's has been made.
        self.starts = PriorityGate(settings.concurrent_starts)
        # How the manager brings the worker up (ping, facts, lease, reconciliation);
        # without one, a successful ping is enough.
        self.bring_up_hook: Callable[[Worker], Awaitable[None]] | None = None
        self._bringing_up: asyncio.Task[None] | None = None
        # Whether the engine caps containers' writable layers: found out by the disk
        # watchdog when the coach reaches the worker (None: not known yet).
        self.disk_support: DiskSupport | None = None
        # The shapes of container creations (which host-config fields they send) whose
        # every limit the engine was seen to keep, with the epoch when it was.
        self._kept: dict[frozenset[str], int] = {}

    @property
    def api(self) -> APIClient:
        if self.client is None:
            raise Unavailable("sandbox.worker_unavailable")
        return self.client.api

    # reaching the engine ----------------------------------------------------------------
    async def connect(self) -> bool:
        """Create the client if needed and ping; remember the outcome."""
        pool_size = self.executor.size + (
            self.streams.size if self.streams is not self.executor else 0
        )
        settings, timeout = self.settings, self.api_timeout * CLIENT_TIMEOUT_FACTOR
        try:
            client = self.client
            if client is None:
                client = self.client = await self._pinger.call(
                    lambda: _make_client(settings, timeout, pool_size), PING_TIMEOUT + 5
                )
            api = client.api
            await self._pinger.call(lambda: _ping(api), PING_TIMEOUT + 1)
        except Exception as exc:  # every failure here means "not usable now", and is kept
            if not isinstance(exc, CallTimedOut):  # the executor counts its time-outs
                metrics.engine_error("unreachable")
            self.mark_down(exc)
            return False
        if not self.healthy:
            log.info("worker up", extra={"worker": self.name})
        metrics.set_worker_up(self.name, True)
        self.healthy = True
        self.last_error = None
        return True

    async def read_facts(self) -> EngineFacts:
        """``docker info``: address pools and memory (kept in :attr:`facts`)."""
        self.facts = await self.direct(_read_facts, timeout=self.read_timeout + PING_TIMEOUT)
        return self.facts

    def limits_kept(self, shape: frozenset[str], epoch: int) -> None:
        """The engine kept every limit of a creation sending ``shape`` (read back from its
        record of the container) at ``epoch``."""
        self._kept[shape] = epoch

    def kept_limits(self) -> frozenset[frozenset[str]]:
        """The creation shapes this engine was seen keeping the limits of since the coach
        last found it reachable (an engine found unreachable may come back another one)."""
        return frozenset(shape for shape, epoch in self._kept.items() if epoch == self.epoch)

    def mark_down(self, exc: BaseException) -> None:
        self.epoch += 1
        if self.healthy:
            log.warning("worker down", extra={"worker": self.name, "error": str(exc)[:200]})
        metrics.set_worker_up(self.name, False)
        self.healthy = False
        self.ready = False
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]

    # bringing it up -------------------------------------------------------------------
    async def bring_up(self, *, now: bool = False) -> None:
        """Bring the worker up unless that is under way (then wait for it) or was tried less
        than :data:`RETRY_AFTER_SECONDS` ago (``now``: try anyway)."""
        task = self._bringing_up
        if task is None or task.done():
            recently = time.monotonic() - self._last_attempt < RETRY_AFTER_SECONDS
            if recently and not now:
                return
            self._last_attempt = time.monotonic()
            task = self._bringing_up = asyncio.create_task(
                self._bring_up_once(), name=f"bring-up-{self.name}"
            )
        await asyncio.shield(task)

    async def _bring_up_once(self) -> None:
        try:
            if self.bring_up_hook is not None:
                await self.bring_up_hook(self)
            else:
                self.ready = await self.connect()
        except Exception as exc:  # a bring-up that failed leaves the worker not ready
            self.ready = False
            if not isinstance(exc, Unavailable | SandboxError):
                log.exception("bringing up a worker failed", extra={"worker": self.name})
            self.last_error = self.last_error or f"{type(exc).__name__}: {exc}"[:300]

    async def ensure(self) -> None:
        """Raise :class:`Unavailable` unless the worker serves learners (bringing it up if it
        does not)."""
        if self.ready and self.healthy:
            return
        await self.bring_up()
        if not (self.ready and self.healthy):
            raise self.unavailable()

    def unavailable(self) -> Unavailable:
        """Why learners cannot use the worker now, as the error they get."""
        if self.problem is not None and self.healthy:
            return self.problem
        return Unavailable("sandbox.worker_unavailable")

    # calls ------------------------------------------------------------------------------
    async def run(
        self,
        fn: Callable[[APIClient], T],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        heavy: Slot | None = None,
    ) -> T:
        """``fn(api)`` on the API pool, errors mapped; the worker must be ready (see
        :meth:`ensure`). A call without an answer in time raises :class:`Unavailable`: the
        worker is marked down unless a ping shows it is only slow. ``heavy``: the call
        creates or starts a container, and waits its turn among the worker's
        ``concurrent_starts`` (a start ahead of the creations, see :class:`Slot`)."""
        await self.ensure()
        return await self._on(self.executor, fn, timeout, heavy)

    async def read(self, fn: Callable[[APIClient], T]) -> T:
        """Like :meth:`run` with the short timeout of lists and inspects."""
        return await self.run(fn, timeout=self.read_timeout)

    async def direct(
        self,
        fn: Callable[[APIClient], T],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        heavy: Slot | None = None,
    ) -> T:
        """Like :meth:`run` on a worker that is reachable but not ready yet (bringing it up:
        facts, lease, reconciliation)."""
        if not self.healthy:
            raise self.unavailable()
        return await self._on(self.executor, fn, timeout, heavy)

    async def stream(
        self,
        fn: Callable[[APIClient], T],
        *,
        timeout: float,  # noqa: ASYNC109
        heavy: Slot | None = None,
    ) -> T:
        """Like :meth:`run`, on the pool reserved for long stream reads."""
        await self.ensure()
        return await self._on(self.streams, fn, timeout, heavy)

    async def slow(self, fn: Callable[[APIClient], T], *, timeout: float) -> T:  # noqa: ASYNC109
        """Like :meth:`run` for calls whose time depends on more than the worker (pulls,
        index searches): running out of time raises :class:`TookTooLong` instead of marking
        the worker down (the thread goes on until the engine answers)."""
        await self.ensure()
        try:
            return await self._on(self.executor, fn, timeout, slow=True)
        except CallTimedOut as exc:
            raise TookTooLong(str(exc)) from exc

    async def _on(
        self,
        pool: DockerExecutor,
        fn: Callable[[APIClient], T],
        timeout: float | None,  # noqa: ASYNC109
        heavy: Slot | None = None,
        slow: bool = False,
    ) -> T:
        if heavy is not None:
            # a class's starts at once make each slower: not a sign of a dead engine
            timeout = max(timeout or self.api_timeout, self.settings.start_timeout_seconds)
            async with self.starts.slot(heavy):
                return await self._call(pool, fn, timeout, slow)
        return await self._call(pool, fn, timeout, slow)

    async def _call(
        self,
        pool: DockerExecutor,
        fn: Callable[[APIClient], T],
        timeout: float | None,  # noqa: ASYNC109
        slow: bool,
    ) -> T:
        try:
            return await pool.call(functools.partial(engine_call, fn, self.api), timeout)
        except CallTimedOut as exc:
            if slow:
                raise
            if await self._answers():
                log.warning("engine slow: %s", exc, extra={"worker": self.name})
                raise Unavailable("sandbox.worker_slow") from exc
            self.mark_down(exc)
            raise Unavailable("sandbox.worker_unavailable") from exc
        except QueueTimedOut as exc:  # busy, not down: the engine answers, slowly
            raise Unavailable("sandbox.worker_busy") from exc
        except WorkerDown as exc:
            metrics.engine_error("unreachable")
            if await self._answers():  # a connection cut or timed out, the engine is there
                log.warning("engine call failed: %s", exc, extra={"worker": self.name})
                raise Unavailable("sandbox.worker_slow") from exc
            self.mark_down(exc)
            raise Unavailable("sandbox.worker_unavailable") from exc
        except EngineError as exc:
            if exc.status is not None and exc.status >= 500:
                metrics.engine_error("api")
            raise

    async def _answers(self) -> bool:
        """Whether the engine answers a ping now (after a call that got no answer)."""
        if self.client is None:
            return False
        api = self.client.api
        try:
            await self._pinger.call(lambda: _ping(api), PING_TIMEOUT + 1)
        except Exception:  # any failure: it does not answer
            return False
        return True

    def close(self) -> None:
        if self._bringing_up is not None:
            self._bringing_up.cancel()
        self._pinger.shutdown()
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
        read_timeout: float | None = None,
    ) -> None:
        self.workers = [Worker(s, executor, api_timeout, streams, read_timeout) for s in settings]

    def get(self, name: str) -> Worker | None:
        return next((w for w in self.workers if w.name == name), None)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
