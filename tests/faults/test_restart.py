"""The engine restarted in the middle of a burst of commands, and an engine that freezes.

While twelve learners send commands (half of them new, so sandboxes are being created), the
engine's dockerd is stopped and started again. Every answer is a normal one or a clean
"unavailable"/"busy" message — never a bug report, a full id or an internal name — and once
the engine is back every learner has exactly one sandbox with their data in it.

A frozen engine (dockerd stopped with SIGSTOP) never holds up the coach's start, and a
learner waiting on it gets an answer within the short timeouts.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from bot.core.context import Actor
from tests.engines import ExtraEngine, dockerd_pid, freeze, halt_engine, resume_engine
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

ROUNDS = 6


async def test_dockerd_restarted_mid_burst(engine: ExtraEngine, tmp_path: Path) -> None:
    instance = new_instance("burst")
    settings = coach_settings(tmp_path / "data", engine.base_url, instance)
    old = [Actor(f"old{n}", f"old{n}", "g", "en") for n in range(6)]
    new = [Actor(f"new{n}", f"new{n}", "g", "en") for n in range(6)]
    problems: list[str] = []
    async with running_coach(settings) as coach:
        manager = coach.sandbox.manager
        for actor in old:  # learners with work before the burst
            await ask(coach, actor, "docker", "volume create data")
            await ask(coach, actor, "docker", "run -d --name keep -v data:/d busybox sleep 600")
            await ask(coach, actor, "sh", f"echo {actor.user_id} > mine.txt")
        everyone = old + new
        at_midpoint = 0
        midpoint, halted = asyncio.Event(), asyncio.Event()
        refused: list[str] = []

        async def learner(actor: Actor) -> None:
            nonlocal at_midpoint
            for number in range(ROUNDS):
                if number == ROUNDS // 2:  # half of the burst before the restart, half after
                    at_midpoint += 1
                    if at_midpoint == len(everyone):
                        midpoint.set()
                    await halted.wait()
                line = ("ps -a", f"run -d --name r{number} busybox true", "volume ls")[number % 3]
                replies = await ask(coach, actor, "docker", line)
                problems.extend(f"{actor.user_id} {line}: {p}" for p in clean_for_learner(replies))
                if "unavailable" in text(replies):
                    refused.append(actor.user_id)

        async def restart() -> None:
            await midpoint.wait()
            await asyncio.to_thread(halt_engine, engine.name)
            halted.set()  # the second half of the burst meets a stopped engine, then a new one
            await asyncio.to_thread(resume_engine, engine.name)

        await asyncio.gather(restart(), *(learner(a) for a in everyone))
        assert problems == []
        assert refused  # the restart did land in the middle of the burst

        await manager.tick()  # a reaper round brings the worker back (reconciled)
        await manager.sweep()
        for actor in old:
            mine = await ask(coach, actor, "sh", "cat mine.txt")
            assert actor.user_id in text(mine), text(mine)
            assert "keep" in text(await ask(coach, actor, "docker", "ps -a"))
            data = await ask(coach, actor, "docker", "volume ls")
            assert "data" in text(data)
        for actor in new:
            assert "alive" in text(await ask(coach, actor, "sh", "echo alive"))
        inventory = await engine_inventory(engine.base_url, instance)
        assert inventory.problems() == []
        for actor in old + new:
            assert len(inventory.of(actor.user_id)) == 1, actor.user_id
            assert manager.aside(actor.user_id) == []


async def test_a_frozen_engine_holds_up_neither_start_nor_a_learner(
    engine: ExtraEngine, tmp_path: Path
) -> None:
    instance = new_instance("frozen")
    settings = coach_settings(
        tmp_path / "data",
        engine.base_url,
        instance,
        api_timeout_seconds=120,
        read_timeout_seconds=5,
    )
    learner = Actor("patient", "patient", "g", "en")
    pid = dockerd_pid(engine.name)
    freeze(pid)  # every thread stopped: no request can overtake the freeze
    try:
        async with running_coach(settings) as coach:
            manager = coach.sandbox.manager
            worker = manager.pool.workers[0]
            # The coach is up (concepts and quizzes answer) while the worker is still being
            # tried in the background: start did not wait for the engine.
            assert manager.bringing_up() and not worker.ready
            concept = await coach.run(learner, ("concept",), {"topic": "volume"})
            assert concept and "unavailable" not in text(concept)
            replies = await ask(coach, learner, "docker", "ps")
            assert "unavailable" in text(replies) and clean_for_learner(replies) == []
            assert replies[0].title == "Not available right now"  # not "That didn't work"

            os.kill(pid, signal.SIGCONT)
            await manager.tick()
            assert worker.ready
            assert "CONTAINER ID" in text(await ask(coach, learner, "docker", "ps"))

            freeze(pid)  # freezes while the learner works
            timeouts = manager.executor.stats.timeouts
            replies = await ask(coach, learner, "docker", "ps")
            assert "unavailable" in text(replies) and clean_for_learner(replies) == []
            # the inspect gave up after the short read timeout, not the 120 s API timeout
            assert manager.executor.stats.timeouts == timeouts + 1
            assert "within 5 s" in (worker.last_error or ""), worker.last_error
            os.kill(pid, signal.SIGCONT)
            await manager.tick()
            assert "CONTAINER ID" in text(await ask(coach, learner, "docker", "ps"))
    finally:
        os.kill(pid, signal.SIGCONT)
