"""The real command tree, driven by raw interaction payloads; answers go to the loopback REST."""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.discordbot import frontend
from tests.discord import testing_ext
from tests.discord.conftest import logged_in_bot
from tests.discord.helpers import answer_with, answers, run, settled, text_of
from tests.discord.standin import (
    CHANNEL_ID,
    OTHER_CHANNEL_ID,
    command_data,
    component_message,
    custom_ids,
    interaction_payload,
)
from tests.discord.testing_ext import LONG_OUTPUT

MANAGE_GUILD = discord.Permissions(manage_guild=True).value


async def test_concept_is_answered_directly_in_an_embed(bot, standin):
    payload = interaction_payload(2, command_data(("concept",), {"topic": "volume"}))
    [callback] = await run(bot, standin, payload)
    assert callback.path.endswith("/callback")
    assert callback.body["type"] == 4  # answered at once: reading a concept is fast
    assert not callback.ephemeral  # concepts are public
    embed = callback.message["embeds"][0]
    assert "volume" in (embed["footer"]["text"] + embed["title"]).lower()
    assert callback.message["allowed_mentions"]["parse"] == []


async def test_concept_follows_the_korean_locale(bot, standin):
    payload = interaction_payload(2, command_data(("concept",), {"topic": "volume"}), locale="ko")
    [callback] = await run(bot, standin, payload)
    assert any("\uac00" <= ch <= "\ud7a3" for ch in text_of(callback))  # Hangul


async def test_autocomplete_suggests_concepts(bot, standin):
    data = command_data(("concept",), {"topic": "volu"}, focused="topic")
    payload = interaction_payload(4, data)
    [callback] = await run(bot, standin, payload)
    assert callback.body["type"] == 8
    choices = callback.body["data"]["choices"]
    assert 0 < len(choices) <= 25
    assert "volume" in [c["value"] for c in choices]


async def test_worker_command_defers_then_follows_up_privately(bot, standin):
    payload = interaction_payload(2, command_data(("work",), {"text": "hello"}), user_id=501)
    deferral, follow_up = await run(bot, standin, payload, count=2)
    assert deferral.body["type"] == 5  # deferred "thinking" before any work
    assert deferral.ephemeral
    assert follow_up.method == "POST" and "/webhooks/" in follow_up.path
    assert follow_up.ephemeral
    assert "@everyone hello" in text_of(follow_up)
    assert "ran for 501" in follow_up.message["content"]
    assert follow_up.message["allowed_mentions"]["parse"] == []


async def test_share_option_makes_the_answer_public(bot, standin):
    data = command_data(("work",), {"text": "x", "share": True})
    deferral, follow_up = await run(bot, standin, interaction_payload(2, data, user_id=502), 2)
    assert not deferral.ephemeral
    assert not follow_up.ephemeral


async def test_slow_command_is_deferred_while_it_still_runs(bot, standin, monkeypatch):
    monkeypatch.setattr(frontend, "ACK_BUDGET", 0.1)
    gate = asyncio.Event()
    monkeypatch.setattr(testing_ext, "SLOW_GATE", gate)
    payload = interaction_payload(2, command_data(("slow",)))
    [deferral] = await run(bot, standin, payload)  # the command is still waiting at the gate
    assert deferral.body["type"] == 5
    gate.set()
    _deferral, follow_up = await answers(standin, payload, 2)
    assert "slow done" in text_of(follow_up)


async def test_attachment_becomes_an_upload(bot, standin):
    standin.files["index.html"] = b"hello"
    attachment = {
        "id": "42",
        "filename": "index.html",
        "size": 5,
        "url": f"{standin.base}/files/index.html",
        "proxy_url": f"{standin.base}/files/index.html",
    }
    data = command_data(
        ("work",),
        {"file": "42"},
        types={"file": 11},
        resolved={"attachments": {"42": attachment}},
    )
    payload = interaction_payload(2, data, user_id=701)
    _deferral, follow_up = await run(bot, standin, payload, 2)
    assert "uploads=index.html:5" in text_of(follow_up)


