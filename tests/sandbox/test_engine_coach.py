"""The sandbox commands through the coach, as the console and Discord call them."""

from __future__ import annotations

import pytest

from bot.coach import Coach
from bot.core.reply import Tone
from bot.settings import Settings
from tests.conftest import make_actor

pytestmark = [pytest.mark.docker]


async def test_docker_sh_and_sandbox_through_the_coach(coach: Coach) -> None:
    actor = make_actor("coach-user-" + str(id(coach))[-6:])
    try:
        replies = await coach.run(
            actor, ("docker",), {"command": "run -d --name web busybox httpd -f -p 80"}
        )
        assert replies[0].tone is not Tone.ERROR and len((replies[0].code or "").strip()) == 64
        replies = await coach.run(actor, ("docker",), {"command": "ps"})
        assert "web" in replies[0].code and replies[0].code_name == "docker-ps.txt"
        replies = await coach.run(actor, ("sh",), {"command": "echo hi"})
        assert replies[0].code == "hi"
        status = await coach.run(actor, ("sandbox",), {})
        assert status[0].fields
        refused = await coach.run(actor, ("docker",), {"command": "run --privileged busybox"})
        assert refused[0].tone is Tone.ERROR and "--privileged" in refused[0].body
        suggestions = await coach.complete(actor, ("docker",), "command", "stop w")
        assert [s.value for s in suggestions] == ["stop web"]
        suggestions = await coach.complete(actor, ("docker",), "command", "netw")
        assert any(s.value.startswith("network") for s in suggestions)
        ask = await coach.run(actor, ("sandbox",), {"action": "destroy"})
        confirm, cancel = (c.action for c in ask[0].choices)
        assert (confirm, cancel) == (
            f"sandbox:confirm-destroy:{actor.user_id}",
            f"sandbox:cancel:{actor.user_id}",
        )
        assert (await coach.press(actor, cancel))[0].body
        done = await coach.press(actor, confirm)
        assert done[0].tone is Tone.SUCCESS
        assert (await coach.sandbox.reader.state(actor)).exists is False
    finally:
        await coach.sandbox.reader.destroy_user(actor.user_id)


async def test_the_coach_keeps_working_without_an_engine(settings: Settings) -> None:
    data = settings.model_dump()
    data["sandbox"]["workers"] = [{"name": "gone", "url": "tcp://127.0.0.1:9"}]
    data["sandbox"]["api_timeout_seconds"] = 3
    coach = await Coach.open(Settings.model_validate(data))
    try:
        actor = make_actor("offline")
        concept = await coach.run(actor, ("concept",), {"topic": "volume"})
        assert concept[0].tone is not Tone.ERROR
        replies = await coach.run(actor, ("docker",), {"command": "ps"})
        assert "unavailable" in replies[0].body
        # trouble on our side: its own title and tone, not the general "That didn't work"
        assert replies[0].title == "Not available right now" and replies[0].tone is Tone.WARNING
    finally:
        await coach.close()


def containers_of_sandbox(sandbox_id: str) -> list[str]:
    import docker

    client = docker.from_env()
    try:
        found = client.containers.list(
            all=True, filters={"label": f"org.docker-coach.sandbox={sandbox_id}"}
        )
        return [c.name for c in found]
    finally:
        client.close()


@pytest.mark.parametrize("action", ["destroy", "reset"])
async def test_a_sandbox_from_before_a_restart_is_deleted_right_after_it(
    settings: Settings, action: str
) -> None:
    """Right after a restart (the workers still brought up and reconciled in the
    background) a confirmed delete or reset finds the learner's sandbox on the worker: the
    learner is not told "you have no sandbox yet", and no old sandbox is left behind."""
    actor = make_actor("restarted-" + action)
    first = await Coach.open(settings)
    try:
        made = await first.run(
            actor, ("docker",), {"command": "run -d --name keep busybox sleep 600"}
        )
        assert made[0].tone is not Tone.ERROR
        sandbox = first.sandbox.manager.get(actor.user_id)
        assert sandbox is not None
        old = sandbox.scope.sandbox
    finally:
        await first.close()
    assert containers_of_sandbox(old)
    second = await Coach.open(settings)
    try:
        [done] = await second.press(actor, f"sandbox:confirm-{action}:{actor.user_id}")
        assert done.tone is Tone.SUCCESS, done.body
        await second.sandbox.manager.settle()
        assert containers_of_sandbox(old) == []
        listing = await second.run(actor, ("docker",), {"command": "ps -a"})
        assert "keep" not in (listing[0].code or "")
    finally:
        await second.sandbox.reader.destroy_user(actor.user_id)
        await second.close()
