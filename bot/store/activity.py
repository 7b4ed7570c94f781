"""The ``activity`` table: one row per person, server and day (the learner's day, in their
time zone, since migration 0005; see docs/store.md).

Concept reads (``store.progress``), practice steps (``store.practice``) and answers (the
``answers_tally`` trigger, migrations 0002 and 0005) all count here, so that streaks, the activity
chart and leaderboards see every kind of learning. Both repositories add their count with
:func:`activity_bump` inside their own write, which is why it lives here and not in either.
"""

from __future__ import annotations

from bot.store.users import Statement, Who

_NEXT_DUE = "(SELECT min(due) FROM cards WHERE user_id = ? AND guild_id = ?)"
# The day of a moment in the learner's own zone (migration 0005).
_LEARNER_DAY = "local_day(?, (SELECT zone FROM learner_zones WHERE user_id = ? AND guild_id = ?))"


def activity_bump(who: Who, when: str, *, reads: int = 0, practice: int = 0) -> Statement:
    """The statement that counts concept reads or practice steps for the day of ``when``.

    It also records the earliest review due right now (``next_due``), used by the streak rule.
    """
    return (
        "INSERT INTO activity (user_id, guild_id, day, reads, practice, next_due) "
        f"VALUES (?, ?, {_LEARNER_DAY}, ?, ?, {_NEXT_DUE}) "
        "ON CONFLICT (user_id, guild_id, day) DO UPDATE SET reads = reads + excluded.reads, "
        "practice = practice + excluded.practice, next_due = excluded.next_due",
        (
            who.user_id,
            who.guild_id,
            *(when, who.user_id, who.guild_id),
            reads,
            practice,
            who.user_id,
            who.guild_id,
        ),
    )
