"""The warm pool: ready sandboxes on each worker, so that a new learner's first command does not
wait for one to be made.

Making a sandbox (an internal network, a host shell created, started and checked) costs
several hundred milliseconds on an idle engine and seconds in a burst; a whole class typing
its first command at once would queue behind it. So each worker keeps ``warm_pool`` sandboxes
made in advance, owned by :data:`~bot.sandbox.naming.POOL_OWNER`. A learner's first command
*claims* one (in the manager's pipeline: adopt → claim → create): a claim marker, a volume
labelled with the learner as owner, is created — one cheap call — and the sandbox is theirs;
after a restart reconciliation finds the learner in the marker
(:func:`bot.sandbox.reconcile.resolve_owner`).

Safety, in order of importance:

* **A claimed sandbox is the learner's.** Once its marker may exist the pool forgets the
  sandbox for good (:attr:`WarmPool._taken`): a claim whose marker call failed or timed out
  is never handed to anyone else; reconciliation decides by the marker.
* **One sandbox, one learner.** Taking a sandbox out of the list is a single step on the
  event loop, before any await; a sandbox taken (or being made) never goes back, even when a
  sweep that scanned before the claim reports it as unclaimed.
* **The pool removes only what it holds.** An unclaimed warm sandbox is removed only when
  the pool is over its size (the setting lowered, or 0: the pool shut down), and only after
  it was taken out of the list, with the engine asked once more that no claim marker exists
  (:func:`bot.sandbox.provision.remove_unclaimed`).

The pool is refilled in the background — when no learner's command runs (a refill would slow
theirs; after a minute of activity without a pause, one at a time) — through the manager's
capacity reservation (:meth:`SandboxManager.reserve`: warm sandboxes count towards the
worker's capacity like any other, and a full worker gets no warm sandboxes) and its creation
slots. Only ready workers (lease held, reconciled) are filled or claimed from.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable

from bot.core.clock import Clock
from bot.core.errors import CoachError
from bot.sandbox import naming, provision
from bot.sandbox.errors import EngineError
from bot.sandbox.executor import BACKGROUND, acting_for
from bot.sandbox.naming import Scope
from bot.sandbox.provision import Sandbox
from bot.sandbox.workers import Worker, WorkerPool
from bot.settings import SandboxSettings

log = logging.getLogger("bot.sandbox.warmpool")
RETRY_SECONDS = 30.0  # after a failed refill, before the worker's pool is tried again
# A refill waits for a moment when no learner's command runs (it would slow theirs), at most
# this long: a class that never pauses still gets its pool back, one sandbox at a time, made
# only while no learner's call waits for a thread or a container start for a start slot.
QUIET_WAIT_SECONDS = 60.0
BUSY_RECHECK_SECONDS = 0.5  # how often a refill held back by a busy worker looks again

# Makes one warm sandbox on a worker through the manager's reservation; False: no room.
Maker = Callable[[Worker, Scope], Awaitable[bool]]


class WarmPool:
    def __init__(
        self,
        settings: SandboxSettings,
        workers: WorkerPool,
        clock: Clock,
        make: Maker,
        quiet: asyncio.Event | None = None,
        busy: Callable[[Worker], bool] | None = None,
    ) -> None:
        """``make``: create one warm sandbox (reserving its place); ``quiet``: set while no
        learner's command runs (refills wait for it, briefly); ``busy``: whether learners'
        calls wait on the worker now (a refill that stopped waiting for quiet still waits
        for that to pass)."""
        self.settings = settings
        self.workers = workers
        self.clock = clock
        self.make = make
        self.quiet = quiet
        self.busy = busy
        self._ready: dict[str, list[Scope]] = {w.name: [] for w in workers.workers}
        # sandbox ids that left the pool for good: claimed, being claimed, claim in doubt,
        # being removed by the pool
        self._taken: set[str] = set()
        self._filling: dict[str, asyncio.Task[None]] = {}
        self._trimming: set[asyncio.Task[None]] = set()
        self._failed_at: dict[str, float] = {}
        self._closed = False

    @property
    def instance(self) -> str:
        return self.settings.instance or naming.DEFAULT_INSTANCE

    # what is there --------------------------------------------------------------------
    def target(self, worker: Worker) -> int:
        return worker.settings.warm_pool

    def ready(self, worker: Worker) -> int:
        return len(self._ready.get(worker.name, ()))

    def counts(self) -> dict[str, int]:
        return {name: len(scopes) for name, scopes in self._ready.items()}

    def holds(self, sandbox_id: str) -> bool:
        """Whether the pool holds (or held and gave away) this sandbox."""
        return sandbox_id in self._taken or any(
            s.sandbox == sandbox_id for scopes in self._ready.values() for s in scopes
        )

    def release(self, sandbox_id: str) -> bool:
        """Reconciliation wants to remove this warm sandbox (half-made, or tombstoned): take
        it out of the pool and say yes, unless the pool gave it away or is removing it
        itself (then reconciliation must not touch it)."""
        if sandbox_id in self._taken:
            return False
        for scopes in self._ready.values():
            scopes[:] = [s for s in scopes if s.sandbox != sandbox_id]
        return True

    def snapshot(self, worker: Worker) -> set[str]:
        """The ids ready on ``worker`` now (taken before a scan, see :meth:`adopt`)."""
        return {s.sandbox for s in self._ready.get(worker.name, [])}

    def adopt(self, worker: Worker, found: list[str], scanned: set[str], before: set[str]) -> None:
        """After reconciling ``worker``: ``found`` are the complete warm sandboxes nobody
        claimed, ``scanned`` every sandbox id the scan saw, ``before`` the ids ready when the
        scan began. Found ones join the pool (never one taken); ready ones the scan should have
        seen and did not (removed behind our back) leave it. Then the pool is trimmed to its
        size."""
        ready = self._ready.setdefault(worker.name, [])
        ready[:] = [s for s in ready if s.sandbox in scanned or s.sandbox not in before]
        known = {s.sandbox for s in ready}
        fresh = [sid for sid in found if sid not in known and sid not in self._taken]
        ready += [Scope(naming.POOL_OWNER, sid, self.instance) for sid in sorted(fresh)]
        if fresh:
            log.info("warm sandboxes found", extra={"worker": worker.name, "count": len(fresh)})
        self._trim(worker)

    def forget_worker(self, worker: Worker) -> None:
        """The worker is no longer ours (its lease lost): nothing of it is handed out."""
        self._ready[worker.name] = []

    # claiming ----------------------------------------------------------------------------
    async def claim(self, owner: str, order: list[Worker]) -> Sandbox | None:
        """A ready sandbox made ``owner``'s, from the first ready worker of ``order`` that has
        one (None: the pool is empty). The pool is refilled in the background."""
        for worker in order:
            ready = self._ready.get(worker.name)
            if not ready or not (worker.ready and worker.healthy):
                continue
            pooled = ready.pop(0)  # no await before: nobody else can take it
            self._taken.add(pooled.sandbox)
            self.refill(worker)
            scope = Scope(owner, pooled.sandbox, pooled.instance)
            try:
                await worker.run(
                    functools.partial(provision.claim_blocking, scope=scope),
                    timeout=self.settings.api_timeout_seconds,
                )
            except (CoachError, EngineError):
                # The marker may or may not exist (a timeout says nothing): the sandbox stays
                # out of the pool, and reconciliation decides by its marker.
                log.warning(
                    "claiming a warm sandbox failed; left for reconciliation",
                    extra={"worker": worker.name, "sandbox": pooled.sandbox},
                )
                continue
            now = self.clock.now()
            log.info("warm sandbox claimed", extra={"user": owner, "worker": worker.name})
            return Sandbox(scope, worker, now, now, fresh=True)
        return None

    # refilling and trimming -------------------------------------------------------------
    def refill_all(self) -> None:
        for worker in self.workers.workers:
            self.refill(worker)

    def refill(self, worker: Worker) -> None:
        """Start filling ``worker``'s pool in the background (no-op when it is being filled,
        full, not ready, or failed moments ago)."""
        task = self._filling.get(worker.name)
        if self._closed or (task is not None and not task.done()):
            return
        if self.ready(worker) >= self.target(worker) or not (worker.ready and worker.healthy):
            return
        loop = asyncio.get_running_loop()
        failed = self._failed_at.get(worker.name)
        if failed is not None and loop.time() - failed < RETRY_SECONDS:
            return
        # the pool's calls are nobody's: they never wait in (or count against) the queue of
        # the learner whose claim started the refill
        with acting_for(BACKGROUND):
            self._filling[worker.name] = loop.create_task(
                self._fill(worker), name=f"warm-pool-{worker.name}"
            )

    async def _fill(self, worker: Worker) -> None:
        """Make warm sandboxes on ``worker`` until its pool is full or the worker has no room
        left: ``creations_per_worker`` at a time while no learner's command runs, one at a
        time when none came for a while."""
        try:
            while not self._closed and self.ready(worker) < self.target(worker):
                quiet = await self._quiet_moment(worker)
                batch = self.settings.creations_per_worker if quiet else 1
                if not await self._make_some(worker, batch):
                    return
            self._failed_at.pop(worker.name, None)
        except Exception as exc:  # the pool is a convenience: provisioning still works
            self._failed_at[worker.name] = asyncio.get_running_loop().time()
            log.warning(
                "warm pool refill failed",
                extra={"worker": worker.name, "error": f"{type(exc).__name__}: {exc}"[:200]},
            )

    async def _quiet_moment(self, worker: Worker) -> bool:
        """Wait (a while at most) until no learner's command runs; whether none does. Past
        that while, wait at least until no learner's call waits on the worker."""
        if self.quiet is None or self.quiet.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.quiet.wait(), QUIET_WAIT_SECONDS)
        while not self.quiet.is_set() and self.busy is not None and self.busy(worker):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.quiet.wait(), BUSY_RECHECK_SECONDS)
        return self.quiet.is_set()

    async def _make_some(self, worker: Worker, wanted: int) -> int:
        """Up to ``wanted`` warm sandboxes made side by side, each through the manager's
        reservation; how many were made (0: no room). A failure is raised once the others
        are made."""
        count = min(wanted, self.target(worker) - self.ready(worker))
        if count <= 0:
            return 0
        scopes = [
            Scope(naming.POOL_OWNER, naming.new_sandbox_id(), self.instance) for _ in range(count)
        ]
        outcomes = await asyncio.gather(
            *(self.make(worker, scope) for scope in scopes), return_exceptions=True
        )
        made = [s for s, out in zip(scopes, outcomes, strict=True) if out is True]
        self._ready.setdefault(worker.name, []).extend(made)
        failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
        if failure is not None:
            raise failure
        return len(made)

    def _trim(self, worker: Worker) -> None:
        """Remove, in the background, warm sandboxes past the pool's size."""
        ready = self._ready.setdefault(worker.name, [])
        extra = len(ready) - self.target(worker)
        if extra <= 0 or self._closed:
            return
        doomed = ready[-extra:]
        del ready[-extra:]  # out of the list first: nobody can claim them now
        self._taken.update(s.sandbox for s in doomed)
        task = asyncio.get_running_loop().create_task(
            self._remove(worker, doomed), name=f"warm-trim-{worker.name}"
        )
        self._trimming.add(task)
        task.add_done_callback(self._trimming.discard)

    async def _remove(self, worker: Worker, doomed: list[Scope]) -> None:
        for scope in doomed:
            try:
                removed = await worker.run(
                    functools.partial(provision.remove_unclaimed, scope=scope),
                    timeout=self.settings.api_timeout_seconds * 4,
                )
            except (CoachError, EngineError) as exc:  # the next sweep finds it again
                self._taken.discard(scope.sandbox)
                log.warning(
                    "could not remove a warm sandbox",
                    extra={"worker": worker.name, "sandbox": scope.sandbox, "error": str(exc)},
                )
                continue
            log.info(
                "warm sandbox removed" if removed else "warm sandbox had been claimed: kept",
                extra={"worker": worker.name, "sandbox": scope.sandbox},
            )

    async def wait_ready(self) -> None:
        """Until no worker's pool is being filled or trimmed (each is full, out of room, or
        failed)."""
        while True:
            tasks = [*self._filling.values(), *self._trimming]
            pending = [task for task in tasks if not task.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    async def close(self) -> None:
        """Stop refilling. Warm sandboxes stay on the worker: the next start finds them."""
        self._closed = True
        for task in self._filling.values():
            task.cancel()
        for task in self._filling.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._filling.clear()
        if self._trimming:  # removals under way finish (each is kill-safe anyway)
            await asyncio.gather(*self._trimming, return_exceptions=True)
