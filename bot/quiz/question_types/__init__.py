"""The question types, registered in one place.

A new type is a :class:`~bot.quiz.question_types.base.QuestionType` subclass in its own file
and one line in :data:`QUESTION_TYPES`.
"""

from __future__ import annotations

from bot.quiz.question_types.base import (
    Answer,
    AnswerActions,
    AnswerControls,
    Pressed,
    QuestionData,
    QuestionType,
    Typed,
    WrongAnswerKind,
)
from bot.quiz.question_types.choice import ChoiceQuestion
from bot.quiz.question_types.command import CommandQuestion
from bot.quiz.question_types.truefalse import TrueFalseQuestion

QUESTION_TYPES: dict[str, QuestionType] = {
    kind.name: kind for kind in (ChoiceQuestion(), TrueFalseQuestion(), CommandQuestion())
}


def question_type(name: str) -> QuestionType:
    """The type called ``name``; ValueError (a content problem) for an unknown name."""
    try:
        return QUESTION_TYPES[name]
    except KeyError:
        known = ", ".join(QUESTION_TYPES)
        raise ValueError(f"unknown question type {name!r}: use one of {known}") from None


def type_of(question: QuestionData) -> QuestionType:
    return question_type(question.type)


__all__ = [
    "QUESTION_TYPES",
    "Answer",
    "AnswerActions",
    "AnswerControls",
    "Pressed",
    "QuestionData",
    "QuestionType",
    "Typed",
    "WrongAnswerKind",
    "question_type",
    "type_of",
]
