"""Discord's rules, as the stand-in enforces them, and how the bot lives with each: who sees a
deferred answer, messages edited in place, 429s, expired tokens, stale commands, DMs and
threads, autocomplete, forms. Time is moved by the tests (coach clock, stand-in clock)."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import aiohttp
import pytest

from bot.core.commands import Suggestion
from bot.core.context import Actor
from bot.core.posts import Post
from bot.core.reply import Reply, Tone
from bot.discordbot import frontend
from tests.discord import testing_ext
from tests.discord.helpers import answer_with, answers, fire, run, settled, text_of
from tests.discord.standin import (
    APP_ID,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    GUILD_ID,
    OTHER_CHANNEL_ID,
    THREAD_ID,
    command_data,
    component_message,
    interaction_payload,
    modal_data,
)

MANAGE_GUILD = 1 << 5


def held(monkeypatch, bot, call: str) -> asyncio.Event:
    """Make the coach's ``call`` ("run" or "press") wait until the returned gate opens, and
    the front end acknowledge after 50 ms: a slow answer, however fast the machine."""
    gate = asyncio.Event()
    original = getattr(bot.coach, call)

    async def slowly(*args, **kwargs):
        await gate.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(bot.coach, call, slowly)
    monkeypatch.setattr(frontend, "ACK_BUDGET", 0.05)
    return gate


# who sees a deferred answer ---------------------------------------------------------------
async def test_the_first_follow_up_after_a_deferral_has_the_deferrals_visibility(standin):
    """The stand-in's rule (so that any mismatch in the bot shows in a test)."""
    payload = interaction_payload(2, command_data(("concept",)))
    standin.register(payload)
    base = f"{standin.base}/interactions/{payload['id']}/{payload['token']}"
    hook = f"{standin.base}/webhooks/{APP_ID}/{payload['token']}"
    async with aiohttp.ClientSession() as http:
        await http.post(f"{base}/callback", json={"type": 5, "data": {"flags": 64}})
        async with http.post(hook, json={"content": "meant for all", "flags": 0}) as response:
            first = (await response.json())["id"]
        async with http.post(hook, json={"content": "second", "flags": 0}) as response:
            second = (await response.json())["id"]
        async with http.post(f"{base}/callback", json={"type": 4, "data": {}}) as response:
            assert response.status == 400  # answered once only
    assert standin.messages[first].ephemeral  # took the deferral's place and visibility
    assert standin.messages[second].public  # later follow-ups choose their own


async def test_a_slow_concept_stays_public(bot, standin, monkeypatch):
    gate = held(monkeypatch, bot, "run")  # too slow to answer directly
    payload = interaction_payload(2, command_data(("concept",), {"topic": "volume"}))
    await run(bot, standin, payload, 1)
    gate.set()
    deferral, follow_up = await answers(standin, payload, 2)
    assert deferral.body["type"] == 5 and not deferral.ephemeral
    shown = standin.messages[follow_up.message_id]
    assert shown.public and "volume" in text_of(shown).lower()


async def test_progress_is_private_unless_shared(bot, standin):
    mine = interaction_payload(2, command_data(("progress",)), user_id=1201)
    _deferral, shown = await run(bot, standin, mine, 2)
    assert standin.messages[shown.message_id].ephemeral
    shared = interaction_payload(2, command_data(("progress",), {"share": True}), user_id=1202)
    _deferral, shown = await run(bot, standin, shared, 2)
    assert standin.messages[shown.message_id].public


# messages edited in place ------------------------------------------------------------------
async def test_a_quiz_round_lives_in_one_message_whose_buttons_end_disabled(bot, standin):
    start = interaction_payload(2, command_data(("quiz",), {"count": 2}), user_id=1301)
    _deferral, first = await run(bot, standin, start, 2)
    round_message = standin.messages[first.message_id]
    before = set(standin.messages)

    def send(payload, count=1):
        return run(bot, standin, payload, count)

    for number in (1, 2):
        assert f"Question {number} of 2" in text_of(round_message)
        enabled = [b for b in round_message.buttons() if not b.get("disabled")]
        assert enabled, "the question can be answered"
        edited = await answer_with(
            send, enabled[0]["custom_id"], round_message.payload(), 1301, "docker ps"
        )
        assert edited.body["type"] == 7  # UPDATE_MESSAGE: the round's own message
        assert edited.message_id == round_message.id
    await settled()
    assert set(standin.messages) == before  # no message was added: the round was edited
    assert round_message.edits == 2
    assert "Score:" in text_of(round_message) and "/2" in text_of(round_message)
    assert all(button.get("disabled") for button in round_message.buttons())
    # When the answer is reviewed next: a Discord timestamp, shown in each reader's zone.
    assert re.search(r"<t:\d+:f>", text_of(round_message)) and "UTC" not in text_of(round_message)


