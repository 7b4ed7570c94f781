"""``type: command`` — the learner types a docker command line.

``answer`` is the expected line. Lines are compared by meaning
(:func:`bot.quiz.grading.compare_command`, with the equivalences of
:mod:`bot.dockercli.compare`): flag order, ``--name=web``, ``docker container run``,
``docker cp … ./``, ``--mount`` for ``-v`` and the like need no listing. ``accept`` lists other
right answers the grader cannot know (another way of doing the task); ``variants`` lists
spellings the equivalences must take (test data, checked, never needed for grading);
``reject`` lists near misses that must be graded wrong (a prompt asking for a tag must not
take ``docker pull alpine``); ``strict: true`` turns off the task-level equivalence
(``docker exec N ps`` for ``docker top N``) when the prompt asks for the host's view.
``content check`` parses every line and grades each as listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.content.base import ANSWER_LIMIT
from bot.content.lint import variant_problems
from bot.core.i18n import Translator
from bot.core.reply import TextPrompt
from bot.quiz.grading import Grade, compare_command, parse_problem
from bot.quiz.question_types.base import (
    Answer,
    AnswerActions,
    AnswerControls,
    QuestionData,
    QuestionType,
    Typed,
    WrongAnswerKind,
)


def accepted_lines(question: QuestionData) -> tuple[str, ...]:
    """Every command line accepted for ``question``: the answer, then ``accept``."""
    return (str(question.answer), *question.accept)


class CommandQuestion(QuestionType):
    name = "command"
    typed = True

    def validate(self, question: QuestionData) -> None:
        if isinstance(question.answer, bool) or not isinstance(question.answer, str):
            raise ValueError("a command question needs the command line as `answer`")
        if question.options:
            raise ValueError("a command question has no `options`")

    def controls(
        self, tr: Translator, question: QuestionData, order: tuple[int, ...], actions: AnswerActions
    ) -> AnswerControls:
        prompt = TextPrompt(
            action=actions.typed, label=tr("quiz.type_command"), placeholder="docker …"
        )
        return AnswerControls(prompt=prompt)

    def grade(self, question: QuestionData, order: tuple[int, ...], answer: Answer) -> Grade:
        return compare_command(
            accepted_lines(question), self._text(question, answer), question.strict
        )

    def given(self, question: QuestionData, order: tuple[int, ...], answer: Answer) -> str:
        return self._text(question, answer)

    def right_answer(self, tr: Translator, question: QuestionData) -> str:
        return f"`{question.answer}`"

    @staticmethod
    def _text(question: QuestionData, answer: Answer) -> str:
        if not isinstance(answer, Typed):
            raise WrongAnswerKind(f"{question.id} is answered by typing a command")
        return answer.text

    def check(self, question: QuestionData) -> Iterable[str]:
        """Every line parses; the question lists accepted variants and near misses, each
        graded as listed (:func:`bot.content.lint.variant_problems`)."""
        unreadable = False
        lines = [("answer", line) for line in accepted_lines(question)]
        lines += [("variant", line) for line in question.variants]
        lines += [("reject", line) for line in question.reject]
        for field, line in lines:
            if len(line) > ANSWER_LIMIT:
                yield f"{field}: {len(line)} characters is too long to type"
            problem = parse_problem(line)
            if problem:
                unreadable = True
                yield f"{field} {line!r} does not parse: {problem}"
        if unreadable:
            yield from variant_problems(
                str(question.answer), question.accept, question.reject, None, question.variants
            )
            return
        answer = str(question.answer)
        yield from variant_problems(
            answer,
            question.accept,
            question.reject,
            self._grades_right(question),
            question.variants,
            lambda line: compare_command((answer,), line, question.strict).correct,
        )

    def _grades_right(self, question: QuestionData) -> Callable[[str], bool]:
        return lambda line: self.grade(question, (), Typed(line)).correct
