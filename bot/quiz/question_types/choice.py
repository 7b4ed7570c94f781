"""``type: choice`` — 2 to 5 options in both languages; ``answer`` is the right one's index.

Options are shuffled per round (the round stores the order), so the right answer is not
always the same button.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from bot.content.base import CHOICE_LIMIT, too_long
from bot.content.lint import longest_option_warning
from bot.core.i18n import Translator
from bot.quiz.question_types.base import QuestionData
from bot.quiz.question_types.buttons import ButtonQuestion

MIN_OPTIONS = 2
MAX_OPTIONS = 5


class ChoiceQuestion(ButtonQuestion):
    name = "choice"

    def validate(self, question: QuestionData) -> None:
        count = len(question.options)
        if not MIN_OPTIONS <= count <= MAX_OPTIONS:
            raise ValueError(
                f"a choice question needs {MIN_OPTIONS} to {MAX_OPTIONS} options, not {count}"
            )
        answer = question.answer
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise ValueError("a choice question needs the index of the right option as `answer`")
        if not 0 <= answer < count:
            raise ValueError(
                f"answer index {answer} is out of range: options are numbered 0 to {count - 1}"
            )
        self.no_reject(question)

    def option_order(self, question: QuestionData, rng: random.Random) -> tuple[int, ...]:
        order = list(range(len(question.options)))
        rng.shuffle(order)
        return tuple(order)

    def labels(self, tr: Translator, question: QuestionData) -> Sequence[str]:
        return [option.get(tr.locale) for option in question.options]

    def correct_option(self, question: QuestionData) -> int:
        return int(question.answer)

    def check(self, question: QuestionData) -> Iterable[str]:
        for index, option in enumerate(question.options):
            problem = too_long(option, CHOICE_LIMIT)
            if problem:
                yield f"options[{index}]: {problem} (an answer option)"

    @staticmethod
    def _by_locale(question: QuestionData) -> dict[str, list[str]]:
        return {locale: [o.get(locale) for o in question.options] for locale in ("en", "ko")}

    def warnings(self, question: QuestionData) -> Iterable[str]:
        """The right option is the strictly longest: a learner can guess it by its length."""
        warning = longest_option_warning(self._by_locale(question), int(question.answer))
        return (warning,) if warning else ()

    def guessable(self, question: QuestionData) -> bool:
        return longest_option_warning(self._by_locale(question), int(question.answer)) is not None
