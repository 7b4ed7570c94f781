"""Dockerfiles: parsed with Docker's own parser (the ``dockerfile`` package wraps the Go
parser of moby/buildkit), split into stages, with the builder's variable substitution.

Pure: no Docker, no I/O. What a sandbox may do with a Dockerfile is the policy's to say
(:func:`bot.sandbox.policy.check_dockerfile`); how it is built is the sandbox's.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import dockerfile as go_parser

from bot.dockercli.errors import CliError

# Every instruction the classic builder knows; the sandbox builds all of them but ONBUILD
# (refused by the policy) and MAINTAINER (kept as the image's author, like Docker).
INSTRUCTIONS = frozenset(
    {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
     "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
)  # fmt: skip
MAX_DOCKERFILE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Instruction:
    """One instruction as written: its keyword, ``--flags`` and arguments."""

    keyword: str  # upper case
    flags: Mapping[str, str]  # ``--from=build`` → {"from": "build"}; a bare flag → ""
    args: tuple[str, ...]
    json: bool  # exec form (``CMD ["a", "b"]``)
    original: str
    line: int

    @property
    def text(self) -> str:
        """The instruction on one line, as the classic builder prints it in ``Step n/m``."""
        return " ".join(self.original.split())


@dataclass(frozen=True)
class Stage:
    """One ``FROM`` and the instructions after it."""

    index: int
    base: str  # as written, before substitution
    name: str | None  # ``AS name`` (lower case, as Docker compares it)
    instruction: Instruction  # the FROM itself
    steps: tuple[Instruction, ...] = ()


@dataclass(frozen=True)
class Dockerfile:
    global_args: tuple[Instruction, ...]  # ARGs before the first FROM
    stages: tuple[Stage, ...]
    all: tuple[Instruction, ...] = field(default=())

    def stage_index(self, ref: str) -> int | None:
        """The stage ``ref`` names (``AS`` name or number), when it names one."""
        for stage in self.stages:
            if stage.name is not None and stage.name == ref.lower():
                return stage.index
        if ref.isdigit() and int(ref) < len(self.stages):
            return int(ref)
        return None


def _flags(raw: tuple[str, ...], keyword: str, line: int) -> Mapping[str, str]:
    flags: dict[str, str] = {}
    for item in raw:
        if not item.startswith("--"):
            raise CliError("build.bad_flag", line=line, instruction=keyword, flag=item)
        name, _, value = item[2:].partition("=")
        flags[name.lower()] = value
    return MappingProxyType(flags)


def parse_dockerfile(text: str) -> Dockerfile:
    """Parse ``text``; CliError naming the line for what Docker's parser or builder refuses."""
    if len(text.encode()) > MAX_DOCKERFILE_BYTES:
        raise CliError("build.dockerfile_too_big", limit=MAX_DOCKERFILE_BYTES)
    try:
        parsed = go_parser.parse_string(text)
    except go_parser.GoParseError as exc:
        raise CliError("build.dockerfile_syntax", reason=str(exc)) from None
    instructions: list[Instruction] = []
    for command in parsed:
        keyword = command.cmd.upper()
        if keyword not in INSTRUCTIONS:
            raise CliError(
                "build.unknown_instruction", line=command.start_line, instruction=command.cmd
            )
        if command.heredocs:
            raise CliError("build.heredoc", line=command.start_line, instruction=keyword)
        instructions.append(
            Instruction(
                keyword, _flags(command.flags, keyword, command.start_line),
                tuple(command.value), command.json, command.original, command.start_line,
            )
        )  # fmt: skip
    return _stages(tuple(instructions))


def _stages(instructions: tuple[Instruction, ...]) -> Dockerfile:
    global_args: list[Instruction] = []
    stages: list[Stage] = []
    for item in instructions:
        if item.keyword == "FROM":
            stages.append(_from(item, len(stages)))
        elif not stages:
            if item.keyword != "ARG":
                raise CliError("build.no_from", line=item.line, instruction=item.keyword)
            global_args.append(item)
        else:
            last = stages[-1]
            stages[-1] = Stage(last.index, last.base, last.name, last.instruction,
                               (*last.steps, item))  # fmt: skip
    if not stages:
        raise CliError("build.no_from", line=1, instruction="")
    return Dockerfile(tuple(global_args), tuple(stages), instructions)


def _from(item: Instruction, index: int) -> Stage:
    args = item.args
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not re.fullmatch(r"[a-z][a-z0-9._-]*", name):
            raise CliError("build.bad_stage_name", line=item.line, name=args[2])
        return Stage(index, args[0], name, item)
    if len(args) != 1:
        raise CliError("build.bad_from", line=item.line, text=item.text)
    return Stage(index, args[0], None, item)


# --------------------------------------------------------------------------------------------
# Values: substitution, key=value pairs, shell words
# --------------------------------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\\\$|\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+?])(?P<word>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def substitute(text: str, env: Mapping[str, str]) -> str:
    """``$NAME``, ``${NAME}``, ``${NAME:-default}``, ``${NAME:+alternative}`` and
    ``${NAME:?message}`` from ``env``, as the builder (and compose) expands them;
    ``\\$`` stays a dollar sign."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "\\$":
            return "$"
        name = match.group("braced") or match.group("plain")
        value = env.get(name)
        op, word = match.group("op"), match.group("word") or ""
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op in ("-", ":-"):
            return word if unset else str(value)
        if op in ("+", ":+"):
            return "" if unset else word
        if op in ("?", ":?") and unset:
            raise CliError("build.variable_required", name=name, message=word or "not set")
        return value or ""

    return _VARIABLE.sub(one, text)


def unquote(value: str) -> str:
    """A value as the shell would read it: quotes removed, words kept apart by one space."""
    try:
        return " ".join(shlex.split(value, posix=True)) if value.strip() else ""
    except ValueError:
        return value


def pairs(item: Instruction, env: Mapping[str, str]) -> list[tuple[str, str]]:
    """``ENV``/``LABEL`` arguments (the parser gives key, value, key, value…) with their
    quotes removed and variables substituted."""
    args = item.args
    if len(args) % 2:
        raise CliError("build.bad_pairs", line=item.line, instruction=item.keyword)
    found: list[tuple[str, str]] = []
    for key, value in zip(args[::2], args[1::2], strict=True):
        found.append((unquote(substitute(key, env)), unquote(substitute(value, env))))
    return found


def arg_default(item: Instruction, env: Mapping[str, str]) -> tuple[str, str | None]:
    """``ARG NAME[=default]`` → (name, default or None)."""
    name, has, default = item.args[0].partition("=") if item.args else ("", "", "")
    if not name:
        raise CliError("build.bad_pairs", line=item.line, instruction=item.keyword)
    return name, unquote(substitute(default, env)) if has else None


def command_words(item: Instruction, shell: tuple[str, ...]) -> list[str]:
    """``RUN``/``CMD``/``ENTRYPOINT`` as the words the engine runs: the exec form as written,
    the shell form given to ``shell`` (``/bin/sh -c`` unless ``SHELL`` changed it)."""
    if item.json:
        return list(item.args)
    return [*shell, " ".join(item.args)]
