"""Two coaches with different databases on one engine — e.g. two people running the console
on one machine — never touch each other's sandboxes.

By default each database has a sandbox instance of its own, so they simply do not see each
other. Two coaches told to use the *same* instance are kept apart by the instance's lease: the
second one is refused with a clear message while the first runs, and still refused after it
stopped, since that instance's sandboxes belong to the other database.
"""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from bot.core.context import Actor
from bot.core.reply import Tone
from tests.engines import ExtraEngine
from tests.faults.support import (
    ConsoleProcess,
    ask,
    clean_for_learner,
    coach_settings,
    console_environment,
    new_instance,
    running_coach,
    text,
)

pytestmark = [pytest.mark.docker, pytest.mark.faults, pytest.mark.slow]

USER = "learner"  # both people are the same login on the machine
LEARNER = Actor(USER, USER, "console", "en")


def _running_webs(engine: ExtraEngine) -> list[str]:
    client = docker.DockerClient(base_url=engine.base_url, timeout=60)
    try:
        running = client.api.containers(filters={"name": "web", "status": "running"})
        return sorted(c["Id"] for c in running)
    finally:
        client.close()


async def _first_console(
    tmp_path: Path, engine: ExtraEngine, instance: str | None
) -> ConsoleProcess:
    env = console_environment(tmp_path / "one", engine.base_url, instance)
    console = await ConsoleProcess(tmp_path / "one.sqlite3", env, USER).start()
    await console.send("/docker run -d --name web busybox sleep 600")
    await console.expect(r"^[0-9a-f]{64}$")
    return console


async def test_two_consoles_with_their_own_databases(engine: ExtraEngine, tmp_path: Path) -> None:
    first = await _first_console(tmp_path, engine, None)  # the database's own instance
    try:
        webs = _running_webs(engine)
        assert len(webs) == 1
        settings = coach_settings(
            tmp_path / "two", engine.base_url, None, database=tmp_path / "two.sqlite3"
        )
        async with running_coach(settings) as second:
            manager = second.sandbox.manager
            listing = await ask(second, LEARNER, "docker", "ps -a")
            assert "CONTAINER ID" in text(listing) and "web" not in text(listing)
            made = await ask(second, LEARNER, "docker", "run -d --name web busybox sleep 600")
            assert clean_for_learner(made) == [], text(made)
            asked = await second.run(LEARNER, ("sandbox",), {"action": "reset"})
            reset = await second.press(LEARNER, asked[0].choices[0].action)
            assert reset[0].tone is Tone.SUCCESS, reset
            for _round in range(3):  # its reaper and sweep see only its own instance
                await manager.tick()
                await manager.sweep()
            assert manager.instance.startswith("coach-")
        assert webs[0] in _running_webs(engine)  # the first person's web still runs
        await first.send("/docker ps")
        assert "Up" in await first.expect(r"\bweb\b")
    finally:
        await first.quit()


async def test_a_second_coach_cannot_take_an_instance_that_is_in_use(
    engine: ExtraEngine, tmp_path: Path
) -> None:
    instance = new_instance("shared")
    first = await _first_console(tmp_path, engine, instance)
    try:
        webs = _running_webs(engine)
        settings = coach_settings(
            tmp_path / "two", engine.base_url, instance, database=tmp_path / "two.sqlite3"
        )
        async with running_coach(settings) as second:
            manager = second.sandbox.manager
            await manager.settle()
            refused = await ask(second, LEARNER, "docker", "ps")
            assert "another Docker Coach" in text(refused), text(refused)
            assert refused[0].title == "Not available right now"
            await manager.tick()
            await manager.sweep()
            assert webs == _running_webs(engine)

            await first.quit()  # a clean stop releases the lease, but the instance keeps
            await manager.tick()  # the first database's sandboxes: still not ours
            refused = await ask(second, LEARNER, "docker", "ps")
            assert "another database" in text(refused), text(refused)
            await manager.sweep()
        client = docker.DockerClient(base_url=engine.base_url, timeout=60)
        try:
            assert client.api.inspect_container(webs[0])["State"]["Status"] == "running"
        finally:
            client.close()

        again = await _first_console_again(tmp_path, engine, instance)
        try:  # the first database takes its instance back at once (the lease was released)
            await again.send("/docker ps")
            assert "Up" in await again.expect(r"\bweb\b")
        finally:
            await again.quit()
    finally:
        await first.quit()


async def _first_console_again(
    tmp_path: Path, engine: ExtraEngine, instance: str
) -> ConsoleProcess:
    env = console_environment(tmp_path / "one", engine.base_url, instance)
    return await ConsoleProcess(tmp_path / "one.sqlite3", env, USER).start()
