"""Shared helpers for store tests: actors and answers written straight through the store."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.context import Actor
from bot.store import Store
from bot.store.quiz import AnswerInput


def person(name: str, guild: str = "g1") -> Actor:
    return Actor(user_id=name, display_name=name.title(), guild_id=guild)


def fixed_schedule(due: datetime):
    """A schedule function that ignores the card and makes it due at ``due``."""
    return lambda _card: ('{"card": "test"}', due)


async def answer_round(store: Store, who: Actor, questions: int = 3, correct: bool = True) -> int:
    """Create a round of ``questions`` and answer all of it; return the round id."""
    ids = [(f"q{i}", ()) for i in range(questions)]
    round_id = await store.quiz.create_round(who, "quiz", "docker", ids)
    due = store.clock.now() + timedelta(days=1)
    for position in range(questions):
        await store.quiz.record_answer(
            who,
            AnswerInput(round_id, position, f"q{position}", "0", correct, 3.0, 3),
            fixed_schedule(due),
        )
    return round_id
