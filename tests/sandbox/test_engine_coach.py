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