async def test_a_slow_press_is_deferred_as_an_update_then_edits_the_message(
    bot, standin, monkeypatch
):
    [shown] = await run(bot, standin, interaction_payload(2, command_data(("counter",))))
    message = standin.messages[shown.message_id]
    gate = held(monkeypatch, bot, "press")
    press = interaction_payload(
        3, {"custom_id": "count:1", "component_type": 2}, message=message.payload()
    )
    await run(bot, standin, press, 1)
    gate.set()
    deferral, edit, follow_up = await answers(standin, press, 3)
    assert deferral.body["type"] == 6  # no "thinking…" message
    assert edit.method == "PATCH" and edit.path.endswith("/messages/@original")
    assert edit.message_id == message.id and "count: 1" in text_of(message)
    assert standin.messages[follow_up.message_id].ephemeral  # the presser's own note


async def test_a_429_on_an_edit_is_retried_after_retry_after_and_lands(bot, standin, monkeypatch):
    [shown] = await run(bot, standin, interaction_payload(2, command_data(("counter",))))
    message = standin.messages[shown.message_id]
    gate = held(monkeypatch, bot, "press")
    standin.rate_limit(r"/messages/@original$", method="PATCH", retry_after=0.05)
    standin.rate_limit(r"^/webhooks/", method="POST", retry_after=0.05, is_global=True)
    press = interaction_payload(
        3, {"custom_id": "count:1", "component_type": 2}, message=message.payload()
    )
    await run(bot, standin, press, 1)
    gate.set()
    await answers(standin, press, 3)
    await settled()
    calls = standin.to_interaction(press["id"], press["token"])
    statuses = [(r.method, r.status) for r in calls]
    assert statuses == [("POST", 200), ("PATCH", 429), ("PATCH", 200), ("POST", 429), ("POST", 200)]
    assert "count: 1" in text_of(message) and message.edits == 1
    [button] = message.buttons()
    assert button["custom_id"] == "count:2" and button["disabled"] is True


async def test_a_429_on_a_live_boards_post_and_edit_is_retried_and_lands(bot, standin):
    """The messages the coach posts on its own (study boards) go through the same retries."""
    channel = rf"^/channels/{CHANNEL_ID}/messages"
    standin.rate_limit(channel + "$", method="POST", retry_after=0.05)
    standin.rate_limit(channel + r"/\d+$", method="PATCH", retry_after=0.05, is_global=True)
    for version in (1, 2):
        board = Reply(title="Board", body=f"version {version}")
        await bot.live.post(Post(str(GUILD_ID), str(CHANNEL_ID), board, key="board:429"))
        await bot.live.drain()
    calls = [(r.method, r.status) for r in standin.requests if re.search(channel, r.path)]
    assert calls == [("POST", 429), ("POST", 200), ("PATCH", 429), ("PATCH", 200)]
    [shown] = [m for m in standin.channel_messages(CHANNEL_ID) if "Board" in text_of(m)]
    assert "version 2" in text_of(shown) and shown.edits == 1
    assert bot.live.stats.failed == 0


async def test_confirmations_become_their_outcome(bot, standin):
    ask = interaction_payload(2, command_data(("forget-me",)), user_id=1401)
    _deferral, shown = await run(bot, standin, ask, 2)
    message = standin.messages[shown.message_id]
    cancel = next(cid for cid in message.custom_ids() if ":cancel:" in cid)
    press = interaction_payload(
        3, {"custom_id": cancel, "component_type": 2}, message=message.payload(), user_id=1401
    )
    [edited] = await run(bot, standin, press)
    assert edited.body["type"] == 7 and edited.message_id == message.id
    assert message.buttons() == []  # nothing left to press twice


