"""The question content model (``content/questions/*.yaml``; each file holds a list).

Three kinds of question::

    - id: run-detached            # unique across all question files
      type: command               # choice | truefalse | command
      topic: containers           # a concept topic: what ``/quiz <topic>`` selects
      concepts: [container]       # concept ids; checked against content/concepts
      difficulty: 2               # optional, 1 (easy) .. 3 (hard)
      prompt: {en: "...", ko: "..."}
      explanation: {en: "...", ko: "..."}
      answer: "docker run -d --name web nginx"   # command: the expected command line
      accept: ["docker container run -d --name web nginx"]  # optional other right answers
      reject: ["docker run --name web nginx"]  # optional near misses that must be graded wrong

    - type: choice
      options:                    # 2 to 5 options, each in both languages (button labels)
        - {en: "...", ko: "..."}
      answer: 0                   # index of the correct option, counting from 0

    - type: truefalse
      answer: true                # the statement in ``prompt`` is true (or false)

Command answers are graded by parsing both lines with the sandbox's docker CLI parser, so
``--name=web --detach`` and flags in another order pass; see :mod:`bot.quiz.grading`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from bot.content.base import (
    ANSWER_LIMIT,
    BODY_LIMIT,
    CHOICE_LIMIT,
    ContentModel,
    Id,
    Localized,
    Text,
    too_long,
)
from bot.content.library import ContentKind

if TYPE_CHECKING:
    from bot.content.library import ContentLibrary

MIN_OPTIONS = 2
MAX_OPTIONS = 5
# The prompt shares its embed with a heading line and, for choices, the numbered options.
PROMPT_LIMIT = BODY_LIMIT - 600


class QuestionType(StrEnum):
    CHOICE = "choice"
    TRUEFALSE = "truefalse"
    COMMAND = "command"


class Question(ContentModel):
    id: Id
    type: QuestionType
    topic: Id
    concepts: tuple[Id, ...] = Field(min_length=1)
    prompt: Localized
    explanation: Localized
    options: tuple[Localized, ...] = ()
    answer: bool | int | Text
    accept: tuple[Text, ...] = ()
    reject: tuple[Text, ...] = Field(
        default=(), description="near-miss command lines that must be graded wrong"
    )
    difficulty: int | None = Field(default=None, ge=1, le=3)

    @model_validator(mode="after")
    def _fits_type(self) -> Question:
        if self.type is QuestionType.CHOICE:
            self._check_choice()
        elif self.type is QuestionType.TRUEFALSE:
            if not isinstance(self.answer, bool):
                raise ValueError("a truefalse question needs `answer: true` or `answer: false`")
            self._no_extras()
        else:
            if not isinstance(self.answer, str):
                raise ValueError("a command question needs the command line as `answer`")
            if self.options:
                raise ValueError("a command question has no `options`")
        return self

    def _check_choice(self) -> None:
        if not MIN_OPTIONS <= len(self.options) <= MAX_OPTIONS:
            raise ValueError(
                f"a choice question needs {MIN_OPTIONS} to {MAX_OPTIONS} options, "
                f"not {len(self.options)}"
            )
        if isinstance(self.answer, bool) or not isinstance(self.answer, int):
            raise ValueError("a choice question needs the index of the right option as `answer`")
        if not 0 <= self.answer < len(self.options):
            raise ValueError(
                f"answer index {self.answer} is out of range: options are numbered "
                f"0 to {len(self.options) - 1}"
            )
        if self.accept or self.reject:
            raise ValueError("only command questions take `accept` and `reject`")

    def _no_extras(self) -> None:
        if self.options:
            raise ValueError(f"a {self.type} question has no `options`")
        if self.accept or self.reject:
            raise ValueError("only command questions take `accept` and `reject`")

    @property
    def correct_index(self) -> int:
        """The index of the right button (true/false: 0 is "true", 1 is "false")."""
        if self.type is QuestionType.TRUEFALSE:
            return 0 if self.answer else 1
        return int(self.answer)

    def commands(self) -> tuple[str, ...]:
        """Every command line accepted for a command question."""
        return (str(self.answer), *self.accept) if self.type is QuestionType.COMMAND else ()


def check_links(library: ContentLibrary) -> Iterable[str]:
    concepts = library.concepts
    topics = sorted({concept.topic for concept in concepts.values()})
    for question in library.questions.values():
        where = library.origin("questions", question.id)
        if question.topic not in topics:
            yield (
                f"{where}: {question.id}: topic: {question.topic!r} is not a concept topic "
                f"({', '.join(topics)})"
            )
        for concept_id in question.concepts:
            if concept_id not in concepts:
                yield f"{where}: {question.id}: concepts: unknown concept {concept_id!r}"


def check_limits(library: ContentLibrary) -> Iterable[str]:
    for question in library.questions.values():
        where = f"{library.origin('questions', question.id)}: {question.id}"
        for name, text, limit in (
            ("prompt", question.prompt, PROMPT_LIMIT),
            ("explanation", question.explanation, BODY_LIMIT - 300),
        ):
            problem = too_long(text, limit)
            if problem:
                yield f"{where}: {name}: {problem}"
        for index, option in enumerate(question.options):
            problem = too_long(option, CHOICE_LIMIT)
            if problem:
                yield f"{where}: options[{index}]: {problem} (an answer option)"
        for line in question.commands():
            if len(line) > ANSWER_LIMIT:
                yield f"{where}: answer: {len(line)} characters is too long to type"


def check_commands(library: ContentLibrary) -> Iterable[str]:
    """Every command answer (and near miss) must parse with the sandbox's docker CLI parser."""
    from bot.quiz.grading import parse_problem

    for question in library.questions.values():
        where = f"{library.origin('questions', question.id)}: {question.id}"
        lines = [("answer", line) for line in question.commands()]
        lines += [("reject", line) for line in question.reject]
        for field, line in lines:
            problem = parse_problem(line)
            if problem:
                yield f"{where}: {field} {line!r} does not parse: {problem}"


QUESTION_KIND = ContentKind("questions", Question, (check_links, check_limits, check_commands))
