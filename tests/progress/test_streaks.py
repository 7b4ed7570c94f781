"""Streak rules: active days, forgiven days when nothing was due, current and best."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.progress.streaks import Streaks, streaks
from bot.store.progress import DayActivity

START = date(2026, 3, 2)


def day(offset: int, next_due_offset: int | None = None, answers: int = 1) -> DayActivity:
    due = None
    if next_due_offset is not None:
        moment = datetime.combine(START + timedelta(days=next_due_offset), datetime.min.time())
        due = moment.replace(hour=9, tzinfo=UTC)
    return DayActivity(START + timedelta(days=offset), answers, answers, 0, 0, due)


def on(offset: int) -> date:
    return START + timedelta(days=offset)


def test_no_activity() -> None:
    assert streaks([], on(0)) == Streaks(0, 0)


def test_consecutive_days() -> None:
    days = [day(0), day(1), day(2)]
    assert streaks(days, on(2)) == Streaks(3, 3)
    assert streaks(days, on(3)) == Streaks(3, 3)  # today is not over yet


def test_a_missed_day_without_reviews_breaks_a_plain_streak() -> None:
    days = [day(0), day(1), day(3)]
    assert streaks(days, on(3)) == Streaks(1, 2)
    assert streaks(days[:2], on(3)) == Streaks(0, 2)


def test_days_when_nothing_was_due_do_not_break() -> None:
    # After day 1 the next review is due on day 5: days 2-4 had nothing due.
    days = [day(0, 1), day(1, 5), day(5, 6)]
    assert streaks(days, on(5)) == Streaks(3, 3)
    # And the current streak is still alive on day 4 and on day 5 before reviewing.
    assert streaks(days[:2], on(4)) == Streaks(2, 2)
    assert streaks(days[:2], on(5)) == Streaks(2, 2)


def test_a_missed_due_review_breaks() -> None:
    # Due on day 3, but the learner only came back on day 5.
    days = [day(0, 1), day(1, 3), day(5, 8)]
    assert streaks(days, on(5)) == Streaks(1, 2)
    assert streaks(days[:2], on(5)) == Streaks(0, 2)


def test_an_overdue_review_breaks_the_next_missed_day() -> None:
    # A review due on day 0 itself was left undone: day 1 missed breaks the streak.
    days = [day(0, 0), day(2, 9)]
    assert streaks(days, on(2)) == Streaks(1, 1)


def test_forgiven_days_do_not_count() -> None:
    days = [day(0, 10), day(9, 20)]
    assert streaks(days, on(9)) == Streaks(2, 2)


def test_best_is_the_longest_run() -> None:
    days = [day(i) for i in range(5)] + [day(i) for i in range(10, 12)]
    assert streaks(days, on(11)) == Streaks(2, 5)
