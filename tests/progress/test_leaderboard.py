"""Leaderboards per server, for the last week or all time."""

from __future__ import annotations

from datetime import timedelta

from bot.coach import Coach
from bot.core.clock import FixedClock
from tests.conftest import make_actor
from tests.progress.test_progress import play


async def test_leaderboard_per_server(coach: Coach, clock: FixedClock) -> None:
    ann, ben, cho = make_actor("ann"), make_actor("ben"), make_actor("cho")
    ann2 = make_actor("ann", guild="g2")
    dan2 = make_actor("dan", guild="g2")
    await play(coach, ann, 3)  # 3 points in g1, 8 days ago
    clock.advance(timedelta(days=8))
    await play(coach, ben, 2)
    await play(coach, cho, 2, right=False)
    await play(coach, ann2, 5)
    await play(coach, dan2, 1)

    week = (await coach.run(ben, ("leaderboard",), {"period": "week"}))[0]
    lines = week.body.splitlines()
    assert lines[0].startswith("**1. ben — 2 points")  # the caller is in bold
    assert lines[1].startswith("2. cho — 0 points")
    assert "ann" not in week.body and "dan" not in week.body

    all_time = (await coach.run(ben, ("leaderboard",), {"period": "all"}))[0]
    assert [line.split(" — ")[0].strip("*") for line in all_time.body.splitlines()] == [
        "1. ann",
        "2. ben",
        "3. cho",
    ]
    g2 = (await coach.run(dan2, ("leaderboard",)))[0]
    assert g2.body.splitlines()[0].startswith("1. ann — 5 points")
    assert "ben" not in g2.body


async def test_empty_leaderboard(coach: Coach) -> None:
    reply = (await coach.run(make_actor("x", guild="empty"), ("leaderboard",)))[0]
    assert "Nobody has earned points" in reply.body
