"""Registers ``/quiz`` and ``/review`` and routes the ``quiz:`` buttons and typed answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.commands import CommandSpec, OptionKind, OptionSpec
from bot.quiz.service import ACTION, QuizService

if TYPE_CHECKING:
    from bot.coach import Coach


def register(coach: Coach) -> QuizService:
    service = QuizService(coach)
    settings = coach.settings.quiz
    coach.table.add(
        CommandSpec(
            ("quiz",),
            service.quiz,
            (
                OptionSpec("topic", completer=service.complete_topic, max_length=100),
                OptionSpec("count", OptionKind.INTEGER, min_value=1, max_value=settings.max_count),
            ),
        )
    )
    coach.table.add(CommandSpec(("review",), service.review))
    coach.table.add_action(ACTION, service.press)
    coach.services["quiz"] = service
    return service
