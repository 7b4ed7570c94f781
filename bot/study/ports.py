"""What study groups need of other capabilities, wired by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from bot.content.base import Localized
from bot.core.commands import Request, Suggestion
from bot.core.i18n import Translator
from bot.core.reply import Reply
from bot.store.quiz import Schedule


class GradedAnswer(Protocol):
    @property
    def correct(self) -> bool: ...

    @property
    def given(self) -> str: ...

    @property
    def rating(self) -> int: ...


class GroupQuiz(Protocol):
    """The quiz's questions, grading and review scheduling (``bot.quiz.group``)."""

    def pick(self, topic: str, count: int) -> list[tuple[str, tuple[int, ...]]]: ...

    def order_for(self, question_id: str) -> tuple[int, ...]: ...

    def question_ids(self) -> list[str]: ...

    def concepts_of(self, question_id: str) -> tuple[str, ...]: ...

    def questions_by_concept(self) -> dict[str, list[str]]: ...

    def render(
        self,
        tr: Translator,
        question_id: str,
        order: tuple[int, ...],
        press: Callable[[int], str],
        typed: str,
    ) -> Reply: ...

    def grade(
        self,
        question_id: str,
        order: tuple[int, ...],
        pressed: int | None,
        text: str | None,
        seconds: float,
    ) -> GradedAnswer: ...

    def schedule(self, rating: int, now: datetime) -> Schedule: ...

    def right_answer(self, tr: Translator, question_id: str) -> str: ...

    async def complete_topic(self, request: Request, partial: str) -> list[Suggestion]: ...


class GroupPracticePort(Protocol):
    """Guided practice, each member in their own sandbox (the practice capability)."""

    async def start(self, request: Request, scenario_id: str) -> list[Reply]: ...

    async def place(self, user_id: str, scenario_id: str) -> int | None: ...

    def step_titles(self, scenario_id: str, locale: str) -> list[str] | None: ...

    def scenario_title(self, scenario_id: str, locale: str) -> str | None: ...

    def scenarios_by_concept(self) -> dict[str, list[str]]: ...

    def scenario_ids(self) -> list[str]: ...

    async def complete_scenario(self, request: Request, partial: str) -> list[Suggestion]: ...


class NamedConcept(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def title(self) -> Localized: ...


class ConceptNames(Protocol):
    """Concepts by name (the concepts capability)."""

    def find(self, text: str) -> NamedConcept | None: ...

    def ranked(self, text: str, limit: int | None = None) -> Sequence[NamedConcept]: ...
