"""What every question type does: validate its fields, show how to answer, grade an answer.

A question type is one class (a strategy) registered in ``bot/quiz/question_types/__init__.py``.
The question model, the quiz service and the content checks ask the question's type and
never branch on it, so a new type is one file here and one line in the registry.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, Protocol

from bot.content.base import Localized
from bot.core.errors import CoachError
from bot.core.i18n import Translator
from bot.core.reply import Choice, TextPrompt
from bot.quiz.grading import Grade


class QuestionData(Protocol):
    """The fields of a question (``bot.quiz.content.Question``) a type works with."""

    @property
    def id(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def options(self) -> tuple[Localized, ...]: ...

    @property
    def answer(self) -> bool | int | str: ...

    @property
    def accept(self) -> tuple[str, ...]: ...

    @property
    def reject(self) -> tuple[str, ...]: ...

    @property
    def variants(self) -> tuple[str, ...]: ...

    @property
    def strict(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Pressed:
    """A button pressed: its position as displayed (the round remembers the shuffle)."""

    button: int


@dataclass(frozen=True, slots=True)
class Typed:
    """A typed answer."""

    text: str


Answer = Pressed | Typed


@dataclass(frozen=True, slots=True)
class AnswerActions:
    """The action ids a question's answer controls send back (see ``bot.quiz.service``)."""

    press: Callable[[int], str]
    typed: str


@dataclass(frozen=True, slots=True)
class AnswerControls:
    """How the learner answers: buttons, or a text prompt."""

    choices: tuple[Choice, ...] = ()
    prompt: TextPrompt | None = None


class WrongAnswerKind(CoachError):
    """An answer of the wrong kind for the question (a typed line for a choice question):
    an old button or form; the service reports it as an expired action."""


class QuestionType(ABC):
    name: ClassVar[str]
    typed: ClassVar[bool] = False  # answered by typing: slower, so rating thresholds double

    @abstractmethod
    def validate(self, question: QuestionData) -> None:
        """Raise ValueError (shown as the question's content problem) when fields don't fit."""

    def option_order(self, question: QuestionData, rng: random.Random) -> tuple[int, ...]:
        """The order options are shown in (stored with the round); () when not shuffled."""
        return ()

    @abstractmethod
    def controls(
        self, tr: Translator, question: QuestionData, order: tuple[int, ...], actions: AnswerActions
    ) -> AnswerControls: ...

    @abstractmethod
    def grade(self, question: QuestionData, order: tuple[int, ...], answer: Answer) -> Grade:
        """Raise :class:`WrongAnswerKind` for an answer this type does not take."""

    @abstractmethod
    def given(self, question: QuestionData, order: tuple[int, ...], answer: Answer) -> str:
        """What to store as the learner's answer."""

    @abstractmethod
    def right_answer(self, tr: Translator, question: QuestionData) -> str:
        """The right answer, as shown after a wrong one."""

    def check(self, question: QuestionData) -> Iterable[str]:
        """Problems ``content check`` reports beyond the model's validation (none)."""
        return ()

    def warnings(self, question: QuestionData) -> Iterable[str]:
        """What ``content check`` prints as worth a second look, never failing (none)."""
        return ()

    def guessable(self, question: QuestionData) -> bool | None:
        """Whether the shape of the options gives the answer away; None for a type whose
        answer is not picked from options that differ in shape."""
        return None

    @staticmethod
    def no_reject(question: QuestionData) -> None:
        if question.accept or question.reject or question.variants or question.strict:
            raise ValueError(
                "only command questions take `accept`, `variants`, `reject` and `strict`"
            )