async def test_too_big_attachment_is_refused_with_a_translated_message(bot, standin):
    attachment = {
        "id": "43",
        "filename": "huge.bin",
        "size": 50 * 1024 * 1024,
        "url": "http://127.0.0.1:9/huge.bin",
        "proxy_url": "http://127.0.0.1:9/huge.bin",
    }
    data = command_data(
        ("work",), {"file": "43"}, types={"file": 11}, resolved={"attachments": {"43": attachment}}
    )
    payload = interaction_payload(2, data, user_id=702, locale="ko")
    [refused] = await run(bot, standin, payload)
    assert refused.ephemeral
    assert "huge.bin" in text_of(refused) and "바이트" in text_of(refused)


async def test_long_output_is_sent_as_a_file_with_its_first_lines_shown(bot, standin):
    payload = interaction_payload(2, command_data(("long",)))
    [callback] = await run(bot, standin, payload)
    assert [name for name, _data in callback.files] == ["long.txt"]
    assert callback.files[0][1].decode() == LONG_OUTPUT  # all 5,000 lines, uploaded
    content = callback.message["content"]
    assert "long.txt" in content and "5000 lines" in content
    first_lines = content.split("```")[1].strip("\n").split("\n")
    assert first_lines and first_lines == LONG_OUTPUT.split("\n")[: len(first_lines)]


