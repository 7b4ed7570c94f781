"""``kill -9`` of a real ``python -m bot console`` at each step of creating and of removing a
sandbox, then a coach started again on the same database: after one sweep the engine holds
no half-made, half-removed or unlabelled objects, and the learner has exactly one working
sandbox (their data kept, unless they were deleting it).

The console talks to the engine through :class:`~tests.faults.proxy.HoldingProxy`, which
holds the chosen request — before the engine sees it, or after the engine did it but before
the coach hears back — and the test kills the console right there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.core.context import Actor
from tests.engines import ExtraEngine
from tests.faults.proxy import HoldingProxy, When
from tests.faults.support import (
    ConsoleProcess,
    ask,
    clean_for_learner,
    coach_settings,
    console_environment,
    engine_inventory,
    new_instance,
    running_coach,
    text,
)

pytestmark = [pytest.mark.docker, pytest.mark.faults, pytest.mark.slow]

USER = "learner"
HOST = r"dc-[0-9a-f]{8}--host"
ID = r"[0-9a-f]{64}"
CREATE_HOST = rf"^POST /containers/create\?name={HOST}"
DATA = r"^DELETE /volumes/dc-[0-9a-f]{8}-data"
TOMBSTONE = r"^DELETE /volumes/dc-[0-9a-f]{8}--removing"


@dataclass(frozen=True)
class Step:
    name: str
    patterns: tuple[str, ...]
    when: When
    survives: bool = False  # the sandbox the killed coach left is the one the learner gets

    def __str__(self) -> str:
        return self.name


CREATION = [
    Step("before the sandbox network", (r"^POST /networks/create",), "before"),
    Step("after the sandbox network", (r"^POST /networks/create",), "after"),
    Step("before the host shell is created", (CREATE_HOST,), "before"),
    Step("after the host shell is created", (CREATE_HOST,), "after", survives=True),
    Step(
        "after the host shell started, before its check",
        (CREATE_HOST, rf"^POST /containers/{ID}/start"),
        "after",
        survives=True,
    ),
    Step(
        "after the learner's container is created, before its check",
        (r"^POST /containers/create\?name=dc-[0-9a-f]{8}-web",),
        "after",
        survives=True,
    ),
]

REMOVAL = [
    Step("before the tombstone", (r"^POST /volumes/create",), "before", survives=True),
    Step("after the tombstone", (r"^POST /volumes/create",), "after"),
    # after the tombstone: the disk monitor's container is removed before it (it lets go of
    # the volumes), and is not the learner's
    Step(
        "after the learner's container is removed",
        (r"^POST /volumes/create", r"^DELETE /containers/"),
        "after",
    ),
    Step(
        "before the host shell is removed",
        (r"^POST /volumes/create", *(r"^DELETE /containers/",) * 2),
        "before",
    ),
    Step("after the learner's volume is removed", (DATA,), "after"),
    Step("before the sandbox network is removed", (r"^DELETE /networks/",), "before"),
    Step("before the tombstone is removed", (TOMBSTONE,), "before"),
]


@pytest.fixture
async def proxy(engine: ExtraEngine, tmp_path: Path) -> HoldingProxy:
    started = HoldingProxy(str(tmp_path / "engine.sock"), str(engine.socket))
    await started.start()
    yield started
    await started.stop()


async def _console(tmp_path: Path, proxy: HoldingProxy, instance: str) -> ConsoleProcess:
    env = console_environment(tmp_path / "data", f"unix://{proxy.path}", instance)
    return await ConsoleProcess(tmp_path / "coach.sqlite3", env, USER).start()


async def _check_after_restart(
    engine: ExtraEngine, tmp_path: Path, instance: str, step: Step
) -> None:
    """A coach on the same database, straight to the engine: one sweep, then the learner."""
    left = {f.scope.sandbox for f in (await engine_inventory(engine.base_url, instance)).of(USER)}
    settings = coach_settings(
        tmp_path / "data", engine.base_url, instance, database=tmp_path / "coach.sqlite3"
    )
    async with running_coach(settings) as coach:
        manager = coach.sandbox.manager
        await manager.settle()  # brought up: lease, reconciliation
        await manager.sweep()
        inventory = await engine_inventory(engine.base_url, instance)
        assert inventory.problems() == []
        assert len(inventory.of(USER)) <= 1
        actor = Actor(USER, USER, "console", "en")
        listing = await ask(coach, actor, "docker", "ps -a")
        assert clean_for_learner(listing) == [], text(listing)
        assert "CONTAINER ID" in text(listing)
        volumes = text(await ask(coach, actor, "docker", "volume ls"))
        keeps_data = step in REMOVAL and step.survives
        assert ("data" in volumes) is keeps_data, volumes
        assert "alive" in text(await ask(coach, actor, "sh", "echo alive"))
        inventory = await engine_inventory(engine.base_url, instance)
        assert [f.complete for f in inventory.of(USER)] == [True]  # exactly one, working
        served = manager.get(USER)
        assert served is not None and (served.scope.sandbox in left) is step.survives
        assert manager.aside(USER) == []
        retry = await ask(coach, actor, "docker", "run -d --name web busybox sleep 600")
        assert clean_for_learner(retry) == [], text(retry)  # made, or "name in use" in its names


@pytest.mark.parametrize("step", CREATION, ids=str)
async def test_kill_while_creating(
    step: Step, engine: ExtraEngine, proxy: HoldingProxy, tmp_path: Path
) -> None:
    instance = new_instance("kc")
    console = await _console(tmp_path, proxy, instance)
    try:
        trap = proxy.arm(list(step.patterns), step.when)
        await console.send("/docker run -d --name web busybox sleep 600")
        await trap.wait()
        await console.kill()
    finally:
        await console.kill()
        proxy.disarm()
    await _check_after_restart(engine, tmp_path, instance, step)


@pytest.mark.parametrize("step", REMOVAL, ids=str)
async def test_kill_while_removing(
    step: Step, engine: ExtraEngine, proxy: HoldingProxy, tmp_path: Path
) -> None:
    instance = new_instance("kr")
    console = await _console(tmp_path, proxy, instance)
    try:
        await console.send("/docker volume create data")
        await console.send("/docker run -d --name web -v data:/data busybox sleep 600")
        await console.expect(r"^[0-9a-f]{64}$")
        trap = proxy.arm(list(step.patterns), step.when)
        await console.send("/sandbox destroy")
        await console.send("1")  # the confirmation's first choice: delete
        await trap.wait()
        await console.kill()
    finally:
        await console.kill()
        proxy.disarm()
    # Killed before anything was removed, the sandbox is whole and kept; once its removal
    # began (the tombstone), it is finished — the learner asked for it.
    await _check_after_restart(engine, tmp_path, instance, step)


async def test_the_proxy_holds_exactly_the_chosen_request(
    engine: ExtraEngine, proxy: HoldingProxy, tmp_path: Path
) -> None:
    """The tool itself: a held ``before`` request never reaches the engine."""
    instance = new_instance("kp")
    console = await _console(tmp_path, proxy, instance)
    try:
        trap = proxy.arm([CREATE_HOST], "before")
        await console.send("/docker ps")
        held = await trap.wait()
        assert held.startswith("POST /containers/create?name=dc-")
        inventory = await engine_inventory(engine.base_url, instance)
        assert [f.host_listed for f in inventory.of(USER)] == [None]  # the network only
    finally:
        await console.kill()
        proxy.disarm()