async def test_a_shared_sandbox_question_is_answered_by_its_asker_only(bot, standin):
    """Another member's press on a shared "Reset your sandbox?" changes nothing (not their
    sandbox, not the question); the asker's own press answers it in place."""
    ask = interaction_payload(
        2, command_data(("sandbox",), {"action": "reset", "share": True}), user_id=1411
    )
    _deferral, shown = await run(bot, standin, ask, 2)
    message = standin.messages[shown.message_id]
    assert message.public
    confirm, cancel = message.custom_ids()
    assert confirm.endswith(":1411") and cancel.endswith(":1411")

    def press(custom_id: str, user_id: int) -> dict:
        data = {"custom_id": custom_id, "component_type": 2}
        return interaction_payload(3, data, message=message.payload(), user_id=user_id)

    for custom_id in (confirm, cancel):
        [refused] = await run(bot, standin, press(custom_id, 1412))
        assert refused.body["type"] == 4 and refused.ephemeral
        assert "someone else" in text_of(refused)
    assert message.edits == 0 and message.custom_ids() == [confirm, cancel]
    asker = Actor("1411", "alice", str(GUILD_ID), "en")
    [legacy] = await bot.coach.press(asker, "sandbox:confirm-reset")  # no owner: not taken
    assert legacy.tone is Tone.ERROR and "ended" in legacy.body
    [cancelled] = await run(bot, standin, press(cancel, 1411))
    assert cancelled.body["type"] == 7 and cancelled.message_id == message.id
    assert message.buttons() == [] and "nothing changed" in text_of(message).lower()


# expired interactions ------------------------------------------------------------------------
async def test_an_answer_after_15_minutes_reaches_the_member_by_dm(bot, standin, monkeypatch):
    monkeypatch.setattr(frontend, "ACK_BUDGET", 0.05)
    gate = asyncio.Event()
    monkeypatch.setattr(testing_ext, "SLOW_GATE", gate)
    payload = interaction_payload(2, command_data(("slow",)), user_id=1501)
    [deferral] = await run(bot, standin, payload)
    assert deferral.body["type"] == 5
    standin.clock.advance(16 * 60)  # the token is dead now
    gate.set()
    await settled()
    refused = [r for r in standin.to_interaction(payload["id"], payload["token"]) if not r.ok]
    assert refused and refused[0].status == 401
    dm = standin.channel_messages(DM_CHANNEL_ID)
    assert any("slow done" in text_of(m) for m in dm)


async def test_an_interaction_acknowledged_too_late_is_answered_elsewhere(
    bot, standin, monkeypatch
):
    monkeypatch.setattr(frontend, "ACK_BUDGET", 0.05)
    gate = asyncio.Event()
    monkeypatch.setattr(testing_ext, "SLOW_GATE", gate)
    payload = interaction_payload(2, command_data(("slow",)), user_id=1502)
    fire(bot, payload, standin)
    standin.clock.advance(4)  # the bot was stalled past Discord's 3 s
    [late] = await standin.wait_for(lambda r: payload["id"] in r.path)
    assert late.status == 404
    gate.set()
    await settled()
    assert any("slow done" in text_of(m) for m in standin.channel_messages(DM_CHANNEL_ID))
    again = interaction_payload(2, command_data(("concepts",)))
    [answer] = await run(bot, standin, again)  # still alive
    assert answer.body["type"] == 4


# commands out of date ----------------------------------------------------------------------
async def test_an_unknown_command_says_the_commands_are_out_of_date(bot, standin, caplog):
    payload = interaction_payload(2, command_data(("retired-command",)))
    with caplog.at_level(logging.WARNING, logger="bot.discord"):
        [answer] = await run(bot, standin, payload)
    assert answer.ephemeral and "out of date" in text_of(answer) and "sync" in text_of(answer)
    assert any("sync" in r.getMessage() for r in caplog.records)


async def test_an_unknown_option_says_the_commands_are_out_of_date(bot, standin):
    payload = interaction_payload(2, command_data(("concept",), {"topic": "volume", "depth": 2}))
    [answer] = await run(bot, standin, payload)
    assert "out of date" in text_of(answer)
    autocomplete = interaction_payload(4, command_data(("retired",), {"x": "a"}, focused="x"))
    [empty] = await run(bot, standin, autocomplete)
    assert empty.body == {"type": 8, "data": {"choices": []}}


# DMs and threads -----------------------------------------------------------------------------
async def test_server_commands_are_refused_in_dms(bot, standin):
    for path in (("practice", "list"), ("leaderboard",), ("admin", "reload"), ("study", "next")):
        payload = interaction_payload(2, command_data(path), guild=False, user_id=1601)
        [refused] = await run(bot, standin, payload)
        assert refused.ephemeral and "server" in text_of(refused), path


