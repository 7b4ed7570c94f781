"""Comparing two docker commands by meaning, for grading typed answers.

:func:`equivalent` ignores spelling (flag order, ``--name=web`` vs ``--name web``, clusters,
``nginx`` vs ``docker.io/library/nginx:latest``); :func:`differences` says what a typed
command lacks, adds or changes compared with the expected one, each difference a message key
(``cli.diff_<kind>``) with the flag's label and both values as typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.dockercli.model import IMAGE_COMMANDS, DockerCommand, FlagValue, canonical_args
from bot.dockercli.parser import flag_label, misplaced_options
from bot.dockercli.table import COMMANDS


def normalize(cmd: DockerCommand) -> tuple[object, ...]:
    """The canonical form of ``cmd`` (equal for equivalent commands)."""
    return cmd.canonical()


def equivalent(a: DockerCommand, b: DockerCommand) -> bool:
    return a.canonical() == b.canonical()


@dataclass(frozen=True)
class Difference:
    """One way a typed command differs from the expected one; ``key`` is its hint's key."""

    # subcommand | missing_flag | extra_flag | flag_value | image | args
    # | option_after_image | option_after_container
    kind: str
    flag: str = ""  # the flag's label, e.g. "-d/--detach"
    expected: str = ""
    given: str = ""

    @property
    def key(self) -> str:
        return "cli.diff_" + self.kind

    @property
    def params(self) -> dict[str, str]:
        return {"flag": self.flag, "expected": self.expected, "given": self.given}


def _show(value: FlagValue | None) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "true"
    if isinstance(value, tuple):
        return " ".join(value)
    return value


def differences(expected: DockerCommand, given: DockerCommand) -> list[Difference]:
    """What ``given`` lacks, adds or changes compared with ``expected`` (empty: equivalent)."""
    if expected.path != given.path:
        return [Difference("subcommand", expected=expected.command_name, given=given.command_name)]
    found: list[Difference] = []
    misplaced = misplaced_options(given)
    kind = "option_after_container" if given.path == ("exec",) else "option_after_image"
    for name in misplaced:
        label = flag_label(given.path, name)
        found.append(Difference(kind, flag=label, expected=given.args[0]))
    found.extend(_flag_differences(expected, given, set(misplaced)))
    found.extend(_arg_differences(expected, given, bool(misplaced)))
    return found


def _flags(cmd: DockerCommand) -> dict[str, object]:
    canonical = cmd.canonical()[1]
    assert isinstance(canonical, tuple)
    return dict(canonical)


def _flag_differences(
    expected: DockerCommand, given: DockerCommand, misplaced: set[str]
) -> list[Difference]:
    found: list[Difference] = []
    want, got = _flags(expected), _flags(given)
    for name in sorted(want.keys() | got.keys()):
        label = flag_label(expected.path, name)
        shown_want, shown_got = _show(expected.flag(name)), _show(given.flag(name))
        if name not in got:
            if name not in misplaced:
                found.append(Difference("missing_flag", flag=label, expected=shown_want))
        elif name not in want:
            found.append(Difference("extra_flag", flag=label, given=shown_got))
        elif want[name] != got[name]:
            found.append(Difference("flag_value", flag=label, expected=shown_want, given=shown_got))
    return found


def _arg_differences(
    expected: DockerCommand, given: DockerCommand, misplaced: bool
) -> list[Difference]:
    spec = COMMANDS[expected.path]
    kind = "image" if expected.path in IMAGE_COMMANDS else "args"
    if spec.interspersed:
        if canonical_args(expected) == canonical_args(given):
            return []
        return [Difference(kind, expected=" ".join(expected.args), given=" ".join(given.args))]
    found: list[Difference] = []
    if canonical_args(expected)[:1] != canonical_args(given)[:1]:
        found.append(Difference(kind, expected=expected.image, given=given.image))
    if expected.args[1:] != given.args[1:] and not (misplaced and not expected.args[1:]):
        found.append(
            Difference(
                "args",
                expected=" ".join(expected.container_command),
                given=" ".join(given.container_command),
            )
        )
    return found
