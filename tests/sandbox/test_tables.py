"""The three tables agree: every subcommand of the grammar has an operation in the sandbox and a
policy decision about it and each of its flags — and nothing is in one table only."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from bot.dockercli import COMMANDS, DockerCommand, parse_docker
from bot.sandbox import policy
from bot.sandbox.ops import OPERATIONS
from bot.settings import SandboxSettings

CONFIG = policy.PolicyConfig.from_settings(SandboxSettings())


def test_every_command_has_an_operation_and_a_decision_and_vice_versa() -> None:
    assert set(OPERATIONS) == set(COMMANDS)
    assert set(policy.DECISIONS) == set(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_flag_has_exactly_one_decision(path: tuple[str, ...]) -> None:
    decision, ruled = policy.DECISIONS[path], policy.ruled_flags(path)
    assert decision.allowed.isdisjoint(decision.bounded)
    assert decision.decided.isdisjoint(ruled), "a flag with a rule is not also free"
    assert decision.decided | ruled == COMMANDS[path].flag_names


def test_rules_name_commands_and_flags_of_the_grammar() -> None:
    for rule in policy.RULES:
        for path in rule.commands:
            assert path in COMMANDS, (rule.name, path)
            assert rule.flag is None or rule.flag in COMMANDS[path].flag_names, rule.name


def test_a_command_or_flag_without_a_decision_is_refused() -> None:
    made = DockerCommand(("ps",), MappingProxyType({"bogus": True}), ())
    verdict = policy.check(made, CONFIG)
    assert verdict.refusal is not None and verdict.refusal.key == "policy.undecided"
    assert verdict.refusal.params["flag"] == "--bogus"
    unknown = DockerCommand(("system", "events"), MappingProxyType({}), ())
    verdict = policy.check(unknown, CONFIG)
    assert verdict.refusal is not None and verdict.refusal.params["flag"] == "docker system events"
    assert policy.check(parse_docker("ps -a --format '{{.Names}}'"), CONFIG).allowed
