"""The worker's free space never drops by more than a learner's budget.

The shared engine's free space moves with every other test on it, so the worker here is a
private btrfs engine the module starts itself (``tests/engines.py``, like the shared one:
a loop file with quotas, ``storage_opt`` enforced) and removes after. Nobody else writes on
its data root: what its free space loses is what the learner wrote, plus the coach's own
objects and btrfs's bookkeeping.

A sampler thread reads ``statvfs`` of the engine's btrfs mount from before the learner's
first command until the writers have been stopped and the filesystem synced; the test
asserts that the largest drop from the first reading stays within the budget + 10 % (what
the watchdog may overshoot, as in ``test_engine_quota.py``) + ``SLACK``:

* btrfs metadata for what is written (checksums, extent and qgroup items: about 1–2 MiB a
  GiB, held in metadata chunks that are already allocated, but counted against free space
  as they fill);
* the learner's host shell, network and the disk monitor, created after the first reading
  (a few MiB of container files, json logs capped at 2 MiB each);
* the image bytes btrfs charges to each new container's subvolume are shared with the image
  (snapshots), so they cost nothing here — the images are pulled before the first reading.

Without the watchdog the same writes take 2 GiB (the volume) and 1.5 GiB (three capped
containers), both well past budget + 10 % + SLACK: the test can fail.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import TypeVar

import pytest
import pytest_asyncio

from bot.core.context import Actor
from bot.sandbox.service import SandboxService
from tests.conftest import IN_CI
from tests.engines import ExtraEngine, extra_engine
from tests.sandbox.engine_support import docker_text, new_actor
from tests.sandbox.quota_support import (
    MIB,
    exited,
    quota_service,
    sandbox_bytes,
    while_other_works,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
T = TypeVar("T")
BUDGET = 1024 * MIB  # the default budget
SLACK = 64 * MIB
VOLUME_WRITER = new_actor("fsvol")
TRIPLE = new_actor("fstriple")
OTHER = new_actor("fsother")  # another learner, working all along
SAMPLE_SECONDS = 0.02  # the sampler's period (a measurement rate, not a wait for anything)


@pytest.fixture(scope="module")
def private_engine(docker_engine: None) -> Iterator[ExtraEngine]:
    """A btrfs engine of this module alone (6 GiB sparse loop file: room for what would be
    written without the watchdog, so a failure shows the whole overshoot)."""
    if os.geteuid() != 0:
        message = "extra engines need root (deploy/engine/extra_engine.sh)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with extra_engine("btrfs", size="6G") as engine:
        yield engine


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service(private_engine: ExtraEngine) -> AsyncIterator[SandboxService]:
    worker = {"name": "private", "url": private_engine.base_url, "max_sandboxes": 100}
    async with quota_service(VOLUME_WRITER, TRIPLE, OTHER, workers=[worker]) as svc:
        await docker_text(svc, OTHER, "ps")  # the other learner's sandbox exists throughout
        yield svc


class FreeSpace:
    """Free bytes of a filesystem (``statvfs``: blocks available × fragment size), read
    every ``SAMPLE_SECONDS`` in a thread of its own until stopped."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._sync()  # space freed by an earlier test is returned at commit: settle it first
        self.samples: list[int] = [self.read()]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="free-space", daemon=True)

    def read(self) -> int:
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.samples.append(self.read())

    def __enter__(self) -> FreeSpace:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sync()  # what is still in the page cache is allocated at commit
        self.samples.append(self.read())

    def _sync(self) -> None:
        subprocess.run(["sync", "-f", self.path], check=True, timeout=120)

    @property
    def largest_drop(self) -> int:
        return self.samples[0] - min(self.samples)


async def _sampled(engine: ExtraEngine, work: Awaitable[T]) -> tuple[T, FreeSpace]:
    with FreeSpace(str(engine.data_root)) as free:
        result = await work
    return result, free


async def _assert_within_budget(free: FreeSpace, writer: Actor, engine: ExtraEngine) -> None:
    """The largest drop stays within the bound, and it is what the learner's sandbox holds
    as read from the engine (so the sampler saw the writes; the watchdog may stop a writer
    well before the budget, when it sees that it would pass it)."""
    written = await sandbox_bytes(writer.user_id, engine.base_url)
    drop = free.largest_drop
    report = (
        f"free space dropped by {drop / MIB:.0f} MiB at most ({len(free.samples)} samples; "
        f"bound {(BUDGET * 1.10 + SLACK) / MIB:.0f} MiB); the sandbox holds {written / MIB:.0f} MiB"
    )
    assert drop <= BUDGET * 1.10 + SLACK, report
    assert written >= 64 * MIB, report
    assert drop >= 0.9 * written, report


async def test_a_volume_filled_with_2_gib_costs_the_worker_at_most_the_budget(
    service: SandboxService, private_engine: ExtraEngine
) -> None:
    async def fill() -> tuple[str, int]:
        line = "run -d --name fill -v data:/d busybox dd if=/dev/zero of=/d/big bs=1M count=2048"
        await docker_text(service, VOLUME_WRITER, line)  # the learner's first command
        return await while_other_works(
            service, OTHER, exited(service, VOLUME_WRITER, "fill", attempts=3000)
        )

    (seen, answered), free = await _sampled(private_engine, fill())
    await _assert_within_budget(free, VOLUME_WRITER, private_engine)
    assert "Exited (137)" in seen and "disk budget" in seen  # the watchdog stopped it
    assert answered >= 1  # the other learner's commands kept completing
    await docker_text(service, VOLUME_WRITER, "rm fill")
    await docker_text(service, VOLUME_WRITER, "volume rm data")


async def test_three_writers_at_once_cost_the_worker_at_most_the_budget(
    service: SandboxService, private_engine: ExtraEngine
) -> None:
    names = ("w1", "w2", "w3")

    async def write() -> tuple[list[str], int]:
        for name in names:  # 512 MiB each at most (the engine's cap): 1.5 GiB together
            line = f"run -d --name {name} busybox dd if=/dev/zero of=/x bs=1M count=1024"
            await docker_text(service, TRIPLE, line)

        async def all_exited() -> list[str]:
            return [await exited(service, TRIPLE, name, attempts=3000) for name in names]

        return await while_other_works(service, OTHER, all_exited())

    (seen, answered), free = await _sampled(private_engine, write())
    await _assert_within_budget(free, TRIPLE, private_engine)
    assert any("Exited (137)" in status for status in seen)  # the watchdog stopped some
    assert answered >= 1
    await docker_text(service, TRIPLE, "rm " + " ".join(names))


async def test_the_other_learner_still_works_after_the_writers(service: SandboxService) -> None:
    assert "CONTAINER ID" in await docker_text(service, OTHER, "ps")
    assert "ok" in await docker_text(service, OTHER, "run --rm busybox echo ok")
