"""Streaks: runs of days with activity that forgive days when nothing was due.

Definitions (all days are days in the learner's time zone, per server):

* An **active day** is a day with at least one answer, concept read or practice step.
* After each active day D the store keeps ``next_due``: the earliest review due at the end
  of D's activity (None when the learner has no review cards).
* Two active days A < B are **linked** when B is the day after A, or when nothing was due on
  any day between them: ``next_due(A)`` exists and falls on B or later. A review that was
  due (even one overdue since A) on a missed day breaks the link.
* A **streak** is a maximal chain of linked active days; its length is the number of active
  days in it (forgiven days do not count, they just don't break it).
* The **current streak** is the last chain if it is still alive today: its last day is today,
  or it is linked to today (yesterday, or nothing due since). Otherwise it is 0.
* The **best streak** is the longest chain ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.store.progress import DayActivity


@dataclass(frozen=True, slots=True)
class Streaks:
    current: int
    best: int


UTC = ZoneInfo("UTC")


def linked(previous: DayActivity, later: date, zone: ZoneInfo = UTC) -> bool:
    """Whether ``later`` continues a streak whose last active day is ``previous``."""
    if later - previous.day <= timedelta(days=1):
        return True
    return previous.next_due is not None and previous.next_due.astimezone(zone).date() >= later


def streaks(days: Sequence[DayActivity], today: date, zone: ZoneInfo = UTC) -> Streaks:
    """Current and best streaks; ``today`` and the days are the learner's, in ``zone``."""
    active = sorted((d for d in days if d.events > 0), key=lambda d: d.day)
    best = run = 0
    last: DayActivity | None = None
    for day in active:
        run = run + 1 if last is not None and linked(last, day.day, zone) else 1
        best = max(best, run)
        last = day
    if last is None or last.day > today:
        return Streaks(0 if last is None else run, best)
    current = run if linked(last, today, zone) else 0
    return Streaks(current, best)
