"""Fair use: per-user cooldowns on the coach's clock (the test moves it; nothing sleeps)."""

from __future__ import annotations

import re

from bot.discordbot.cooldowns import Cooldowns, Rate
from tests.discord.helpers import run, settled, text_of
from tests.discord.standin import (
    CHANNEL_ID,
    command_data,
    interaction_payload,
)

TIMESTAMP = re.compile(r"<t:(\d+):R>")


def refused_until(recorded) -> int:
    """The Discord timestamp a cooldown message names (when to try again)."""
    found = TIMESTAMP.search(text_of(recorded))
    assert found, text_of(recorded)
    return int(found.group(1))


def test_a_sliding_window_on_the_given_clock(clock):
    cooldowns = Cooldowns(clock.now, {"b": Rate(2, 10)})
    assert cooldowns.take("b", "u") is None and cooldowns.take("b", "u") is None
    retry_at = cooldowns.take("b", "u")
    assert retry_at is not None and (retry_at - clock.now()).total_seconds() == 10
    assert cooldowns.take("b", "other") is None  # per user
    assert cooldowns.first_refusal("b", "u", retry_at)
    assert not cooldowns.first_refusal("b", "u", retry_at)  # told once
    clock.advance(seconds=10)
    assert cooldowns.take("b", "u") is None
    assert Cooldowns(clock.now, {"b": Rate(1, 0)}).take("b", "u") is None  # 0 s: no limit


async def test_docker_and_sh_share_one_cooldown(bot, standin, clock):
    """Alternating sandbox commands does not get around the cooldown: one bucket for all."""
    user = 901
    seconds = bot.coach.settings.sandbox.cooldown_seconds
    docker = interaction_payload(
        2, command_data(("docker",), {"command": "frobnicate"}), user_id=user
    )
    deferral, _refusal = await run(bot, standin, docker, 2)  # unknown subcommand: no engine
    assert deferral.body["type"] == 5
    for path, options in ((("sh",), {"command": "ls"}), (("download",), {"path": "a.txt"})):
        payload = interaction_payload(2, command_data(path, options), user_id=user)
        [refused] = await run(bot, standin, payload)
        assert refused.body["type"] == 4 and refused.ephemeral  # answered at once, privately
        assert "try again" in text_of(refused)
        assert refused_until(refused) >= int(clock.now().timestamp() + seconds)
    clock.advance(seconds=seconds)
    again = interaction_payload(2, command_data(("docker",), {"command": "x"}), user_id=user)
    [allowed, *_] = await run(bot, standin, again)
    assert allowed.body["type"] == 5  # the bucket has room again
    other = interaction_payload(2, command_data(("docker",), {"command": "x"}), user_id=902)
    [deferred] = await run(bot, standin, other)
    assert deferred.body["type"] == 5  # someone else was never slowed down
    await settled()


async def test_quiz_and_progress_have_their_own_cooldowns(bot, standin, clock):
    rates = bot.coach.settings.discord.cooldowns
    for _ in range(rates.quiz.uses):
        payload = interaction_payload(2, command_data(("quiz",), {"count": 1}), user_id=903)
        deferral, _question = await run(bot, standin, payload, 2)
        assert deferral.body["type"] == 5
    payload = interaction_payload(2, command_data(("quiz",), {"count": 1}), user_id=903)
    [refused] = await run(bot, standin, payload)
    assert "try again" in text_of(refused) and refused.ephemeral
    progress = interaction_payload(2, command_data(("progress",)), user_id=903)
    await run(bot, standin, progress, 2)  # another bucket: allowed
    progress = interaction_payload(2, command_data(("progress",)), user_id=903)
    [refused] = await run(bot, standin, progress)
    assert "try again" in text_of(refused)
    clock.advance(seconds=rates.progress.seconds)
    progress = interaction_payload(2, command_data(("progress",)), user_id=903)
    deferral, _chart = await run(bot, standin, progress, 2)
    assert deferral.body["type"] == 5
    await settled()


async def test_spamming_a_public_messages_buttons_cannot_flood_the_channel(bot, standin, clock):
    """20 presses in 5 s on a public /concept's buttons: at most the allowed answers, all
    private; after the one "slow down" note, extra presses are acknowledged silently."""
    shown = interaction_payload(2, command_data(("concept",), {"topic": "volume"}), user_id=910)
    [concept] = await run(bot, standin, shown)
    message = standin.messages[concept.message_id]
    assert message.public and message.custom_ids()
    public_before = [m.id for m in standin.channel_messages(CHANNEL_ID) if m.public]
    allowed = bot.coach.settings.discord.cooldowns.press.uses
    created_before = set(standin.messages)
    silent = 0
    for _ in range(20):
        press = interaction_payload(
            3,
            {"custom_id": message.custom_ids()[0], "component_type": 2},
            message=message.payload(),
            user_id=911,
        )
        [answer] = await run(bot, standin, press)
        silent += answer.body is not None and answer.body.get("type") == 6
        clock.advance(seconds=0.25)
    await settled()
    created = [standin.messages[i] for i in set(standin.messages) - created_before]
    assert len(created) <= allowed + 1  # the allowed answers and one "slow down"
    assert all(m.ephemeral for m in created)  # nobody else saw any of it
    assert [m.id for m in standin.channel_messages(CHANNEL_ID) if m.public] == public_before
    assert silent == 20 - len(created)
    assert sum("try again" in text_of(m) for m in created) == 1
