"""/review with FSRS, over simulated weeks with a clock the test moves."""

from __future__ import annotations

from datetime import timedelta

from bot.coach import Coach
from bot.core.clock import FixedClock
from bot.core.context import Actor
from bot.quiz.content import QUESTIONS
from bot.quiz.scheduling import Reviewer, rating_for
from bot.settings import QuizSettings
from tests.quiz.helpers import answer, asks, correct_option, current_question, question_reply

QUESTION = "docker-what-is-container"


def test_rating_rule() -> None:
    settings = QuizSettings(fast_answer_seconds=8, slow_answer_seconds=45)
    assert rating_for(False, 1, settings, typed=False) == 1
    assert rating_for(True, 3, settings, typed=False) == 4
    assert rating_for(True, 20, settings, typed=False) == 3
    assert rating_for(True, 50, settings, typed=False) == 2
    assert rating_for(True, 50, settings, typed=True) == 3  # typing gets twice the time


def test_intervals_grow_with_good_answers_and_shrink_after_a_lapse(clock: FixedClock) -> None:
    reviewer = Reviewer(0.9)
    now = clock.now()
    card, gaps = None, []
    for _ in range(5):
        card, due = reviewer.review(card, 3, now)
        gaps.append(due - now)
        now = due
    assert gaps == sorted(gaps) and gaps[-1] > timedelta(days=30)
    _, due = reviewer.review(card, 1, now)
    assert due - now < timedelta(days=1)


async def _answer_review(coach: Coach, actor: Actor, right: bool, clock: FixedClock) -> int:
    """Answer every question of one /review, 20 s each (Good); return how many there were."""
    replies = await coach.run(actor, ("review",))
    count = 0
    while any(asks(r) for r in replies):
        reply = question_reply(replies)
        clock.advance(seconds=20)
        replies = await answer(coach, actor, reply, right)
        count += 1
    return count


async def test_nothing_due_says_when(coach: Coach, alice: Actor, clock: FixedClock) -> None:
    first = await coach.run(alice, ("review",))
    assert "Nothing to review yet" in first[0].body
    assert coach.store is not None
    round_id = await coach.store.quiz.create_round(alice, "quiz", None, [(QUESTION, (0, 1, 2, 3))])
    right = correct_option(coach.library.items(QUESTIONS)[QUESTION])
    clock.advance(seconds=20)
    await coach.press(alice, f"quiz:a:{round_id}:0:{right}")
    replies = await coach.run(alice, ("review",))
    assert "Nothing is due right now" in replies[0].body
    assert "in 10 min" in replies[0].body  # FSRS's second learning step


async def test_simulated_weeks(coach: Coach, alice: Actor, clock: FixedClock) -> None:
    """A learner who reviews whatever is due each morning for eight weeks, always right."""
    replies = await coach.run(alice, ("quiz",), {"topic": "docker", "count": 3})
    reply = question_reply(replies)
    for _ in range(3):
        clock.advance(seconds=20)
        replies = await answer(coach, alice, reply, right=True)
        if any(asks(r) for r in replies):
            reply = question_reply(replies)
    assert coach.store is not None
    reviewed_per_day: list[int] = []
    for _day in range(56):
        clock.advance(days=1)
        reviewed_per_day.append(await _answer_review(coach, alice, right=True, clock=clock))
    # Every card came back, and came back less and less often.
    assert sum(reviewed_per_day[:7]) >= 3
    assert sum(reviewed_per_day[28:]) < sum(reviewed_per_day[:28])
    upcoming = await coach.store.quiz.upcoming("alice", "g1")
    assert all(c.due - clock.now() > timedelta(days=7) for c in upcoming)

    # A lapse brings the question back the same day.
    for card in upcoming[:1]:
        await coach.store.db.execute(
            "UPDATE cards SET due = ? WHERE question_id = ?",
            (clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"), card.question_id),
        )
    assert await _answer_review(coach, alice, right=False, clock=clock) == 1
    soon = await coach.store.quiz.upcoming("alice", "g1", limit=1)
    assert soon[0].due - clock.now() < timedelta(hours=1)


async def test_review_round_uses_due_questions(coach: Coach, alice: Actor, clock: FixedClock):
    replies = await coach.run(alice, ("quiz",), {"topic": "docker", "count": 2})
    reply = question_reply(replies)
    first_round, *_ = await current_question(coach, reply)
    for _ in range(2):
        replies = await answer(coach, alice, reply, right=False)
        if any(asks(r) for r in replies):
            reply = question_reply(replies)
    clock.advance(minutes=2)
    replies = await coach.run(alice, ("review",))
    reply = question_reply(replies)
    assert reply.title == "Review 1 of 2"
    round_id, *_ = await current_question(coach, reply)
    assert round_id != first_round
