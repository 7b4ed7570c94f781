"""A channel quiz round: everyone answers, one live board, timers on the coach's clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.coach import Coach
from bot.core.clock import FixedClock
from bot.core.posts import Post
from tests.conftest import make_actor
from tests.study.conftest import Terminal


async def test_done_when_three_members_play_a_round_in_the_console(
    scoach: Coach, terminal: Terminal
) -> None:
    out = await terminal.type("/study quiz docker 2")
    assert "question 1 of 2" in out
    assert "Scoreboard" in out
    await terminal.answer()
    await terminal.type("/as bob")
    await terminal.answer()
    assert "You are now typing as bob" in terminal.out.getvalue()
    await terminal.type("/as carol")
    await terminal.answer()
    out = await terminal.type("/as alice", "/study next")
    assert "question 2 of 2" in out
    # Everyone who played question 1 answers question 2: the round ends by itself.
    await terminal.answer()
    await terminal.type("/as bob")
    await terminal.answer()
    await terminal.type("/as carol")
    out = await terminal.answer()
    assert "Final ranking (2 questions)" in out
    ranking = out.split("Final ranking", 1)[1]
    for name in ("alice", "bob", "carol"):
        assert name in ranking
    out = await terminal.type("/as bob", "/progress")
    assert "2 answered" in out


async def test_answers_count_once_and_only_while_the_question_is_open(
    scoach: Coach, posts: list[Post], clock: FixedClock
) -> None:
    alice, bob = make_actor("alice", guild="g"), make_actor("bob", guild="g")
    [started] = await scoach.run(alice, ("study", "quiz"), {"topic": "volume", "count": 2})
    assert "started a round" in started.body
    question = next(p for p in posts if p.key and p.key.startswith("study:q:"))
    action = (
        question.reply.choices[0].action if question.reply.choices else question.reply.prompt.action
    )  # type: ignore[union-attr]
    first = await scoach.press(bob, action, "docker ps")
    again = await scoach.press(bob, action, "docker ps")
    assert "one answer counts" in again[0].body
    assert first[0].tone.value in ("success", "warning")
    clock.advance(seconds=31)
    await scoach.study.tick()  # the timer closes question 1
    late = await scoach.press(alice, action, "docker ps")
    assert "closed" in late[0].body
    store = scoach.store
    assert store is not None
    round_ = await store.study.live_round("g", "console")
    assert round_ is not None and round_.position == 1
    assert await store.study.answer_count(round_.round_id) == 1


async def test_one_round_per_channel_and_only_the_host_moves_it(scoach: Coach) -> None:
    alice, bob = make_actor("alice", guild="g"), make_actor("bob", guild="g")
    await scoach.run(alice, ("study", "quiz"), {"count": 1})
    [busy] = await scoach.run(bob, ("study", "quiz"), {})
    assert "already running" in busy.body
    [refused] = await scoach.run(bob, ("study", "next"), {})
    assert "host" in refused.body
    [stopped] = await scoach.run(alice, ("study", "stop"), {})
    assert "over" in stopped.body


async def test_a_restarted_round_resumes_or_ends_with_the_scores_so_far(
    settings, clock: FixedClock
) -> None:
    from tests.study.conftest import study_settings

    chosen = study_settings(settings)
    alice = make_actor("alice", guild="g")
    coach = await Coach.open(chosen, clock=clock)
    async with coach:
        await coach.run(alice, ("study", "quiz"), {"count": 3, "seconds": 30})
    # Back within the question's time: the round goes on, its question shown again.
    coach = await Coach.open(chosen, clock=clock)
    async with coach:
        seen: list[Post] = []

        async def keep(post: Post) -> None:
            seen.append(post)

        coach.posts.subscribe(keep)
        await coach.study.tick()
        assert any(p.key and p.key.startswith("study:q:") for p in seen)
        assert coach.store is not None
        assert await coach.store.study.live_round("g", "console") is not None
    # Back after the question closed: the round ends cleanly with its ranking.
    clock.advance(timedelta(minutes=5))
    coach = await Coach.open(chosen, clock=clock)
    async with coach:
        seen = []
        coach.posts.subscribe(keep)
        await coach.study.tick()
        assert coach.store is not None
        assert await coach.store.study.live_round("g", "console") is None
        assert any("Final ranking" in (p.reply.title or "") for p in seen)
        assert any("restart" in (p.reply.footer or "") for p in seen)


async def test_a_round_started_after_the_coach_is_not_shown_again_by_the_first_tick(
    scoach: Coach, posts: list[Post], clock: FixedClock
) -> None:
    """The first tick resumes rounds an earlier coach left running, not this coach's own:
    a round started before it would otherwise have its question posted twice."""
    alice = make_actor("alice", guild="g")
    clock.advance(seconds=1)
    await scoach.run(alice, ("study", "quiz"), {"count": 2, "seconds": 30})
    shown = [p for p in posts if p.key and p.key.startswith("study:q:")]
    assert len(shown) == 1
    clock.advance(seconds=1)
    await scoach.study.tick()  # the first tick: resumes inherited rounds
    assert [p for p in posts if p.key and p.key.startswith("study:q:")] == shown


async def test_posts_speak_the_servers_language(scoach: Coach, posts: list[Post]) -> None:
    from dataclasses import replace

    english = replace(make_actor("alice", guild="g"), guild_locale="ko")
    await scoach.run(english, ("study", "quiz"), {"count": 1})
    assert "채널 퀴즈" in (posts[0].reply.title or "")  # the server's own language
    await scoach.run(english, ("study", "stop"), {})
    manager = make_actor("mod", guild="g", admin=True)
    [chosen] = await scoach.run(manager, ("admin", "language"), {"language": "en"})
    assert "English" in chosen.body
    posts.clear()
    await scoach.run(english, ("study", "quiz"), {"count": 1})
    assert "Channel quiz" in (posts[0].reply.title or "")  # the managers' choice wins


@pytest.mark.parametrize("question_id", ["docker-what-is", "docker-hello"])  # buttons; typed
async def test_a_right_answer_earns_more_the_faster_it_comes(
    scoach: Coach,
    posts: list[Post],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    question_id: str,
) -> None:
    """100 points for a right answer and up to 100 more for speed: at once 200, halfway
    through the question's time 150, a wrong answer nothing."""
    from bot.study.rounds import points_for

    quiz = scoach.study.rounds.quiz
    monkeypatch.setattr(
        quiz, "pick", lambda _topic, _count: [(question_id, quiz.order_for(question_id))]
    )
    assert points_for(True, 0, 30) == 200
    assert points_for(True, 15, 30) == 150
    assert points_for(True, 45, 30) == 100  # late but right (a resumed round): no bonus
    assert points_for(False, 0, 30) == 0
    alice = make_actor("alice", guild="g")
    await scoach.run(alice, ("study", "quiz"), {"count": 1, "seconds": 30})
    question = next(p for p in posts if p.key and p.key.startswith("study:q:"))
    store = scoach.store
    assert store is not None
    round_ = await store.study.live_round("g", "console")
    assert round_ is not None
    slot = round_.questions[0]
    reply = question.reply
    if reply.choices:  # find the right and a wrong button through the quiz's own grading
        buttons = [(c.action, int(c.action.rsplit(":", 1)[1])) for c in reply.choices]
        pressed = [
            (action, quiz.grade(slot.question_id, slot.option_order, button, None, 0).correct)
            for action, button in buttons
        ]
        right = (next(a for a, ok in pressed if ok), None)
        wrong = (next(a for a, ok in pressed if not ok), None)
    else:
        assert reply.prompt is not None
        answer = quiz.right_answer(scoach.translator("en"), slot.question_id).strip("`")
        right, wrong = (reply.prompt.action, answer), (reply.prompt.action, "docker ps")
    [fast] = await scoach.press(make_actor("bob", guild="g"), *right)
    clock.advance(seconds=15)
    [slow] = await scoach.press(make_actor("carol", guild="g"), *right)
    [missed] = await scoach.press(make_actor("dan", guild="g"), *wrong)
    assert "+200" in fast.body and "+150" in slow.body and "Not this time" in missed.body
    points = {s.user_id: s.points for s in await store.study.standings(round_.round_id)}
    assert points == {"bob": 200, "carol": 150, "dan": 0}


async def test_a_manager_moves_on_and_stops_a_round_another_member_hosts(
    scoach: Coach, posts: list[Post]
) -> None:
    alice, bob = make_actor("alice", guild="g"), make_actor("bob", guild="g")
    manager = make_actor("mod", guild="g", admin=True)
    await scoach.run(alice, ("study", "quiz"), {"count": 3})
    [refused] = await scoach.run(bob, ("study", "stop"), {})
    assert "host" in refused.body and refused.tone.value == "error"
    [moved] = await scoach.run(manager, ("study", "next"), {})
    assert "next question" in moved.body
    store = scoach.store
    assert store is not None
    round_ = await store.study.live_round("g", "console")
    assert round_ is not None and round_.position == 1
    [stopped] = await scoach.run(manager, ("study", "stop"), {})
    assert "over" in stopped.body
    assert await store.study.live_round("g", "console") is None
    assert any("Final ranking" in (p.reply.title or "") for p in posts)
