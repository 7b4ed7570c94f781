"""Which concepts a step exercises: the facets of checks and examples, and the rule that a
step's check must touch every concept the step lists."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from bot.content.library import ContentLibrary
from bot.practice.content import SCENARIOS, Check, Scenario, Step
from bot.practice.exercise import GENERIC, command_facets, example_facets, touches
from tests.practice.test_content import STEP, problems_for, scenario_data

parse_check = TypeAdapter(Check).validate_python
MEMORY = "flag:run:memory"
SAME_CONTAINER = {"cmd:run", "cmd:start", "cmd:restart"}
VOLUME_MOUNT = {"flag:run:volume", "flag:run:mount", "cmd:volume create"}


def facets(check: dict[str, Any]) -> set[str]:
    return set(parse_check(check).facets())


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ({"used": {"command": "ps", "flags": "-a"}}, {"cmd:ps", "flag:ps:all"}),
        ({"used": {"command": "exec", "program": "ps"}}, {"cmd:exec", "prog:ps"}),
        ({"used": {"shell": "wget"}}, {"prog:wget"}),
        ({"output": {"command": "logs", "container": "app", "contains": "x"}}, {"cmd:logs"}),
        ({"container": {"name": "one", "hostname": "lab"}}, {"flag:run:hostname"}),
        ({"container": {"name": "c", "memory": "64m", "cpus": 0.5}}, {MEMORY, "flag:run:cpus"}),
        ({"container": {"name": "h", "oom_killed": True}}, {MEMORY}),
        ({"container": {"name": "l", "status": "paused"}}, {"cmd:pause"}),
        ({"container": {"name": "l", "running": True, "remembered": "same"}}, SAME_CONTAINER),
        ({"container": {"name": "w", "mount": {"volume": "v"}}}, VOLUME_MOUNT),
        ({"volume": {"name": "v"}}, {"cmd:volume create"}),
        ({"removed": {"name": "x"}}, {"cmd:rm", "cmd:container prune"}),
        ({"not": {"used": {"command": "top"}}}, set()),  # what must not hold
        ({"all": [{"used": {"command": "top"}}, {"not": {"volume": {"name": "v"}}}]}, {"cmd:top"}),
    ],
)  # fmt: skip
def test_the_facets_of_a_check(check: dict[str, Any], expected: set[str]) -> None:
    assert facets(check) == expected


def test_the_facets_of_a_command() -> None:
    assert command_facets("docker run -d --name b --hostname lab busybox sleep 9") == {
        "cmd:run", "flag:run:detach", "flag:run:name", "flag:run:hostname", "prog:sleep",
    }  # fmt: skip
    assert command_facets("docker create -m 64m busybox") == {"cmd:create", "flag:run:memory"}
    assert command_facets("docker exec box sh -c 'ps > /tmp/x'") == {"cmd:exec", "prog:ps"}
    assert command_facets("docker teleport") == frozenset()


def test_a_step_touches_a_concept_by_what_is_specific_to_it() -> None:
    concepts = example_facets(
        [
            "namespaces docker run --rm --hostname lab busybox hostname",
            "cgroups docker run -d --name box busybox sleep 300",
            "cgroups docker stats --no-stream",
        ]
    )
    hostname_step = frozenset({"cmd:run", "flag:run:hostname"})
    assert touches(hostname_step, concepts["namespaces"])
    assert not touches(hostname_step, concepts["cgroups"])  # a shared `run` is not enough
    starting_step = frozenset({"cmd:run"})  # only starts a container: generic facets count
    assert starting_step <= GENERIC and touches(starting_step, concepts["cgroups"])


def test_a_step_must_touch_the_concepts_it_lists(library: ContentLibrary) -> None:
    step = {
        **STEP,
        "check": {"used": {"command": "top"}},
        "concepts": ["process-isolation", "volume", "no-such"],
    }
    scenario = Scenario.model_validate(
        scenario_data(steps=[step], solution=[{"step": "s", "commands": ["/docker top x"]}])
    )
    problems = problems_for(library, scenario)
    assert any("concepts: unknown concept 'no-such'" in p for p in problems)
    assert any("the check never touches 'volume'" in p and "(cmd:top)" in p for p in problems)
    assert not any("'process-isolation'" in p for p in problems)


def test_every_step_of_the_course_touches_its_concepts(library: ContentLibrary) -> None:
    claimed = [
        (scenario.id, step.id, concept)
        for scenario in library.items(SCENARIOS).values()
        for step in scenario.steps
        for concept in step.concepts
    ]
    assert len(claimed) >= 40
    assert isinstance(library.items(SCENARIOS)["isolation"].steps[0], Step)
