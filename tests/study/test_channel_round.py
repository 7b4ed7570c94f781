"""A channel quiz round: everyone answers, one live board, timers on the coach's clock."""

from __future__ import annotations

from datetime import timedelta

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
