"""Grades and hints, and the comparison of typed docker commands.

Typed commands are compared by meaning, with the docker CLI parser and the grading
equivalences of :mod:`bot.dockercli.compare`: ``docker run --name=web --detach nginx`` is
``docker run -d --name web nginx``, ``docker cp web:/f.conf ./`` is ``docker cp web:/f.conf .``,
``--mount source=data,target=/data`` is ``-v data:/data``. A near miss gets specific hints:
a missing ``-d``, a wrong container name, an option typed after the image. Which answers a
question takes is its type's business (``bot.quiz.question_types``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.errors import UserError
from bot.dockercli import DockerCommand, differences, parse_docker

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
    """Why ``line`` is not a docker command the parser reads (None if it is)."""
    try:
        parse_docker(line)
    except UserError as exc:
        details = ", ".join(f"{k}={v}" for k, v in exc.params.items())
        return f"{exc.key} ({details})" if details else exc.key
    return None


def clean_typed(typed: str) -> str:
    """The command line inside what a learner typed (code quotes and a ``$`` prompt off)."""
    typed = typed.strip().strip("`").strip()
    return typed.removeprefix("$ ")


def compare_command(accepted: Sequence[str], typed: str, strict: bool = False) -> Grade:
    """Right when ``typed`` does the task of one of the ``accepted`` command lines; else the
    hints of the closest one. ``strict``: only the accepted lines' own way of doing it (no
    ``docker exec N ps`` for ``docker top N``)."""
    typed = clean_typed(typed)
    if not typed:
        return Grade(False, (Hint("empty"),))
    try:
        given = parse_docker(typed)
    except UserError as exc:
        return Grade(False, (Hint("unreadable", {"key": exc.key, **exc.params}),))
    best: list[Hint] | None = None
    for line in accepted:
        hints = _hints(parse_docker(line), given, strict)
        if not hints:
            return Grade(True)
        if best is None or len(hints) < len(best):
            best = hints
    return Grade(False, tuple((best or [])[:MAX_HINTS]))


def _hints(expected: DockerCommand, given: DockerCommand, strict: bool) -> list[Hint]:
    return [Hint(diff.kind, dict(diff.params)) for diff in differences(expected, given, strict)]
