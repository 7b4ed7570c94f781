"""Images pulled ahead: what the scenarios use is on every worker before a learner needs it.

A class that starts a scenario together would otherwise wait, all of them, for the first
learner's pull of the scenario's image (and a pull in the middle of a burst slows every start
on the engine). The coach hands the sandbox the images its scenarios use
(:meth:`SandboxService.prepare_images`); at start, and on every reaper round for a worker that
was not reachable yet, each worker gets the ones it lacks through the same checked pull as
``docker pull`` (policy, timeout, size). A worker is *prepared* once every image is there; an
image that cannot be pulled is logged and tried again on the next round. Pulls run in the
background, on the pool reserved for slow calls: nobody waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from bot.core.errors import CoachError, UserError
from bot.sandbox import policy
from bot.sandbox.ops.images import image_size, pull_blocking
from bot.sandbox.workers import Worker, WorkerPool
from bot.settings import SandboxSettings

log = logging.getLogger("bot.sandbox.prepull")


class ImagePrepull:
    def __init__(
        self, settings: SandboxSettings, workers: WorkerPool, config: policy.PolicyConfig
    ) -> None:
        self.settings = settings
        self.workers = workers
        self.config = config
        self.images: list[str] = []  # engine names (``busybox:latest``)
        self.prepared: set[str] = set()  # workers that have every image
        self.failed: dict[str, list[str]] = {}  # worker → images its last round could not pull
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def want(self, references: Iterable[str]) -> None:
        """Images to have on every worker (as typed in the content); what the policy refuses
        is logged and left out."""
        for reference in references:
            try:
                name = policy.check_image_reference(reference, self.config).name
            except UserError as exc:
                log.warning("image not pulled ahead", extra={"image": reference, "why": exc.key})
                continue
            if name not in self.images:
                self.images.append(name)
                self.prepared.clear()

    def start(self) -> None:
        """Prepare, in the background, every reachable worker not prepared yet."""
        for worker in self.workers.workers:
            task = self._tasks.get(worker.name)
            busy = task is not None and not task.done()
            if busy or worker.name in self.prepared or not worker.ready or not self.images:
                continue
            self._tasks[worker.name] = asyncio.get_running_loop().create_task(
                self._prepare(worker), name=f"prepull-{worker.name}"
            )

    async def _prepare(self, worker: Worker) -> None:
        failed: list[str] = []
        for name in list(self.images):
            try:
                await self._ensure(worker, name)
            except CoachError as exc:
                failed.append(name)
                log.warning(
                    "pulling an image ahead failed",
                    extra={"worker": worker.name, "image": name, "error": str(exc)[:200]},
                )
        self.failed[worker.name] = failed
        if not failed:
            self.prepared.add(worker.name)

    async def _ensure(self, worker: Worker, name: str) -> None:
        if await worker.run(lambda api: image_size(api, name)) is not None:
            return
        limit, seconds = self.settings.max_image_bytes, self.settings.pull_timeout_seconds
        await worker.slow(lambda api: pull_blocking(api, name, limit), timeout=seconds)
        log.info("image pulled ahead", extra={"worker": worker.name, "image": name})

    async def wait(self) -> None:
        """Until no worker is being prepared."""
        pending = [task for task in self._tasks.values() if not task.done()]
        if pending:
            await asyncio.wait(pending)

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
