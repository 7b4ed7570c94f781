"""The repository's content is valid, and broken copies are reported by file and field."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.coach import check_content
from bot.concepts.models import SandboxSupport
from bot.concepts.validation import CONCEPTS
from bot.content.library import ContentLibrary
from bot.dockercli import parse_docker
from bot.practice.content import SCENARIOS
from bot.quiz.content import QUESTIONS
from bot.settings import REPO_ROOT
from tests.support import run_bot

CONTENT = REPO_ROOT / "content"
# Concepts about history or ideas, where typing a command would be forced.
NO_COMMAND_QUESTION = frozenset({"container-history"})


def content_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_bot("content", *args)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_repository_content_has_no_problems() -> None:
    _library, problems = check_content(CONTENT)
    assert problems == []


def test_content_check_cli_passes_on_the_repository() -> None:
    result = content_cli("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "content OK" in result.stdout


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "concepts/volume.yaml",
            "topic: storage",
            "topic: storage\ncolour: blue",
            "colour: unknown key",
        ),
        (
            "concepts/docker-cp.yaml",
            'ko: "docker cp (파일 복사)"}',
            "}",
            "title.ko: missing translation",
        ),
        (
            "concepts/exec.yaml",
            "related: [logs,",
            "related: [no-such-concept, logs,",
            "related: unknown concept 'no-such-concept'",
        ),
        (
            "concepts/cli.yaml",
            "  en: |\n    A **CLI**",
            "  en: |\n    " + "x" * 4200 + "\n    A **CLI**",
            "body: en is",
        ),
        (
            "concepts/docker-pull.yaml",
            "scenario: search-pull",
            "scenario: no-such-scenario",
            "scenario: unknown scenario 'no-such-scenario'",
        ),
        (
            "concepts/container-history.yaml",
            "seed: [container-history]",
            "seed: [linux-container]",
            "parts.container-history: no concept covers this part of the seed",
        ),
    ],
    ids=[
        "unknown-key",
        "missing-translation",
        "dangling-related",
        "over-long-body",
        "unknown-scenario",
        "uncovered-seed-part",
    ],
)
def test_content_check_names_file_and_field(
    copy: Path, file: str, old: str, new: str, expected: str
) -> None:
    edit(copy / file, old, new)
    result = content_cli("check", "--content", str(copy))
    assert result.returncode != 0
    where = copy / ("seed.yaml" if "seed" in expected else file)
    lines = [line for line in result.stdout.splitlines() if expected in line]
    assert lines, result.stdout
    assert all(line.startswith(f"{where}:") for line in lines), lines


def test_broken_question_is_reported(copy: Path) -> None:
    edit(copy / "questions/intro.yaml", "concepts: [cli]\n", "concepts: [no-such-concept]\n")
    result = content_cli("check", "--content", str(copy))
    assert result.returncode != 0
    assert "intro.yaml: cli-what-is: concepts: unknown concept 'no-such-concept'" in result.stdout


def test_every_concept_has_four_questions_of_mixed_types(library: ContentLibrary) -> None:
    types: dict[str, list[str]] = {concept_id: [] for concept_id in library.items(CONCEPTS)}
    for question in library.items(QUESTIONS).values():
        for concept_id in question.concepts:
            types[concept_id].append(str(question.type))
    thin = {cid: kinds for cid, kinds in types.items() if len(kinds) < 4 or len(set(kinds)) < 2}
    assert thin == {}


def test_concepts_with_commands_have_a_type_the_command_question(library: ContentLibrary) -> None:
    with_command = {
        concept_id
        for question in library.items(QUESTIONS).values()
        if str(question.type) == "command"
        for concept_id in question.concepts
    }
    runnable = {
        c.id
        for c in library.items(CONCEPTS).values()
        if any(e.sandbox is SandboxSupport.RUNS and not e.shell for e in c.examples)
    }
    assert runnable - with_command - NO_COMMAND_QUESTION == set()


def test_every_runnable_example_parses(library: ContentLibrary) -> None:
    for concept in library.items(CONCEPTS).values():
        for example in concept.examples:
            if example.sandbox is SandboxSupport.RUNS and not example.shell:
                assert parse_docker(example.command).path, (concept.id, example.command)


def test_every_topic_has_a_name_in_both_languages(library: ContentLibrary) -> None:
    topics = {concept.topic for concept in library.items(CONCEPTS).values()}
    for locale in ("en", "ko"):
        names = yaml.safe_load((CONTENT / "i18n" / locale / "concepts.yaml").read_text())["topics"]
        assert topics <= set(names), locale


def test_scenarios_are_named_by_concepts_that_they_exercise(library: ContentLibrary) -> None:
    for concept in library.items(CONCEPTS).values():
        if concept.scenario:
            assert concept.scenario in library.items(SCENARIOS), concept.id
    named = Counter(c.scenario for c in library.items(CONCEPTS).values() if c.scenario)
    assert set(library.items(SCENARIOS)) <= set(named), "a scenario no concept points to"
