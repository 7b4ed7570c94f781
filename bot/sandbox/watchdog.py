"""The disk watchdog: every sandbox within its disk budget, every worker above its floor.

An engine can cap one container's writable layer (``storage_opt``, see
:mod:`bot.sandbox.limits`), but nothing caps a *sandbox*: its volumes (the local volume
driver has no size), several containers writing at once, uploads into the host shell. So the
watchdog measures each sandbox on its own (:mod:`bot.sandbox.usage`: per-container listings
and a per-sandbox disk monitor for volumes — never the whole engine's ``system df``) and holds
it to ``sandbox.disk.budget_bytes``:

* **When.** A sandbox is measured right after any command that can write, and again and
  again while something in it can write (a command running, a running container, background
  processes in the host shell): soon enough that, at ``write_rate_bytes`` (or the rate it is
  seen writing at, if faster), it cannot pass its budget before the next look — every
  ``watch_min_seconds`` near the budget, at most every ``watchdog_interval_seconds`` (15 s;
  ``no_quota_interval_seconds`` on workers whose engine does not cap containers). On an
  engine that caps them, a sandbox whose running writers could not pass the budget even if
  each filled its cap (none writes into a volume, every one has a cap: looked up once per
  container) is measured every interval too. A sandbox
  whose measurement is slow (a file flood) is measured less often, never more than about a
  third of the time. Idle sandboxes are measured every interval; stopped ones not at all.
* **Over the budget** the containers that were writing — those that grew, those mounting a
  volume that grew, the host shell — are killed (all at once), and the learner is told at
  their next reply what uses the space and how to free it. **About to pass it** before the
  next look, at the rate it is being written to, the writers that may still be writing are
  killed: a container or volume that grew, but the host shell only while a process of the
  learner's runs in it (a command, a background process, whatever made it grow while no
  command ran) — a write that ended there (a ``/sh dd``, an upload) is not extrapolated.
  Until usage is back under the budget, commands that write are refused
  (the handlers ask :meth:`DiskWatchdog.over_budget`, which measures again first); commands
  that look or free space (``rm``, ``volume rm``, ``/sh rm``…) keep working.
* **Workers.** When the coach reaches a worker it finds out whether the engine caps
  containers (:func:`bot.sandbox.diskprobe.detect_support`: the storage driver and a probe
  that must hit its limit) and never pretends it does; the free space of the worker's data
  root is checked every interval: below ``free_floor_fraction`` new sandboxes, pulls and
  builds on it are refused and admins see it (``/admin workers``, the health endpoint, the
  log and metrics), while existing learners keep working.
* **Pulls** are limited per learner per hour (``quotas.pulls_per_hour``).
* **``--rm``**: each measurement first removes the anonymous volumes of ``--rm`` containers
  that are gone (:mod:`bot.sandbox.anonymous`), so that a detached one that ended by itself
  leaves nothing behind; commands ask for the same at once (:meth:`DiskWatchdog.auto_removed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from docker.api import APIClient

from bot.core import metrics
from bot.core.errors import Unavailable, UserError
from bot.core.text import human_bytes
from bot.sandbox import anonymous, diskprobe, naming, usage
from bot.sandbox.api import WorkerDiskView
from bot.sandbox.diskprobe import DiskSpace
from bot.sandbox.errors import EngineConflict, EngineNotFound, SandboxError
from bot.sandbox.limits import DiskSupport, storage_for
from bot.sandbox.manager import SandboxManager
from bot.sandbox.provision import Sandbox
from bot.sandbox.usage import KIND_HOST, KIND_VOLUME, Listing, Part, Usage
from bot.sandbox.workers import Worker
from bot.settings import SandboxSettings

log = logging.getLogger("bot.sandbox.watchdog")
DETECT_RETRY_SECONDS = 60.0
SLOW_MEASUREMENT_SECONDS = 1.0  # a measurement slower than this is not repeated at once
HOT_SECONDS = 3.0  # after a command that wrote, its sandbox is measured closely this long
T = TypeVar("T")
PULL_WINDOW = timedelta(hours=1)


# --------------------------------------------------------------------------------------------
# What the watchdog knows
# --------------------------------------------------------------------------------------------


@dataclass
class WorkerDisk:
    """One worker: whether its engine caps containers, and its free space."""

    support: DiskSupport | None = None
    support_error: str | None = None
    detected_at: float = -math.inf
    space: DiskSpace | None = None
    space_at: float = -math.inf
    space_error: str | None = None
    below_floor: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True, slots=True)
class Stopped:
    """What the watchdog did about a sandbox over its budget, to tell its learner."""

    usage: Usage
    budget: int
    stopped: tuple[tuple[str, str], ...]  # (kind, the learner's name)
    about_to: bool  # stopped before passing the budget, at the rate it was writing


@dataclass
class SandboxDisk:
    """One sandbox: its last measurement and when to look again."""

    usage: Usage | None = None
    measured_at: float = -math.inf
    rate: float = 0.0  # bytes per second it grew at, between the last two measurements
    rates: dict[str, float] = field(default_factory=dict)  # of each part that grew, the same
    latency: float = 0.0  # how long the last measurement took
    due: float = 0.0
    dirty: bool = True  # a command ran since the last measurement
    quiet: bool = False  # no command ran between the last two measurements
    volumes_dirty: bool = True  # a docker command ran: a volume may have changed
    volume_set_dirty: bool = True  # one that can make or remove a volume: list them again
    writing: int = 0  # commands that can write, running now
    running: bool = False  # a container of the learner's was running at the last look
    background: bool = False  # the host shell runs processes of its own
    processes_dirty: bool = True  # a /sh command ran since the host shell's processes were read
    over: bool = False
    hot_until: float = -math.inf  # measured closely until then (a command just wrote)
    notice: Stopped | None = None  # to tell the learner at their next reply
    costs: dict[str, int] = field(default_factory=dict)  # each part's cost at the last look
    grown: set[str] = field(default_factory=set)  # parts that grew at the last look
    stopped_parts: dict[str, Part] = field(default_factory=dict)  # stopped containers, by id
    volume_parts: dict[str, Part] = field(default_factory=dict)  # by real name
    caps: dict[str, int] = field(default_factory=dict)  # running containers' size caps (0: none)
    volumes: list[dict[str, Any]] | None = None  # the volumes as last listed…
    volumes_listed_at: float = -math.inf  # …and when
    # the containers not running at the last whole listing (and when it was), and the ids
    # of those running at the last look
    not_running: list[dict[str, Any]] | None = None
    containers_listed_at: float = -math.inf
    running_ids: frozenset[str] = frozenset()
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


# the kinds of container whose writable layers count (the coach's disk monitor does not)
MEASURED = frozenset({KIND_HOST, usage.KIND_CONTAINER})

# --------------------------------------------------------------------------------------------
# The watchdog
# --------------------------------------------------------------------------------------------


class DiskWatchdog:
    """Owned by the sandbox service: started after the manager, closed before it."""

    def __init__(self, manager: SandboxManager) -> None:
        self.manager = manager
        self._workers: dict[str, WorkerDisk] = {}
        self._sandboxes: dict[str, SandboxDisk] = {}
        self._pulls: dict[str, deque[float]] = {}
        self._task: asyncio.Task[None] | None = None
        self._jobs: dict[str, asyncio.Task[Any]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._wake = asyncio.Event()  # a command asked for a measurement
        self._closing = False

    @property
    def settings(self) -> SandboxSettings:
        return self.manager.settings

    # life cycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Find out what each reachable worker supports, then watch."""
        await asyncio.gather(
            *(self.support(w) for w in self.manager.pool.workers if w.healthy),
            return_exceptions=True,
        )
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="sandbox-disk-watchdog")

    async def close(self) -> None:
        self._closing = True
        tasks = [t for t in (self._task, *self._jobs.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._task = None
        self._jobs.clear()

    def _semaphore(self) -> asyncio.Semaphore:
        """The watchdog's engine calls at once: half the API threads (at least two), so that
        the learners' own commands always find threads."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(max(2, self.settings.thread_pool_size // 2))
        return self._slots

    async def _loop(self) -> None:
        while not self._closing:
            await self._sleep()
            try:
                self._tick(time.monotonic())
            except Exception:
                log.exception("disk watchdog tick failed")

    async def _sleep(self) -> None:
        """Until the next measurement is due (at most ``watch_min_seconds``), or a command
        asks for one."""
        now = time.monotonic()
        due = min((s.due for s in self._sandboxes.values()), default=math.inf)
        seconds = min(self.settings.disk.watch_min_seconds, max(0.01, due - now))
        self._wake.clear()
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
        # that arrives as it times out, and close() would wait for this loop forever
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    def _tick(self, now: float) -> None:
        """Start what is due: detection, free-space checks and measurements."""
        for worker in self.manager.pool.workers:
            if not worker.healthy:
                continue
            disk = self._worker(worker)
            if disk.support is None and now - disk.detected_at >= DETECT_RETRY_SECONDS:
                self._spawn(f"detect:{worker.name}", self.support(worker))
            if now - disk.space_at >= self.interval(worker):
                self._spawn(f"space:{worker.name}", self.space(worker))
        served = {s.scope.sandbox: s for s in self.manager.sandboxes()}
        for key in set(self._sandboxes) - set(served):
            del self._sandboxes[key]  # removed or reset: its record goes with it
        for key, sandbox in served.items():
            state = self.state(sandbox)
            if sandbox.worker.healthy and now >= state.due and not state.lock.locked():
                self._spawn(f"measure:{key}", self.measure(sandbox))

    def _spawn(self, key: str, job: Coroutine[Any, Any, Any]) -> None:
        running = self._jobs.get(key)
        if running is not None and not running.done():
            job.close()
            return
        task = asyncio.create_task(job, name=f"disk-{key}")
        self._jobs[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))

    def _finished(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._jobs.get(key) is task:
            del self._jobs[key]
        if not task.cancelled() and task.exception() is not None:
            log.error("disk watchdog job failed", exc_info=task.exception())

    async def round(self) -> None:
        """One full round now: every worker's support and free space, every served sandbox
        measured (and held to its budget). The loop does the same, spread over time; tests
        and admins call this to have it at once."""
        workers = [w for w in self.manager.pool.workers if w.healthy]
        await asyncio.gather(*(self.support(w) for w in workers), return_exceptions=True)
        await asyncio.gather(*(self.space(w, 0.0) for w in workers), return_exceptions=True)
        await asyncio.gather(*(self.measure(s) for s in self.manager.sandboxes()))

    # workers -------------------------------------------------------------------------
    def _worker(self, worker: Worker) -> WorkerDisk:
        return self._workers.setdefault(worker.name, WorkerDisk())

    def interval(self, worker: Worker) -> float:
        """How often every sandbox of ``worker`` is measured at least."""
        disk = self.settings.disk
        support = self._worker(worker).support
        if support is not None and support.limits_disk:
            return disk.watchdog_interval_seconds
        return min(disk.watchdog_interval_seconds, disk.no_quota_interval_seconds)

    async def support(self, worker: Worker) -> DiskSupport | None:
        """Whether ``worker``'s engine caps containers' writable layers (found out once, by
        a probe, when first asked; None while that is not known)."""
        disk = self._worker(worker)
        if disk.support is not None:
            return disk.support
        if not disk.lock.locked() and self._failed_lately(disk):
            return None  # the probe failed a moment ago: not again at every call
        async with disk.lock:  # a detection under way (the loop's) is waited for
            if disk.support is not None or self._failed_lately(disk):
                return disk.support
            disk.detected_at = time.monotonic()
            settings = self.settings
            image, limits, instance = settings.host_image, settings.limits, self.manager.instance
            timeout = settings.disk.measure_timeout_seconds

            def detect(api: Any) -> DiskSupport:
                diskprobe.remove_stale_probes(api, instance)
                return diskprobe.detect_support(api, image, limits, instance, timeout)

            try:
                found = await worker.slow(detect, timeout=timeout + 10)
            except (SandboxError, Unavailable) as exc:
                disk.support_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning(
                    "could not find out whether a worker caps container disk use",
                    extra={"worker": worker.name, "error": disk.support_error},
                )
                return None
            disk.support, disk.support_error = found, None
            worker.disk_support = found
            metrics.set_worker_disk_limits(worker.name, found.limits_disk)
            level = logging.INFO if found.limits_disk else logging.WARNING
            log.log(
                level,
                "worker disk limits" if found.limits_disk else "worker without disk limits",
                extra={
                    "worker": worker.name,
                    "driver": found.driver,
                    "supported": found.supported,
                    "enforced": found.enforced,
                    "detail": found.detail,
                },
            )
            return found

    @staticmethod
    def _failed_lately(disk: WorkerDisk) -> bool:
        """The last detection (``detected_at`` is when it started) failed, not long ago."""
        recent = time.monotonic() - disk.detected_at < DETECT_RETRY_SECONDS
        return recent and disk.support is None and disk.support_error is not None

    async def space(self, worker: Worker, max_age: float | None = None) -> DiskSpace | None:
        """The free space of ``worker``'s data root, measured again when older than
        ``max_age`` (default: the worker's interval); None when it cannot be had."""
        disk = self._worker(worker)
        age = self.interval(worker) if max_age is None else max_age
        if disk.space is not None and time.monotonic() - disk.space_at < age:
            return disk.space
        settings = self.settings
        support = await self.support(worker)
        image, limits, instance = settings.host_image, settings.limits, self.manager.instance

        def probe(api: Any) -> DiskSpace:
            storage = storage_for(api, limits, support, image)
            return diskprobe.data_root_space(api, image, limits, instance, storage)

        try:
            found = await worker.slow(probe, timeout=settings.disk.measure_timeout_seconds)
        except (SandboxError, Unavailable) as exc:
            disk.space_error = f"{type(exc).__name__}: {exc}"[:300]
            disk.space_at = time.monotonic()
            log.warning(
                "could not read a worker's free space",
                extra={"worker": worker.name, "error": disk.space_error},
            )
            return disk.space
        disk.space, disk.space_at, disk.space_error = found, time.monotonic(), None
        self._floor_changed(worker, disk)
        return found

    def _floor_changed(self, worker: Worker, disk: WorkerDisk) -> None:
        """Metrics, and a log line when the worker crosses its floor (either way)."""
        space = disk.space
        if space is None:
            return
        below = self.below_floor(worker)
        metrics.set_worker_disk(worker.name, space.free_bytes, space.total_bytes, below)
        if below != disk.below_floor:
            extra = {
                "worker": worker.name,
                "free_bytes": space.free_bytes,
                "total_bytes": space.total_bytes,
                "floor": self.settings.disk.free_floor_fraction,
            }
            if below:
                log.error("worker below its free-space floor: new sandboxes refused", extra=extra)
            else:
                log.warning("worker back above its free-space floor", extra=extra)
        disk.below_floor = below

    def below_floor(self, worker: Worker) -> bool:
        """Whether the worker's free space, as last checked, is below the floor."""
        space = self._worker(worker).space
        return space is not None and space.free_fraction < self.settings.disk.free_floor_fraction

    async def admit(self, worker: Worker) -> None:
        """Before a new sandbox is created on ``worker``: know its limits, and refuse when
        its free space is below the floor."""
        await self.support(worker)
        await self._check_floor(worker, "sandbox.disk.floor_new")

    async def _check_floor(self, worker: Worker, key: str) -> None:
        space = await self.space(worker)
        self._floor_changed(worker, self._worker(worker))  # logged when it crossed
        if space is not None and self.below_floor(worker):
            raise Unavailable(
                key, free=human_bytes(space.free_bytes), total=human_bytes(space.total_bytes)
            )

    async def before_pull(self, sandbox: Sandbox) -> None:
        """Before an image is pulled for ``sandbox``: the worker's floor, then the learner's
        pulls in the last hour (this one counted)."""
        await self._check_floor(sandbox.worker, "sandbox.disk.floor_pull")
        limit = self.settings.quotas.pulls_per_hour
        now = self.manager.clock.now().timestamp()
        window = PULL_WINDOW.total_seconds()
        pulls = self._pulls.setdefault(sandbox.owner, deque())
        while pulls and now - pulls[0] >= window:
            pulls.popleft()
        if len(pulls) >= limit:
            minutes = max(1, math.ceil((window - (now - pulls[0])) / 60))
            raise UserError("sandbox.quota.pulls", limit=limit, minutes=minutes)
        pulls.append(now)

    async def before_build(self, sandbox: Sandbox) -> None:
        """Before a build for ``sandbox``: the worker's floor."""
        await self._check_floor(sandbox.worker, "sandbox.disk.floor_build")

    def view(self, worker: Worker) -> WorkerDiskView:
        """The worker's disk as admins and the health endpoint see it."""
        disk = self._worker(worker)
        support, space = disk.support, disk.space
        return WorkerDiskView(
            driver=support.driver if support else None,
            limits_enforced=support.limits_disk if support else None,
            detail=support.detail if support else disk.support_error,
            free_bytes=space.free_bytes if space else None,
            total_bytes=space.total_bytes if space else None,
            floor=self.settings.disk.free_floor_fraction,
            below_floor=self.below_floor(worker),
            interval_seconds=self.interval(worker),
        )

    # sandboxes -----------------------------------------------------------------------
    def state(self, sandbox: Sandbox) -> SandboxDisk:
        state = self._sandboxes.get(sandbox.scope.sandbox)
        if state is None:
            # a sandbox this process made or claimed runs no learner's program in its host
            # shell yet: its processes need not be read before a /sh command
            state = self._sandboxes[sandbox.scope.sandbox] = SandboxDisk(
                processes_dirty=not sandbox.fresh
            )
        return state

    def room(self, sandbox: Sandbox) -> int:
        """Bytes the sandbox may still take before its budget (as last measured)."""
        measured = self.state(sandbox).usage
        return self.settings.disk.budget_bytes - (measured.total if measured else 0)

    @contextlib.asynccontextmanager
    async def writing(
        self,
        sandbox: Sandbox,
        volumes: bool = True,
        processes: bool = False,
        volume_set: bool = True,
    ) -> AsyncIterator[None]:
        """Around a command that can write: the sandbox is watched closely while it runs —
        first looked at as soon as a writer it starts could have used half of what is left
        of the budget (the schedule of a sandbox being written to) — and measured again
        right after (``volumes``: it may write into volumes; ``processes``: it may leave
        processes running in the host shell, a ``/sh`` command; ``volume_set``: it may make
        or remove volumes, which are listed again)."""
        state = self.state(sandbox)
        state.writing += 1
        state.dirty = True
        state.volumes_dirty = state.volumes_dirty or volumes
        state.volume_set_dirty = state.volume_set_dirty or volume_set
        state.processes_dirty = state.processes_dirty or processes
        if processes:
            sandbox.fresh = False  # a learner's program ran in its host shell
        state.due = min(state.due, time.monotonic() + self._writing_delay(sandbox, state))
        self._wake.set()
        try:
            yield
        finally:
            state.writing -= 1
            self.wrote(sandbox, volumes, volume_set=volume_set)

    def wrote(
        self,
        sandbox: Sandbox,
        volumes: bool = True,
        started: bool = True,
        volume_set: bool = True,
    ) -> None:
        """Something was written: measure the sandbox again at once. ``started``: the command
        could have started a writer (a container, a process), so the sandbox is watched
        closely for a while; a command that only stopped or removed things (``rm``,
        ``stop``, ``volume rm``) started none, and the usual schedule applies after.
        ``volume_set``: it may have made or removed volumes (listed again)."""
        state = self.state(sandbox)
        state.dirty = True
        state.volumes_dirty = state.volumes_dirty or volumes
        state.volume_set_dirty = state.volume_set_dirty or volume_set
        state.due = 0.0
        if started:
            state.hot_until = time.monotonic() + HOT_SECONDS
        self._wake.set()

    @contextlib.asynccontextmanager
    async def volumes_released(self, sandbox: Sandbox) -> AsyncIterator[None]:
        """Around the learner's removal of volumes: the disk monitor lets go of them first,
        and is not started again until the removal is done."""
        state = self.state(sandbox)
        scope, timeout = sandbox.scope, self.settings.api_timeout_seconds
        async with state.lock:
            await sandbox.worker.run(lambda api: usage.remove_monitor(api, scope), timeout=timeout)
            try:
                yield
            finally:
                state.volume_parts.clear()
                self.wrote(sandbox)

    async def auto_removed(self, sandbox: Sandbox, settled: Sequence[str] = ()) -> None:
        """Remove the anonymous volumes of the sandbox's ``--rm`` containers that are gone, as
        Docker's AutoRemove does (see :mod:`bot.sandbox.anonymous`); first wait a little for
        the engine to remove those of the containers ``settled`` that remove themselves."""
        try:
            removed = await self._auto_removed(sandbox, settled)
        except (SandboxError, Unavailable) as exc:  # the command did its part: the next look
            log.warning(
                "anonymous volumes of --rm containers not removed yet",
                extra={"user": sandbox.owner, "error": f"{type(exc).__name__}: {exc}"[:300]},
            )
            return
        if removed:
            self.wrote(sandbox, started=False)  # measured again: the space is free

    async def _auto_removed(self, sandbox: Sandbox, settled: Sequence[str]) -> set[str]:
        worker, scope = sandbox.worker, sandbox.scope
        if not await self._call(worker, lambda api: anonymous.pending(api, scope)):
            return set()
        if settled:
            seconds = anonymous.SETTLE_SECONDS * len(settled) + self.settings.api_timeout_seconds
            ids = list(settled)
            await worker.run(lambda api: anonymous.settle(api, ids), timeout=seconds)
        state = self.state(sandbox)
        async with state.lock:
            listing = await self._call(worker, lambda api: usage.list_sandbox(api, scope))
            return await self._remove_orphans(sandbox, state, listing)

    async def _remove_orphans(
        self, sandbox: Sandbox, state: SandboxDisk, listing: Listing
    ) -> set[str]:
        """Remove the ``--rm`` containers' anonymous volumes ``listing`` shows without their
        container (the caller holds the sandbox's lock), and drop them from ``listing``."""
        if not anonymous.orphans(listing):
            return set()
        scope = sandbox.scope
        removed = set(
            await self._call(
                sandbox.worker, lambda api: anonymous.remove_orphans(api, scope, listing)
            )
        )
        listing.volumes = [v for v in listing.volumes if v["Name"] not in removed]
        state.volumes_listed_at = -math.inf  # listed again at the next look
        for real in removed:
            state.volume_parts.pop(real, None)
        if removed:
            state.volumes_dirty = True  # the monitor may have let go of the others too
            log.info(
                "anonymous volumes of --rm containers removed",
                extra={"user": sandbox.owner, "volumes": len(removed)},
            )
        return removed

    def take_notice(self, sandbox: Sandbox) -> Stopped | None:
        """What the watchdog did since the learner's last reply (told once)."""
        state = self.state(sandbox)
        notice, state.notice = state.notice, None
        return notice

    async def over_budget(self, sandbox: Sandbox) -> Usage | None:
        """The sandbox's usage when it is over its budget (measured again first, so that
        freed space counts at once); None when it is not."""
        state = self.state(sandbox)
        if not state.over:
            return None
        measured = await self.measure(sandbox)
        return measured if state.over else None

    async def current(self, sandbox: Sandbox, max_age: float = 5.0) -> Usage | None:
        """The sandbox's usage, measured again when older than ``max_age`` seconds."""
        state = self.state(sandbox)
        fresh = time.monotonic() - state.measured_at < max_age and not state.dirty
        if state.usage is not None and fresh:
            return state.usage
        return await self.measure(sandbox)

    async def measure(self, sandbox: Sandbox) -> Usage | None:
        """Measure the sandbox now (one measurement at a time per sandbox) and hold it to its
        budget; its usage, or what was known when the worker cannot be asked."""
        state = self.state(sandbox)
        async with state.lock:
            idle = sandbox.stopped and not state.dirty and state.usage is not None
            if idle or not sandbox.worker.healthy:
                # everything stopped by the reaper (nothing can change), or no worker to ask
                state.due = time.monotonic() + self.interval(sandbox.worker)
                return state.usage
            started = time.monotonic()
            state.due = math.inf  # until this one is done; 0 when asked for again meanwhile
            try:
                measured, listing = await self._measure(sandbox, state)
            except (SandboxError, Unavailable) as exc:
                state.latency = time.monotonic() - started
                state.due = time.monotonic() + max(self.interval(sandbox.worker), 3 * state.latency)
                level = logging.DEBUG if isinstance(exc, Unavailable) else logging.WARNING
                log.log(
                    level,
                    "could not measure a sandbox's disk use",
                    extra={"user": sandbox.owner, "error": f"{type(exc).__name__}: {exc}"[:300]},
                )
                return state.usage
            ended = time.monotonic()
            self._update(state, measured, listing, started, ended)
            await self._enforce(sandbox, state, measured, listing)
            self._schedule(sandbox, state, ended)
            return state.usage

    def _update(
        self, state: SandboxDisk, measured: Usage, listing: Listing, started: float, ended: float
    ) -> None:
        previous = state.usage
        moment = (started + ended) / 2  # when, about, the sizes were read
        per_file = measured.file_bytes
        costs = {part.ident: part.cost(per_file) for part in measured.parts}
        if previous is None:  # a first look: whatever holds anything may be writing
            grown = {ident for ident, cost in costs.items() if cost > 0}
        else:
            grown = {i for i, cost in costs.items() if cost > state.costs.get(i, 0)}
        if previous is not None and moment > state.measured_at:
            seconds = max(moment - state.measured_at, 1e-3)
            growth = measured.total - previous.total
            state.rate = growth / seconds if growth > 0 else 0.0
            state.rates = {i: (costs[i] - state.costs.get(i, 0)) / seconds for i in grown}
        state.grown = grown
        state.costs = costs
        state.latency = ended - started
        state.usage, state.measured_at = measured, moment
        state.running = bool(listing.running_containers)
        state.quiet = previous is not None and not state.dirty
        state.dirty = False

    async def _call(self, worker: Worker, fn: Callable[[APIClient], T], slow: bool = False) -> T:
        """One engine call of the watchdog's: at most a few at once, so that the learners'
        commands always find threads; a ``slow`` one (an engine walk) may take its time."""
        async with self._semaphore():
            if slow:
                seconds = self.settings.disk.measure_timeout_seconds + 10
                return await worker.slow(fn, timeout=seconds)
            return await worker.run(fn)

    async def _measure(self, sandbox: Sandbox, state: SandboxDisk) -> tuple[Usage, Listing]:
        """One measurement: the listing, then at once every container that can have changed,
        the volumes when they can have changed, the host shell's background processes."""
        support = await self.support(sandbox.worker)
        count_files = support is None or not support.limits_disk
        listing = await self._list(sandbox, state)
        await self._remove_orphans(sandbox, state, listing)  # --rm: gone with their container
        host = listing.host
        if host is not None and host.get("State") == "running":
            sandbox.saw_host_running()  # the next command need not inspect it
        else:
            sandbox.forget_host()
        cached: list[Part] = []
        measuring: list[dict[str, Any]] = []
        for summary in listing.of_kind(usage.KIND_HOST, usage.KIND_CONTAINER):
            known = state.stopped_parts.get(str(summary["Id"]))
            if summary.get("State") != "running" and known is not None and not state.dirty:
                cached.append(known)
            else:
                measuring.append(summary)
        found = await asyncio.gather(
            self._container_parts(sandbox, measuring, count_files, listing.sizes),
            self._volume_parts(sandbox, state, listing, support),
            self._background(sandbox, state, listing),
            self._learn_caps(sandbox, state, listing, support),
            return_exceptions=True,
        )
        for result in found:
            if isinstance(result, BaseException):
                raise result
        containers, volumes = found[0], found[1]
        assert isinstance(containers, list) and isinstance(volumes, list)
        state.stopped_parts = {p.ident: p for p in [*cached, *containers] if not p.running}
        parts = [*cached, *containers, *volumes]
        return Usage(tuple(parts), self.settings.disk.file_metadata_bytes), listing

    async def _list(self, sandbox: Sandbox, state: SandboxDisk) -> Listing:
        """The sandbox's listing for a measurement, in one engine request where it can be:

        * the containers come with their sizes unless stopped ones are known (a stopped
          container cannot change: sized once, not at every look);
        * with stopped ones known, only the running containers are listed (with their
          sizes) when nothing can have changed the others: no command since the last look,
          every container running then still running, the others listed whole within the
          interval — a container stops, starts, comes or goes only by a learner's command,
          by exiting (it was running) or by the coach's own hand (the disk monitor's, seen
          at the next whole listing);
        * the volumes are listed again only when they can have changed — a command that can
          make or remove one ran (the only way a volume comes or goes is a learner's
          command: ``exec`` or ``/sh`` cannot), or a container mounts one not known — and at
          least once per interval (:meth:`interval`)."""
        worker, scope = sandbox.worker, sandbox.scope
        now = time.monotonic()
        interval = self.interval(worker)
        stale = state.volume_set_dirty or now - state.volumes_listed_at >= interval
        known = None if stale else state.volumes
        sized = state.dirty or not state.stopped_parts
        measure_within = self.settings.disk.measure_timeout_seconds
        timeout = measure_within if sized else None
        others = self._unchanged_others(state, now, interval)
        was_running = state.running_ids

        def listed(api: APIClient) -> tuple[Listing, bool, bool]:
            if known is not None and others is not None:
                quick = usage.list_running(api, scope, others, known, measure_within)
                still = {str(c["Id"]) for c in quick.containers if c.get("State") == "running"}
                if was_running <= still and not quick.unknown_volumes():
                    return quick, False, False
            listing = usage.list_sandbox(api, scope, known, timeout)
            if known is None:
                return listing, True, True
            if listing.unknown_volumes():
                return usage.list_sandbox(api, scope, None, timeout), True, True
            return listing, False, True

        if stale:  # a command meanwhile makes it list them again next time
            state.volume_set_dirty = False
        try:
            listing, relisted, whole = await self._call(
                worker, listed, slow=sized or others is not None
            )
        except BaseException:
            state.volume_set_dirty = state.volume_set_dirty or stale
            raise
        if relisted:
            state.volumes, state.volumes_listed_at = list(listing.volumes), now
        containers = listing.containers
        if whole:
            state.not_running = [c for c in containers if c.get("State") != "running"]
            state.containers_listed_at = now
        state.running_ids = frozenset(
            str(c["Id"]) for c in containers if c.get("State") == "running"
        )
        return listing

    @staticmethod
    def _unchanged_others(
        state: SandboxDisk, now: float, interval: float
    ) -> list[dict[str, Any]] | None:
        """The sandbox's containers that were not running at the last whole listing, when
        that listing can stand for them now (None: list them all): no command since, listed
        within the interval, each of them sized already."""
        others = state.not_running
        if state.dirty or others is None or now - state.containers_listed_at >= interval:
            return None
        measured = (c for c in others if (c.get("Labels") or {}).get(naming.KIND) in MEASURED)
        if any(str(c["Id"]) not in state.stopped_parts for c in measured):
            return None
        return others

    async def _learn_caps(
        self, sandbox: Sandbox, state: SandboxDisk, listing: Listing, support: DiskSupport | None
    ) -> None:
        """On an engine that caps writable layers, the cap of each running container not
        known yet (once per container: it never changes): from the label the coach gave it
        at creation, looked up only for a container made before the coach labelled caps."""
        if support is None or not support.limits_disk:
            return
        listed = listing.of_kind(KIND_HOST, usage.KIND_CONTAINER)
        ids = {str(c["Id"]) for c in listed}
        state.caps = {cid: cap for cid, cap in state.caps.items() if cid in ids}
        running = [c for c in listed if c.get("State") == "running"]
        for summary in running:
            labelled = usage.labelled_cap(summary)
            if labelled is not None:
                state.caps.setdefault(str(summary["Id"]), labelled)
        new = [str(c["Id"]) for c in running if str(c["Id"]) not in state.caps]
        caps = await asyncio.gather(
            *(
                self._call(sandbox.worker, functools.partial(usage.writable_cap, cid=cid))
                for cid in new
            )
        )
        state.caps.update(zip(new, caps, strict=True))

    def _bounded(self, sandbox: Sandbox, state: SandboxDisk) -> bool:
        """Whether the sandbox cannot pass its budget even if everything in it that may be
        writing filled its cap: the engine caps each of them (none was made without a cap),
        none of them writes into a volume (a volume has no size limit), no command runs, and
        the room left under their caps fits in what is left of the budget. The host shell
        counts only while something of the learner's runs in it."""
        support = self._worker(sandbox.worker).support
        measured = state.usage
        if support is None or not support.limits_disk or measured is None or state.writing:
            return False
        room = 0
        for part in measured.parts:
            if not part.running or (part.kind == KIND_HOST and not state.background):
                continue
            if part.kind == KIND_VOLUME:
                return False  # a running container writes into it
            cap = state.caps.get(part.ident, 0)
            if cap <= 0:
                return False
            room += max(0, cap - part.bytes)
        return total_of(state) + room < self.settings.disk.budget_bytes

    async def _background(self, sandbox: Sandbox, state: SandboxDisk, listing: Listing) -> None:
        """Whether the host shell runs processes of its own (asked after ``/sh`` commands
        and while it did)."""
        host = listing.host
        if host is None or host.get("State") != "running":
            state.background = False
        elif state.processes_dirty or state.background:
            name = sandbox.scope.host_name
            count = await self._call(sandbox.worker, lambda api: usage.host_background(api, name))
            state.background = count > 0
            state.processes_dirty = False

    async def _container_parts(
        self,
        sandbox: Sandbox,
        measuring: list[dict[str, Any]],
        count_files: bool,
        listed: dict[str, int] | None = None,
    ) -> list[Part]:
        """The writable layers of ``measuring`` (the sandbox's containers that can have
        changed), sized by the engine in one call (none when the listing came with their
        sizes, ``listed``); their changed files counted too where the engine caps nothing."""
        if not measuring:
            return []
        ids = [str(summary["Id"]) for summary in measuring]
        timeout = self.settings.disk.measure_timeout_seconds
        sizes = listed
        if sizes is None:
            sizes = await self._call(
                sandbox.worker, lambda api: usage.containers_bytes(api, ids, timeout), slow=True
            )
        files = [0] * len(ids)
        if count_files:
            files = list(
                await asyncio.gather(
                    *(
                        self._call(
                            sandbox.worker,
                            functools.partial(usage.container_files, cid=cid, timeout=timeout),
                            slow=True,
                        )
                        for cid in ids
                    )
                )
            )
        state = self.state(sandbox)
        parts: list[Part] = []
        for summary, cid, counted in zip(measuring, ids, files, strict=True):
            size = sizes.get(cid, 0)  # not listed: removed meanwhile, it holds nothing
            if size < 0:  # the engine could not size it this time (btrfs does, now and then)
                size = state.costs.get(cid, 0)  # what it held at the last look…
                state.hot_until = time.monotonic() + HOT_SECONDS  # …and again soon
            kind = str((summary.get("Labels") or {}).get(naming.KIND))
            name = "host" if kind == KIND_HOST else usage.user_name(sandbox.scope, summary)
            parts.append(Part(kind, name, cid, size, counted, summary.get("State") == "running"))
        return parts

    async def _volume_parts(
        self, sandbox: Sandbox, state: SandboxDisk, listing: Listing, support: DiskSupport | None
    ) -> list[Part]:
        """The volumes, measured again through the sandbox's disk monitor when something may
        have written into them (a container mounting them runs, a command ran, one is new)."""
        names = listing.volume_names
        writers = {v: bool(listing.writers_of(v)) for v in names}
        known = set(state.volume_parts) == set(names)
        for real in set(state.volume_parts) - set(names):
            del state.volume_parts[real]
        if not names and listing.monitor is not None:
            scope = sandbox.scope
            await self._call(sandbox.worker, lambda api: usage.remove_monitor(api, scope))
        if names and (state.volumes_dirty or any(writers.values()) or not known):
            # a volume written to now is measured again at the next look too: what its
            # writers wrote after this one (or until they were stopped) must count
            state.volumes_dirty = any(writers.values())
            measured = await self._call(
                sandbox.worker, self._measure_volumes(sandbox, names, support), slow=True
            )
            for real in names:
                previous = state.volume_parts.get(real)
                size, files = measured.get(real, (-1, -1))
                if size < 0:  # its walk did not finish in time: keep what was known
                    size, files = (previous.bytes, previous.files) if previous else (0, 0)
                state.volume_parts[real] = Part(
                    KIND_VOLUME, sandbox.scope.user_name(real), real, size, files
                )
        return [
            Part(p.kind, p.name, p.ident, p.bytes, p.files, writers.get(p.ident, False))
            for p in state.volume_parts.values()
        ]

    def _measure_volumes(
        self, sandbox: Sandbox, names: list[str], support: DiskSupport | None
    ) -> Callable[[APIClient], dict[str, tuple[int, int]]]:
        settings = self.settings
        scope, image, limits = sandbox.scope, settings.host_image, settings.limits
        # the walk ends (killed) before the engine call's own time limit does
        seconds = max(1.0, min(settings.disk.measure_timeout_seconds,
                               settings.api_timeout_seconds - 5))  # fmt: skip

        def measure(api: APIClient) -> dict[str, tuple[int, int]]:
            return usage.measure_volumes(api, scope, names, image, limits, support, seconds)

        return measure

    # holding the budget -----------------------------------------------------------------
    async def _enforce(
        self, sandbox: Sandbox, state: SandboxDisk, measured: Usage, listing: Listing
    ) -> None:
        budget = self.settings.disk.budget_bytes
        total = measured.total
        was_over = state.over
        state.over = total >= budget
        # the sizes were read mid-measurement; the next chance to stop a writer comes after
        # the rest of this one, a pause and a whole next one, and the kill itself: counted
        # half as long again, since a write rate is never steady
        window = 1.5 * (2 * state.latency + self.settings.disk.watch_min_seconds)
        # only what can still be writing is extrapolated: the host shell's growth ended with
        # the command that wrote it (a /sh `dd`, an upload) unless something runs in it
        written = self._still_written(state, measured)
        rate = sum(state.rates.get(ident, 0.0) for ident in written)
        unseen = self._unseen(sandbox, written, measured)
        reach = min(total + rate * window + unseen, self._ceiling(sandbox, measured, listing))
        about_to = not state.over and rate > 0 and reach > budget
        if not (state.over or about_to):
            return
        # over the budget: whatever wrote since the last look is stopped; about to pass it:
        # whatever can still be writing
        writers = self._writers(state.grown if state.over else written, measured, listing)
        planned = tuple((part.kind, part.name) for part in writers)
        before = about_to and not state.over
        if planned or (state.over and not was_over):
            # told before the kill: a reply that shows a stopped writer carries the reason
            state.notice = Stopped(measured, budget, planned, before)
        stopped = await self._stop(sandbox, writers)
        if tuple(stopped) != planned and state.notice is not None:
            state.notice = Stopped(measured, budget, tuple(stopped), before)
        if stopped or (state.over and not was_over):
            metrics.disk_budget_stop(sandbox.worker.name)
            log.warning(
                "sandbox over its disk budget" if state.over else "sandbox stopped at its budget",
                extra={
                    "user": sandbox.owner,
                    "worker": sandbox.worker.name,
                    "used": total,
                    "budget": budget,
                    "stopped": [name for _kind, name in stopped],
                },
            )
        if stopped:
            state.due = 0.0  # their final sizes, at once (a --rm one takes its volumes)
            state.dirty = state.volumes_dirty = state.volume_set_dirty = True

    def _ceiling(self, sandbox: Sandbox, measured: Usage, listing: Listing) -> float:
        """The most the sandbox can come to hold without a volume growing: on a worker that
        caps containers, each running container (the host shell too) at most its writable
        limit; unbounded when a running container mounts a volume read-write, or the worker
        caps nothing. (A dd the engine stops at 512 MiB is left to the engine.)"""
        support = self._worker(sandbox.worker).support
        if support is None or not support.limits_disk:
            return math.inf
        if any(listing.writers_of(volume) for volume in listing.volume_names):
            return math.inf
        writable = self.settings.limits.writable_bytes
        per_file = measured.file_bytes
        return float(
            sum(
                max(part.cost(per_file), writable) if part.running else part.cost(per_file)
                for part in measured.parts
            )
        )

    @staticmethod
    def _still_written(state: SandboxDisk, measured: Usage) -> set[str]:
        """The parts that grew since the last look and may still be growing: a container or
        a volume whenever it grew (its own processes write when they like); the host shell
        only while a process of the learner's runs in it — a command, a background process
        ``docker top`` shows, or whatever made it grow while no command ran. A write that
        ended there (a ``/sh dd``, an upload) adds nothing more, and killing the shell for
        it would free nothing."""
        shell_busy = state.writing > 0 or state.background or state.quiet
        idle_shell = {p.ident for p in measured.parts if p.kind == KIND_HOST and not shell_busy}
        return state.grown - idle_shell

    def _unseen(self, sandbox: Sandbox, written: set[str], measured: Usage) -> int:
        """A margin for each container still writing, its memory limit, on btrfs (see
        :attr:`DiskSupport.sizes_lag`): a writer that has just started near the budget is
        stopped at once rather than a look later."""
        support = self._worker(sandbox.worker).support
        if support is None or not support.sizes_lag:
            return 0
        growing = [
            p for p in measured.parts if p.ident in written and p.running and p.kind != KIND_VOLUME
        ]
        return len(growing) * self.settings.limits.memory_bytes

    @staticmethod
    def _writers(grown: set[str], measured: Usage, listing: Listing) -> list[Part]:
        """The running containers that wrote to the parts ``grown``: those that grew, those
        mounting a volume that grew, the host shell when it grew."""
        by_id = {p.ident: p for p in measured.parts}
        writers: dict[str, Part] = {}
        for ident in grown:
            part = by_id.get(ident)
            if part is None:
                continue
            if part.kind == KIND_VOLUME:
                for summary in listing.writers_of(part.ident):
                    found = by_id.get(str(summary["Id"]))
                    if found is not None:
                        writers[found.ident] = found
            elif part.running:
                writers[part.ident] = part
        return list(writers.values())

    async def _stop(self, sandbox: Sandbox, writers: list[Part]) -> list[tuple[str, str]]:
        """Kill ``writers``, all at once (SIGKILL: a writer must not get seconds more to
        write; the engine answers a kill once the container has exited, which takes seconds
        for one deep in writes, so no writer's kill waits for another's)."""
        kills = (sandbox.worker.run(functools.partial(_kill, ident=p.ident)) for p in writers)
        results = await asyncio.gather(*kills, return_exceptions=True)
        stopped: list[tuple[str, str]] = []
        for part, result in zip(writers, results, strict=True):
            if isinstance(result, EngineNotFound | EngineConflict):  # gone or stopped meanwhile
                continue
            if isinstance(result, BaseException):
                raise result
            stopped.append((part.kind, part.name))
            if part.kind == KIND_HOST:
                self.state(sandbox).background = False
                sandbox.forget_host()  # the next command starts it again
        return stopped

    def _schedule(self, sandbox: Sandbox, state: SandboxDisk, now: float) -> None:
        """When to look again: soon enough that it cannot pass its budget unseen."""
        disk = self.settings.disk
        interval = self.interval(sandbox.worker)
        if state.due == 0.0:  # asked for at once (a command, a stop) while measuring
            delay = 0.0
        elif state.writing or state.running or state.background:
            delay = self._writing_delay(sandbox, state, now)
        else:
            delay = interval
        near = state.rate * 3 * state.latency >= disk.budget_bytes - total_of(state)
        if state.latency > SLOW_MEASUREMENT_SECONDS and not near:
            # a slow measurement (a file flood) takes at most about a third of the time,
            # unless the sandbox could reach its budget meanwhile
            delay = max(delay, 2 * state.latency)
        state.due = now + delay

    def _writing_delay(
        self, sandbox: Sandbox, state: SandboxDisk, now: float | None = None
    ) -> float:
        """How soon to look at a sandbox that something may be writing to: before it could
        have used half of what is left of its budget at the fastest rate a sandbox writes
        (or the rate it was seen writing at); closely while it grows or was just written to."""
        disk = self.settings.disk
        now = time.monotonic() if now is None else now
        if state.grown or now < state.hot_until:
            # growing, or just written to (a writer may not have started yet): look
            # closely until it stops, whatever rate was assumed
            return disk.watch_min_seconds
        interval = self.interval(sandbox.worker)
        if self._bounded(sandbox, state):
            return interval  # its writers' caps keep it under the budget
        headroom = max(0, disk.budget_bytes - total_of(state))
        rate = max(state.rate, float(disk.write_rate_bytes))
        return min(max(headroom / rate / 2, disk.watch_min_seconds), interval)


def total_of(state: SandboxDisk) -> int:
    """The sandbox's usage at the last look (0 before the first)."""
    return state.usage.total if state.usage is not None else 0


def _kill(api: APIClient, ident: str) -> None:
    api.kill(ident)
