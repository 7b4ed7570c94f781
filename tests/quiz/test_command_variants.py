"""Typed-command questions: every listed line grades as the content claims, with today's
grader (:mod:`bot.quiz.grading` and the equivalences of :mod:`bot.dockercli.compare`).

``answer``, every ``accept`` line and every ``variants`` line must grade right; every
``reject`` line (a near miss: a command that misses what the prompt asks) must grade wrong.
Each command question lists at least one accepted line and one near miss, and no ``accept``
line the equivalences already take (:func:`bot.content.lint.variant_problems`).
"""

from __future__ import annotations

import pytest

from bot.coach import load_content
from bot.quiz.content import QUESTIONS, Question
from bot.quiz.grading import Grade
from bot.quiz.question_types import Typed
from bot.settings import REPO_ROOT

COMMAND_QUESTIONS: list[Question] = sorted(
    (
        q
        for q in load_content(REPO_ROOT / "content").items(QUESTIONS).values()
        if q.type == "command"
    ),
    key=lambda q: q.id,
)


def grade_command(question: Question, line: str) -> Grade:
    return question.kind.grade(question, (), Typed(line))


@pytest.mark.parametrize("question", COMMAND_QUESTIONS, ids=[q.id for q in COMMAND_QUESTIONS])
def test_variants_grade_as_listed(question: Question) -> None:
    """What ``content check`` asks of a typed question: every line parses, and it lists
    accepted variants and near misses that grade as listed."""
    assert list(question.kind.check(question)) == []


def test_a_near_miss_gets_a_hint_not_just_a_no() -> None:
    graded = [
        grade_command(question, line) for question in COMMAND_QUESTIONS for line in question.reject
    ]
    assert graded and all(not g.correct for g in graded)
    assert all(g.hints for g in graded)


def test_the_equivalences_keep_accept_lists_short() -> None:
    """Spellings are the grader's business: ``accept`` is left for other ways of doing a
    task (``docker wait`` prints an exited container's exit code, and nothing else)."""
    accepted = {q.id: q.accept for q in COMMAND_QUESTIONS if q.accept}
    assert accepted == {"mixed-exit-code-command": ("docker wait app",)}
    assert all(q.variants for q in COMMAND_QUESTIONS)
