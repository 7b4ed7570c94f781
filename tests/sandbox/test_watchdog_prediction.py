"""The disk watchdog's stop *before* the budget, without an engine: which growth it
extrapolates and what it kills. A write in the host shell that ended (a ``/sh dd``, an
upload) is not extrapolated, however fast it was and however its size still creeps up;
writers still at work — a container, a volume's writer, a command or background process in
the host shell — are stopped before the budget; over the budget, whatever grew is stopped.

The watchdog is driven through :meth:`DiskWatchdog.measure` with scripted measurements (the
sizes a real engine would report at each look) on a clock the test moves, a look every
0.25 s as while a sandbox is watched closely; the kills it orders are recorded. A 32 MiB
budget, as in ``test_engine_quota.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from bot.sandbox import naming
from bot.sandbox import watchdog as watchdog_module
from bot.sandbox.limits import DiskSupport
from bot.sandbox.naming import Scope
from bot.sandbox.provision import Sandbox
from bot.sandbox.usage import KIND_CONTAINER, KIND_HOST, KIND_VOLUME, Listing, Part, Usage
from bot.sandbox.watchdog import DiskWatchdog, SandboxDisk
from bot.settings import SandboxSettings

MIB = 1024 * 1024
BUDGET = 32 * MIB
LOOK = 0.25  # seconds between looks
BTRFS = DiskSupport("btrfs", "btrfs", supported=True, enforced=True)
HOST, BOX, DATA = "host-id", "box-id", "dc-ab12cd34-data"


class Clock:
    """``time.monotonic`` for the watchdog module, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@dataclass
class FakeWorker:
    """What the watchdog asks of a worker here: to run a kill (recorded)."""

    name: str = "local"
    healthy: bool = True
    killed: list[str] = field(default_factory=list)

    async def run(self, fn: Callable[..., Any]) -> None:
        assert isinstance(fn, functools.partial), fn
        self.killed.append(fn.keywords["ident"])


@dataclass
class Look:
    """One scripted measurement: the sizes, and what runs in the host shell meanwhile."""

    sizes: dict[str, int]
    command_ran: bool = False  # a command that can write ran since the last look
    command_running: bool = False  # a /sh command (or another that writes) runs now
    background: bool = False  # the learner's own background process in the host shell


class Scripted(DiskWatchdog):
    """A watchdog whose measurements come from a script instead of an engine."""

    def __init__(self, manager: Any, looks: Iterator[Look]) -> None:
        super().__init__(manager)
        self.looks = looks

    async def _measure(self, sandbox: Sandbox, state: SandboxDisk) -> tuple[Usage, Listing]:
        look = next(self.looks)
        state.writing = int(look.command_running)  # as DiskWatchdog.writing() counts them
        state.dirty = state.dirty or look.command_ran or look.command_running
        state.background = look.background
        parts = [_part(ident, size) for ident, size in look.sizes.items()]
        containers = [
            {
                "Id": p.ident,
                "State": "running",
                "Labels": {naming.KIND: p.kind},
                "Mounts": [{"Name": DATA, "RW": True}] if p.ident == BOX else [],
            }
            for p in parts
            if p.kind != KIND_VOLUME
        ]
        volumes = [{"Name": p.ident} for p in parts if p.kind == KIND_VOLUME]
        return Usage(tuple(parts), 0), Listing(containers, volumes)


def _part(ident: str, size: int) -> Part:
    kind = {HOST: KIND_HOST, DATA: KIND_VOLUME}.get(ident, KIND_CONTAINER)
    return Part(kind, ident.removesuffix("-id"), ident, size, running=kind != KIND_VOLUME)


@dataclass
class Run:
    watchdog: Scripted
    sandbox: Sandbox
    worker: FakeWorker
    clock: Clock

    @property
    def state(self) -> SandboxDisk:
        return self.watchdog.state(self.sandbox)

    async def looks(self, count: int) -> list[int]:
        """Take ``count`` looks, ``LOOK`` seconds apart; each one's total."""
        totals = []
        for _ in range(count):
            self.clock.now += LOOK
            measured = await self.watchdog.measure(self.sandbox)
            assert measured is not None
            totals.append(measured.total)
        return totals

    async def until_a_kill(self, count: int) -> int:
        """Look up to ``count`` times until the watchdog kills something: the total then."""
        for _ in range(count):
            [total] = await self.looks(1)
            if self.worker.killed:
                return total
        raise AssertionError(f"nothing was killed in {count} looks")


MakeRun = Callable[[list[Look]], Run]


@pytest.fixture
def make_run(monkeypatch: pytest.MonkeyPatch) -> MakeRun:
    clock = Clock()
    monkeypatch.setattr(watchdog_module, "time", clock)  # the watchdog module's clock only

    def make(script: list[Look]) -> Run:
        settings = SandboxSettings().model_copy(
            update={"disk": SandboxSettings().disk.model_copy(update={"budget_bytes": BUDGET})}
        )
        worker = FakeWorker()
        now = datetime.now(UTC)
        sandbox = Sandbox(Scope("learner", "ab12cd34"), worker, now, now)  # type: ignore[arg-type]
        manager = SimpleNamespace(
            settings=settings, pool=SimpleNamespace(workers=[worker]), sandboxes=lambda: [sandbox]
        )
        watchdog = Scripted(manager, iter(script))
        watchdog._worker(worker).support = BTRFS  # type: ignore[arg-type]
        return Run(watchdog, sandbox, worker, clock)

    return make


