"""/progress, /forget-me, /language and the concept-read hook, through the coach."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from bot.coach import Coach
from bot.core.clock import FixedClock
from bot.core.commands import MemberRef
from bot.core.context import Actor
from bot.core.moments import moment
from bot.core.reply import Reply, Tone
from tests.conftest import make_actor
from tests.quiz.helpers import answer, question_reply


def field(reply: Reply, name: str) -> str:
    return next(f.value for f in reply.fields if f.name == name)


async def play(coach: Coach, actor: Actor, count: int, right: bool = True) -> None:
    replies = await coach.run(actor, ("quiz",), {"topic": "docker", "count": count})
    for _ in range(count):
        replies = await answer(coach, actor, question_reply(replies), right)


async def test_progress_shows_everything(coach: Coach, alice: Actor, clock: FixedClock) -> None:
    empty = await coach.run(alice, ("progress",))
    assert "Nothing recorded here yet" in empty[0].body
    await coach.run(alice, ("concept",), {"topic": "volume"})
    await coach.run(alice, ("concept",), {"topic": "volume"})
    await play(coach, alice, 3)
    clock.advance(days=1)
    await play(coach, alice, 2, right=False)
    reply = (await coach.run(alice, ("progress",)))[0]
    assert field(reply, "Concepts read").startswith("1 of ")
    assert field(reply, "Questions answered") == "5 answered, 3 correct (60%)"
    assert field(reply, "Practice steps") == "0 done"
    assert field(reply, "Streak") == "current 2 · best 2 (active days)"
    # The two wrong answers are due again a minute later (FSRS's first learning step).
    soon = clock.now() + timedelta(minutes=1)
    assert field(reply, "Reviews") == f"Next: in 1 min ({moment(soon)})"  # each reader's zone
    mastery = field(reply, "Mastery per topic (last answer right)")
    assert mastery.startswith("Docker basics: ")  # /quiz docker: the concept Docker (basics)
    assert reply.image is not None and reply.image.filename == "progress.png"
    picture = Image.open(io.BytesIO(reply.image.data))
    assert picture.format == "PNG" and picture.size[0] > 300
    clock.advance(minutes=1)
    later = (await coach.run(alice, ("progress",)))[0]
    assert field(later, "Reviews").startswith("2 due now: /review\nNext: in ")


async def test_progress_of_another_member(coach: Coach, alice: Actor, bob: Actor) -> None:
    await play(coach, bob, 1)
    reply = (await coach.run(alice, ("progress",), {"member": MemberRef("bob", "Bob")}))[0]
    assert reply.title == "Progress — Bob"
    assert field(reply, "Questions answered").startswith("1 answered")


async def test_progress_does_not_leak_between_servers(coach: Coach, alice: Actor) -> None:
    await play(coach, alice, 2)
    elsewhere = make_actor("alice", guild="g2")
    reply = (await coach.run(elsewhere, ("progress",)))[0]
    assert "Nothing recorded here yet" in reply.body


async def test_practice_steps_count(coach: Coach, alice: Actor) -> None:
    assert coach.store is not None and coach.store.practice is not None
    await coach.store.practice.record_step(alice, "first-steps", "run", skipped=False)
    await coach.store.practice.record_step(alice, "first-steps", "ps", skipped=False)
    reply = (await coach.run(alice, ("progress",)))[0]
    assert field(reply, "Practice steps") == "2 done"
    assert not [f for f in reply.fields if f.name.startswith("Scenarios completed")]
    board = (await coach.run(alice, ("leaderboard",)))[0]
    assert "2 points" in board.body


async def test_completed_scenarios_and_skipped_steps(
    coach: Coach, alice: Actor, clock: FixedClock
) -> None:
    practice = coach.store.practice if coach.store else None
    assert practice is not None
    for step, skipped in (("search", True), ("pull", True), ("images", False)):
        await practice.record_step(alice, "search-pull", step, skipped=skipped)
    await practice.record_completion(alice, "search-pull", skipped=2)
    clock.advance(minutes=5)  # listed in the order they were first completed
    await practice.record_step(alice, "volumes", "write", skipped=False)
    await practice.record_completion(alice, "volumes", skipped=0)
    await practice.record_completion(alice, "volumes", skipped=0)
    clock.advance(minutes=5)
    await practice.record_completion(alice, "retired-scenario", skipped=0)
    reply = (await coach.run(alice, ("progress",)))[0]
    assert field(reply, "Practice steps") == "2 done, 2 skipped"
    assert field(reply, "Scenarios completed (3)").splitlines() == [
        "✓ Find, pull and list images (2 skipped)",
        "✓ Data that outlives a container ×2",
        "✓ retired-scenario",
    ]
    korean = (await coach.run(make_actor("alice", locale="ko"), ("progress",)))[0]
    assert field(korean, "실습 단계") == "2단계 완료, 2단계 건너뜀"
    assert "✓ 이미지 찾기, 받기, 목록 보기 (2단계 건너뜀)" in field(korean, "완료한 시나리오 (3)")
    elsewhere = (await coach.run(make_actor("alice", guild="g2"), ("progress",)))[0]
    assert "Nothing recorded here yet" in elsewhere.body


async def test_only_skipped_steps_still_show(coach: Coach, alice: Actor) -> None:
    assert coach.store is not None and coach.store.practice is not None
    await coach.store.practice.record_step(alice, "search-pull", "search", skipped=True)
    reply = (await coach.run(alice, ("progress",)))[0]
    assert field(reply, "Practice steps") == "0 done, 1 skipped"


async def test_forget_me_needs_confirmation(coach: Coach, alice: Actor, bob: Actor) -> None:
    await play(coach, alice, 1)
    assert coach.store is not None
    ask = (await coach.run(alice, ("forget-me",)))[0]
    assert [c.action for c in ask.choices] == [
        "progress:forget:confirm:alice",
        "progress:forget:cancel:alice",
    ]
    refused = await coach.press(bob, ask.choices[0].action)
    assert refused[0].tone is Tone.ERROR
    kept = await coach.press(alice, ask.choices[1].action)
    assert "Nothing was deleted" in kept[0].body
    assert "alice" in await coach.store.known_user_ids()
    done = await coach.press(alice, ask.choices[0].action)
    assert done[0].tone is Tone.SUCCESS
    assert "alice" not in await coach.store.known_user_ids()
    assert "Nothing recorded here yet" in (await coach.run(alice, ("progress",)))[0].body


async def test_language_preference(coach: Coach, alice: Actor) -> None:
    shown = await coach.run(alice, ("language",))
    assert "the language of your Discord client" in shown[0].body
    changed = await coach.run(alice, ("language",), {"language": "ko"})
    assert changed[0].title == "언어"
    replies = await coach.run(alice, ("quiz",), {"topic": "docker", "count": 1})
    assert question_reply(replies).title == "문제 1/1"
    assert await coach.progress.locale_for(alice) == "ko"
    bad = await coach.run(alice, ("language",), {"language": "fr"})
    assert bad[0].tone is Tone.ERROR


async def test_reading_a_concept_counts_for_today(
    coach: Coach, alice: Actor, clock: FixedClock
) -> None:
    await coach.run(alice, ("concept",), {"topic": "container"})
    clock.advance(timedelta(days=1))
    await coach.run(alice, ("concept",), {"topic": "볼륨"})
    assert coach.store is not None
    days = await coach.store.progress.days("alice", "g1")
    assert [d.reads for d in days] == [1, 1]
    assert await coach.store.progress.concepts_read("alice", "g1") == {"container", "volume"}


async def test_a_failing_language_lookup_falls_back_to_the_front_ends_locale(
    coach: Coach, alice: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(_actor: Actor) -> str | None:
        raise RuntimeError("the store went away")

    monkeypatch.setattr(coach.progress, "locale_for", broken)
    # Autocomplete still answers, and commands still run, in the locale the front end gave.
    assert await coach.complete(alice, ("help",), "command", "conc")
    replies = await coach.run(alice, ("concept",), {"topic": "volume"})
    assert replies[0].title == "Volume"
