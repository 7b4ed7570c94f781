"""Questions answered by pressing one of a few buttons."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from bot.core.i18n import Translator
from bot.core.reply import Choice, ChoiceStyle
from bot.quiz.grading import Grade
from bot.quiz.question_types.base import (
    Answer,
    AnswerActions,
    AnswerControls,
    Pressed,
    QuestionData,
    QuestionType,
    WrongAnswerKind,
)


class ButtonQuestion(QuestionType):
    """One button per option; ``order`` maps displayed positions to content positions."""

    @abstractmethod
    def labels(self, tr: Translator, question: QuestionData) -> Sequence[str]:
        """Every option's label, in content order."""

    @abstractmethod
    def correct_option(self, question: QuestionData) -> int:
        """The content position of the right option."""

    def option_count(self, question: QuestionData) -> int:
        return len(question.options)

    def _shown(self, question: QuestionData, order: tuple[int, ...]) -> tuple[int, ...]:
        """Content positions in the order the buttons are shown."""
        return order or tuple(range(self.option_count(question)))

    def _chosen(self, question: QuestionData, order: tuple[int, ...], answer: Answer) -> int:
        if not isinstance(answer, Pressed):
            raise WrongAnswerKind(f"{question.id} is answered with a button")
        shown = self._shown(question, order)
        if not 0 <= answer.button < len(shown):
            raise WrongAnswerKind(f"{question.id} has no button {answer.button}")
        return shown[answer.button]

    def controls(
        self, tr: Translator, question: QuestionData, order: tuple[int, ...], actions: AnswerActions
    ) -> AnswerControls:
        labels = self.labels(tr, question)
        return AnswerControls(
            choices=tuple(
                Choice(labels[option], actions.press(position), ChoiceStyle.PRIMARY)
                for position, option in enumerate(self._shown(question, order))
            )
        )

    def grade(self, question: QuestionData, order: tuple[int, ...], answer: Answer) -> Grade:
        return Grade(self._chosen(question, order, answer) == self.correct_option(question))

    def given(self, question: QuestionData, order: tuple[int, ...], answer: Answer) -> str:
        return str(self._chosen(question, order, answer))

    def right_answer(self, tr: Translator, question: QuestionData) -> str:
        return self.labels(tr, question)[self.correct_option(question)]
