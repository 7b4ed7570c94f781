"""A channel quiz round through the loopback Discord stand-in: one question message and one
scoreboard message, edited in place as members press buttons, ending with the ranking.

The stand-in's server prefers Korean, so what the coach posts there is in Korean; the
members' own answers follow their locale (English)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.coach import Coach
from bot.core.clock import FixedClock
from bot.core.posts import Post
from bot.core.reply import Reply
from bot.discordbot.client import CoachBot
from bot.settings import Settings
from tests.discord.conftest import build_coach, logged_in_bot
from tests.discord.helpers import run, settled, text_of
from tests.discord.standin import (
    CHANNEL_ID,
    GUILD_ID,
    Message,
    Recorded,
    Standin,
    command_data,
    interaction_payload,
    modal_data,
)

MEMBERS = ((801, "alice"), (802, "bob"), (803, "carol"))


@pytest.fixture
async def study_bot(
    settings: Settings, clock: FixedClock, standin: Standin
) -> AsyncIterator[CoachBot]:
    data = settings.model_dump()
    data["study"]["tick_seconds"] = 0
    data["discord"]["live_edit_seconds"] = 0.02
    async with running(Settings.model_validate(data), clock) as client:
        yield client


async def press_as(
    bot: CoachBot,
    standin: Standin,
    custom_id: str,
    message: Message,
    user_id: int,
    name: str,
    typed: str = "docker volume ls",
) -> Recorded:
    """``name`` presses the button; a typed-answer button opens a form they submit."""
    press = interaction_payload(
        3,
        {"custom_id": custom_id, "component_type": 2},
        message=message.payload(),
        user_id=user_id,
        name=name,
    )
    [first] = await run(bot, standin, press)
    if first.body is None or first.body.get("type") != 9:
        return first
    modal = first.body["data"]
    field = modal["components"][0]["components"][0]["custom_id"]
    submit = interaction_payload(
        5,
        modal_data(modal["custom_id"], field, typed),
        user_id=user_id,
        name=name,
        message=message.payload(),
    )
    [answer] = await run(bot, standin, submit)
    return answer


def titled(standin: Standin, words: str) -> list[Message]:
    return [
        m
        for m in standin.channel_messages(CHANNEL_ID)
        if any(words in (e.get("title") or "") for e in m.embeds)
    ]


async def test_done_when_three_members_answer_and_one_board_is_edited(
    study_bot: CoachBot, standin: Standin
) -> None:
    start = interaction_payload(
        2, command_data(("study", "quiz"), {"topic": "volume", "count": 1}), user_id=801
    )
    _thinking, started = await run(study_bot, standin, start, 2)
    assert "started a round" in text_of(started)
    await study_bot.live.drain()
    [question] = titled(standin, "채널 퀴즈")
    [board] = titled(standin, "점수판")
    answer_id = next(cid for cid in question.custom_ids() if cid.lstrip("~").startswith("study:"))

    for user_id, name in MEMBERS:
        answer = await press_as(study_bot, standin, answer_id, question, user_id, name)
        assert answer.ephemeral  # "right" or "not this time": for the presser only
        await settled()
        await study_bot.live.drain()
        assert name in text_of(board).lower()  # the same message, edited
    public = [m for m in standin.channel_messages(CHANNEL_ID) if m.public]
    assert [m.id for m in public] == [question.id, board.id]  # no message per answer
    nxt = interaction_payload(2, command_data(("study", "next")), user_id=801)
    await run(study_bot, standin, nxt)
    await settled()
    await study_bot.live.drain()
    assert [m.id for m in standin.channel_messages(CHANNEL_ID) if m.public] == [
        question.id,
        board.id,
    ]  # the end too is an edit
    assert titled(standin, "점수판") == []
    [ranking] = titled(standin, "최종 순위")
    assert ranking.id == board.id and board.edits >= 3
    assert all(name in text_of(ranking).lower() for _id, name in MEMBERS)
    [closed] = titled(standin, "(마감)")
    assert closed.id == question.id
    assert all(button.get("disabled") for button in closed.buttons())


def study_settings(settings: Settings) -> Settings:
    data = settings.model_dump()
    data["study"]["tick_seconds"] = 0  # the test ticks the study timers itself
    data["discord"]["live_edit_seconds"] = 0.02
    return Settings.model_validate(data)


@contextlib.asynccontextmanager
async def running(settings: Settings, clock: FixedClock) -> AsyncIterator[CoachBot]:
    """A coach and its bot on ``settings``' SQLite file; leaving stops both (a restart is
    leaving and entering again with the same settings)."""
    coach: Coach = build_coach(settings, clock)
    await coach.start()
    client = await logged_in_bot(coach)
    try:
        yield client
    finally:
        await client.close()
        await coach.close()
        await asyncio.sleep(0)


async def start_round(bot: CoachBot, standin: Standin, count: int) -> tuple[Message, Message]:
    start = interaction_payload(
        2, command_data(("study", "quiz"), {"topic": "volume", "count": count}), user_id=801
    )
    await run(bot, standin, start, 2)
    await bot.live.drain()
    [question] = titled(standin, "채널 퀴즈")
    [board] = titled(standin, "점수판")
    return question, board


def public_ids(standin: Standin) -> list[str]:
    return [m.id for m in standin.channel_messages(CHANNEL_ID) if m.public and not m.deleted]


async def test_a_round_resumed_after_a_restart_edits_its_own_messages(
    settings: Settings, clock: FixedClock, standin: Standin
) -> None:
    chosen = study_settings(settings)
    async with running(chosen, clock) as first:
        question, board = await start_round(first, standin, 2)
        answer_id = next(c for c in question.custom_ids() if c.lstrip("~").startswith("study:"))
        await press_as(first, standin, answer_id, question, 802, "bob")
        await settled()
        await first.live.drain()
    edits = board.edits
    assert "bob" in text_of(board).lower()

    async with running(chosen, clock) as second:  # the same SQLite file: a restart
        await second.coach.study.tick()  # resumes the round still in time
        await second.live.drain()
        assert public_ids(standin) == [question.id, board.id]  # nothing posted anew
        assert board.edits > edits and "bob" in text_of(board).lower()
        await press_as(second, standin, answer_id, question, 803, "carol")
        await settled()
        await second.live.drain()
        assert "carol" in text_of(board).lower()
        assert public_ids(standin) == [question.id, board.id]


async def test_a_deleted_board_is_posted_again_once_after_a_restart(
    settings: Settings, clock: FixedClock, standin: Standin
) -> None:
    chosen = study_settings(settings)
    async with running(chosen, clock) as first:
        question, board = await start_round(first, standin, 2)
    board.deleted = True  # a member (or a moderator) deleted the scoreboard meanwhile

    async with running(chosen, clock) as second:
        await second.coach.study.tick()
        await second.live.drain()
        [new_board] = [m for m in titled(standin, "점수판") if not m.deleted]
        assert new_board.id != board.id
        assert public_ids(standin) == [question.id, new_board.id]
        answer_id = next(c for c in question.custom_ids() if c.lstrip("~").startswith("study:"))
        await press_as(second, standin, answer_id, question, 802, "bob")
        await settled()
        await second.live.drain()
        assert "bob" in text_of(new_board).lower()  # edited, not posted a third time
        assert public_ids(standin) == [question.id, new_board.id]

    async with running(chosen, clock) as third:  # and remembered for the next restart
        await third.coach.study.tick()
        await third.live.drain()
        assert public_ids(standin) == [question.id, new_board.id]


def with_interval(settings: Settings, seconds: float) -> Settings:
    data = settings.model_dump()
    data["study"]["tick_seconds"] = 0
    data["discord"]["live_edit_seconds"] = seconds
    return Settings.model_validate(data)


def board_post(version: int) -> Post:
    return Post(
        str(GUILD_ID), str(CHANNEL_ID), Reply(title="Board", body=f"version {version}"), "k"
    )


async def test_board_writes_wait_for_the_channels_interval_and_coalesce(
    settings: Settings, clock: FixedClock, standin: Standin
) -> None:
    """The edit rate limit bites: after one write, a channel gets nothing more until
    ``live_edit_seconds`` passed (an hour here), and the versions published meanwhile
    collapse into one waiting write: the latest."""
    async with running(with_interval(settings, 3600), clock) as bot:
        await bot.coach.posts.publish(board_post(0))
        await bot.live.drain()
        [board] = [m for m in standin.channel_messages(CHANNEL_ID) if m.public]
        assert "version 0" in text_of(board)
        for version in range(1, 6):
            await bot.coach.posts.publish(board_post(version))
        for _ in range(20):  # the channel's worker runs: it may only wait
            await asyncio.sleep(0)
        assert board.edits == 0 and "version 0" in text_of(board)
        assert [m.id for m in standin.channel_messages(CHANNEL_ID)] == [board.id]
        assert bot.live.stats.coalesced == 4  # versions 2-5 took version 1's turn
        assert bot.live.stats.edited == 0


async def test_the_latest_board_is_the_one_shown(
    settings: Settings, clock: FixedClock, standin: Standin
) -> None:
    async with running(with_interval(settings, 0), clock) as bot:
        for version in range(6):
            await bot.coach.posts.publish(board_post(version))
        await bot.live.drain()
        [board] = [m for m in standin.channel_messages(CHANNEL_ID) if m.public]
        assert "version 5" in text_of(board)
        assert board.edits <= 1  # the first version sent, the rest coalesced into one edit


async def test_a_reward_role_is_given_on_discord_once_the_bot_may_manage_roles(
    settings: Settings, clock: FixedClock, standin: Standin
) -> None:
    """Without Manage Roles Discord refuses (403): the server is told once, in the channel,
    and members still hear of their milestone; once the bot has a role with Manage Roles
    above the reward role, the next member who reaches it gets the role from Discord."""
    from bot.core.context import Actor

    async with running(study_settings(settings), clock) as bot:
        coach, store = bot.coach, bot.coach.store
        assert store is not None
        graduate = standin.add_role("Docker Graduate", position=1)
        guild, channel = str(GUILD_ID), str(CHANNEL_ID)
        manager = Actor("801", "alice", guild, "en", is_admin=True, channel_id=channel)
        await coach.run(
            manager, ("admin", "reward"), {"milestone": "all-concepts", "role": graduate}
        )
        concepts = [c.id for c in coach.concepts.ranked("")]

        async def reaches(user_id: str, name: str) -> str:
            member = Actor(user_id, name, guild, "en", channel_id=channel)
            for concept in concepts[:-1]:
                await store.progress.record_read(member, concept)
            replies = await coach.run(member, ("concept",), {"topic": concepts[-1]})
            await bot.live.drain()
            return "\n".join(r.body for r in replies)

        assert "Milestone reached" in await reaches("802", "bob")
        assert "Milestone reached" in await reaches("803", "carol")
        assert standin.granted == []
        notices = [m for m in standin.channel_messages(CHANNEL_ID) if "Manage Roles" in text_of(m)]
        assert len(notices) == 1 and notices[0].public  # said once, to the server

        standin.add_role("Coach", position=2, bot=True, manage_roles=True)
        assert "reward role is on its way" in await reaches("802", "bob")
        assert standin.granted == [(guild, "802", graduate)]
        await reaches("802", "bob")  # reached again: given once
        assert standin.granted == [(guild, "802", graduate)]


async def test_a_typed_question_is_answered_in_a_form_and_graded_like_the_cli(
    study_bot: CoachBot, standin: Standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiz = study_bot.coach.study.rounds.quiz
    monkeypatch.setattr(
        quiz, "pick", lambda _t, _c: [("docker-hello", quiz.order_for("docker-hello"))]
    )
    question, board = await start_round(study_bot, standin, 1)
    [typed_id] = [c for c in question.custom_ids() if c.lstrip("~").startswith("study:t:")]
    # Another spelling of the same command is right; without --rm it is not.
    right = await press_as(
        study_bot,
        standin,
        typed_id,
        question,
        802,
        "bob",
        "docker container run --rm busybox echo hello",
    )
    wrong = await press_as(
        study_bot, standin, typed_id, question, 803, "carol", "docker run busybox echo hello"
    )
    assert right.ephemeral and "+" in text_of(right)
    assert wrong.ephemeral and "+" not in text_of(wrong)
    await settled()
    await study_bot.live.drain()
    lines = text_of(board).lower().splitlines()
    assert any("bob" in line and "pts (1/1)" in line for line in lines)
    assert any("carol" in line and "0 pts (0/1)" in line for line in lines)
