"""The data-loss reproduction (issue 11): a learner with a container, a volume and a file in
their host shell keeps all three across coach stopped → engine stopped → coach started →
engine started → their next command → three minutes of reaper rounds and sweeps.

Before the fix, the learner's first command made a new, empty sandbox (the coach had never
reconciled the engine, which was down when it started) and the next reaper round removed the
old one as the older of two. Now the worker is brought up — lease, reconciliation, adoption —
before it serves anyone, the learner's sandbox is looked up before one is made, and a newer
sandbox never costs an older one its data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.context import Actor
from tests.engines import ExtraEngine, halt_engine, resume_engine
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

LEARNER = Actor("keeper", "keeper", "console", "en")


async def test_a_learner_keeps_their_sandbox_when_the_coach_starts_before_the_engine(
    engine: ExtraEngine, tmp_path: Path
) -> None:
    instance = new_instance("down")
    settings = coach_settings(tmp_path / "data", engine.base_url, instance)
    async with running_coach(settings) as coach:
        started = await ask(coach, LEARNER, "docker", "run -d --name keep busybox sleep 600")
        assert clean_for_learner(started) == [], text(started)
        await ask(coach, LEARNER, "docker", "volume create data")
        wrote = await ask(
            coach, LEARNER, "docker", "run --rm -v data:/d busybox sh -c 'echo vol > /d/f'"
        )
        assert clean_for_learner(wrote) == [], text(wrote)
        await ask(coach, LEARNER, "sh", "echo shell > notes.txt")
        before = (await engine_inventory(engine.base_url, instance)).of(LEARNER.user_id)
    assert len(before) == 1  # the coach stopped; its learner's sandbox stays on the engine

    halt_engine(engine.name)
    try:
        clock = FixedClock(datetime.now(UTC))
        async with running_coach(settings, clock=clock) as coach:
            manager = coach.sandbox.manager
            await manager.settle()  # started without an engine: nothing to wait for
            assert not manager.pool.workers[0].ready
            down = await ask(coach, LEARNER, "sh", "cat notes.txt")
            assert "unavailable" in text(down) and clean_for_learner(down) == []
            resume_engine(engine.name)
            await manager.tick()  # the background retry (a reaper round) brings it up

            shell = await ask(coach, LEARNER, "sh", "cat notes.txt")  # the next command
            assert "shell" in text(shell), text(shell)
            assert "keep" in text(await ask(coach, LEARNER, "docker", "ps -a"))
            volume = await ask(coach, LEARNER, "docker", "run --rm -v data:/d busybox cat /d/f")
            assert "vol" in text(volume), text(volume)

            for _minute in range(3):  # three minutes of reaper rounds, and sweeps
                clock.advance(minutes=1)
                await manager.tick()
                await manager.sweep()
            after = (await engine_inventory(engine.base_url, instance)).of(LEARNER.user_id)
            assert [f.scope.sandbox for f in after] == [before[0].scope.sandbox]
            assert "shell" in text(await ask(coach, LEARNER, "sh", "cat notes.txt"))
            assert "keep" in text(await ask(coach, LEARNER, "docker", "ps -a"))
            volume = await ask(coach, LEARNER, "docker", "run --rm -v data:/d busybox cat /d/f")
            assert "vol" in text(volume)
            assert manager.aside(LEARNER.user_id) == []
    finally:
        resume_engine(engine.name)  # started again whatever happened (a no-op when running)


@pytest.mark.parametrize("action", ["destroy", "reset"])
async def test_a_sandbox_not_adopted_yet_is_the_one_a_learner_deletes_or_resets(
    action: str, engine: ExtraEngine, tmp_path: Path
) -> None:
    """A coach that came up while the learner's ``/sandbox destroy`` or ``reset`` was
    running has not adopted their sandbox (reconciliation skips an owner in a command): the
    command looks it up itself. Before, destroy answered "You have no sandbox yet" and kept
    it, and reset made a second sandbox beside the old one."""
    learner = Actor(f"asker-{action}", "asker", "console", "en")
    instance = new_instance(action[:3])
    settings = coach_settings(tmp_path / "data", engine.base_url, instance)
    async with running_coach(settings) as coach:
        await ask(coach, learner, "docker", "volume create data")
        made = await ask(
            coach, learner, "docker", "run -d --name keep -v data:/d busybox sleep 600"
        )
        assert clean_for_learner(made) == [], text(made)
    before = (await engine_inventory(engine.base_url, instance)).of(learner.user_id)
    assert len(before) == 1

    halt_engine(engine.name)
    try:
        async with running_coach(settings) as coach:
            manager = coach.sandbox.manager
            await manager.settle()  # started without an engine
            resume_engine(engine.name)
            worker = manager.pool.workers[0]
            async with manager.lock(learner.user_id):  # the learner's command is running
                await worker.bring_up(now=True)
            assert worker.ready and manager.get(learner.user_id) is None

            await coach.run(learner, ("sandbox",), {"action": action})
            done = await coach.press(learner, f"sandbox:confirm-{action}:{learner.user_id}")
            assert clean_for_learner(done) == [], text(done)
            assert "no sandbox yet" not in text(done), text(done)
            after = (await engine_inventory(engine.base_url, instance)).of(learner.user_id)
            assert before[0].scope.sandbox not in {f.scope.sandbox for f in after}
            assert len(after) == (1 if action == "reset" else 0)
            assert manager.aside(learner.user_id) == []
            if action == "reset":
                listing = text(await ask(coach, learner, "docker", "ps -a"))
                assert "keep" not in listing, listing
                volumes = text(await ask(coach, learner, "docker", "volume ls"))
                assert "data" not in volumes, volumes
                await coach.sandbox.reader.destroy_user(learner.user_id)
    finally:
        resume_engine(engine.name)
