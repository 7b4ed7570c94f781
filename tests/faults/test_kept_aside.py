"""A learner with two sandboxes: one is served, the other is kept aside — untouched by the
reaper's rounds and the sweeps — and reported to the learner and to the server's managers.

It happens with two workers: the learner's sandbox is on a worker that is down, so their
next command gets a new sandbox on the other one; when the first worker comes back,
reconciliation finds both. Neither is deleted because the other exists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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

LEARNER = Actor("twofold", "twofold", "aside-guild", "en")
ADMIN = Actor("manager", "manager", "aside-guild", "en", is_admin=True)
SHARED = "unix:///var/run/docker.sock"


def _workers(*names: str) -> list[dict[str, object]]:
    return [{"name": name, "url": url, "warm_pool": 0, "max_sandboxes": 100_000}
            for name, url in names]  # fmt: skip


async def test_a_second_sandbox_keeps_the_first_aside_and_says_so(
    engine: ExtraEngine, tmp_path: Path
) -> None:
    instance = new_instance("aside")
    spare = ("spare", engine.base_url)
    first = coach_settings(tmp_path / "data", engine.base_url, instance, workers=_workers(spare))
    both = coach_settings(
        tmp_path / "data", engine.base_url, instance, workers=_workers(spare, ("local", SHARED))
    )
    async with running_coach(first) as coach:  # the learner's work on the spare worker
        await ask(coach, LEARNER, "docker", "volume create data")
        made = await ask(
            coach, LEARNER, "docker", "run -d --name keep -v data:/d busybox sleep 600"
        )
        assert clean_for_learner(made) == [], text(made)
    old = (await engine_inventory(engine.base_url, instance)).of(LEARNER.user_id)
    assert len(old) == 1

    halt_engine(engine.name)  # the spare worker is down when the coach starts again
    try:
        async with running_coach(both) as coach:
            manager = coach.sandbox.manager
            try:
                await manager.settle()
                fresh = await ask(coach, LEARNER, "docker", "ps -a")  # a new sandbox
                assert "CONTAINER ID" in text(fresh) and "keep" not in text(fresh)
                assert manager.worker_of(LEARNER.user_id).name == "local"
                resume_engine(engine.name)
                await manager.tick()  # the spare worker back: brought up, reconciled
                await manager.sweep()
                kept = manager.aside(LEARNER.user_id)
                assert [s.scope.sandbox for s in kept] == [old[0].scope.sandbox]

                [reply] = await coach.run(LEARNER, ("sandbox",), {})
                status = "\n".join(f"{f.name}: {f.value}" for f in reply.fields)
                assert "older sandbox, kept untouched" in status, status
                listing = text(await coach.run(ADMIN, ("admin", "sandboxes"), {}))
                assert "KEPT ASIDE" in listing and "twofold" in listing, listing

                for _round in range(3):  # the reaper and the sweep leave both alone
                    await manager.tick()
                    await manager.sweep()
                after = (await engine_inventory(engine.base_url, instance)).of(LEARNER.user_id)
                assert [f.scope.sandbox for f in after] == [old[0].scope.sandbox]
                assert after[0].holds_data and after[0].complete
                assert manager.worker_of(LEARNER.user_id).name == "local"
                assert [s.scope.sandbox for s in manager.aside(LEARNER.user_id)] == [
                    old[0].scope.sandbox
                ]
            finally:
                await coach.sandbox.reader.destroy_user(LEARNER.user_id)
    finally:
        resume_engine(engine.name)
