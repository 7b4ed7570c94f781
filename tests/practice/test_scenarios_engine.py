"""Every scenario replayed on the real engine: reference solution, wrong moves, resume.

Each test uses its own user (and so its own sandbox) and destroys it at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.coach import Coach, load_content
from bot.core.clock import FixedClock
from bot.core.context import Actor
from bot.core.reply import Reply, Tone
from bot.practice.content import SCENARIOS, Scenario
from bot.practice.service import step_ids
from bot.settings import Settings
from tests.conftest import CONTENT, make_actor

pytestmark = pytest.mark.docker

SCENARIOS = sorted(load_content(CONTENT).items(SCENARIOS).values(), key=lambda s: s.order)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The replays check the scenarios, not the engine's speed: a foreground run may take a
    minute before it is left running in the background (an OOM kill under a loaded engine
    can take longer than the default 10 s)."""
    sandbox = settings.sandbox.model_copy(update={"foreground_run_seconds": 60.0})
    return settings.model_copy(update={"sandbox": sandbox})


async def run_line(coach: Coach, actor: Actor, line: str) -> list[Reply]:
    """Type one ``/docker …`` or ``/sh …`` line, as in the console."""
    kind, _, rest = line.partition(" ")
    return await coach.run(actor, (kind.lstrip("/"),), {"command": rest})


def describe(replies: list[Reply]) -> str:
    return "\n".join(
        f"[{r.tone}] {r.title or ''} {r.body} {r.code or ''} {r.meta}".strip() for r in replies
    )


@asynccontextmanager
async def sandbox_of(coach: Coach, *actors: Actor) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for actor in actors:
            await coach.sandbox.reader.destroy_user(actor.user_id)


async def replay_wrong_moves(coach: Coach, actor: Actor, scenario: Scenario, step: str) -> None:
    for move in (m for m in scenario.wrong_moves if m.step == step):
        replies: list[Reply] = []
        for line in move.commands:
            replies += await run_line(coach, actor, line)
        assert move.expect in step_ids(replies, "fail"), (
            f"{scenario.id}/{step}: {move.commands} should get the hint {move.expect!r}\n"
            + describe(replies)
        )
        assert step_ids(replies, "passed") == [], describe(replies)
        index = scenario.step_index(step)
        assert index is not None
        fail = next(f for f in scenario.steps[index].fail_checks if f.id == move.expect)
        assert fail.hint.en in describe(replies)
        for line in move.undo:
            replies = await run_line(coach, actor, line)
            assert step_ids(replies, "passed") == [], describe(replies)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
async def test_reference_solution_passes_every_step_in_order(
    coach: Coach, scenario: Scenario
) -> None:
    actor = make_actor(f"solver-{scenario.id}")
    async with sandbox_of(coach, actor):
        started = await coach.run(actor, ("practice", "start"), {"scenario": scenario.id})
        assert step_ids(started, "step") == [scenario.steps[0].id], describe(started)
        passed: list[str] = []
        replies: list[Reply] = []
        for number, part in enumerate(scenario.solution):
            await replay_wrong_moves(coach, actor, scenario, part.step)
            replies = []
            for line in part.commands:
                replies += await run_line(coach, actor, line)
            passed += step_ids(replies, "passed")
            expected = [s.id for s in scenario.steps[: number + 1]]
            assert passed == expected, f"after {part.commands}:\n{describe(replies)}"
        finished = [r for r in replies if r.meta.get("practice") == "finished"]
        assert finished and finished[0].tone is Tone.SUCCESS, describe(replies)
        assert coach.store is not None
        summary = await coach.store.practice.summary(actor.user_id, actor.guild_id)
        assert scenario.id in summary.scenarios_completed
        assert summary.steps_done == len(scenario.steps)
        status = await coach.run(actor, ("practice", "status"))
        assert status[0].tone is Tone.ERROR  # no session any more


async def test_the_lifecycle_diagram_follows_the_container(coach: Coach) -> None:
    actor = make_actor("diagram-viewer")
    async with sandbox_of(coach, actor):
        await coach.run(actor, ("practice", "start"), {"scenario": "lifecycle"})
        await run_line(coach, actor, "/docker create --name life busybox sleep 600")
        await run_line(coach, actor, "/docker start life")
        [status] = await coach.run(actor, ("practice", "status"))
        assert status.meta["step"] == "pause"
        assert status.image is not None and status.image.data.startswith(b"\x89PNG")


async def test_a_session_resumes_after_a_restart(settings: Settings) -> None:
    actor = make_actor("restarter")
    first = await Coach.open(settings, clock=FixedClock())
    try:
        await first.run(actor, ("practice", "start"), {"scenario": "web-cp"})
        replies = await run_line(first, actor, "/docker run -d --name web nginx")
        assert step_ids(replies, "passed") == ["run-web"], describe(replies)
        await first.run(actor, ("practice", "hint"))
    finally:
        await first.close()
    second = await Coach.open(settings, clock=FixedClock())
    try:
        async with sandbox_of(second, actor):
            [status] = await second.run(actor, ("practice", "status"))
            assert status.meta["step"] == "see-default", describe([status])
            assert status.fields[-1].name == "Hint 1/1"
            replies = await run_line(second, actor, '/sh echo "<h1>Hello</h1>" > index.html')
            replies += await run_line(second, actor, "/sh wget -qO- http://web/")
            assert step_ids(replies, "passed") == ["see-default", "write-page"], describe(replies)
    finally:
        await second.close()


async def test_two_users_in_the_same_scenario_are_kept_apart(coach: Coach) -> None:
    alice, bob = make_actor("apart-alice"), make_actor("apart-bob")
    async with sandbox_of(coach, alice, bob):
        for actor in (alice, bob):
            await coach.run(actor, ("practice", "start"), {"scenario": "web-cp"})
        replies = await run_line(coach, alice, "/docker run -d --name web nginx")
        assert step_ids(replies, "passed") == ["run-web"], describe(replies)
        replies = await run_line(coach, bob, "/docker ps")
        assert step_ids(replies, "passed") == [], describe(replies)
        replies = await coach.run(bob, ("practice", "check"))
        assert [r.meta.get("practice") for r in replies] == ["not_yet"], describe(replies)
        # bob's host shell cannot reach alice's web server by her name for it
        replies = await run_line(coach, bob, "/sh wget -qO- http://web/")
        assert step_ids(replies, "passed") == [], describe(replies)
        [bob_status] = await coach.run(bob, ("practice", "status"))
        [alice_status] = await coach.run(alice, ("practice", "status"))
        assert (bob_status.meta["step"], alice_status.meta["step"]) == ("run-web", "see-default")
