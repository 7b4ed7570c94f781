"""The warm pool: ready sandboxes on each worker, so that a new learner's first command does not
wait for one to be made.

Making a sandbox (an internal network, a host shell created, started and checked) costs
several hundred milliseconds on an idle engine and seconds in a burst; a whole class typing
its first command at once would queue behind it. So each worker keeps ``warm_pool`` sandboxes
made in advance, owned by :data:`~bot.sandbox.naming.POOL_OWNER`. A learner's first command
*claims* one: a claim marker (a volume labelled with the learner as owner) is created, which is
one cheap call, and the sandbox is theirs — after a restart reconciliation finds the learner in
the marker. The pool is refilled in the background — when no learner's command runs
(a refill would slow theirs; after a minute of activity without a pause, one at a time) — and
never past the worker's capacity (warm sandboxes count towards ``max_sandboxes`` like any other:
they hold memory). Warm sandboxes nobody claimed are not any learner's: reconciliation puts
them back into the pool and the reaper never sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.core.clock import Clock
from bot.core.errors import CoachError, UserError
from bot.sandbox import naming, provision
from bot.sandbox.errors import EngineError
from bot.sandbox.naming import Scope
from bot.sandbox.provision import Sandbox
from bot.sandbox.workers import Worker, WorkerPool
from bot.settings import SandboxSettings

log = logging.getLogger("bot.sandbox.warmpool")
RETRY_SECONDS = 30.0  # after a failed refill, before the worker's pool is tried again
# A refill waits for a moment when no learner's command runs (it would slow theirs), at most
# this long: a class that never pauses still gets its pool back.
QUIET_WAIT_SECONDS = 60.0


class WarmPool:
    def __init__(
        self,
        settings: SandboxSettings,
        workers: WorkerPool,
        clock: Clock,
        quiet: asyncio.Event | None = None,
    ) -> None:
        """``quiet``: set while no learner's command runs (refills wait for it, briefly)."""
        self.settings = settings
        self.workers = workers
        self.clock = clock
        self.quiet = quiet
        self._ready: dict[str, list[Scope]] = {w.name: [] for w in workers.workers}
        self._filling: dict[str, asyncio.Task[None]] = {}
        self._failed_at: dict[str, float] = {}
        self._closed = False

    # what is there --------------------------------------------------------------------
    def target(self, worker: Worker) -> int:
        return worker.settings.warm_pool

    def ready(self, worker: Worker) -> int:
        return len(self._ready.get(worker.name, ()))

    def counts(self) -> dict[str, int]:
        return {name: len(scopes) for name, scopes in self._ready.items()}

    def adopt(self, worker: Worker, scopes: list[Scope]) -> None:
        """Warm sandboxes reconciliation found on ``worker`` (after a restart)."""
        known = {scope.sandbox for scope in self._ready[worker.name]}
        self._ready[worker.name] += [s for s in scopes if s.sandbox not in known]

    # claiming ----------------------------------------------------------------------------
    async def claim(self, owner: str, order: list[Worker]) -> Sandbox | None:
        """A ready sandbox made ``owner``'s, from the first worker of ``order`` that has one
        (None: the pool is empty). The pool is refilled in the background."""
        for worker in order:
            ready = self._ready.get(worker.name)
            if not ready or not worker.healthy:
                continue
            pooled = ready.pop(0)
            self.refill(worker)
            scope = Scope(owner, pooled.sandbox, pooled.instance)
            try:
                await provision.claim(worker, scope, self.settings)
            except (CoachError, EngineError):
                # The marker may or may not exist (a timeout says nothing): the sandbox is
                # left where it is, out of the pool, for reconciliation to judge. The warm
                # pool never removes a sandbox.
                log.warning(
                    "claiming a warm sandbox failed; left for reconciliation",
                    extra={"worker": worker.name, "sandbox": pooled.sandbox},
                )
                continue
            now = self.clock.now()
            log.info("warm sandbox claimed", extra={"user": owner, "worker": worker.name})
            return Sandbox(scope, worker, now, now)
        return None

    # refilling -------------------------------------------------------------------------
    def refill_all(self) -> None:
        for worker in self.workers.workers:
            self.refill(worker)

    def refill(self, worker: Worker) -> None:
        """Start filling ``worker``'s pool in the background (no-op when it is being filled,
        full, or failed moments ago)."""
        task = self._filling.get(worker.name)
        if self._closed or (task is not None and not task.done()):
            return
        if self.ready(worker) >= self.target(worker) or not worker.healthy:
            return
        loop = asyncio.get_running_loop()
        failed = self._failed_at.get(worker.name)
        if failed is not None and loop.time() - failed < RETRY_SECONDS:
            return
        self._filling[worker.name] = loop.create_task(
            self._fill(worker), name=f"warm-pool-{worker.name}"
        )

    async def _fill(self, worker: Worker) -> None:
        """Make warm sandboxes on ``worker`` until its pool is full or the worker has no room
        left: ``concurrent_starts`` at a time while no learner's command runs, one at a time
        when none came for a while."""
        try:
            while not self._closed and self.ready(worker) < self.target(worker):
                quiet = await self._quiet_moment()
                batch = worker.settings.concurrent_starts if quiet else 1
                made = await self._make_some(worker, batch)
                if not made:
                    return
                self._ready[worker.name] += made
            self._failed_at.pop(worker.name, None)
        except Exception as exc:  # the pool is a convenience: provisioning still works
            self._failed_at[worker.name] = asyncio.get_running_loop().time()
            log.warning(
                "warm pool refill failed",
                extra={"worker": worker.name, "error": f"{type(exc).__name__}: {exc}"[:200]},
            )

    async def _quiet_moment(self) -> bool:
        """Wait (a while at most) until no learner's command runs; whether none does."""
        if self.quiet is None or self.quiet.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.quiet.wait(), QUIET_WAIT_SECONDS)
        return self.quiet.is_set()

    async def _make_some(self, worker: Worker, wanted: int) -> list[Scope]:
        """Up to ``wanted`` warm sandboxes, made together under the worker's capacity check
        (none: no room). A failure of any is raised once the others are made."""
        async with worker.provision_lock:
            room = worker.settings.max_sandboxes - await self.workers.capacity.used(worker)
            count = min(wanted, room, self.target(worker) - self.ready(worker))
            if count <= 0:
                return []
            scopes = [
                Scope(naming.POOL_OWNER, naming.new_sandbox_id(), self.settings.instance)
                for _ in range(count)
            ]
            outcomes = await asyncio.gather(
                *(provision.create(worker, scope, self.settings) for scope in scopes),
                return_exceptions=True,
            )
        made = [s for s, out in zip(scopes, outcomes, strict=True) if out is None]
        failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
        if failure is not None:
            self._ready[worker.name] += made
            if isinstance(failure, UserError):  # in a learner's words; here the worker's fault
                raise EngineError(str(failure.key)) from failure
            raise failure
        return made

    async def wait_ready(self) -> None:
        """Until no worker's pool is being filled (each is full, out of room, or failed)."""
        while True:
            pending = [task for task in self._filling.values() if not task.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    async def close(self) -> None:
        self._closed = True
        for task in self._filling.values():
            task.cancel()
        for task in self._filling.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._filling.clear()