async def test_a_quiz_in_dms_counts_in_its_own_scope(bot, standin):
    start = interaction_payload(2, command_data(("quiz",), {"count": 1}), guild=False, user_id=1602)
    _deferral, question = await run(bot, standin, start, 2)
    message = standin.messages[question.message_id]
    assert message.channel_id == str(DM_CHANNEL_ID)

    def send(payload, count=1):
        payload.pop("guild_id", None)
        return run(bot, standin, payload, count)

    button = next(b for b in message.buttons() if not b.get("disabled"))
    dm_press = interaction_payload(
        3,
        {"custom_id": button["custom_id"], "component_type": 2},
        message=message.payload(guild_id=None),
        guild=False,
        user_id=1602,
    )
    [first] = await send(dm_press)
    if first.body.get("type") == 9:  # a typed answer
        field = first.body["data"]["components"][0]["components"][0]["custom_id"]
        submit = interaction_payload(
            5,
            modal_data(first.body["data"]["custom_id"], field, "docker ps"),
            guild=False,
            user_id=1602,
            message=message.payload(guild_id=None),
        )
        await send(submit)
    await settled()
    store = bot.coach.store
    assert (await store.progress.totals("1602", "dm:1602")).answers == 1
    assert (await store.progress.totals("1602", str(GUILD_ID))).answers == 0


async def test_practice_runs_in_threads_of_the_practice_channel(bot, standin):
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
    await run(bot, standin, choose, 2)
    thread = interaction_payload(
        2, command_data(("practice", "list")), channel_id=THREAD_ID, thread=True
    )
    deferral, _listing = await run(bot, standin, thread, 2)
    assert deferral.body["type"] == 5
    elsewhere = interaction_payload(
        2, command_data(("practice", "list")), channel_id=OTHER_CHANNEL_ID
    )
    [refused] = await run(bot, standin, elsewhere)
    assert f"<#{CHANNEL_ID}>" in text_of(refused)


# autocomplete -----------------------------------------------------------------------------------
async def test_autocomplete_for_quiz_and_docker(bot, standin):
    quiz = interaction_payload(4, command_data(("quiz",), {"topic": "vol"}, focused="topic"))
    [suggested] = await run(bot, standin, quiz)
    assert any("volume" in c["value"] for c in suggested.body["data"]["choices"])
    docker = interaction_payload(4, command_data(("docker",), {"command": "lo"}, focused="command"))
    [suggested] = await run(bot, standin, docker)
    assert "logs" in [c["value"] for c in suggested.body["data"]["choices"]]


async def test_autocomplete_never_offers_a_value_discord_would_cut(bot, standin, monkeypatch):
    long_line = "run -d --name web " + "-e X=1 " * 20 + "nginx"
    assert len(long_line) > 100

    async def suggest(*_args):
        return [Suggestion("a long one " * 20, long_line), Suggestion("ps " * 50, "ps")]

    monkeypatch.setattr(bot.coach, "complete", suggest)
    payload = interaction_payload(4, command_data(("docker",), {"command": "x"}, focused="command"))
    [suggested] = await run(bot, standin, payload)
    [choice] = suggested.body["data"]["choices"]
    assert choice["value"] == "ps" and len(choice["name"]) <= 100


async def test_slow_autocomplete_gives_no_suggestions_in_time(bot, standin, monkeypatch):
    async def stuck(*_args):
        await asyncio.Event().wait()

    monkeypatch.setattr(bot.coach, "complete", stuck)
    monkeypatch.setattr(frontend, "AUTOCOMPLETE_BUDGET", 0.05)
    payload = interaction_payload(4, command_data(("quiz",), {"topic": "v"}, focused="topic"))
    [suggested] = await run(bot, standin, payload)
    assert suggested.body == {"type": 8, "data": {"choices": []}}


# forms --------------------------------------------------------------------------------------------
async def test_a_form_shows_its_placeholder_and_survives_being_dismissed(bot, standin):
    [asked] = await run(bot, standin, interaction_payload(2, command_data(("ask",))))
    message = standin.messages[asked.message_id]
    press = interaction_payload(
        3, {"custom_id": "~echo:typed", "component_type": 2}, message=message.payload()
    )
    [form] = await run(bot, standin, press)
    field = form.body["data"]["components"][0]["components"][0]
    assert field["placeholder"] == "e.g. docker ps"
    # Dismissed: Discord sends nothing. The button still opens a form, whose answer arrives.
    again = interaction_payload(
        3, {"custom_id": "~echo:typed", "component_type": 2}, message=message.payload()
    )
    [form] = await run(bot, standin, again)
    assert form.body["type"] == 9
    submit = interaction_payload(
        5, modal_data("~echo:typed", field["custom_id"], "docker ps"), message=message.payload()
    )
    [answer] = await run(bot, standin, submit)
    assert "echo:typed value=docker ps" in text_of(answer)