# --------------------------------------------------------------------------------------------
# Writes that ended are not extrapolated
# --------------------------------------------------------------------------------------------


async def test_writes_that_ended_do_not_stop_the_host_shell(make_run: MakeRun) -> None:
    """The flake of ``test_uploads_and_cp_count_against_the_budget``: two /sh dd commands
    (5 MiB, then 23 MiB), each measured right after it ended — growth at two looks in a row,
    at 92 MiB/s — then sizes that still creep up a little (a later command's traces) with
    nothing running in the shell: 28 of 32 MiB used and every write finished, so the shell
    is not killed (before, it was: the fast growth was extrapolated past the budget, and a
    margin of a memory limit added for a shell that had merely grown)."""
    run = make_run(
        [
            Look({HOST: 0, BOX: 0}),
            Look({HOST: 5 * MIB, BOX: 0}, command_ran=True),  # dd of 5 MiB, ended
            Look({HOST: 28 * MIB, BOX: 0}, command_ran=True),  # dd of 23 MiB: 92 MiB/s seen
            Look({HOST: 28 * MIB + 210, BOX: 0}, command_ran=True),  # traces of an `ls`
            Look({HOST: 28 * MIB + 420, BOX: 0}, command_ran=True),  # and of another
            Look({HOST: 28 * MIB + 420, BOX: 0}),
        ]
    )
    assert await run.looks(3) == [0, 5 * MIB, 28 * MIB]
    assert run.state.rate == 23 * MIB / LOOK  # grew at two looks in a row, fast…
    assert run.worker.killed == []  # …yet nothing runs in the shell: no extrapolation
    await run.looks(2)
    assert run.state.rate > 0  # still creeping up
    await run.looks(1)
    assert run.worker.killed == []
    assert run.state.notice is None and not run.state.over


# --------------------------------------------------------------------------------------------
# Writers still at work are stopped before the budget
# --------------------------------------------------------------------------------------------


def _steady(ident: str, step: int, looks: int, **flags: bool) -> list[Look]:
    """``ident`` growing by ``step`` at every look (others empty)."""
    others = {HOST: 0, BOX: 0}
    return [Look({**others, ident: step * n}, **flags) for n in range(looks)]


async def test_steady_growth_in_a_container_is_stopped_before_the_budget(make_run: MakeRun) -> None:
    run = make_run(_steady(BOX, 4 * MIB, 10))  # 16 MiB/s
    assert await run.until_a_kill(10) < BUDGET  # stopped before it passed the budget
    assert run.worker.killed == [BOX]
    notice = run.state.notice
    assert notice is not None and notice.about_to and notice.stopped == ((KIND_CONTAINER, "box"),)


async def test_a_container_that_starts_writing_near_the_budget_is_stopped_at_once(
    make_run: MakeRun,
) -> None:
    """Its first growth is enough: a writer started near the budget gets no second look
    (a kill of a container deep in writes takes seconds on a busy worker)."""
    run = make_run(
        [Look({HOST: 0, BOX: 0}), Look({HOST: 0, BOX: 0}), Look({HOST: 0, BOX: 9 * MIB})]
    )
    await run.looks(3)
    assert run.worker.killed == [BOX] and not run.state.over


async def test_steady_growth_of_a_volume_stops_its_writer(make_run: MakeRun) -> None:
    run = make_run(_steady(DATA, 4 * MIB, 10))
    assert await run.until_a_kill(10) < BUDGET
    assert run.worker.killed == [BOX]  # the container mounting the volume
    assert run.state.notice is not None and run.state.notice.about_to


async def test_a_host_shell_writing_in_the_background_is_stopped(make_run: MakeRun) -> None:
    run = make_run(_steady(HOST, 4 * MIB, 10, background=True))
    assert await run.until_a_kill(10) < BUDGET
    assert run.worker.killed == [HOST]
    assert run.state.notice is not None and run.state.notice.about_to


async def test_a_host_shell_growing_while_no_command_ran_is_stopped(make_run: MakeRun) -> None:
    """A writer ``docker top`` does not show as a background process (one hiding under the
    port forwarder's name): growth while no command ran is a process writing."""
    run = make_run(_steady(HOST, 4 * MIB, 10))
    assert await run.until_a_kill(10) < BUDGET
    assert run.worker.killed == [HOST]


async def test_a_host_shell_command_still_writing_is_stopped(make_run: MakeRun) -> None:
    run = make_run(_steady(HOST, 4 * MIB, 10, command_running=True))
    assert await run.until_a_kill(10) < BUDGET
    assert run.worker.killed == [HOST]


# --------------------------------------------------------------------------------------------
# The budget itself: as strict as ever
# --------------------------------------------------------------------------------------------


async def test_over_the_budget_whatever_grew_is_stopped_at_once(make_run: MakeRun) -> None:
    """Past the budget in one interval (seen growing once, nothing running in the shell):
    the hard stop does not wait for a second look."""
    run = make_run(
        [
            Look({HOST: 0, BOX: 0}),
            Look({HOST: 0, BOX: 0}),
            Look({HOST: 30 * MIB, BOX: 4 * MIB}),
        ]
    )
    await run.looks(3)
    assert sorted(run.worker.killed) == [BOX, HOST]
    assert run.state.over
    notice = run.state.notice
    assert notice is not None and not notice.about_to
