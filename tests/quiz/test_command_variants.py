"""Typed-command questions: every listed variant grades as the content claims, with today's
grader (:mod:`bot.quiz.grading`).

``answer`` and every ``accept`` line must grade right; every ``reject`` line (a near miss: a
command that misses what the prompt asks) must grade wrong. Each command question lists at
least one of each (:func:`bot.content.lint.variant_problems`).
"""

from __future__ import annotations

import pytest

from bot.content.library import load_library
from bot.content.lint import variant_problems
from bot.quiz.content import Question, QuestionType
from bot.quiz.grading import grade_command
from bot.settings import REPO_ROOT

COMMAND_QUESTIONS: list[Question] = sorted(
    (
        q
        for q in load_library(REPO_ROOT / "content").questions.values()
        if q.type is QuestionType.COMMAND
    ),
    key=lambda q: q.id,
)


@pytest.mark.parametrize("question", COMMAND_QUESTIONS, ids=[q.id for q in COMMAND_QUESTIONS])
def test_variants_grade_as_listed(question: Question) -> None:
    problems = variant_problems(
        str(question.answer),
        question.accept,
        question.reject,
        grade=lambda line: grade_command(question, line).correct,
    )
    assert problems == []


def test_a_near_miss_gets_a_hint_not_just_a_no() -> None:
    graded = [
        grade_command(question, line) for question in COMMAND_QUESTIONS for line in question.reject
    ]
    assert graded and all(not g.correct for g in graded)
    assert all(g.hints for g in graded)
