"""/quiz end to end through the coach, on a real SQLite file, with a clock the test moves."""

from __future__ import annotations

import asyncio

from bot.coach import Coach
from bot.core.clock import FixedClock
from bot.core.context import Actor
from bot.core.metrics import REGISTRY
from bot.core.reply import Tone
from bot.quiz.content import QUESTIONS
from bot.settings import Settings
from tests.conftest import make_actor
from tests.quiz.helpers import answer, correct_option, current_question, question_reply


async def test_a_round_with_feedback_and_a_score(coach: Coach, alice: Actor) -> None:
    replies = await coach.run(alice, ("quiz",), {"topic": "docker", "count": 3})
    reply = question_reply(replies)
    assert reply.title == "Question 1 of 3"
    for number in range(3):
        replies = await answer(coach, alice, reply, right=number != 1)
        feedback = replies[0]
        assert feedback.tone is (Tone.WARNING if number == 1 else Tone.SUCCESS)
        assert feedback.body  # the explanation
        if number < 2:
            reply = question_reply(replies)
            assert reply.title == f"Question {number + 2} of 3"
    assert replies[-1].title == "Score: 2/3"
    assert coach.store is not None
    totals = await coach.store.progress.totals("alice", "g1")
    assert (totals.answers, totals.correct) == (3, 2)


async def test_topic_matching(coach: Coach, alice: Actor) -> None:
    service = coach.quiz
    bank = list(coach.library.items(QUESTIONS).values())
    for everything in ("", "all", "전체", None):
        assert len(service.matching(everything)) == len(bank)
    storage = {q.id for q in bank if q.topic == "storage"}
    for name in ("storage", "Files and storage", "파일과 저장 공간", " STORAGE "):
        assert {q.id for q in service.matching(name)} == storage, name
    docker = service.matching("docker")  # the concept "Docker", as the console's Done-when uses
    assert len(docker) >= 3 and all("docker" in q.concepts for q in docker)
    volume = service.matching("volume")
    assert volume and all("volume" in q.concepts for q in volume)
    assert {q.id for q in service.matching("볼륨")} == {q.id for q in volume}
    replies = await coach.run(alice, ("quiz",), {"topic": "no-such-topic"})
    assert replies[0].tone is Tone.ERROR and "storage" in replies[0].body


async def test_topic_autocomplete(coach: Coach) -> None:
    complete = coach.complete
    offered = await complete(make_actor("alice"), ("quiz",), "topic", "")
    values = [s.value for s in offered]
    assert values[0] == "all" and offered[0].label == "All topics"
    assert values[1:8] == coach.quiz.topics()
    assert "Files and storage (storage)" in [s.label for s in offered]
    assert len(offered) == 25  # concepts fill the rest
    korean = await complete(make_actor("kim", locale="ko"), ("quiz",), "topic", "저장")
    assert korean[0].value == "storage" and korean[0].label == "파일과 저장 공간 (storage)"
    volume = await complete(make_actor("alice"), ("quiz",), "topic", "volu")
    assert volume[0].value == "volume" and "Volume" in volume[0].label
    linked = {c for q in coach.library.items(QUESTIONS).values() for c in q.concepts}
    assert {s.value for s in volume} <= linked | set(coach.quiz.topics()) | {"all"}
    for suggestion in offered:  # what autocomplete offers, /quiz accepts
        assert coach.quiz.matching(suggestion.value), suggestion


async def test_pressing_twice_records_once(coach: Coach, alice: Actor) -> None:
    reply = question_reply(await coach.run(alice, ("quiz",), {"topic": "docker", "count": 2}))
    await answer(coach, alice, reply, right=True)
    again = await answer(coach, alice, reply, right=False)
    assert again[0].title == "Already answered"
    round_id, *_ = await current_question(coach, reply)
    assert coach.store is not None
    assert await coach.store.quiz.answer_count(round_id) == 1


async def test_someone_elses_quiz_is_refused(coach: Coach, alice: Actor, bob: Actor) -> None:
    reply = question_reply(await coach.run(alice, ("quiz",), {"topic": "docker", "count": 1}))
    refused = await answer(coach, bob, reply, right=True)
    assert refused[0].tone is Tone.ERROR
    assert "belongs to someone else" in refused[0].body
    round_id, *_ = await current_question(coach, reply)
    assert coach.store is not None
    assert await coach.store.quiz.answer_count(round_id) == 0


async def test_buttons_work_after_a_restart(settings: Settings, clock: FixedClock) -> None:
    alice = make_actor("alice")
    first = await Coach.open(settings, clock=clock)
    try:
        reply = question_reply(await first.run(alice, ("quiz",), {"topic": "docker", "count": 2}))
    finally:
        await first.close()
    second = await Coach.open(settings, clock=clock)
    try:
        replies = await answer(second, alice, reply, right=True)
        assert replies[0].tone is Tone.SUCCESS
        assert question_reply(replies).title == "Question 2 of 2"
    finally:
        await second.close()


