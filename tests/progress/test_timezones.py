"""Time as the learner lives it: days, "today" and streaks in the learner's own time zone;
/timezone and /admin timezone; moments shown in the reader's zone. The clock is the test's."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.coach import Coach
from bot.core.clock import FixedClock
from bot.core.moments import in_zone, learner_zone, moment, render_moments
from bot.core.reply import Tone
from bot.store.db import LOCAL_DAY
from tests.conftest import make_actor

# 08:00 in Seoul on 2 January is still 1 January in UTC; 20:00 in Seoul is 2 January there.
SEOUL_MORNING = datetime(2026, 1, 1, 23, 0, tzinfo=UTC)
SEOUL_EVENING = datetime(2026, 1, 2, 11, 0, tzinfo=UTC)


async def active_days(coach: Coach, user: str, guild: str = "g1") -> list[date]:
    assert coach.store is not None
    return [d.day for d in await coach.store.progress.days(user, guild)]


async def read_at(coach: Coach, clock: FixedClock, actor, when: datetime) -> None:
    clock.set(when)
    [reply] = await coach.run(actor, ("concept",), {"topic": "volume"})
    assert reply.tone is not Tone.ERROR


def test_who_lives_where() -> None:
    assert learner_zone("Europe/Berlin", "Asia/Tokyo", "ko") == "Europe/Berlin"  # chosen
    assert learner_zone(None, "Asia/Tokyo", "ko") == "Asia/Tokyo"  # the server's
    assert learner_zone(None, None, "ko") == "Asia/Seoul"  # Korean readers
    assert learner_zone(None, None, "en") == "UTC"
    assert learner_zone("Mars/Olympus", None, "en") == "UTC"  # unknown names are ignored


def test_moments_are_rendered_by_the_front_end() -> None:
    when = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)
    text = f"next review {moment(when)}"
    assert "2026" not in text  # a marker, not a formatted date
    from zoneinfo import ZoneInfo

    seoul = render_moments(text, lambda w, s: in_zone(w, s, ZoneInfo("Asia/Seoul")))
    assert seoul == "next review 2026-01-02 08:30 KST"


async def test_a_korean_learners_day_is_a_day_in_seoul(
    offline_coach: Coach, clock: FixedClock
) -> None:
    minsu = make_actor("minsu", locale="ko")
    anna = make_actor("anna")
    for when in (SEOUL_MORNING, SEOUL_EVENING):
        await read_at(offline_coach, clock, minsu, when)
        await read_at(offline_coach, clock, anna, when)
    assert await active_days(offline_coach, "minsu") == [date(2026, 1, 2)]  # one Seoul day
    assert await active_days(offline_coach, "anna") == [date(2026, 1, 1), date(2026, 1, 2)]


async def test_streaks_and_today_cross_midnight_where_the_learner_lives(
    offline_coach: Coach, clock: FixedClock
) -> None:
    """20:00 on 2 January, then 08:00 on the 3rd and the 4th in Seoul: three days running
    there, a 3-day streak (in UTC the first two are one day, and it would be 2)."""
    jiyeon = make_actor("jiyeon")
    [chosen] = await offline_coach.run(jiyeon, ("timezone",), {"timezone": "Asia/Seoul"})
    assert chosen.tone is Tone.SUCCESS and "Asia/Seoul" in chosen.body
    for hours in (0, 12, 36):
        await read_at(offline_coach, clock, jiyeon, SEOUL_EVENING + timedelta(hours=hours))
    assert await active_days(offline_coach, "jiyeon") == [
        date(2026, 1, 2),
        date(2026, 1, 3),
        date(2026, 1, 4),
    ]
    clock.set(datetime(2026, 1, 4, 13, 0, tzinfo=UTC))  # 22:00 in Seoul, 4 January
    [progress] = await offline_coach.run(jiyeon, ("progress",))
    streak = next(f.value for f in progress.fields if f.name == "Streak")
    assert streak.startswith("current 3 "), streak
    clock.advance(hours=26)  # 6 January in Seoul: 5 January was missed, nothing forgave it
    [progress] = await offline_coach.run(jiyeon, ("progress",))
    streak = next(f.value for f in progress.fields if f.name == "Streak")
    assert streak.startswith("current 0 ") and "best 3" in streak, streak


async def test_timezone_command(offline_coach: Coach, clock: FixedClock) -> None:
    boss = make_actor("boss", admin=True)
    learner = make_actor("dana")
    [shown] = await offline_coach.run(learner, ("timezone",), {})
    assert "UTC" in shown.body and "the default" in shown.body
    [refused] = await offline_coach.run(learner, ("timezone",), {"timezone": "Mars/Olympus"})
    assert refused.tone is Tone.ERROR and "Asia/Seoul" in refused.body
    [server] = await offline_coach.run(boss, ("admin", "timezone"), {"timezone": "Europe/Berlin"})
    assert server.tone is Tone.SUCCESS
    [shown] = await offline_coach.run(learner, ("timezone",), {})
    assert "Europe/Berlin" in shown.body and "this server" in shown.body
    [korean] = await offline_coach.run(make_actor("dana", locale="ko"), ("timezone",), {})
    assert "Europe/Berlin" in korean.body  # the server's setting comes before the language
    await offline_coach.run(learner, ("timezone",), {"timezone": "America/New_York"})
    [shown] = await offline_coach.run(learner, ("timezone",), {})
    assert "America/New_York" in shown.body and "you chose it" in shown.body
    [forgot] = await offline_coach.run(learner, ("timezone",), {"timezone": "default"})
    assert "Europe/Berlin" in forgot.body
    suggestions = await offline_coach.complete(learner, ("timezone",), "timezone", "seo")
    assert [s.value for s in suggestions] == ["Asia/Seoul"]
    assert "Asia/Seoul" in [
        s.value for s in await offline_coach.complete(learner, ("timezone",), "timezone", "Asia/S")
    ]


async def test_due_times_are_moments_not_utc_text(offline_coach: Coach, clock: FixedClock) -> None:
    alice = make_actor("alice")
    replies = await offline_coach.run(alice, ("quiz",), {"count": 1})
    question = next(r for r in replies if r.choices or r.prompt)
    if question.prompt is not None:
        graded = await offline_coach.press(alice, question.prompt.action, "docker ps")
    else:
        graded = await offline_coach.press(alice, question.choices[0].action)
    footer = graded[0].footer or ""
    assert "\u27e6t:" in footer and "UTC" not in footer


def test_the_migration_keeps_old_days_and_counts_new_ones_locally(tmp_path: Path) -> None:
    """A database made before migration 0005 keeps its UTC days; the schema's triggers
    count new answers on the learner's day (the coach's SQL function)."""
    from bot.store.migrate import migrate

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, upto=4)
    conn.execute("INSERT INTO users (user_id, locale, created_at) VALUES ('k', 'ko', 'x')")
    conn.execute(
        "INSERT INTO memberships (guild_id, user_id, first_seen, last_seen) "
        "VALUES ('g', 'k', 'x', 'x')"
    )
    conn.execute(
        "INSERT INTO activity (user_id, guild_id, day, reads) VALUES ('k', 'g', '2026-01-01', 1)"
    )
    conn.create_function(*LOCAL_DAY)
    migrate(conn)
    assert conn.execute("SELECT day FROM activity").fetchall() == [("2026-01-01",)]
    assert conn.execute("SELECT zone FROM learner_zones").fetchall() == [("Asia/Seoul",)]
    assert conn.execute(
        "SELECT local_day('2026-01-01T23:00:00.000000Z', 'Asia/Seoul')"
    ).fetchone() == ("2026-01-02",)
    conn.close()


@pytest.mark.parametrize("zone", [None, "Nowhere/Land"])
def test_local_day_falls_back_to_utc(zone) -> None:
    from bot.store.timefmt import sql_local_day

    assert sql_local_day("2026-01-01T23:00:00.000000Z", zone) == "2026-01-01"
