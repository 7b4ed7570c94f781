"""The quiz as a study group uses it: questions drawn, shown with any action prefix, graded and
scheduled, for rounds that another capability runs (``bot.study``'s ``GroupQuiz`` port).

Grading, FSRS ratings and cards are the quiz's own, so an answer in a channel round counts
exactly like one in a personal round.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from fsrs import Rating

from bot.core.commands import Request, Suggestion
from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.reply import Reply
from bot.core.text import shorten
from bot.quiz.content import Question
from bot.quiz.question_types import AnswerActions, Pressed, Typed, WrongAnswerKind
from bot.quiz.scheduling import rating_for
from bot.quiz.service import QuizService
from bot.store.quiz import Schedule


@dataclass(frozen=True, slots=True)
class Graded:
    correct: bool
    given: str
    rating: int
    typed: bool


class GroupQuestions:
    """What a study group may do with the question bank."""

    def __init__(self, quiz: QuizService) -> None:
        self._quiz = quiz

    def pick(self, topic: str, count: int) -> list[tuple[str, tuple[int, ...]]]:
        """``count`` questions of ``topic`` (any topic when empty), shuffled, with the order
        of their options; a clear error when the topic has none."""
        candidates = self._quiz.matching(topic)
        if not candidates:
            raise UserError(
                "quiz.no_questions",
                topic=shorten(topic, 60),
                topics=", ".join(self._quiz.topics()),
            )
        self._quiz.rng.shuffle(candidates)
        chosen = candidates[: max(1, count)]
        return [(q.id, q.kind.option_order(q, self._quiz.rng)) for q in chosen]

    def order_for(self, question_id: str) -> tuple[int, ...]:
        question = self._question(question_id)
        return question.kind.option_order(question, self._quiz.rng)

    def question_ids(self) -> list[str]:
        return list(self._quiz.bank)

    def concepts_of(self, question_id: str) -> tuple[str, ...]:
        question = self._quiz.bank.get(question_id)
        return tuple(question.concepts) if question is not None else ()

    def questions_by_concept(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for question in self._quiz.bank.values():
            for concept in question.concepts:
                found.setdefault(concept, []).append(question.id)
        return found

    def _question(self, question_id: str) -> Question:
        question = self._quiz.bank.get(question_id)
        if question is None:
            raise UserError("quiz.question_gone")
        return question

    def render(
        self,
        tr: Translator,
        question_id: str,
        order: tuple[int, ...],
        press: Callable[[int], str],
        typed: str,
    ) -> Reply:
        """The question's text with its answer controls, carrying the caller's actions."""
        question = self._question(question_id)
        controls = question.kind.controls(
            tr, question, order, AnswerActions(press=press, typed=typed)
        )
        return Reply(
            body=question.prompt.get(tr.locale),
            choices=controls.choices,
            prompt=controls.prompt,
            footer=tr("quiz.footer", id=question.id),
        )

    def grade(
        self,
        question_id: str,
        order: tuple[int, ...],
        pressed: int | None,
        text: str | None,
        seconds: float,
    ) -> Graded:
        question = self._question(question_id)
        answer = Pressed(pressed) if pressed is not None else Typed(text or "")
        try:
            grade = question.kind.grade(question, order, answer)
            given = question.kind.given(question, order, answer)
        except WrongAnswerKind:
            raise UserError("general.expired_action") from None
        typed = question.kind.typed
        rating = rating_for(grade.correct, seconds, self._quiz.settings, typed)
        return Graded(grade.correct, given, int(rating), typed)

    def schedule(self, rating: int, now: datetime) -> Schedule:
        return self._quiz.reviewer.schedule(Rating(rating), now)

    def right_answer(self, tr: Translator, question_id: str) -> str:
        question = self._question(question_id)
        return question.kind.right_answer(tr, question)

    def explanation(self, tr: Translator, question_id: str) -> str:
        return str(self._question(question_id).explanation.get(tr.locale))

    async def complete_topic(self, request: Request, partial: str) -> list[Suggestion]:
        return await self._quiz.complete_topic(request, partial)

    def topics(self) -> Mapping[str, str]:
        return self._quiz.question_topics()
