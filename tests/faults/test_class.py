"""A class arriving at once: 60 and 120 new learners send their first ``/docker run -d``
together, on the shared engine, with default settings (an instance of the test's own).

Each one gets a sandbox and a running container — or, past what the worker really holds (its
address pools and memory, counted physically), the clean "every practice worker is full".
Never Docker's raw text. The test prints the p50/p95 of the time to that first answer (a
measurement, not an assertion: the machine is shared).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import docker
import pytest

from bot.core.context import Actor
from bot.core.reply import Reply
from bot.sandbox import naming
from bot.settings import Settings
from tests.faults.support import ask, clean_for_learner, running_coach, text

pytestmark = [pytest.mark.docker, pytest.mark.faults, pytest.mark.slow]

FIRST = "run -d --name web busybox sleep 600"
FULL = "Every practice worker is full"


def _running_webs(instance: str) -> int:
    client = docker.from_env(timeout=120)
    try:
        wanted = {"label": [f"{naming.INSTANCE}={instance}", f"{naming.NAME}=web"]}
        return len(client.api.containers(filters={**wanted, "status": ["running"]}))
    finally:
        client.close()


def _default_capacity(settings: Settings) -> Settings:
    """The suite's settings give workers a cap no session reaches (tests/conftest.py); here
    the worker's capacity is the default one, derived from the engine."""
    data = settings.model_dump()
    for worker in data["sandbox"]["workers"]:
        worker["max_sandboxes"] = None
    return Settings.model_validate(data)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@pytest.mark.parametrize("users", [60, 120])
async def test_a_class_arrives_at_once(
    users: int, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    actors = [Actor(f"class-{n}", f"learner {n}", "class", "en") for n in range(users)]
    answers: dict[str, tuple[list[Reply], float]] = {}
    async with running_coach(_default_capacity(settings)) as coach:
        manager = coach.sandbox.manager

        async def first_command(actor: Actor) -> None:
            started = time.perf_counter()
            replies = await ask(coach, actor, "docker", FIRST)
            answers[actor.user_id] = (replies, time.perf_counter() - started)

        try:
            await asyncio.gather(*(first_command(a) for a in actors))
            made = [a for a in actors if not text(answers[a.user_id][0]).count(FULL)]
            full = [a for a in actors if a not in made]
            problems = [p for replies, _s in answers.values() for p in clean_for_learner(replies)]
            assert problems == []
            for actor in made:  # a sandbox each, and the container's id as docker prints it
                replies = answers[actor.user_id][0]
                assert manager.get(actor.user_id) is not None
                assert naming.has_full_id(replies[-1].code or ""), text(replies)
            assert await asyncio.to_thread(_running_webs, manager.instance) == len(made)
            for actor in full:
                assert manager.get(actor.user_id) is None
            seconds = [s for _r, s in answers.values()]
            p50, p95 = statistics.median(seconds), _percentile(seconds, 0.95)
            with capsys.disabled():
                print(
                    f"\n[class of {users}] running {len(made)}, full {len(full)}; first run -d "
                    f"p50 {p50:.1f} s, p95 {p95:.1f} s, max {max(seconds):.1f} s"
                )
        finally:
            for actor in actors:
                await coach.sandbox.reader.destroy_user(actor.user_id)