async def test_equivalent_and_near_miss_typed_answers(coach: Coach, alice: Actor) -> None:
    assert coach.store is not None
    round_id = await coach.store.quiz.create_round(
        alice, "quiz", None, [("docker-run-detached-named", ()), ("docker-run-detached-named", ())]
    )
    ok = await coach.press(alice, f"quiz:t:{round_id}:0", "docker run --name=web --detach nginx")
    assert ok[0].title == "Correct!"
    assert ok[1].prompt is not None  # the next question
    miss = await coach.press(alice, f"quiz:t:{round_id}:1", "docker run --name web nginx -d")
    assert miss[0].title == "Not quite"
    assert "comes after the image `nginx`" in miss[0].body
    assert "`docker run -d --name web nginx`" in miss[0].body


async def test_answer_time_sets_the_rating(coach: Coach, alice: Actor, clock: FixedClock) -> None:
    assert coach.store is not None
    qid = "docker-what-is-container"
    round_id = await coach.store.quiz.create_round(alice, "quiz", None, [(qid, (0, 1, 2, 3))] * 4)
    question = coach.library.items(QUESTIONS)[qid]
    right = correct_option(question)
    wrong = (right + 1) % 4
    for position, (seconds, button) in enumerate(
        [(2, right), (20, right), (120, right), (1, wrong)]
    ):
        clock.advance(seconds=seconds)
        await coach.press(alice, f"quiz:a:{round_id}:{position}:{button}")
    rows = await coach.store.db.fetchall(
        "SELECT rating, seconds FROM answers WHERE round_id = ? ORDER BY position", (round_id,)
    )
    assert [r[0] for r in rows] == [4, 3, 2, 1]  # Easy, Good, Hard, Again
    assert [r[1] for r in rows] == [2.0, 20.0, 120.0, 1.0]


async def test_bad_actions_are_refused(coach: Coach, alice: Actor) -> None:
    for action in ("quiz:a:zz:0:0", "quiz:a:999999:0:0", "quiz:x", "quiz:t:1"):
        replies = await coach.press(alice, action)
        assert replies[0].tone is Tone.ERROR, action


async def test_korean_quiz(coach: Coach) -> None:
    kim = make_actor("kim", locale="ko")
    reply = question_reply(await coach.run(kim, ("quiz",), {"topic": "docker", "count": 1}))
    assert reply.title == "문제 1/1"


async def test_many_learners_answer_at_once(coach: Coach) -> None:
    learners = [make_actor(f"learner{i}", guild=f"g{i % 3}") for i in range(20)]

    async def play(actor: Actor) -> str:
        replies = await coach.run(actor, ("quiz",), {"topic": "docker", "count": 3})
        for _ in range(3):
            replies = await answer(coach, actor, question_reply(replies), right=True)
        return replies[-1].title or ""

    titles = await asyncio.gather(*(play(a) for a in learners))
    assert titles == ["Score: 3/3"] * 20
    assert coach.store is not None
    assert await coach.store.db.scalar("SELECT count(*) FROM answers") == 60


async def test_a_double_click_records_once(coach: Coach, alice: Actor) -> None:
    reply = question_reply(await coach.run(alice, ("quiz",), {"topic": "docker", "count": 2}))
    first, second = await asyncio.gather(
        answer(coach, alice, reply, right=True), answer(coach, alice, reply, right=True)
    )
    titles = sorted([first[0].title, second[0].title])
    assert titles == ["Already answered", "Correct!"]
    round_id, *_ = await current_question(coach, reply)
    assert coach.store is not None
    assert await coach.store.quiz.answer_count(round_id) == 1


def _answers_counted(result: str) -> float:
    return REGISTRY.get_sample_value("coach_quiz_answers_total", {"result": result}) or 0.0


async def test_each_recorded_answer_is_counted_once_in_the_metrics(
    coach: Coach, alice: Actor
) -> None:
    """/metrics' coach_quiz_answers_total{result}: one per answer recorded (a second press
    of an answered question records nothing and counts nothing)."""
    before = {result: _answers_counted(result) for result in ("correct", "wrong")}
    reply = question_reply(await coach.run(alice, ("quiz",), {"topic": "docker", "count": 2}))
    replies = await answer(coach, alice, reply, right=True)
    await answer(coach, alice, reply, right=True)  # pressed again: "already answered"
    await answer(coach, alice, question_reply(replies), right=False)
    assert _answers_counted("correct") - before["correct"] == 1
    assert _answers_counted("wrong") - before["wrong"] == 1