async def test_a_typed_quiz_answer_opens_a_form_with_a_docker_placeholder(bot, standin):
    """A command question's form says what to type (``docker …``), in the member's language."""
    start = interaction_payload(
        2, command_data(("quiz",), {"topic": "networking", "count": 14}), user_id=1701
    )
    _deferral, first = await run(bot, standin, start, 2)
    message = standin.messages[first.message_id]

    def press(custom_id: str) -> dict:
        data = {"custom_id": custom_id, "component_type": 2}
        return interaction_payload(3, data, message=message.payload(), user_id=1701)

    for _question in range(14):  # 5 of networking's 14 questions are typed commands
        enabled = [b["custom_id"] for b in message.buttons() if not b.get("disabled")]
        typed = [cid for cid in enabled if cid.startswith("~")]
        if typed:
            break
        await run(bot, standin, press(enabled[0]))
    [form] = await run(bot, standin, press(typed[0]))
    assert form.body["type"] == 9
    field = form.body["data"]["components"][0]["components"][0]
    assert field["placeholder"] == "docker …"


# Discord's form rules -------------------------------------------------------------------------
async def test_the_standin_refuses_what_discord_refuses(standin):
    """Bodies over Discord's limits, and callbacks of a type the interaction cannot take,
    are refused with a 400 and leave the interaction unanswered, so that a bot which sends
    them fails its tests."""
    suggest = interaction_payload(4, command_data(("docker",), {"command": "r"}, focused="command"))
    pressed = interaction_payload(
        3, {"custom_id": "x", "component_type": 2}, message=component_message(["x"])
    )
    too_long = {"name": "run …", "value": "run " + "x" * 97}
    button = {"type": 2, "style": 2, "label": "x", "custom_id": "same"}  # twice in one message
    refused = {
        id(suggest): [
            {"type": 8, "data": {"choices": [too_long]}},
            {"type": 8, "data": {"choices": [{"name": "a", "value": "a"}] * 26}},
            {"type": 4, "data": {"content": "an answer where only choices may go"}},
        ],
        id(pressed): [
            {"type": 9, "data": {"title": "t" * 46, "custom_id": "~a", "components": []}},
            {"type": 4, "data": {"flags": 64}},  # nothing to show
            {"type": 7, "data": {"components": [{"type": 1, "components": [button, button]}]}},
            {"type": 8, "data": {"choices": []}},  # choices for a button press
        ],
    }
    taken = {
        id(suggest): {"type": 8, "data": {"choices": [{"name": "run", "value": "run"}]}},
        id(pressed): {"type": 7, "data": {"content": "pressed"}},
    }
    async with aiohttp.ClientSession() as http:
        for payload in (suggest, pressed):
            standin.register(payload)
            callback = f"{standin.base}/interactions/{payload['id']}/{payload['token']}/callback"
            for body in refused[id(payload)]:
                async with http.post(callback, json=body) as response:
                    assert response.status == 400, body
                    assert (await response.json())["code"] in (50035, 50006)
            async with http.post(callback, json=taken[id(payload)]) as response:
                assert response.status == 200  # the refusals did not answer the interaction
    assert len(standin.refused_forms) == sum(len(bodies) for bodies in refused.values())
    standin.refused_forms.clear()  # refused on purpose


# the public API only ---------------------------------------------------------------------------
BOT = Path(__file__).resolve().parents[2] / "bot"
# ``obj._name = …`` or ``obj._name[…] = …`` on anything but self (dunders such as Python's
# own ``__signature__`` are protocols, not private attributes).
PRIVATE_WRITE = re.compile(
    r"\b(?!self\b|cls\b)\w+(?:\.\w+)*\._(?!_)\w+(?:\[[^\]]*\])?(?:\.\w+)*\s*=(?!=)"
)


@pytest.mark.parametrize("path", sorted(BOT.rglob("*.py")), ids=lambda p: str(p.relative_to(BOT)))
def test_no_private_discord_py_attribute_is_written(path):
    source = path.read_text(encoding="utf-8")
    assert "__discord_app_commands_" not in source
    if "discord" in source:
        offending = [line.strip() for line in source.splitlines() if PRIVATE_WRITE.search(line)]
        assert not offending, offending
    assert not re.search(r"setattr\([^,]+,\s*['\"]_", source)


def test_the_pattern_catches_what_it_should():
    assert PRIVATE_WRITE.search('command._params["x"].autocomplete = f')
    assert not PRIVATE_WRITE.search("callback.__signature__ = signature")
    assert not PRIVATE_WRITE.search("self._uses = {}")
    assert not PRIVATE_WRITE.search("x == y._z")
