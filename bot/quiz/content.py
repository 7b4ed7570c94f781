"""The question content model (``content/questions/*.yaml``; each file holds a list).

Three types of question::

    - id: run-detached            # unique across all question files
      type: command               # choice | truefalse | command (bot/quiz/question_types/)
      topic: containers           # a concept topic: what ``/quiz <topic>`` selects
      concepts: [container]       # concept ids; checked against content/concepts
      difficulty: 2               # optional, 1 (easy) .. 3 (hard)
      prompt: {en: "...", ko: "..."}
      explanation: {en: "...", ko: "..."}
      answer: "docker run -d --name web nginx"   # command: the expected command line
      variants: ["docker run --detach --name=web nginx:latest"]  # the grader must take these
      accept: ["docker exec web ps"]   # other right answers the grader cannot know (rare)
      reject: ["docker run --name web nginx"]  # near misses that must be graded wrong

    - type: choice
      options:                    # 2 to 5 options, each in both languages (button labels)
        - {en: "...", ko: "..."}
      answer: 0                   # index of the correct option, counting from 0

    - type: truefalse
      answer: true                # the statement in ``prompt`` is true (or false)

Each type validates its own fields, renders its answer controls and grades answers
(:mod:`bot.quiz.question_types`); this module never branches on the type.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field, field_validator, model_validator

from bot.content.base import BODY_LIMIT, Id, Localized, Text, too_long
from bot.content.items import (
    ContentItem,
    ContentKind,
    ContentLibrary,
    CoverageRule,
    PartRef,
    Role,
)
from bot.content.lint import MAX_LONGEST_SHARE
from bot.content.wording import wording_check
from bot.quiz.question_types import QUESTION_TYPES, QuestionType, question_type

# The prompt shares its embed with a heading line and, for choices, the numbered options.
PROMPT_LIMIT = BODY_LIMIT - 600
# Vocabularies this kind exports (see bot.content.library) …
QUESTION_IDS = "question"
QUIZ_TOPICS = "quiz-topic"  # what ``/quiz <topic>`` finds questions for: topics and concepts
# … and those its checks refer to.
CONCEPT_IDS = "concept"
CONCEPT_TOPICS = "concept-topic"


class Question(ContentItem):
    type: str
    topic: Id
    concepts: tuple[Id, ...] = Field(min_length=1)
    prompt: Localized
    explanation: Localized
    options: tuple[Localized, ...] = ()
    answer: bool | int | Text
    accept: tuple[Text, ...] = Field(
        default=(), description="other right command lines the grader cannot know"
    )
    variants: tuple[Text, ...] = Field(
        default=(), description="spellings the grader's equivalences must accept (checked)"
    )
    reject: tuple[Text, ...] = Field(
        default=(), description="near-miss command lines that must be graded wrong"
    )
    strict: bool = Field(
        default=False, description="no task-level equivalences (docker exec N ps for top)"
    )
    difficulty: int | None = Field(default=None, ge=1, le=3)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        question_type(value)  # ValueError: unknown type, with the known ones
        return value

    @model_validator(mode="after")
    def _fits_type(self) -> Question:
        self.kind.validate(self)
        return self

    @property
    def kind(self) -> QuestionType:
        """This question's type: how it is validated, shown, answered and graded."""
        return QUESTION_TYPES[self.type]


def check_links(library: ContentLibrary) -> Iterable[str]:
    concepts = library.vocabulary(CONCEPT_IDS)
    topics = sorted(library.vocabulary(CONCEPT_TOPICS))
    for question in library.items(QUESTIONS).values():
        where = library.origin(QUESTIONS, question.id)
        if question.topic not in topics:
            yield (
                f"{where}: {question.id}: topic: {question.topic!r} is not a concept topic "
                f"({', '.join(topics)})"
            )
        for concept_id in question.concepts:
            if concept_id not in concepts:
                yield f"{where}: {question.id}: concepts: unknown concept {concept_id!r}"


def check_limits(library: ContentLibrary) -> Iterable[str]:
    for question in library.items(QUESTIONS).values():
        where = f"{library.origin(QUESTIONS, question.id)}: {question.id}"
        for name, text, limit in (
            ("prompt", question.prompt, PROMPT_LIMIT),
            ("explanation", question.explanation, BODY_LIMIT - 300),
        ):
            problem = too_long(text, limit)
            if problem:
                yield f"{where}: {name}: {problem}"


def check_by_type(library: ContentLibrary) -> Iterable[str]:
    """What each question's type checks: labels that fit, command lines that parse and
    grade as declared."""
    for question in library.items(QUESTIONS).values():
        where = f"{library.origin(QUESTIONS, question.id)}: {question.id}"
        for problem in question.kind.check(question):
            yield f"{where}: {problem}"


def _guessable_share(library: ContentLibrary) -> tuple[int, int]:
    """(questions whose right option is the strictly longest, questions with options)."""
    judged = [q.kind.guessable(q) for q in library.items(QUESTIONS).values()]
    rated = [g for g in judged if g is not None]
    return sum(rated), len(rated)


def _share_line(library: ContentLibrary, guessable: int, rated: int, verdict: str) -> str:
    return (
        f"{library.root / QUESTIONS.name}: {guessable}/{rated} questions "
        f"({guessable / rated:.0%}) can be answered by picking the longest option: {verdict} "
        f"the limit of {MAX_LONGEST_SHARE:.0%}"
    )


def check_longest_share(library: ContentLibrary) -> Iterable[str]:
    """The bank as a whole: under :data:`MAX_LONGEST_SHARE` of the multiple-choice questions
    may have the strictly longest right option, or picking the longest option pays off. One
    such question is never a habit, whatever the size of the bank."""
    guessable, rated = _guessable_share(library)
    if guessable > 1 and guessable / rated >= MAX_LONGEST_SHARE:
        yield (
            _share_line(library, guessable, rated, "over")
            + ": make wrong options as long as the right ones (see the warnings)"
        )


def warn_by_type(library: ContentLibrary) -> Iterable[str]:
    """What each question's type finds worth a second look (a right option that is the
    strictly longest), and how often options give the answer away across the bank (over the
    limit, :func:`check_longest_share` makes it a problem)."""
    for question in library.items(QUESTIONS).values():
        where = f"{library.origin(QUESTIONS, question.id)}: {question.id}"
        for warning in question.kind.warnings(question):
            yield f"{where}: {warning}"
    guessable, rated = _guessable_share(library)
    if rated and (guessable < 2 or guessable / rated < MAX_LONGEST_SHARE):
        yield _share_line(library, guessable, rated, "within")


def _tests(question: Question, part: PartRef) -> bool:
    return not part.explained_by.isdisjoint(question.concepts)


QUESTIONS: ContentKind[Question] = ContentKind(
    "questions",
    Question,
    checks=(
        check_links,
        check_limits,
        check_by_type,
        check_longest_share,
        wording_check("questions"),
    ),
    warnings=(warn_by_type,),
    vocabularies={
        QUESTION_IDS: lambda q: (q.id,),
        QUIZ_TOPICS: lambda q: (q.topic, *q.concepts),
    },
    coverage=CoverageRule(Role.TESTS, _tests, brief=True),
)
