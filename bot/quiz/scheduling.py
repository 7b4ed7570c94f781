"""Spaced repetition with FSRS: a rating from correctness and answer time, then a new due date.

Rating rule (thresholds in ``settings.quiz``; doubled for typed commands, which take longer
to type than a button takes to press):

* wrong → Again
* right, and slower than ``slow_answer_seconds`` → Hard
* right, and faster than ``fast_answer_seconds`` → Easy
* right otherwise → Good
"""

from __future__ import annotations

from datetime import datetime

from fsrs import Card, Rating, Scheduler

from bot.settings import QuizSettings
from bot.store.quiz import Schedule

TYPED_FACTOR = 2.0


def rating_for(correct: bool, seconds: float, settings: QuizSettings, typed: bool) -> Rating:
    if not correct:
        return Rating.Again
    factor = TYPED_FACTOR if typed else 1.0
    if seconds >= settings.slow_answer_seconds * factor:
        return Rating.Hard
    if seconds <= settings.fast_answer_seconds * factor:
        return Rating.Easy
    return Rating.Good


class Reviewer:
    """Turns a rating into the next FSRS card; deterministic (no interval fuzzing)."""

    def __init__(self, desired_retention: float = 0.9) -> None:
        self.scheduler = Scheduler(desired_retention=desired_retention, enable_fuzzing=False)

    def review(self, card_json: str | None, rating: Rating, now: datetime) -> tuple[str, datetime]:
        card = Card.from_json(card_json) if card_json else Card(card_id=1, due=now)
        updated, _log = self.scheduler.review_card(card, rating, review_datetime=now)
        return updated.to_json(), updated.due

    def schedule(self, rating: Rating, now: datetime) -> Schedule:
        """A function the store calls inside its transaction with the stored card."""
        return lambda card_json: self.review(card_json, rating, now)

    def retrievability(self, card_json: str, now: datetime) -> float:
        return float(self.scheduler.get_card_retrievability(Card.from_json(card_json), now))
