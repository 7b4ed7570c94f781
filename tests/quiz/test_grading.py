"""Typed commands are graded by meaning; near misses get specific hints."""

from __future__ import annotations

import pytest

from bot.content.library import ContentLibrary
from bot.quiz.content import QUESTIONS, Question
from bot.quiz.grading import Grade
from bot.quiz.question_types import Pressed, Typed, WrongAnswerKind
from tests.quiz.helpers import correct_option


def grade_command(question: Question, typed: str) -> Grade:
    return question.kind.grade(question, (), Typed(typed))


@pytest.fixture
def run_web(library: ContentLibrary) -> Question:
    return library.items(QUESTIONS)["docker-run-detached-named"]


@pytest.mark.parametrize(
    "typed",
    [
        "docker run -d --name web nginx",
        "docker run --name=web --detach nginx",
        "docker run --name web -d nginx",
        "docker run --detach --name=web nginx",
        "docker container run -d --name web nginx",
        "run -d --name web nginx",
        "  `docker run -d --name web nginx`  ",
        "$ docker run -d --name web nginx",
    ],
)
def test_equivalent_commands_pass(run_web: Question, typed: str) -> None:
    assert grade_command(run_web, typed).correct


@pytest.mark.parametrize(
    ("typed", "kind", "params"),
    [
        ("docker run --name web nginx", "missing_flag", {"flag": "-d/--detach"}),
        ("docker run -d --name webb nginx", "flag_value", {"expected": "web", "given": "webb"}),
        ("docker run --name web nginx -d", "option_after_image", {"flag": "-d/--detach"}),
        ("docker run -d --name web httpd", "image", {"expected": "nginx", "given": "httpd"}),
        ("docker run -d -p 80:80 --name web nginx", "extra_flag", {"flag": "-p/--publish"}),
        ("docker ps", "subcommand", {"expected": "docker run"}),
        ("docker run 'nginx", "unreadable", {"key": "cli.bad_quotes"}),
        ("", "empty", {}),
    ],
)
def test_near_misses_get_specific_hints(
    run_web: Question, typed: str, kind: str, params: dict[str, str]
) -> None:
    grade = grade_command(run_web, typed)
    assert not grade.correct
    assert grade.hints[0].kind == kind
    for name, value in params.items():
        assert grade.hints[0].params[name] == value


def test_accepted_alternatives(library: ContentLibrary) -> None:
    question = library.items(QUESTIONS)["volume-run-mount"]
    assert grade_command(question, "docker run -v data:/data -d redis").correct
    assert grade_command(
        question, "docker run --detach --mount type=volume,source=data,target=/data redis"
    ).correct
    near = grade_command(question, "docker run -d -v data:/srv redis")
    assert not near.correct and near.hints[0].kind == "flag_value"


def test_choice_grading_follows_the_shuffled_order(library: ContentLibrary) -> None:
    question = library.items(QUESTIONS)["docker-what-is-container"]
    right = correct_option(question)
    order = tuple(reversed(range(len(question.options))))  # as shown: last option first
    shown_at = order.index(right)
    assert question.kind.grade(question, order, Pressed(shown_at)).correct
    assert question.kind.given(question, order, Pressed(shown_at)) == str(right)
    for button in range(len(order)):
        if button != shown_at:
            assert not question.kind.grade(question, order, Pressed(button)).correct


def test_an_answer_of_the_wrong_kind_is_refused(library: ContentLibrary) -> None:
    choice = library.items(QUESTIONS)["docker-what-is-container"]
    command = library.items(QUESTIONS)["docker-run-detached-named"]
    with pytest.raises(WrongAnswerKind):
        choice.kind.grade(choice, (), Typed("docker ps"))
    with pytest.raises(WrongAnswerKind):
        choice.kind.grade(choice, (0, 1, 2, 3), Pressed(4))
    with pytest.raises(WrongAnswerKind):
        command.kind.grade(command, (), Pressed(0))
