"""Say when something is due, in words: "now", "in 3 hours", "in 2 days", and the exact
moment, which each front end shows in its reader's time zone (:func:`bot.core.moments.moment`).

Shared by every capability that shows a moment to come (quiz reviews, ``/progress``); the
texts are the ``quiz.when.*`` messages of the catalog.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.i18n import Translator
from bot.core.moments import moment


def describe_due(tr: Translator, now: datetime, due: datetime) -> str:
    """A relative time plus the exact moment, e.g. "in 2 days (2026-01-03 18:00 KST)"."""
    seconds = (due - now).total_seconds()
    exact = moment(due, "f")
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
