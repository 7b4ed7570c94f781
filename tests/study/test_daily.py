"""The daily question: posted at the configured local time on the coach's clock, once a day,
never twice after a restart, never a backlog after a downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.coach import Coach
from bot.core.clock import FixedClock
from bot.core.posts import Post
from bot.settings import Settings
from tests.conftest import make_actor
from tests.study.conftest import study_settings

KST_0800 = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)  # 08:00 on 1 January in Seoul


def daily_posts(posts: list[Post]) -> list[Post]:
    return [p for p in posts if p.reply.title == "Question of the day"]


async def open_coach(settings: Settings, clock: FixedClock, seen: list[Post]) -> Coach:
    coach = await Coach.open(settings, clock=clock)

    async def keep(post: Post) -> None:
        seen.append(post)

    coach.posts.subscribe(keep)
    return coach


async def test_done_when_posted_once_at_the_time_and_not_again_after_a_restart(
    settings: Settings,
) -> None:
    chosen = study_settings(settings)
    clock = FixedClock(KST_0800)
    seen: list[Post] = []
    admin = make_actor("mod", guild="g", admin=True)
    coach = await open_coach(chosen, clock, seen)
    async with coach:
        [reply] = await coach.run(
            admin, ("admin", "daily"), {"channel": "general", "time": "09:00"}
        )
        assert "09:00 (Asia/Seoul)" in reply.body
        await coach.study.tick()
        assert daily_posts(seen) == []  # 08:00 in Seoul: not yet
        clock.advance(minutes=59)
        await coach.study.tick()
        assert daily_posts(seen) == []
        clock.advance(minutes=1)
        await coach.study.tick()
        await coach.study.tick()
        [posted] = daily_posts(seen)
        assert posted.channel_id == "general" and posted.guild_id == "g"
        assert posted.reply.choices or posted.reply.prompt
    clock.advance(minutes=30)
    coach = await open_coach(chosen, clock, seen)  # a restart the same day
    async with coach:
        await coach.study.tick()
        assert len(daily_posts(seen)) == 1
        clock.advance(timedelta(days=1))  # the next day at 09:30: the next question
        await coach.study.tick()
        assert len(daily_posts(seen)) == 2


async def test_days_missed_while_down_are_not_posted_later(settings: Settings) -> None:
    chosen = study_settings(settings)
    clock = FixedClock(KST_0800)
    seen: list[Post] = []
    admin = make_actor("mod", guild="g", admin=True)
    coach = await open_coach(chosen, clock, seen)
    async with coach:
        await coach.run(admin, ("admin", "daily"), {"channel": "general", "time": "09:00"})
    clock.advance(timedelta(days=3, hours=5))  # down for three days; back at 13:00
    coach = await open_coach(chosen, clock, seen)
    async with coach:
        await coach.study.tick()
        assert daily_posts(seen) == []  # today's is 4 h late: skipped, and no backlog
        clock.advance(timedelta(hours=20))  # the next morning, 09:00
        await coach.study.tick()
        assert len(daily_posts(seen)) == 1


async def test_a_daily_answer_counts_like_any_other(settings: Settings) -> None:
    chosen = study_settings(settings)
    clock = FixedClock(KST_0800 + timedelta(hours=1))
    seen: list[Post] = []
    admin, bob = make_actor("mod", guild="g", admin=True), make_actor("bob", guild="g")
    coach = await open_coach(chosen, clock, seen)
    async with coach:
        await coach.run(admin, ("admin", "daily"), {"channel": "general", "time": "09:00"})
        # Set at 09:00 sharp: today's comes now.
        await coach.study.tick()
        [posted] = daily_posts(seen)
        reply = posted.reply
        action = reply.choices[0].action if reply.choices else reply.prompt.action  # type: ignore[union-attr]
        [answered] = await coach.press(bob, action, "docker ps")
        assert answered.tone.value in ("success", "warning")
        assert coach.store is not None
        totals = await coach.store.progress.totals("bob", "g")
        assert totals.answers == 1
        assert not [p for p in seen if p.key and p.key.startswith("study:board")]
        clock.advance(timedelta(days=1))  # closed when the next one comes: the tally shows
        await coach.study.tick()
        closed = [p for p in seen if "(closed)" in (p.reply.title or "")]
        assert len(closed) == 1 and "of 1 answered right" in closed[0].reply.body


async def test_the_weekly_summary_goes_to_the_daily_channel_once_a_week(
    settings: Settings,
) -> None:
    chosen = study_settings(settings)
    clock = FixedClock(datetime(2026, 1, 4, 23, 0, tzinfo=UTC))  # Monday 08:00 in Seoul
    seen: list[Post] = []
    admin = make_actor("mod", guild="g", admin=True)
    coach = await open_coach(chosen, clock, seen)
    async with coach:
        await coach.run(admin, ("study", "plan"), {"set": "volume container"})
        await coach.run(admin, ("admin", "daily"), {"channel": "general", "time": "09:00"})
        clock.advance(hours=1)
        await coach.study.tick()
        await coach.study.tick()
        weekly = [p for p in seen if (p.reply.title or "").startswith("Weekly summary")]
        assert len(weekly) == 1 and weekly[0].channel_id == "general"
        assert weekly[0].reply.image is not None and weekly[0].reply.code
        clock.advance(timedelta(days=1))  # Tuesday: the daily question only
        await coach.study.tick()
        assert len([p for p in seen if (p.reply.title or "").startswith("Weekly")]) == 1
        assert len(daily_posts(seen)) == 2


async def test_the_question_is_on_what_the_server_studied_and_what_it_gets_wrong(
    scoach: Coach, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On concepts the server read (or planned); the one the group got wrong first; not one
    asked as a daily question in the last days."""
    quiz, plan = scoach.study.rounds.quiz, scoach.study.plan
    store = scoach.store
    assert store is not None
    bob = make_actor("bob", guild="g")
    await store.progress.record_read(bob, "volume")
    for _ in range(5):
        chosen = await plan.daily_question("g")
        assert chosen is not None and "volume" in quiz.concepts_of(chosen)
    missed, *others = quiz.questions_by_concept()["volume"]
    assert others
    # The group plays a round of one volume question and gets it wrong.
    monkeypatch.setattr(quiz, "pick", lambda _t, _c: [(missed, quiz.order_for(missed))])
    seen: list[Post] = []

    async def keep(post: Post) -> None:
        seen.append(post)

    scoach.posts.subscribe(keep)
    await scoach.run(bob, ("study", "quiz"), {"count": 1})
    shown = next(p.reply for p in seen if p.key and p.key.startswith("study:q:"))
    round_ = await store.study.live_round("g", "console")
    assert round_ is not None
    slot = round_.questions[0]
    if shown.choices:
        wrong = next(
            c.action
            for c in shown.choices
            if not quiz.grade(
                missed, slot.option_order, int(c.action.rsplit(":", 1)[1]), None, 0
            ).correct
        )
        await scoach.press(bob, wrong, None)
    else:
        assert shown.prompt is not None
        await scoach.press(bob, shown.prompt.action, "docker ps")
    for _ in range(5):
        assert await plan.daily_question("g") == missed  # what the group gets wrong first
    # Asked as the daily question: not again in the next days.
    await scoach.study.rounds.post_daily(
        "g", "general", "en", missed, clock.now() + timedelta(days=1)
    )
    for _ in range(5):
        again = await plan.daily_question("g")
        assert again != missed and again is not None and "volume" in quiz.concepts_of(again)
