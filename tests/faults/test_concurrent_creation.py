"""Sandboxes are made side by side: only the check of a worker's room and the reservation
of a place are serialized (issue 11: v1 made them one after another behind one lock per
engine, so 30 new learners waited up to 15.7 s for their first ``run -d``).

One learner's host shell is held at the engine's door (:class:`~tests.faults.proxy.
HoldingProxy`); another learner, arriving after, gets a sandbox and a running container
meanwhile. When the held creation then fails, its learner gets a clean answer, what it left
half-made goes at the next sweep, and their next command gets a sandbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.context import Actor
from bot.sandbox import naming
from tests.engines import ExtraEngine
from tests.faults.proxy import HoldingProxy
from tests.faults.support import (
    ask,
    clean_for_learner,
    coach_settings,
    engine_inventory,
    new_instance,
    running_coach,
    text,
)

pytestmark = [pytest.mark.docker, pytest.mark.faults, pytest.mark.slow]

CREATE_HOST = r"^POST /containers/create\?name=dc-[0-9a-f]{8}--host"
FIRST = "run -d --name web busybox sleep 600"


@pytest.fixture
async def proxy(engine: ExtraEngine, tmp_path: Path) -> AsyncIterator[HoldingProxy]:
    started = HoldingProxy(str(tmp_path / "engine.sock"), str(engine.socket))
    await started.start()
    yield started
    await started.stop()


async def test_a_held_creation_holds_up_no_other_learner(
    engine: ExtraEngine, proxy: HoldingProxy, tmp_path: Path
) -> None:
    instance = new_instance("side")
    settings = coach_settings(tmp_path / "data", f"unix://{proxy.path}", instance)
    slow, quick = (Actor(name, name, "g", "en") for name in ("slow", "quick"))
    async with running_coach(settings) as coach:
        manager = coach.sandbox.manager
        await manager.settle()
        trap = proxy.arm([CREATE_HOST], "before")
        held = asyncio.create_task(ask(coach, slow, "docker", FIRST))
        await trap.wait()  # the slow learner's host shell is being created: held

        # a hang guard, not a measurement: made one after another, this one would wait
        # for the held creation forever
        made = await asyncio.wait_for(ask(coach, quick, "docker", FIRST), 300)
        assert naming.has_full_id(made[-1].code or ""), text(made)
        assert not held.done()  # made while the other creation was still under way

        proxy.disarm()  # the held request's connection closes: that creation fails
        failed = await held
        assert clean_for_learner(failed) == [], text(failed)
        await manager.tick()  # the worker brought up again if the failure marked it down
        await manager.sweep()
        inventory = await engine_inventory(engine.base_url, instance)
        assert inventory.problems() == []

        again = await ask(coach, slow, "docker", FIRST)
        assert naming.has_full_id(again[-1].code or ""), text(again)
        inventory = await engine_inventory(engine.base_url, instance)
        for actor in (slow, quick):
            assert [f.complete for f in inventory.of(actor.user_id)] == [True]
