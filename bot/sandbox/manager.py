"""The sandbox manager: who has which sandbox where, one command per user at a time, and the
sandboxes' life cycle.

It owns the workers and their thread pools, the in-memory registry of sandboxes, the
per-user locks, placement and provisioning, the reaper, and reconciliation with what the
labels on each worker say exists. Command handlers and the read model use it; nothing here
knows about replies or translations.

Provisioning is a short pipeline so that what comes next slots in: :meth:`obtain` (the
sandbox in memory, else a new one) → :meth:`provision` (claim a ready sandbox of the warm
pool, :mod:`bot.sandbox.warmpool`; else pick a worker, check its capacity and create, under
the worker's lock) → :func:`bot.sandbox.provision.create`.

Alongside, in the background and in modules of their own: the warm pool's refills and the
images the scenarios use pulled ahead onto each worker (:mod:`bot.sandbox.prepull`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from bot.core.clock import Clock, SystemClock
from bot.core.errors import Busy, CoachError, Unavailable
from bot.sandbox import naming, policy, provision, reaper, reconcile
from bot.sandbox.api import SandboxHealth, WorkerHealth
from bot.sandbox.errors import EngineError
from bot.sandbox.executor import DockerExecutor, acting_for
from bot.sandbox.prepull import ImagePrepull
from bot.sandbox.provision import Sandbox
from bot.sandbox.warmpool import WarmPool
from bot.sandbox.workers import Capacity, Worker, WorkerPool
from bot.settings import SandboxSettings

log = logging.getLogger("bot.sandbox")
KnownUsers = Callable[[], Awaitable[set[str] | None]]  # None: every owner counts as known


class SandboxManager:
    def __init__(
        self,
        settings: SandboxSettings,
        clock: Clock | None = None,
        known_users: KnownUsers | None = None,
        capacity: Capacity | None = None,
    ) -> None:
        """``known_users``: whose sandboxes of this instance to adopt (None: everyone's);
        ``capacity``: how a worker's sandboxes are counted (default: physically)."""
        self.settings = settings
        self.clock = clock or SystemClock()
        self.known_users = known_users
        self.policy = policy.PolicyConfig.from_settings(settings)
        self.executor = self._executor(settings)
        self.streams = self._executor(settings)
        self.pool = WorkerPool(
            settings.workers, self.executor, settings.api_timeout_seconds, self.streams, capacity
        )
        self._active = 0  # learners' commands running now
        self._quiet = asyncio.Event()  # set while none runs
        self._quiet.set()
        self.warm = WarmPool(settings, self.pool, self.clock, self._quiet)
        self.images = ImagePrepull(settings, self.pool, self.policy)
        self._sandboxes: dict[str, Sandbox] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._reconciled: set[str] = set()
        self.reaper = reaper.Periodic("sandbox-reaper", self.tick, settings.reaper_interval_seconds)
        self.started = False

    @staticmethod
    def _executor(settings: SandboxSettings) -> DockerExecutor:
        return DockerExecutor(
            settings.thread_pool_size,
            settings.api_timeout_seconds,
            per_owner=settings.calls_per_user,
            queue_timeout=settings.queue_timeout_seconds,
        )

    # life cycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Connect workers, reconcile, start the reaper; a missing engine is not fatal (the
        workers are retried when needed and on every reaper round)."""
        await self.pool.connect_all()
        await self.reconcile()
        self.images.start()
        self.warm.refill_all()
        self.reaper.start()
        self.started = True

    async def warm_pool_ready(self) -> None:
        """Until every worker's warm pool is full (or out of room, or its worker failing)."""
        await self.warm.wait_ready()

    async def close(self) -> None:
        await self.reaper.close()
        await self.warm.close()
        await self.images.close()
        self.pool.close()
        self.executor.shutdown()
        self.streams.shutdown()

    # the registry ----------------------------------------------------------------------
    def get(self, user_id: str) -> Sandbox | None:
        """The user's sandbox if this process serves one."""
        return self._sandboxes.get(user_id)

    def sandboxes(self) -> list[Sandbox]:
        """Every sandbox this process serves, by owner."""
        return [self._sandboxes[owner] for owner in sorted(self._sandboxes)]

    def worker_of(self, user_id: str) -> Worker | None:
        sandbox = self._sandboxes.get(user_id)
        return sandbox.worker if sandbox else None

    # one command per user ------------------------------------------------------------
    def lock(self, user_id: str) -> asyncio.Lock:
        return self._locks.setdefault(user_id, asyncio.Lock())

    @asynccontextmanager
    async def turn(self, user_id: str) -> AsyncIterator[None]:
        """The user's single slot: a second command while one runs is refused."""
        lock = self.lock(user_id)
        if lock.locked():
            raise Busy("sandbox.busy")
        async with lock:
            self._active += 1
            self._quiet.clear()
            try:
                with acting_for(user_id):  # their Docker calls wait in their own queue
                    yield
            finally:
                self._active -= 1
                if not self._active:
                    self._quiet.set()

    def touch(self, sandbox: Sandbox) -> None:
        """A command of the user's: the idle timers start again."""
        sandbox.last_activity = self.clock.now()

    # obtaining, waking, removing -----------------------------------------------------------
    async def obtain(self, user_id: str) -> Sandbox:
        """The user's sandbox (its worker answering), created on first use. Call in their turn."""
        sandbox = self._sandboxes.get(user_id)
        if sandbox is not None:
            await sandbox.worker.ensure()
            return sandbox
        return await self.provision(user_id)

    async def provision(self, owner: str) -> Sandbox:
        """A sandbox of the warm pool made ``owner``'s; else a new sandbox on the least-loaded
        healthy worker with room. Capacity is checked and the sandbox created under the
        worker's lock, so N users racing for the last K places get exactly K sandboxes."""
        by_ready = sorted(self.pool.workers, key=self.warm.ready, reverse=True)
        claimed = await self.warm.claim(owner, by_ready)
        if claimed is not None:
            self._sandboxes[owner] = claimed
            return claimed
        for _attempt in range(len(self.pool.workers) + 1):
            worker = await self.pool.pick()
            async with worker.provision_lock:
                if not await self.pool.has_room(worker):
                    continue  # another coach took the last place meanwhile: pick again
                scope = naming.Scope(owner, naming.new_sandbox_id(), self.settings.instance)
                now = self.clock.now()
                await provision.create(worker, scope, self.settings)
                sandbox = Sandbox(scope, worker, now, now)
                self._sandboxes[owner] = sandbox
                log.info("sandbox created", extra={"user": owner, "worker": worker.name})
                return sandbox
        raise Unavailable("sandbox.workers_full")

    async def wake(self, sandbox: Sandbox) -> None:
        """Start the host shell again after the reaper stopped it."""
        if sandbox.stopped:
            await provision.ensure_host_running(sandbox, self.settings.api_timeout_seconds)

    async def remove(self, sandbox: Sandbox) -> None:
        """Remove every object of the sandbox and forget it. Call in the owner's turn."""
        await sandbox.worker.run(
            lambda api: provision.remove_sandbox_objects(api, sandbox.scope),
            timeout=self.settings.api_timeout_seconds * 4,
        )
        if self._sandboxes.get(sandbox.owner) is sandbox:
            del self._sandboxes[sandbox.owner]

    async def reset(self, user_id: str) -> Sandbox:
        """Remove the user's sandbox (if any) and create a fresh one. Call in their turn."""
        sandbox = self._sandboxes.get(user_id)
        if sandbox is not None:
            await self.remove(sandbox)
        return await self.provision(user_id)

    async def destroy(self, user_id: str) -> bool:
        """Remove the user's sandbox; False when there is none. Call in their turn."""
        sandbox = self._sandboxes.get(user_id)
        if sandbox is None:
            return False
        await self.remove(sandbox)
        return True

    async def destroy_user(self, user_id: str) -> bool:
        """An admin's removal: waits for the user's running command, then removes."""
        if user_id not in self._sandboxes:
            return False
        async with self.lock(user_id):
            with acting_for(user_id):
                return await self.destroy(user_id)

    # reaper and reconciliation ---------------------------------------------------------
    async def _known(self) -> set[str] | None:
        if self.known_users is None:
            return None
        known = await self.known_users()
        # A sandbox this process serves (or is creating right now) is never an orphan,
        # whatever the store says.
        busy = {owner for owner, lock in self._locks.items() if lock.locked()}
        return None if known is None else set(known) | set(self._sandboxes) | busy

    async def reconcile(self, again: bool = False) -> None:
        """Reconcile the healthy workers never reconciled yet (every healthy one when
        ``again``): adopt what the labels say this instance owns, remove the rest.

        A periodic sweep is not run yet: it needs instances that cannot be shared by two
        coaches with different stores, or it would remove a co-running coach's sandboxes.
        """
        for worker in self.pool.workers:
            if (worker.name in self._reconciled and not again) or not worker.healthy:
                continue
            try:
                outcome = await reconcile.reconcile(
                    worker,
                    self.settings.instance,
                    await self._known(),
                    timedelta(minutes=self.settings.idle_stop_minutes),
                    self.settings.api_timeout_seconds * 4,
                )
            except Unavailable:
                continue
            except EngineError:
                # the worker answered but refused a listing or removal: it stays
                # unreconciled and the next reaper round tries again
                log.exception("reconciliation failed", extra={"worker": worker.name})
                continue
            for sandbox in outcome.adopted:
                if sandbox.owner not in self._sandboxes and not self.lock(sandbox.owner).locked():
                    self._sandboxes[sandbox.owner] = sandbox
            self.warm.adopt(worker, outcome.pooled)
            self._reconciled.add(worker.name)

    async def tick(self) -> None:
        """One reaper round: re-check down workers, reconcile new ones, stop idle and destroy
        long-idle sandboxes."""
        for worker in self.pool.workers:
            if not worker.healthy:
                await worker.connect()
        await self.reconcile()
        self.images.start()
        self.warm.refill_all()
        now = self.clock.now()
        stop_after = timedelta(minutes=self.settings.idle_stop_minutes)
        destroy_after = timedelta(minutes=self.settings.idle_destroy_minutes)
        for sandbox in self.sandboxes():
            action = reaper.due(sandbox, now, stop_after, destroy_after)
            owner = sandbox.owner
            if not action or not sandbox.worker.healthy or self.lock(owner).locked():
                continue
            try:
                async with self.lock(owner):
                    await self._reap(sandbox, action)
            except Unavailable:
                continue
            except Exception:
                # One sandbox the engine cannot stop or remove must not hold up the others;
                # the next round tries it again.
                log.exception("reaper could not handle a sandbox", extra={"user": owner})

    async def _reap(self, sandbox: Sandbox, action: str) -> None:
        if action == "destroy":
            await self.remove(sandbox)
            log.info("idle sandbox destroyed", extra={"user": sandbox.owner})
            return
        scope = sandbox.scope
        await sandbox.worker.run(
            lambda api: reaper.stop_blocking(api, scope),
            timeout=self.settings.api_timeout_seconds * 2,
        )
        sandbox.stopped = True
        log.info("idle sandbox stopped", extra={"user": sandbox.owner})

    # health ------------------------------------------------------------------------
    async def probe_workers(self) -> tuple[WorkerHealth, ...]:
        """Ping every worker now and count its sandboxes (the health endpoint)."""

        async def probe(worker: Worker) -> WorkerHealth:
            if not await worker.connect():
                return WorkerHealth(worker.name, False, worker.last_error or "unreachable")
            try:
                count = await self.pool.capacity.used(worker)
            except CoachError as exc:
                return WorkerHealth(worker.name, False, f"{type(exc).__name__}: {exc}"[:300])
            return WorkerHealth(worker.name, True, None, count)

        return tuple(await asyncio.gather(*(probe(w) for w in self.pool.workers)))

    def health(self) -> SandboxHealth:
        return SandboxHealth(
            api=self.executor.as_dict(),
            streams=self.streams.as_dict(),
            workers=tuple(WorkerHealth(w.name, w.healthy, w.last_error) for w in self.pool.workers),
            sandboxes=len(self._sandboxes),
            warm=self.warm.counts(),
        )
