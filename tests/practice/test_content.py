"""The scenario model and the cross-file checks of ``content check``."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.content.library import ContentLibrary
from bot.practice.content import (
    SCENARIOS,
    AllCheck,
    ContainerCheck,
    NotCheck,
    OutputCheck,
    Scenario,
    Step,
    UsedCheck,
    check_scenarios,
)

STEP = {
    "id": "s",
    "title": {"en": "T", "ko": "T"},
    "instruction": {"en": "Do it", "ko": "해요"},
    "check": {"volume": {"name": "v"}},
}


def scenario_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "demo",
        "title": {"en": "Demo", "ko": "데모"},
        "summary": {"en": "A demo", "ko": "데모"},
        "intro": {"en": "Intro", "ko": "소개"},
        "recap": {"en": "Recap", "ko": "정리"},
        "steps": [dict(STEP)],
        "solution": [{"step": "s", "commands": ["/docker volume create v"]}],
    }
    data.update(changes)
    return data


def problems_for(library: ContentLibrary, scenario: Scenario) -> list[str]:
    return list(check_scenarios(library.replacing(SCENARIOS, {scenario.id: scenario})))


def test_the_scenarios_load(library: ContentLibrary) -> None:
    assert set(library.items(SCENARIOS)) == {
        "search-pull",
        "first-container",
        "web-cp",
        "volumes",
        "networks",
        "lifecycle",
        "one-kernel",
        "isolation",
        "debugging",
        "limits",
        "ports-env",
        "first-dockerfile",
        "first-compose",
    }
    assert list(check_scenarios(library)) == []


def test_every_scenario_has_a_solution_and_wrong_moves(library: ContentLibrary) -> None:
    for scenario in library.items(SCENARIOS).values():
        assert [s.step for s in scenario.solution] == [s.id for s in scenario.steps]
        assert scenario.wrong_moves, scenario.id


def test_a_check_is_a_one_key_mapping_parsed_into_its_kind() -> None:
    text = """
    all:
      - {container: {name: web, running: true, image: nginx, status: running}}
      - {not: {used: {command: "volume   create"}}}
    """
    step = Step.model_validate({**STEP, "check": yaml.safe_load(text)})
    assert isinstance(step.check, AllCheck)
    first, second = step.check.all
    assert isinstance(first, ContainerCheck) and first.container.status == ("running",)
    assert isinstance(second, NotCheck) and isinstance(second.not_, UsedCheck)
    assert second.not_.used.command == "volume create"


@pytest.mark.parametrize(
    ("check", "fragment"),
    [
        ({"contaner": {"name": "web"}}, "exactly one key"),
        ({"container": {"name": "web"}, "volume": {"name": "v"}}, "exactly one key"),
        ({"container": {"nme": "web"}}, "Extra inputs"),
        ({"container": {"status": "sleeping"}}, "status"),
        ({"used": {"command": "teleport"}}, "unknown docker subcommand"),
        ({"used": {"command": "run", "shell": "wget"}}, "exactly one of"),
        ({"container": {"remembered": "same"}}, "remembered needs a container name"),
        ({"container": {"memory": "lots"}}, "not a memory size"),
        ({"container": {"cpus": 0}}, "greater than 0"),
        ({"container": {"health": "fine"}}, "health"),
        ({"used": {"command": "ps", "flags": ["-z"]}}, "docker ps has no flag '-z'"),
        ({"used": {"shell": "wget", "flags": ["-q"]}}, "go with a docker command"),
        ({"used": {"command": "ps", "container": "web"}}, "does not act on one container"),
        ({"used": {"command": "logs", "program": "cat"}}, "runs no program"),
        ({"output": {"command": "ps"}}, "needs contains or lacks"),
        ({"all": []}, "at least 1"),
    ],
)
def test_bad_checks_are_refused_with_a_reason(check: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        Step.model_validate({**STEP, "check": check})
    assert fragment in str(info.value)


def test_a_missing_translation_is_an_error() -> None:
    with pytest.raises(ValidationError):
        Scenario.model_validate(scenario_data(title={"en": "Only English"}))


def test_removed_needs_an_earlier_remember(library: ContentLibrary) -> None:
    steps = [
        {**STEP, "id": "a"},
        {**STEP, "id": "b", "check": {"removed": {"name": "web"}}},
    ]
    solution = [
        {"step": "a", "commands": ["/docker ps"]},
        {"step": "b", "commands": ["/docker ps"]},
    ]
    scenario = Scenario.model_validate(scenario_data(steps=steps, solution=solution))
    problems = problems_for(library, scenario)
    assert any("'web' is not remembered by an earlier step" in p for p in problems)
    steps[0]["remember"] = ["web"]
    scenario = Scenario.model_validate(scenario_data(steps=steps, solution=solution))
    assert problems_for(library, scenario) == []


def test_solution_must_follow_the_steps(library: ContentLibrary) -> None:
    steps = [{**STEP, "id": "a"}, {**STEP, "id": "b"}]
    solution = [{"step": "b", "commands": ["/docker ps"]}, {"step": "a", "commands": ["ps"]}]
    scenario = Scenario.model_validate(scenario_data(steps=steps, solution=solution))
    problems = problems_for(library, scenario)
    assert any("must list every step once, in order" in p for p in problems)
    assert any("must start with /docker or /sh" in p for p in problems)


def test_wrong_moves_name_a_fail_check_of_their_step(library: ContentLibrary) -> None:
    step = {
        **STEP,
        "fail_checks": [
            {
                "id": "no-vol",
                "when": {"not": {"volume": {"name": "v"}}},
                "hint": {"en": "h", "ko": "h"},
            }
        ],
    }
    moves = [
        {"step": "s", "commands": ["/docker ps"], "expect": "nope"},
        {"step": "zz", "commands": ["/docker ps"], "expect": "no-vol"},
    ]
    scenario = Scenario.model_validate(scenario_data(steps=[step], wrong_moves=moves))
    problems = problems_for(library, scenario)
    assert any("has no fail check 'nope'" in p for p in problems)
    assert any("unknown step 'zz'" in p for p in problems)


def test_unknown_concepts_and_recap_concepts_no_step_exercises(library: ContentLibrary) -> None:
    scenario = Scenario.model_validate(scenario_data(concepts=["no-such", "volume"]))
    problems = problems_for(library, scenario)
    assert any("concepts: unknown concept 'no-such'" in p for p in problems)
    assert any("concepts: no step exercises 'volume'" in p for p in problems)
    step = {**STEP, "concepts": ["volume"]}
    scenario = Scenario.model_validate(scenario_data(concepts=["volume"], steps=[step]))
    assert problems_for(library, scenario) == []


def test_container_names_collects_every_name(library: ContentLibrary) -> None:
    assert library.items(SCENARIOS)["networks"].container_names() == {"web", "client"}


def test_used_flags_are_stored_by_their_canonical_names() -> None:
    step = Step.model_validate(
        {**STEP, "check": {"output": {"command": "ps", "flags": "-a", "contains": "Exited"}}}
    )
    assert isinstance(step.check, OutputCheck)
    assert step.check.output.flags == ("all",)
    assert step.check.output.contains == ("Exited",)


def test_later_steps_do_not_give_their_answer_word_for_word(library: ContentLibrary) -> None:
    def shown(instruction: str, practises: list[str], **extra: Any) -> dict[str, Any]:
        text = {"en": instruction, "ko": instruction}
        return {**STEP, "id": "c", "instruction": text, "practises": practises, **extra}

    first = [{**STEP, "id": "a"}, {**STEP, "id": "b"}]
    solution = [
        {"step": "a", "commands": ["/docker volume create v"]},
        {"step": "b", "commands": ["/docker volume ls"]},
        {"step": "c", "commands": ["/docker volume inspect v"]},
    ]

    def problems(third: dict[str, Any]) -> list[str]:
        data = scenario_data(steps=[*first, third], solution=solution)
        return problems_for(library, Scenario.model_validate(data))

    [problem] = problems(shown("Type `/docker volume inspect v`", ["/docker volume inspect v"]))
    assert "(c): instruction (en), instruction (ko), practises: gives the answer" in problem
    # without the slash it is the same answer
    assert problems(shown("Run `docker volume inspect v`", []))
    # the goal and the pattern are fine; hints may reveal it; so may a step that says so
    assert problems(shown("Look at the volume **v**", ["/docker volume inspect NAME"])) == []
    hinted = shown("Look at **v**", [], hints=[{"en": "`/docker volume inspect v`", "ko": "…"}])
    assert problems(hinted) == []
    given = shown("Type `/docker volume inspect v`", [], shows_command=True)
    assert problems(given) == []
    # the first two steps may show their command
    first[0] = shown("Type `/docker volume create v`", ["/docker volume create v"]) | {"id": "a"}
    assert problems(shown("Look at **v**", [])) == []
