"""Typed commands are graded by meaning; near misses get specific hints."""

from __future__ import annotations

import pytest

from bot.content.library import ContentLibrary
from bot.quiz.content import Question
from bot.quiz.grading import grade_choice, grade_command


@pytest.fixture
def run_web(library: ContentLibrary) -> Question:
    return library.questions["docker-run-detached-named"]


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
    question = library.questions["volume-run-mount"]
    assert grade_command(question, "docker run -v data:/data -d redis").correct
    assert grade_command(
        question, "docker run --detach --mount type=volume,source=data,target=/data redis"
    ).correct
    near = grade_command(question, "docker run -d -v data:/srv redis")
    assert not near.correct and near.hints[0].kind == "flag_value"


def test_choice_grading(library: ContentLibrary) -> None:
    question = library.questions["docker-what-is-container"]
    assert grade_choice(question, question.correct_index).correct
    assert not grade_choice(question, question.correct_index + 1).correct
