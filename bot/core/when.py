"""Say when something is due, in words: "now", "in 3 hours", "in 2 days".

Shared by every capability that shows a moment to come (quiz reviews, ``/progress``); the
texts are the ``quiz.when.*`` messages of the catalog.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.i18n import Translator


def describe_due(tr: Translator, now: datetime, due: datetime) -> str:
    """A relative time plus the exact UTC moment, e.g. "in 2 days (2026-01-03 09:00 UTC)"."""
    seconds = (due - now).total_seconds()
    exact = due.strftime("%Y-%m-%d %H:%M UTC")
    if seconds <= 0:
        return tr("quiz.when.now")
    minutes = round(seconds / 60)
    if minutes < 60:
        relative = tr("quiz.when.minutes", count=max(1, minutes))
    elif minutes < 48 * 60:
        relative = tr("quiz.when.hours", count=round(minutes / 60))
    else:
        relative = tr("quiz.when.days", count=round(minutes / 1440))
    return tr("quiz.when.at", relative=relative, exact=exact)