async def test_unexpected_error_is_logged_with_an_id_the_user_sees(
    bot, standin, monkeypatch, caplog
):
    async def broken(*_args, **_kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(bot.coach, "run", broken)
    with caplog.at_level(logging.ERROR, logger="bot.discord"):
        [message] = await run(bot, standin, interaction_payload(2, command_data(("concepts",))))
    failures = [r for r in caplog.records if r.getMessage() == "interaction failed"]
    assert failures and failures[0].error_id in text_of(message)
    assert message.ephemeral


async def test_admin_commands_need_manage_server(bot, standin):
    payload = interaction_payload(2, command_data(("admin", "reload")), permissions=0)
    [refused] = await run(bot, standin, payload)
    assert refused.ephemeral and "Manage Server" in text_of(refused)


async def test_practice_channel_is_enforced(bot, standin):
    choose = interaction_payload(
        2,
        command_data(
            ("admin", "practice-channel"),
            {"channel": str(CHANNEL_ID)},
            types={"channel": 7},
            resolved={
                "channels": {
                    str(CHANNEL_ID): {
                        "id": str(CHANNEL_ID),
                        "type": 0,
                        "name": "study",
                        "permissions": "0",
                    }
                }
            },
        ),
        permissions=MANAGE_GUILD,
    )
    _deferral, done = await run(bot, standin, choose, 2)
    assert f"<#{CHANNEL_ID}>" in text_of(done)
    elsewhere = interaction_payload(
        2, command_data(("practice", "list")), channel_id=OTHER_CHANNEL_ID
    )
    [refused] = await run(bot, standin, elsewhere)
    assert f"<#{CHANNEL_ID}>" in text_of(refused) and refused.ephemeral
    here = interaction_payload(2, command_data(("practice", "list")), channel_id=CHANNEL_ID)
    deferral, _listed = await run(bot, standin, here, 2)
    assert deferral.body["type"] == 5


async def test_prompt_button_opens_a_modal_whose_answer_reaches_the_core(bot, standin):
    [asked] = await run(bot, standin, interaction_payload(2, command_data(("ask",))))
    ids = custom_ids(asked)
    assert ids == ["echo:again", "~echo:typed"]
    press = interaction_payload(
        3,
        {"custom_id": "~echo:typed", "component_type": 2},
        message=component_message(ids),
        user_id=111,
    )
    [modal] = await run(bot, standin, press)
    assert modal.body["type"] == 9
    modal_data = modal.body["data"]
    assert modal_data["custom_id"] == "~echo:typed"
    text_input = modal_data["components"][0]["components"][0]
    submit = interaction_payload(
        5,
        {
            "custom_id": modal_data["custom_id"],
            "components": [
                {
                    "type": 1,
                    "components": [
                        {"type": 4, "custom_id": text_input["custom_id"], "value": "docker ps"}
                    ],
                }
            ],
        },
        user_id=111,
    )
    [answer] = await run(bot, standin, submit)
    assert "echo:typed value=docker ps by=111" in text_of(answer)
    await settled()  # every handler is done: answered exactly once, not by form and bot
    assert len(standin.to_interaction(submit["id"], submit["token"])) == 1
    assert len(standin.to_interaction(press["id"], press["token"])) == 1


async def test_a_replacing_reply_edits_the_pressed_message_and_disables_its_button(bot, standin):
    [shown] = await run(bot, standin, interaction_payload(2, command_data(("counter",))))
    assert custom_ids(shown) == ["count:1"]
    press = interaction_payload(
        3, {"custom_id": "count:1", "component_type": 2}, message=component_message(["count:1"])
    )
    edited, follow_up = await run(bot, standin, press, 2)
    assert edited.body["type"] == 7  # UPDATE_MESSAGE: the message the button was on
    assert "count: 1" in text_of(edited)
    [button] = [c for row in edited.message["components"] for c in row["components"]]
    assert button["custom_id"] == "count:2" and button["disabled"] is True
    assert "/webhooks/" in follow_up.path and "counted to 1" in text_of(follow_up)


async def test_buttons_work_after_a_restart(dcoach, standin):
    first = await logged_in_bot(dcoach)
    [asked] = await run(first, standin, interaction_payload(2, command_data(("ask",))))
    await first.close()
    second = await logged_in_bot(dcoach)  # a new process would build exactly this
    try:
        press = interaction_payload(
            3,
            {"custom_id": "echo:again", "component_type": 2},
            message=component_message(custom_ids(asked)),
            user_id=222,
        )
        [answer] = await run(second, standin, press)
        assert "echo:again value=None by=222" in text_of(answer)
        typed = interaction_payload(  # a form opened before the restart, submitted after it
            5,
            {
                "custom_id": "~echo:typed",
                "components": [
                    {"type": 1, "components": [{"type": 4, "custom_id": "x", "value": "ls"}]}
                ],
            },
            user_id=222,
        )
        [typed_answer] = await run(second, standin, typed)
        assert "echo:typed value=ls by=222" in text_of(typed_answer)
    finally:
        await second.close()


async def test_quiz_buttons_belong_to_their_owner(bot, standin):
    started = interaction_payload(2, command_data(("quiz",), {"count": 1}), user_id=801)
    replies = await run(bot, standin, started, 2)
    question = next(r for r in replies if custom_ids(r))
    answer_id = next(cid for cid in custom_ids(question) if cid.lstrip("~").startswith("quiz:"))
    message = component_message(custom_ids(question))

    def send(payload, count=1):
        return run(bot, standin, payload, count)

    refused = await answer_with(send, answer_id, message, user_id=802)
    accepted = await answer_with(send, answer_id, message, user_id=801)
    assert bot.coach.translator("en")("quiz.not_yours") in text_of(refused)
    assert text_of(refused) != text_of(accepted)
    assert refused.message["embeds"][0]["color"] == discord.Colour.red().value
    assert accepted.message["embeds"][0]["color"] != discord.Colour.red().value


async def test_health_file_reports_the_gateway_and_counts(dcoach, standin, tmp_path):
    from bot.discordbot.health import write_health

    bot = await logged_in_bot(dcoach)
    try:
        await run(bot, standin, interaction_payload(2, command_data(("concepts",))))
        data = await write_health(bot, dcoach, bot.front.stats, tmp_path / "health.json")
        assert data["gateway_connected"] is False  # logged in over REST only, no gateway
        assert data["interactions"]["command"] >= 1
        assert (tmp_path / "health.json").exists()
    finally:
        await bot.close()
    await asyncio.sleep(0)
