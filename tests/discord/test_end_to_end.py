"""End to end through the real, unmodified ``discord.Client``: it logs in over REST, connects
to the loopback gateway, receives INTERACTION_CREATE events and answers over REST."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.discordbot.client import CoachBot, intents
from bot.discordbot.health import snapshot
from tests.discord.helpers import answer_with, answers, text_of
from tests.discord.standin import (
    CHANNEL_ID,
    GUILD_ID,
    Standin,
    command_data,
    component_message,
    custom_ids,
    interaction_payload,
)


@pytest.fixture
async def connected(dcoach, standin: Standin) -> AsyncIterator[CoachBot]:
    bot = CoachBot(dcoach, guild_ready_timeout=0.1)  # the production extensions
    runner = asyncio.create_task(bot.start("test-token"))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 20)
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(runner, 10)


async def interact(standin: Standin, payload: dict, count: int) -> list:
    await standin.dispatch("INTERACTION_CREATE", payload)
    return await answers(standin, payload, count, within=60)


async def test_client_connects_with_no_privileged_intents(connected, standin):
    assert standin.identify["token"] == "test-token"
    assert standin.identify["intents"] == intents().value == 1  # guilds only
    assert standin.heartbeats >= 1
    assert connected.is_ready() and connected.user.id == connected.application_id + 1
    health = snapshot(connected, dict(connected.front.stats), "n/a")
    assert health["gateway_connected"] is True


async def test_concept_over_the_gateway(connected, standin):
    payload = interaction_payload(2, command_data(("concept",), {"topic": "volume"}))
    [answer] = await interact(standin, payload, 1)
    assert answer.body["type"] == 4
    assert answer.message["allowed_mentions"]["parse"] == []
    assert "volume" in text_of(answer).lower()


async def test_quiz_with_a_button_press_over_the_gateway(connected, standin):
    start = interaction_payload(2, command_data(("quiz",), {"count": 1}), user_id=4242)
    deferral, question = await interact(standin, start, 2)
    assert deferral.body["type"] == 5
    assert question.message["allowed_mentions"]["parse"] == []
    ids = custom_ids(question)
    answer_id = next(cid for cid in ids if cid.lstrip("~").startswith("quiz:"))

    def through_gateway(payload, count=1):
        return interact(standin, payload, count)

    graded = await answer_with(
        through_gateway, answer_id, component_message(ids), 4242, "docker logs --tail 5 x"
    )
    assert graded.message["allowed_mentions"]["parse"] == []
    assert graded.message["embeds"]


@pytest.mark.docker
async def test_docker_ps_over_the_gateway(connected, standin):
    """Needs the real engine: the sandbox is provisioned, then ``docker ps`` runs in it."""
    payload = interaction_payload(2, command_data(("docker",), {"command": "ps"}), user_id=5151)
    deferral, output = await interact(standin, payload, 2)
    assert deferral.body["type"] == 5 and deferral.ephemeral  # deferred at once, private
    assert output.message["allowed_mentions"]["parse"] == []
    assert "CONTAINER ID" in text_of(output)
    await connected.coach.sandbox.reader.destroy_user("5151")


async def test_guild_create_brings_the_servers_real_data(connected, standin):
    guild = connected.get_guild(GUILD_ID)
    assert guild is not None and not guild.unavailable
    assert guild.name == "Docker Study" and guild.preferred_locale.value == "ko"
    assert {c.name for c in guild.text_channels} == {"study", "general"}
    [thread] = guild.threads
    assert thread.parent_id == CHANNEL_ID
    assert guild.me is not None and guild.me.id == connected.user.id


async def test_a_reconnect_mid_session_resumes_and_the_next_interaction_is_answered(
    connected, standin
):
    first = interaction_payload(2, command_data(("concepts",)))
    await interact(standin, first, 1)
    await standin.reconnect()
    # Sent while the client reconnects: it gets the event when it resumes.
    during = interaction_payload(2, command_data(("concept",), {"topic": "image"}))
    await standin.dispatch("INTERACTION_CREATE", during)
    await standin.wait_until(lambda: standin.resumes == 1, within=30)
    assert standin.identifies == 1  # resumed, not a new session
    [missed] = await answers(standin, during, 1, within=60)
    assert "image" in text_of(missed).lower()
    after = interaction_payload(2, command_data(("concept",), {"topic": "volume"}))
    [answer] = await interact(standin, after, 1)
    assert answer.body["type"] == 4


@pytest.mark.parametrize("resumable", [True, False])
async def test_an_invalid_session_resumes_or_identifies_again(connected, standin, resumable):
    await standin.invalidate_session(resumable=resumable)
    if resumable:
        await standin.wait_until(lambda: standin.resumes == 1, within=30)
    else:
        await standin.wait_until(lambda: standin.identifies == 2, within=30)
        await asyncio.wait_for(connected.wait_until_ready(), 30)
    payload = interaction_payload(2, command_data(("concept",), {"topic": "volume"}))
    [answer] = await interact(standin, payload, 1)
    assert answer.body["type"] == 4
