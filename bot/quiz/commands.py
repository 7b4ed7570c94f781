"""Registers the questions kind of content, ``/quiz`` and ``/review``, and routes the
``quiz:`` buttons and typed answers."""

from __future__ import annotations

from bot.content.registry import ContentRegistry
from bot.core.clock import Clock
from bot.core.commands import CommandSpec, OptionKind, OptionSpec
from bot.core.registry import Registry, Slot
from bot.quiz.content import QUESTIONS
from bot.quiz.service import ACTION, QuizService
from bot.quiz.topics import ConceptLookup
from bot.settings import QuizSettings
from bot.store import Store


def register(
    app: Registry,
    content: ContentRegistry,
    settings: QuizSettings,
    clock: Clock,
    store: Slot[Store],
    concepts: ConceptLookup,
) -> QuizService:
    """``concepts``: how the quiz finds the concepts ``/quiz <topic>`` may name."""
    content.add(QUESTIONS)
    service = QuizService(settings, clock, store, content, concepts)
    app.table.add(
        CommandSpec(
            ("quiz",),
            service.quiz,
            (
                OptionSpec("topic", completer=service.complete_topic, max_length=100),
                OptionSpec("count", OptionKind.INTEGER, min_value=1, max_value=settings.max_count),
            ),
        )
    )
    app.table.add(CommandSpec(("review",), service.review))
    app.table.add_action(ACTION, service.press)
    return service
