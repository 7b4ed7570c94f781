"""Grading answers. Typed commands are compared by meaning, with the sandbox's docker CLI
parser: ``docker run --name=web --detach nginx`` is ``docker run -d --name web nginx``.
A near miss gets specific hints: a missing ``-d``, a wrong container name, an option typed
after the image."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.errors import UserError
from bot.dockercli import DockerCommand, differences, parse_docker
from bot.quiz.content import Question, QuestionType

MAX_HINTS = 4


@dataclass(frozen=True, slots=True)
class Hint:
    """A translatable remark about an answer: ``quiz.hint.<kind>`` with parameters."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"quiz.hint.{self.kind}"


@dataclass(frozen=True, slots=True)
class Grade:
    correct: bool
    hints: tuple[Hint, ...] = ()


def parse_problem(line: str) -> str | None:
    """Why ``line`` is not a docker command the sandbox parser reads (None if it is)."""
    try:
        parse_docker(line)
    except UserError as exc:
        details = ", ".join(f"{k}={v}" for k, v in exc.params.items())
        return f"{exc.key} ({details})" if details else exc.key
    return None


def grade_choice(question: Question, chosen_option: int) -> Grade:
    """``chosen_option`` is the option's index in the content file (after unshuffling)."""
    return Grade(chosen_option == question.correct_index)


def grade_command(question: Question, typed: str) -> Grade:
    """Right when ``typed`` is equivalent to the answer or one of the accepted commands."""
    if question.type is not QuestionType.COMMAND:
        raise ValueError(f"{question.id} is not a command question")
    typed = typed.strip().strip("`").strip()
    if typed.startswith("$ "):
        typed = typed[2:]
    if not typed:
        return Grade(False, (Hint("empty"),))
    try:
        given = parse_docker(typed)
    except UserError as exc:
        return Grade(False, (Hint("unreadable", {"key": exc.key, **exc.params}),))
    best: list[Hint] | None = None
    for line in question.commands():
        expected = parse_docker(line)
        hints = _hints(expected, given)
        if not hints:
            return Grade(True)
        if best is None or len(hints) < len(best):
            best = hints
    return Grade(False, tuple((best or [])[:MAX_HINTS]))


def _hints(expected: DockerCommand, given: DockerCommand) -> list[Hint]:
    return [Hint(diff.kind, dict(diff.params)) for diff in differences(expected, given)]
