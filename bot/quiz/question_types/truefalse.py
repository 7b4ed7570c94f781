"""``type: truefalse`` — the prompt is a statement; ``answer: true`` or ``answer: false``."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.i18n import Translator
from bot.quiz.question_types.base import Answer, QuestionData
from bot.quiz.question_types.buttons import ButtonQuestion

TRUE, FALSE = 0, 1  # button positions; never shuffled


class TrueFalseQuestion(ButtonQuestion):
    name = "truefalse"

    def validate(self, question: QuestionData) -> None:
        if not isinstance(question.answer, bool):
            raise ValueError("a truefalse question needs `answer: true` or `answer: false`")
        if question.options:
            raise ValueError("a truefalse question has no `options`")
        self.no_reject(question)

    def labels(self, tr: Translator, question: QuestionData) -> Sequence[str]:
        return (tr("quiz.true"), tr("quiz.false"))

    def option_count(self, question: QuestionData) -> int:
        return 2

    def correct_option(self, question: QuestionData) -> int:
        return TRUE if question.answer else FALSE

    def given(self, question: QuestionData, order: tuple[int, ...], answer: Answer) -> str:
        return "true" if self._chosen(question, order, answer) == TRUE else "false"
