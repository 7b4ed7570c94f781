"""Group practice on Discord runs in a thread of its own, through the loopback stand-in.

The host's ``/study practice`` opens a public thread named after the scenario; the live board
is posted and edited there; ``/study join`` and ``/study end`` find the session whether they
are typed in the thread or in the channel it was opened in, and members' progress updates the
board in the thread. Without Create Public Threads, or in a channel that cannot have threads,
the practice runs in the channel and the server is told why once.

Sandboxes are not the point here (``tests/study/test_group_practice.py`` runs group practice
on the engine): the practice port below starts nothing, and where each member is in the
scenario is set by the test, then reported to the board by the same listener that follows
``/docker``, ``/sh`` and ``/practice`` commands.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import discord

from bot.coach import Coach
from bot.core.clock import FixedClock
from bot.core.commands import Request, Suggestion
from bot.core.context import Actor
from bot.core.reply import Reply
from bot.discordbot.client import CoachBot
from bot.settings import Settings
from bot.study.ports import GroupPracticePort
from tests.discord.conftest import TEST_EXTENSIONS, build_coach, logged_in_bot
from tests.discord.helpers import run, settled, text_of
from tests.discord.standin import (
    CHANNEL_ID,
    GUILD_ID,
    OTHER_CHANNEL_ID,
    THREAD_ID,
    VOICE_CHANNEL_ID,
    Message,
    Recorded,
    Standin,
    command_data,
    interaction_payload,
)

SCENARIO = "first-container"
TITLE_KO = "나의 첫 컨테이너"  # the server prefers Korean: what the coach posts is Korean
ALICE, BOB, CAROL = (801, "alice"), (802, "bob"), (803, "carol")


class PracticeWithoutSandboxes:
    """The practice port with the scenario's real steps and titles, starting no sandbox;
    ``places`` says which step each member is on."""

    def __init__(self, real: GroupPracticePort) -> None:
        self.real = real
        self.places: dict[str, int] = {}

    async def start(self, request: Request, scenario_id: str) -> list[Reply]:
        self.places.setdefault(request.actor.user_id, 0)
        return [Reply(body=f"your own sandbox for {scenario_id} is ready")]

    async def place(self, user_id: str, scenario_id: str) -> int | None:
        return self.places.get(user_id)

    def step_titles(self, scenario_id: str, locale: str) -> list[str] | None:
        return self.real.step_titles(scenario_id, locale)

    def scenario_title(self, scenario_id: str, locale: str) -> str | None:
        return self.real.scenario_title(scenario_id, locale)

    def scenarios_by_concept(self) -> dict[str, list[str]]:
        return self.real.scenarios_by_concept()

    def scenario_ids(self) -> list[str]:
        return self.real.scenario_ids()

    async def complete_scenario(self, request: Request, partial: str) -> list[Suggestion]:
        return await self.real.complete_scenario(request, partial)


@contextlib.asynccontextmanager
async def practising(
    settings: Settings, clock: FixedClock, *, gateway: bool = False
) -> AsyncIterator[tuple[CoachBot, PracticeWithoutSandboxes]]:
    """A coach whose group practice starts no sandbox, and its bot: logged in over REST,
    or (``gateway``) connected too, so that it knows the guild, its channels and its roles."""
    data = settings.model_dump()
    data["study"]["tick_seconds"] = 0
    data["discord"]["live_edit_seconds"] = 0.02
    coach: Coach = build_coach(Settings.model_validate(data), clock)
    group = coach.study.practice
    practice = PracticeWithoutSandboxes(group.practice)
    group.practice = practice
    await coach.start()
    runner: asyncio.Task[None] | None = None
    if gateway:
        client = CoachBot(coach, extensions=TEST_EXTENSIONS, guild_ready_timeout=0.1)
        runner = asyncio.create_task(client.start("test-token"))
        await asyncio.wait_for(client.wait_until_ready(), 20)
    else:
        client = await logged_in_bot(coach)
    try:
        yield client, practice
    finally:
        await client.close()
        if runner is not None:
            await asyncio.wait_for(runner, 10)
        await coach.close()
        await asyncio.sleep(0)


async def command(
    bot: CoachBot,
    standin: Standin,
    path: tuple[str, ...],
    who: tuple[int, str],
    channel_id: int = CHANNEL_ID,
    **options: Any,
) -> Recorded:
    """``who`` runs ``/path`` in ``channel_id`` (a thread of the study channel when it is
    one); the answer (deferred: the follow-up that replaced "thinking…")."""
    thread = (
        channel_id != CHANNEL_ID
        and channel_id != VOICE_CHANNEL_ID
        and (str(channel_id) in {t["id"] for t in standin.threads()})
    )
    payload = interaction_payload(
        2,
        command_data(path, options),
        user_id=who[0],
        name=who[1],
        channel_id=channel_id,
        thread=thread,
    )
    _thinking, answer = await run(bot, standin, payload, 2)
    await settled()
    await bot.live.drain()
    return answer


async def member_moved(
    bot: CoachBot, practice: PracticeWithoutSandboxes, who: tuple[int, str], step: int
) -> None:
    """``who``'s sandbox reached ``step``: the listener that runs after their ``/docker``
    command (wherever they typed it) updates the board."""
    practice.places[str(who[0])] = step
    actor = Actor(str(who[0]), who[1], str(GUILD_ID), "en", channel_id=str(OTHER_CHANNEL_ID))
    request = Request(actor, bot.coach.translator("en"), {})
    await bot.coach.study.practice.after_command(request, ("docker",), [])
    await bot.live.drain()


def boards(standin: Standin, channel_id: int | str) -> list[Message]:
    return [
        m
        for m in standin.channel_messages(channel_id)
        if m.public
        and not m.deleted
        and any("그룹 실습 —" in (e.get("title") or "") for e in m.embeds)
    ]


def public_types(standin: Standin, channel_id: int | str) -> list[int]:
    """The types of the messages everyone sees in a channel (the answers were private)."""
    return [m.type for m in standin.channel_messages(channel_id) if m.public]


def thread_requests(standin: Standin) -> list[Recorded]:
    return [r for r in standin.requests if r.method == "POST" and r.path.endswith("/threads")]


async def test_group_practice_runs_in_a_thread_named_after_the_scenario(
    settings: Settings, clock: FixedClock, standin: Standin
) -> None:
    async with practising(settings, clock) as (bot, practice):
        opened = await command(bot, standin, ("study", "practice"), ALICE, scenario=SCENARIO)
        [thread] = standin.threads(CHANNEL_ID)[-1:]
        assert thread["name"] == TITLE_KO and thread["type"] == 11  # public, the scenario's name
        assert f"<#{thread['id']}>" in text_of(opened)  # the host is told where it runs
        [board] = boards(standin, thread["id"])
        assert boards(standin, CHANNEL_ID) == []  # the channel shows only "started a thread"
        assert public_types(standin, CHANNEL_ID) == [18]
        assert "alice" in text_of(board).lower()

        await command(bot, standin, ("study", "join"), BOB, int(thread["id"]))  # in the thread
        await command(bot, standin, ("study", "join"), CAROL)  # in the channel
        assert "bob" in text_of(board).lower() and "carol" in text_of(board).lower()
        await member_moved(bot, practice, CAROL, 2)
        assert "**Carol** `✔✔▶···` 2/6" in text_of(board) and "**Bob** `▶·····`" in text_of(board)
        assert boards(standin, thread["id"]) == [board]  # one board, edited in place

        standin.archive(thread["id"])  # a day without messages: Discord archives the thread
        edits = board.edits
        await member_moved(bot, practice, BOB, 1)
        assert not standin.archived(thread["id"])  # unarchived to edit the board in place
        assert board.edits == edits + 1 and "**Bob** `✔▶····` 1/6" in text_of(board)
        assert boards(standin, thread["id"]) == [board]

        refused = await command(
            bot, standin, ("study", "practice"), BOB, int(thread["id"]), scenario=SCENARIO
        )
        assert "already" in text_of(refused)  # the thread is that practice's place
        assert len(thread_requests(standin)) == 1

        ended = await command(bot, standin, ("study", "end"), ALICE)  # from the channel
        assert "over" in text_of(ended)
        summaries = [m for m in standin.channel_messages(thread["id"]) if "요약" in text_of(m)]
        assert len(summaries) == 1 and "carol" in text_of(summaries[0]).lower()
        assert public_types(standin, CHANNEL_ID) == [18]


async def test_without_permission_to_open_threads_it_runs_in_the_channel_said_once(
    settings: Settings, clock: FixedClock, standin: Standin
) -> None:
    standin.deny(CHANNEL_ID, "create_public_threads")
    async with practising(settings, clock) as (bot, _practice):
        opened = await command(bot, standin, ("study", "practice"), ALICE, scenario=SCENARIO)
        [refusal] = thread_requests(standin)
        assert refusal.status == 403  # Discord said no; nothing was created
        assert [t["id"] for t in standin.threads(CHANNEL_ID)] == [str(THREAD_ID)]  # none new
        assert "<#" not in text_of(opened)
        [board] = boards(standin, CHANNEL_ID)
        notices = [
            m for m in standin.channel_messages(CHANNEL_ID) if m.public and "스레드" in text_of(m)
        ]
        assert len(notices) == 1 and "공개 스레드 만들기" in text_of(notices[0])
        await command(bot, standin, ("study", "join"), BOB)
        assert "bob" in text_of(board).lower()
        await command(bot, standin, ("study", "end"), ALICE)

        await command(bot, standin, ("study", "practice"), ALICE, scenario=SCENARIO)
        assert len(thread_requests(standin)) == 2  # asked again (a manager may have fixed it)
        notices = [
            m for m in standin.channel_messages(CHANNEL_ID) if m.public and "스레드" in text_of(m)
        ]
        assert len(notices) == 1  # but not told again


async def test_a_channel_that_cannot_have_threads_and_a_thread_already(
    settings: Settings, clock: FixedClock, standin: Standin
) -> None:
    async with practising(settings, clock) as (bot, _practice):
        await command(
            bot, standin, ("study", "practice"), ALICE, VOICE_CHANNEL_ID, scenario=SCENARIO
        )
        assert thread_requests(standin) == []  # a voice channel: nothing to ask Discord
        assert len(boards(standin, VOICE_CHANNEL_ID)) == 1
        said = [m for m in standin.channel_messages(VOICE_CHANNEL_ID) if "스레드" in text_of(m)]
        assert len(said) == 1

        opened = await command(
            bot, standin, ("study", "practice"), BOB, THREAD_ID, scenario=SCENARIO
        )
        assert thread_requests(standin) == []  # opened in a thread: it stays there
        assert "<#" not in text_of(opened)
        assert len(boards(standin, THREAD_ID)) == 1
        said = [m for m in standin.channel_messages(THREAD_ID) if "스레드" in text_of(m)]
        assert said == []


async def test_a_deleted_thread_sends_the_board_back_to_the_channel(
    settings: Settings, clock: FixedClock, standin: Standin
) -> None:
    async with practising(settings, clock) as (bot, practice):
        await command(bot, standin, ("study", "practice"), ALICE, scenario=SCENARIO)
        thread_id = standin.threads(CHANNEL_ID)[-1]["id"]
        await command(bot, standin, ("study", "join"), BOB, int(thread_id))
        standin.delete_channel(thread_id)  # a moderator deleted the thread
        await member_moved(bot, practice, BOB, 1)
        [board] = boards(standin, CHANNEL_ID)  # the board, again, where the practice began
        assert "**Bob** `✔▶····` 1/6" in text_of(board)
        await member_moved(bot, practice, BOB, 2)
        assert boards(standin, CHANNEL_ID) == [board] and "**Bob** `✔✔▶" in text_of(board)
        await command(bot, standin, ("study", "end"), ALICE)
        summaries = [m for m in standin.channel_messages(CHANNEL_ID) if "요약" in text_of(m)]
        assert len(summaries) == 1


async def test_a_bot_on_the_gateway_knows_its_permissions_and_its_threads(
    settings: Settings, clock: FixedClock, standin: Standin
) -> None:
    """Connected, the bot has the guild's channels and roles: where it may not open threads it
    does not ask Discord; the thread it opens arrives in its cache (THREAD_CREATE)."""
    standin.deny(OTHER_CHANNEL_ID, "create_public_threads")
    async with practising(settings, clock, gateway=True) as (bot, _practice):
        await command(
            bot, standin, ("study", "practice"), ALICE, OTHER_CHANNEL_ID, scenario=SCENARIO
        )
        assert thread_requests(standin) == []  # known from the cache: no 403 to provoke
        assert len(boards(standin, OTHER_CHANNEL_ID)) == 1
        await command(bot, standin, ("study", "practice"), ALICE, scenario=SCENARIO)
        [created] = thread_requests(standin)
        assert created.status == 201
        thread_id = int(standin.threads(CHANNEL_ID)[-1]["id"])
        thread = bot.get_channel(thread_id) or await bot.wait_for(
            "thread_create", check=lambda made: made.id == thread_id, timeout=15
        )
        assert isinstance(thread, discord.Thread) and thread.parent_id == CHANNEL_ID
        assert len(boards(standin, thread_id)) == 1


async def test_the_standin_refuses_threads_as_discord_does(standin: Standin) -> None:
    """Discord's answers the front end relies on (straight REST calls)."""
    import aiohttp

    async with aiohttp.ClientSession() as http:

        async def post(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            async with http.post(standin.base + path, json=body) as response:
                return response.status, await response.json()

        status, data = await post(
            f"/channels/{VOICE_CHANNEL_ID}/threads", {"name": "x", "type": 11}
        )
        assert (status, data["code"]) == (400, 50024)
        status, data = await post(f"/channels/{THREAD_ID}/threads", {"name": "x", "type": 11})
        assert (status, data["code"]) == (400, 50024)  # no thread in a thread
        status, data = await post(f"/channels/{CHANNEL_ID}/threads", {"name": "", "type": 11})
        assert (status, data["code"]) == (400, 50035)
        standin.deny(CHANNEL_ID, "send_messages_in_threads")
        status, thread = await post(f"/channels/{CHANNEL_ID}/threads", {"name": "ok", "type": 11})
        assert status == 201 and thread["parent_id"] == str(CHANNEL_ID)
        status, data = await post(f"/channels/{thread['id']}/messages", {"content": "hi"})
        assert (status, data["code"]) == (403, 50013)  # created, but may not post in threads
        standin.deny(CHANNEL_ID, "create_public_threads")
        status, data = await post(f"/channels/{CHANNEL_ID}/threads", {"name": "no", "type": 11})
        assert (status, data["code"]) == (403, 50013)
        assert standin.permissions(CHANNEL_ID).send_messages  # the rest is untouched
