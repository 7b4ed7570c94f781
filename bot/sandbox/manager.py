"""The sandbox manager: who has which sandbox where, one command per user at a time, and the
sandboxes' life cycle.

It owns the workers and their thread pools, the in-memory registry of sandboxes, the
per-user locks, placement and provisioning, the instance's lease on every worker, the reaper,
the sweep and reconciliation with what the labels on each worker say exists. Command
handlers and the read model use it; nothing here knows about replies or translations.

Getting a learner's sandbox is a short pipeline, each step a method of its own:

:meth:`obtain` — the sandbox this process serves them, else →
:meth:`adopt` — theirs on a worker (labels say so: adopt before create), else →
:meth:`provision` — a ready sandbox of the warm pool claimed (:mod:`bot.sandbox.warmpool`: it
already counts towards its worker's capacity, so nothing is reserved), else
:meth:`place` on the least-loaded ready worker, :meth:`reserve` a place
there (the only serialized step: capacity check and reservation under the worker's lock),
:func:`bot.sandbox.provision.create` (side by side with other creations, at most
``creations_per_worker`` at once per worker), register.

Workers are brought up (:meth:`_bring_up`: ping, engine facts, the instance's lease,
reconciliation) in the background at start — start-up never waits for an engine — on a
learner's command when one is not ready, and on every reaper round.

Alongside, in the background and in modules of their own: the warm pool's refills (through
:meth:`reserve` like any creation) and the images the scenarios use pulled ahead onto each
worker (:mod:`bot.sandbox.prepull`). A learner's Docker calls wait in their own queue of the
thread pool (:func:`bot.sandbox.executor.acting_for`), so one learner cannot starve others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.clock import Clock, SystemClock
from bot.core.errors import Busy, CoachError, Unavailable
from bot.sandbox import diskprobe, lease, naming, policy, provision, reaper, reconcile
from bot.sandbox.api import SandboxHealth, WorkerHealth
from bot.sandbox.capacity import (
    Capacity,
    EngineCapacity,
    Load,
    SandboxKey,
    has_room,
    with_sandboxes,
)
from bot.sandbox.errors import EngineError, EngineNotFound, LimitsMissing
from bot.sandbox.executor import DockerExecutor, acting_for
from bot.sandbox.naming import Scope
from bot.sandbox.prepull import ImagePrepull
from bot.sandbox.provision import Sandbox
from bot.sandbox.reconcile import Found, Plan
from bot.sandbox.warmpool import WarmPool
from bot.sandbox.workers import Worker, WorkerPool
from bot.settings import SandboxSettings

log = logging.getLogger("bot.sandbox")
LOAD_FRESH_SECONDS = 2.0  # a worker's counted load is reused this long for new sandboxes
KnownUsers = Callable[[], Awaitable[set[str] | None]]  # None: every owner counts as known


@dataclass(frozen=True, slots=True)
class Identity:
    """Which instance this coach acts as, and the database it belongs to ("" for none)."""

    instance: str
    database: str = ""


IdentitySource = Callable[[], Awaitable[Identity]]


class SandboxManager:
    def __init__(
        self,
        settings: SandboxSettings,
        clock: Clock | None = None,
        known_users: KnownUsers | None = None,
        capacity: Capacity | None = None,
        identity: IdentitySource | None = None,
    ) -> None:
        """``known_users``: whose sandboxes of this instance to adopt (None: everyone's);
        ``capacity``: how a worker's load is counted (default: physically); ``identity``:
        the instance and database, read at start (default: the settings' instance)."""
        self.settings = settings
        self.clock = clock or SystemClock()
        self.known_users = known_users
        self.policy = policy.PolicyConfig.from_settings(settings)
        self.executor = self._executor(settings)
        self.streams = self._executor(settings)
        self.pool = WorkerPool(
            settings.workers,
            self.executor,
            settings.api_timeout_seconds,
            self.streams,
            settings.read_timeout_seconds,
        )
        for worker in self.pool.workers:
            worker.bring_up_hook = self._bring_up
        self.capacity: Capacity = capacity or EngineCapacity()
        self._identity_source = identity
        self.identity = Identity(settings.instance or naming.DEFAULT_INSTANCE)
        self.holder = lease.Holder.me("")
        self._sandboxes: dict[str, Sandbox] = {}
        self._aside: dict[str, list[Sandbox]] = {}  # owner → their other sandboxes, kept
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._loads: dict[str, tuple[float, Load]] = {}  # worker → (when, load)
        self._made_since: dict[str, set[SandboxKey]] = {}  # since that count
        self._starting: list[asyncio.Task[None]] = []
        self.reaper = reaper.Periodic("sandbox-reaper", self.tick, settings.reaper_interval_seconds)
        self.sweeper = reaper.Periodic("sandbox-sweep", self.sweep, settings.sweep_interval_seconds)
        self.heartbeat = reaper.Periodic(
            "sandbox-lease", self.renew_leases, settings.lease_heartbeat_seconds
        )
        # Asked before a new sandbox is created on a worker; raises to refuse (the disk
        # watchdog's free-space floor).
        self.admission: Callable[[Worker], Awaitable[None]] | None = None
        # Held around removing a sandbox's objects (the disk watchdog lets go of volumes).
        self.removal: Callable[[Sandbox], AbstractAsyncContextManager[None]] | None = None
        self._active = 0  # learners' commands running now
        self._quiet = asyncio.Event()  # set while none runs
        self._quiet.set()
        self.warm = WarmPool(
            settings, self.pool, self.clock, self._make_warm, self._quiet, self._learners_wait
        )
        self.images = ImagePrepull(settings, self.pool, self.policy)
        self.started = False
        # Workers whose left-over disk probes this coach has removed (see _remove_probes).
        self._probes_swept: set[str] = set()

    def _learners_wait(self, worker: Worker) -> bool:
        """Whether learners' calls wait now: for a thread, or for one of ``worker``'s
        container start slots (the warm pool's refills hold back meanwhile)."""
        return self.executor.learners_waiting() or worker.starts.locked()

    @staticmethod
    def _executor(settings: SandboxSettings) -> DockerExecutor:
        return DockerExecutor(
            settings.thread_pool_size,
            settings.api_timeout_seconds,
            per_owner=settings.calls_per_user,
            queue_timeout=settings.queue_timeout_seconds,
        )

    @property
    def instance(self) -> str:
        return self.identity.instance

    # life cycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Learn the instance, start bringing every worker up in the background, start the
        reaper, the sweep and the lease's heartbeat. Never waits for an engine: a worker that
        does not answer is unavailable until it does."""
        if self._identity_source is not None:
            self.identity = await self._identity_source()
        self.settings = self.settings.model_copy(update={"instance": self.identity.instance})
        self.warm.settings = self.images.settings = self.settings
        self.holder.forget()
        self.holder = lease.Holder.me(self.identity.database)
        self.started = True
        self._starting = [
            asyncio.create_task(w.bring_up(now=True), name=f"start-{w.name}")
            for w in self.pool.workers
        ]
        self.reaper.start()
        self.sweeper.start()
        self.heartbeat.start()

    def bringing_up(self) -> bool:
        """Whether a bring-up begun by :meth:`start` is still under way."""
        return any(not task.done() for task in self._starting)

    async def settle(self) -> None:
        """Wait until the bring-up attempts begun by :meth:`start` have ended (tests, tools)."""
        await asyncio.gather(*self._starting, return_exceptions=True)

    async def warm_pool_ready(self) -> None:
        """Until every worker is brought up and its warm pool full (or out of room, or its
        worker failing)."""
        await self.settle()
        await self.warm.wait_ready()

    async def close(self) -> None:
        for periodic in (self.heartbeat, self.sweeper, self.reaper):
            await periodic.close()
        for task in self._starting:
            task.cancel()
        await self.warm.close()
        await self.images.close()
        await self._release_leases()
        self.holder.forget()
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

    def aside(self, user_id: str | None = None) -> list[Sandbox]:
        """Sandboxes kept aside: a learner's other sandboxes, found beside the one they use."""
        owners = [user_id] if user_id is not None else sorted(self._aside)
        return [s for owner in owners for s in self._aside.get(owner, [])]

    def worker_of(self, user_id: str) -> Worker | None:
        sandbox = self._sandboxes.get(user_id)
        return sandbox.worker if sandbox else None

    def _register(self, sandbox: Sandbox) -> None:
        self._sandboxes[sandbox.owner] = sandbox

    def _forget(self, sandbox: Sandbox) -> None:
        if self._sandboxes.get(sandbox.owner) is sandbox:
            del self._sandboxes[sandbox.owner]
        kept = [s for s in self._aside.get(sandbox.owner, []) if s.key != sandbox.key]
        if kept:
            self._aside[sandbox.owner] = kept
        else:
            self._aside.pop(sandbox.owner, None)

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

    # obtaining: served → adopted → provisioned ---------------------------------------------
    async def obtain(self, user_id: str) -> Sandbox:
        """The user's sandbox (its worker ready): the one served, else theirs found on a
        worker, else a new one. Call in their turn."""
        sandbox = self._sandboxes.get(user_id)
        if sandbox is not None:
            await sandbox.worker.ensure()
            return sandbox
        adopted = await self.adopt(user_id)
        if adopted is not None:
            return adopted
        return await self.provision(user_id)

    async def adopt(self, owner: str) -> Sandbox | None:
        """Look on every ready worker for the owner's labelled sandboxes and adopt one
        (finishing or removing what a crash left half-made). Call in their turn; raises
        :class:`Unavailable` when no worker is ready (a sandbox there cannot be ruled out)."""
        groups: list[Found] = []
        ready: list[Worker] = []
        limits = self.settings.limits
        for worker in await self._ready_workers():
            scanned = await worker.run(
                lambda api: reconcile.scan(api, self.instance, owner=owner, limits=limits),
                timeout=self.settings.api_timeout_seconds,
            )
            ready.append(worker)
            for found in scanned.groups.values():
                found.worker = worker.name
                groups.append(found)
        if not groups:
            return None
        in_flight = {sid for w in ready for sid in w.pending}
        await self._carry_out(reconcile.plan(groups, None, {}, in_flight), owner)
        return self._sandboxes.get(owner)

    async def _ready_workers(self) -> list[Worker]:
        ready: list[Worker] = []
        refusal: Unavailable | None = None
        for worker in self.pool.workers:
            try:
                await worker.ensure()
            except Unavailable as exc:
                refusal = refusal or exc
                continue
            ready.append(worker)
        if not ready:
            raise refusal or Unavailable("sandbox.worker_unavailable")
        return ready

    async def provision(self, owner: str) -> Sandbox:
        """A warm sandbox claimed for ``owner``, else a new sandbox on the least-loaded ready
        worker with room. Only the capacity check and the reservation are serialized;
        creations run side by side. Call in their turn, after :meth:`adopt`."""
        by_ready = sorted(self.pool.workers, key=self.warm.ready, reverse=True)
        claimed = await self.warm.claim(owner, by_ready)
        if claimed is not None:
            self._register(claimed)
            return claimed
        for _attempt in range(len(self.pool.workers) + 1):
            worker = await self.place()
            if self.admission is not None:
                await self.admission(worker)  # the worker's free-space floor
            scope = naming.Scope(owner, naming.new_sandbox_id(), self.instance)
            if not await self.reserve(worker, scope.sandbox):
                continue  # taken meanwhile: place again
            try:
                async with self._creation_slots(worker):
                    now = self.clock.now()
                    await provision.create(worker, scope, self.settings)
                sandbox = Sandbox(scope, worker, now, now, fresh=True)
                sandbox.saw_host_running()  # started and checked just now
                self._register(sandbox)
                self._made_since.setdefault(worker.name, set()).add(sandbox.key)
            finally:
                worker.pending.discard(scope.sandbox)
            log.info("sandbox created", extra={"user": owner, "worker": worker.name})
            return sandbox
        raise Unavailable("sandbox.workers_full")

    async def _make_warm(self, worker: Worker, scope: Scope) -> bool:
        """One warm sandbox on ``worker``, its place reserved like any creation's (False:
        no room). Being made, its id is pending: reconciliation leaves it alone."""
        if self.admission is not None:
            try:  # the worker's disk limits known, its free space above the floor
                await self.admission(worker)
            except CoachError:
                return False
        if not await self.reserve(worker, scope.sandbox):
            return False
        try:
            async with self._creation_slots(worker):
                await provision.create(worker, scope, self.settings)
            self._made_since.setdefault(worker.name, set()).add((scope.instance, scope.sandbox))
        finally:
            worker.pending.discard(scope.sandbox)
        return True

    def _creation_slots(self, worker: Worker) -> asyncio.Semaphore:
        """At most ``creations_per_worker`` sandboxes are made at once on a worker."""
        slots = self._slots.get(worker.name)
        if slots is None:
            slots = self._slots[worker.name] = asyncio.Semaphore(self.settings.creations_per_worker)
        return slots

    @property
    def networks_per_sandbox(self) -> int:
        """Networks a sandbox may take at most: its own and the learner's."""
        return 1 + self.settings.quotas.networks

    async def place(self) -> Worker:
        """The ready worker with the fewest sandboxes that has room (not reserved yet)."""
        ready = await self._ready_workers()
        if len(ready) == 1:
            return ready[0]  # :meth:`reserve` checks its room
        best: tuple[Worker, int] | None = None
        for worker in ready:
            try:
                load = await self.capacity.load(worker)
            except Unavailable:
                continue
            if not self._fits(worker, load) or (best is not None and load.count >= best[1]):
                continue
            best = (worker, load.count)
        if best is None:
            raise Unavailable("sandbox.workers_full")
        return best[0]

    async def reserve(self, worker: Worker, sandbox_id: str) -> bool:
        """Check the worker's room and reserve a place for ``sandbox_id`` if one is free
        (under the worker's lock: N users racing for K places get exactly K)."""
        async with worker.provision_lock:
            if not self._fits(worker, await self._load(worker)):
                return False
            worker.pending.add(sandbox_id)
            return True

    async def _load(self, worker: Worker) -> Load:
        """The worker's load, counted at most every :data:`LOAD_FRESH_SECONDS` (a class
        arriving at once does not queue behind one engine listing each): sandboxes this
        process made since the count are added to it, so its own count stays exact."""
        cached = self._loads.get(worker.name)
        if cached is not None and time.monotonic() - cached[0] < LOAD_FRESH_SECONDS:
            made = self._made_since.setdefault(worker.name, set())
            return with_sandboxes(cached[1], made)
        self._made_since[worker.name] = set()
        load = await self.capacity.load(worker)
        self._loads[worker.name] = (time.monotonic(), load)
        return load

    def _fits(self, worker: Worker, load: Load) -> bool:
        facts = worker.facts
        if facts is None:
            return False
        pending = {(self.instance, sid) for sid in worker.pending}
        return has_room(load, pending, facts, worker.settings, self.networks_per_sandbox)

    # before a command: wake and repair --------------------------------------------------
    async def prepare(self, sandbox: Sandbox, wake: bool = True, trust: bool = False) -> list[str]:
        """The host shell running on its network: woken after the reaper stopped it (unless
        not ``wake``), made again when it (or the network) vanished. What was made again,
        for the learner. ``trust``: the command does not need them looked at (see
        :func:`provision.prepare`)."""
        try:
            return await provision.prepare(sandbox, self.settings, wake, trust)
        except LimitsMissing as exc:
            log.error("a repaired host shell lacked limits", extra={"missing": exc.missing})
            raise Unavailable("sandbox.create_failed") from exc

    # removing --------------------------------------------------------------------------
    async def remove(self, sandbox: Sandbox) -> None:
        """Remove every object of the sandbox and forget it. Call in the owner's turn.
        Forgotten even when the engine failed half-way: the tombstone then makes the sweep
        finish the removal; a removal that could not begin leaves the sandbox whole, and the
        owner's next command adopts it again."""
        guard = self.removal(sandbox) if self.removal else nullcontext()
        try:
            async with guard:  # the disk watchdog lets go of the sandbox's volumes
                await sandbox.worker.run(
                    lambda api: provision.remove_sandbox_objects(api, sandbox.scope),
                    timeout=self.settings.api_timeout_seconds * 4,
                )
        finally:
            self._forget(sandbox)

    async def reset(self, user_id: str) -> Sandbox:
        """Remove the user's sandbox (if any) and create a fresh one. Call in their turn."""
        sandbox = await self._served_or_found(user_id)
        if sandbox is not None:
            await self.remove(sandbox)
        return await self.provision(user_id)

    async def destroy(self, user_id: str) -> bool:
        """Remove the user's sandbox; False when there is none. Call in their turn."""
        sandbox = await self._served_or_found(user_id)
        if sandbox is None:
            return False
        await self.remove(sandbox)
        return True

    async def _served_or_found(self, user_id: str) -> Sandbox | None:
        """The sandbox served to the user, else theirs found on a worker and adopted (a coach
        just started, or a worker just back: reconciliation skips an owner in a command).
        :class:`Unavailable` when no worker is ready to look."""
        return self._sandboxes.get(user_id) or await self.adopt(user_id)

    async def destroy_user(self, user_id: str) -> bool:
        """An admin's removal of every sandbox of the user (the one served and any kept
        aside): waits for the user's running command, then removes. A sandbox not adopted yet
        (a coach just started, a worker just back) is looked up on the workers first;
        :class:`Unavailable` when no worker is ready to look."""
        async with self.lock(user_id):
            with acting_for(user_id):
                served = self.get(user_id)
                if served is None and not self._aside.get(user_id):
                    served = await self.adopt(user_id)
                doomed = [*self.aside(user_id), *([served] if served else [])]
                for sandbox in doomed:
                    await self.remove(sandbox)
        return bool(doomed)

    # bringing a worker up, the lease -----------------------------------------------------
    async def _bring_up(self, worker: Worker) -> None:
        """Ping, read the engine's facts, take the instance's lease, reconcile; then the
        worker serves learners."""
        if not await worker.connect():
            return
        if worker.facts is None:
            await worker.read_facts()
        if not await self._claim(worker):
            return
        await self._remove_probes(worker)
        await self._reconcile(worker)
        worker.ready = True
        log.info("worker ready", extra={"worker": worker.name, "instance": self.instance})
        if self.started:
            self.images.start()
            self.warm.refill(worker)

    async def _remove_probes(self, worker: Worker) -> None:
        """Disk probes a stopped coach of this instance left (it held the lease we hold now,
        so none of them is still running for anyone). When the worker comes back after an
        outage, this coach's own watchdog may be probing: only stale probes go then."""
        instance = self.instance
        first = worker.name not in self._probes_swept
        older_than = None if first else diskprobe.STALE_AFTER
        try:
            removed = await worker.direct(
                lambda api: diskprobe.remove_stale_probes(api, instance, older_than=older_than),
                timeout=self.settings.api_timeout_seconds,
            )
        except EngineError as exc:  # housekeeping: the next bring-up or sweep tries again
            log.warning("left-over disk probes not removed: %s", exc, extra={"worker": worker.name})
            return
        self._probes_swept.add(worker.name)
        if removed:
            log.info("left-over disk probes removed", extra={"worker": worker.name, "n": removed})

    async def _claim(self, worker: Worker) -> bool:
        image, me = self.settings.host_image, self.holder
        ttl = timedelta(seconds=self.settings.lease_ttl_seconds)
        try:
            claim = await worker.direct(
                lambda api: lease.claim(api, self.instance, image, me, ttl, datetime.now(UTC)),
                timeout=self.settings.api_timeout_seconds,
            )
        except EngineNotFound as exc:  # no host image: nothing can run there
            worker.problem = Unavailable("sandbox.host_image_missing", image=image)
            log.error("worker lacks the host image", extra={"worker": worker.name, "image": image})
            raise worker.problem from exc
        if claim.ours:
            worker.problem = None
            return True
        holder = claim.holder.describe() if claim.holder is not None else "?"
        key = "sandbox.instance_taken" if claim.reason == "live" else "sandbox.instance_bound"
        worker.problem = Unavailable(key, instance=self.instance, worker=worker.name, holder=holder)
        log.warning(
            "this coach's sandbox instance is held by another coach on this worker: the "
            "worker stays unavailable to this coach (give it its own sandbox.instance, or "
            "stop the other coach)",
            extra={
                "worker": worker.name,
                "instance": self.instance,
                "holder": holder,
                "reason": claim.reason,
            },
        )
        return False

    async def renew_leases(self) -> None:
        """The heartbeat: renew the lease on every ready worker. A lease found lost is
        claimed again at once; if another coach holds it now, the worker's sandboxes are
        no longer served here (that coach serves them)."""
        instance, me = self.instance, self.holder
        for worker in self.pool.workers:
            if not worker.ready:
                continue
            try:
                ours = await worker.direct(
                    lambda api: lease.renew(api, instance, me),
                    timeout=self.settings.read_timeout_seconds,
                )
            except (Unavailable, EngineError):
                continue  # the worker is down or refused: the next round tries again
            if ours:
                continue
            log.error("lease lost", extra={"worker": worker.name, "instance": instance})
            worker.ready = False
            self.warm.forget_worker(worker)
            await worker.bring_up(now=True)
            if not worker.ready and worker.problem is not None:
                for sandbox in [*self.sandboxes(), *self.aside()]:
                    if sandbox.worker is worker:
                        self._forget(sandbox)

    async def _release_leases(self) -> None:
        instance, me = self.instance, self.holder
        for worker in self.pool.workers:
            if not worker.ready:
                continue
            try:
                await worker.direct(
                    lambda api: lease.release(api, instance, me),
                    timeout=self.settings.read_timeout_seconds,
                )
            except (CoachError, OSError):
                log.warning("could not release the lease", extra={"worker": worker.name})

    # reconciliation, the sweep and the reaper ---------------------------------------------
    async def _known(self) -> set[str] | None:
        if self.known_users is None:
            return None
        known = await self.known_users()
        # A sandbox this process serves (or is creating right now) is never an orphan,
        # whatever the store says.
        busy = {owner for owner, lock in self._locks.items() if lock.locked()}
        return None if known is None else set(known) | set(self._sandboxes) | busy

    def _served(self) -> dict[str, str]:
        return {owner: s.scope.sandbox for owner, s in self._sandboxes.items()}

    async def _reconcile(self, worker: Worker) -> Plan:
        """Reconcile one worker (its lease held): carry out :func:`reconcile.plan`, each
        owner's part in their turn (owners busy with a command wait for the next sweep)."""
        in_flight = set(worker.pending)  # taken before the scan: still being made
        warm_before = self.warm.snapshot(worker)
        served = self._served()
        known = await self._known()
        instance, limits = self.instance, self.settings.limits
        scanned = await worker.direct(
            lambda api: reconcile.scan(
                api, instance, limits=limits, served=frozenset(served.values())
            ),
            timeout=self.settings.api_timeout_seconds * 4,
        )
        for found in scanned.groups.values():
            found.worker = worker.name
        in_flight |= worker.pending
        plan = reconcile.plan(list(scanned.groups.values()), known, self._served(), in_flight)
        # the pool's own: what it holds, hands out or removes is never removed here
        plan.remove = [
            (found, why)
            for found, why in plan.remove
            if not found.pooled or self.warm.release(found.scope.sandbox)
        ]
        self.warm.adopt(
            worker,
            [found.scope.sandbox for found in plan.pooled],
            set(scanned.groups),
            warm_before,
        )
        plan.strays = scanned.strays
        if plan.strays:
            strays = plan.strays
            await worker.direct(
                lambda api: provision.remove_objects(api, strays),
                timeout=self.settings.api_timeout_seconds * 4,
            )
            log.info("strays removed", extra={"worker": worker.name, "count": len(strays)})
        busy: set[str] = set()
        for owner in sorted(plan.owners()):
            lock = self.lock(owner)
            if lock.locked():
                busy.add(owner)  # in a command now: the next sweep looks again
                continue
            async with lock:
                await self._carry_out(plan, owner, worker)
        self._prune_aside(worker, plan, busy)
        log.info(
            "reconciled",
            extra={
                "worker": worker.name,
                "instance": instance,
                "adopted": len(plan.adopt),
                "pooled": len(plan.pooled),
                "aside": sum(len(v) for v in plan.aside.values()),
                "removed": len(plan.remove),
            },
        )
        return plan

    async def _carry_out(self, plan: Plan, owner: str, only: Worker | None = None) -> None:
        """The owner's part of ``plan`` (their lock is held); ``only``: the plan covers that
        worker only (else every ready worker)."""
        for found, why in plan.remove:
            if found.scope.owner == owner:
                await self._remove_found(found, why)
        for found in plan.unchecked:
            if found.scope.owner == owner:
                await self._remove_unchecked(found)
        chosen = plan.adopt.get(owner)
        kept = list(plan.aside.get(owner, []))
        if chosen is not None:
            current = self._sandboxes.get(owner)
            if current is not None and current.scope.sandbox != chosen.scope.sandbox:
                kept.insert(0, chosen)  # served one meanwhile: this one is kept aside
            elif current is None:
                await self._adopt_found(chosen)
        self._set_aside(owner, [self._as_sandbox(found) for found in kept], only)

    def _worker(self, name: str) -> Worker:
        worker = self.pool.get(name)
        if worker is None:  # pragma: no cover - found on a worker we listed
            raise LookupError(name)
        return worker

    def _as_sandbox(self, found: Found) -> Sandbox:
        idle_stop = timedelta(minutes=self.settings.idle_stop_minutes)
        activity, stopped = reconcile.last_activity(found, idle_stop)
        sandbox = Sandbox(
            found.scope, self._worker(found.worker), found.created or activity, activity, stopped
        )
        # The engine's times are real time; a coach on another clock (tests) keeps its own.
        sandbox.last_activity = min(sandbox.last_activity, self.clock.now())
        return sandbox

    async def _adopt_found(self, found: Found) -> None:
        worker = self._worker(found.worker)
        if not found.holds_data:  # creation was cut short: check and start the host shell
            settings, scope = self.settings, found.scope
            try:
                await worker.direct(
                    lambda api: provision.start_host_checked(
                        api, scope, settings, worker.disk_support
                    ),
                    timeout=settings.api_timeout_seconds,
                )
            except (LimitsMissing, EngineError):
                log.warning("half-made sandbox removed", extra={"sandbox": found.scope.sandbox})
                await self._remove_found(found, reconcile.HALF_MADE)
                return
        sandbox = self._as_sandbox(found)
        self._register(sandbox)
        log.info(
            "sandbox adopted",
            extra={
                "user": found.scope.owner,
                "sandbox": found.scope.sandbox,
                "worker": worker.name,
            },
        )

    async def _remove_found(self, found: Found, why: str) -> None:
        worker = self._worker(found.worker)
        await worker.direct(
            lambda api: provision.remove_sandbox_objects(api, found.scope),
            timeout=self.settings.api_timeout_seconds * 4,
        )
        log.info(
            "sandbox removed by reconciliation",
            extra={"user": found.scope.owner, "sandbox": found.scope.sandbox, "why": why},
        )

    async def _remove_unchecked(self, found: Found) -> None:
        worker = self._worker(found.worker)
        doomed = [("container", ident) for ident in found.unchecked]
        await worker.direct(
            lambda api: provision.remove_objects(api, doomed),
            timeout=self.settings.api_timeout_seconds * 2,
        )
        log.warning(
            "unchecked containers removed",
            extra={"user": found.scope.owner, "sandbox": found.scope.sandbox, "count": len(doomed)},
        )

    def _set_aside(self, owner: str, kept: list[Sandbox], only: Worker | None) -> None:
        """The owner's sandboxes kept aside on ``only`` (every worker when None) are now
        ``kept``."""
        known = {s.key for s in self._aside.get(owner, [])}
        before = self._aside.get(owner, [])
        others = [s for s in before if only is not None and s.worker is not only]
        if others or kept:
            self._aside[owner] = others + kept
        else:
            self._aside.pop(owner, None)
        if any(s.key not in known for s in kept):
            log.warning(
                "learner has more than one sandbox: one is served, the others are kept aside "
                "(see /admin sandboxes)",
                extra={"user": owner, "aside": [s.scope.sandbox for s in kept]},
            )

    def _prune_aside(self, worker: Worker, plan: Plan, busy: set[str]) -> None:
        """After reconciling ``worker``: owners the plan did not mention have nothing kept
        aside there any more."""
        mentioned = plan.owners() | busy
        for owner in [o for o in self._aside if o not in mentioned]:
            self._set_aside(owner, [], worker)

    async def sweep(self) -> None:
        """Reconcile every ready worker (bring up the others, which reconciles them)."""
        for worker in self.pool.workers:
            if not worker.ready:
                await worker.bring_up(now=True)
                continue
            try:
                await self._reconcile(worker)
            except Unavailable:
                continue
            except EngineError:
                # the worker answered but refused a listing or removal: the next sweep
                # tries again
                log.exception("reconciliation failed", extra={"worker": worker.name})

    async def reconcile(self, again: bool = False) -> None:
        """Reconcile now: every ready worker (``again``) or only those not ready yet."""
        if again:
            await self.sweep()
            return
        for worker in self.pool.workers:
            if not worker.ready:
                await worker.bring_up(now=True)

    async def tick(self) -> None:
        """One reaper round: bring up workers that are not ready, stop idle and destroy
        long-idle sandboxes (those kept aside too)."""
        for worker in self.pool.workers:
            if not worker.ready:
                await worker.bring_up(now=True)
        self.images.start()
        self.warm.refill_all()
        now = self.clock.now()
        stop_after = timedelta(minutes=self.settings.idle_stop_minutes)
        destroy_after = timedelta(minutes=self.settings.idle_destroy_minutes)
        for sandbox in [*self.sandboxes(), *self.aside()]:
            action = reaper.due(sandbox, now, stop_after, destroy_after)
            owner = sandbox.owner
            if not action or not sandbox.worker.ready or self.lock(owner).locked():
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
            if not worker.ready:
                reason = worker.problem.key if worker.problem else "not ready"
                return WorkerHealth(worker.name, False, reason)
            try:
                load = await self.capacity.load(worker)
            except CoachError as exc:
                return WorkerHealth(worker.name, False, f"{type(exc).__name__}: {exc}"[:300])
            return WorkerHealth(worker.name, True, None, load.count)

        return tuple(await asyncio.gather(*(probe(w) for w in self.pool.workers)))

    def health(self) -> SandboxHealth:
        return SandboxHealth(
            api=self.executor.as_dict(),
            streams=self.streams.as_dict(),
            workers=tuple(
                WorkerHealth(w.name, w.ready, None if w.ready else w.last_error or _why(w))
                for w in self.pool.workers
            ),
            sandboxes=len(self._sandboxes),
            warm=self.warm.counts(),
        )


def _why(worker: Worker) -> str | None:
    return worker.problem.key if worker.problem is not None else None
