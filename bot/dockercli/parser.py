"""Parse docker command lines the way the docker CLI (cobra/pflag) does.

``--name=web`` and ``--name web``, ``-e A=B`` and ``-eA=B``, clusters such as ``-dit`` and
``-dp 8080:80``, ``--`` ends options, ``--rm=false`` for booleans, and for ``run``/``create``/
``exec``/``top`` everything after the image or container goes to the container. Values are
checked as they are read, ``--filter`` keys and ``--format`` templates against the
subcommand's table entry, image references and ``cp`` arguments as a whole. Every
:class:`~bot.dockercli.errors.CliError` names the flag or argument at fault.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.dockercli.errors import CliError
from bot.dockercli.model import IMAGE_COMMANDS, DockerCommand, Flag, FlagValue, Path, SubcommandSpec
from bot.dockercli.table import COMMANDS, COMPOSE_GLOBAL_VALUED, GROUPS, NOT_IN_SANDBOX, ROUTES
from bot.dockercli.values import CopySpec, parse_bool, parse_copy_args, parse_image_reference

# --------------------------------------------------------------------------------------------
# Splitting and routing
# --------------------------------------------------------------------------------------------


# What a shell would take for itself: a pipe, a list, a redirection, a background job.
SHELL_OPERATORS = frozenset("|;&<>")
MERGED_STREAMS = re.compile(r"\s+2>&1\s*$")


def split_words(line: str) -> list[str]:
    """Split ``line`` like a POSIX shell (quotes, backslashes); unbalanced quotes → CliError,
    and so does an unquoted shell operator (``docker logs web | tail -3``): the line is one
    docker command, with no shell around it to pipe or redirect its output. A trailing
    ``2>&1`` (tutorials add it so that errors show with the output) is read as said: the
    sandbox answers with both streams anyway."""
    line = MERGED_STREAMS.sub("", line)
    try:
        words = shlex.split(line, posix=True)
    except ValueError as exc:
        raise CliError("cli.bad_quotes", reason=str(exc).lower()) from None
    operator = _unquoted_operator(line)
    if operator is not None:
        raise CliError("cli.shell_operator", operator=operator)
    return words


def _unquoted_operator(line: str) -> str | None:
    """The first shell operator of ``line`` outside quotes and not escaped (``|``, ``||``,
    ``&&``, ``;``, ``>``, ``2>&1``…), or None."""
    quote: str | None = None
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in SHELL_OPERATORS:
            end = index + 1
            while end < len(line) and line[end] in SHELL_OPERATORS:
                end += 1
            return line[index:end]
    return None


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return found[0] if found else None


def _hoist_compose_options(words: list[str]) -> list[str]:
    """``compose -f app.yaml -p demo up -d`` → ``compose up -f app.yaml -p demo -d``: the
    options compose takes before its subcommand are the subcommand's own here."""
    index, leading = 1, []
    while index < len(words) and words[index].startswith("-"):
        word = words[index]
        # in their long form: after the subcommand, ``-f`` may mean something else (logs -f)
        leading.append({"-f": "--file", "-p": "--project-name"}.get(word, word))
        index += 1
        if word in COMPOSE_GLOBAL_VALUED and index < len(words):
            leading.append(words[index])
            index += 1
    if index >= len(words):
        return words
    return [words[0], words[index], *leading, *words[index + 1 :]]


def _route(words: list[str]) -> tuple[Path, list[str]]:
    if words[0] == "compose":
        words = _hoist_compose_options(words)
    first = words[0]
    if first.startswith("-"):
        raise CliError("cli.global_option", option=first)
    if first in GROUPS:
        if len(words) < 2 or words[1].startswith("-"):
            choices = sorted(" ".join(k) for k in ROUTES if k[0] == first)
            raise CliError("cli.missing_subcommand", group=first, choices=", ".join(choices))
        key = (first, words[1])
        if key in ROUTES:
            return ROUTES[key], words[2:]
        if " ".join(key) in NOT_IN_SANDBOX:
            raise CliError("cli.not_in_sandbox", command=" ".join(key))
        subs = [k[1] for k in ROUTES if k[0] == first and len(k) == 2]
        raise _unknown(" ".join(key), [f"{first} {s}" for s in subs])
    if (first,) in ROUTES:
        return ROUTES[(first,)], words[1:]
    if first in NOT_IN_SANDBOX:
        raise CliError("cli.not_in_sandbox", command=first)
    raise _unknown(first, [k[0] for k in ROUTES if len(k) == 1] + list(GROUPS))


def _unknown(word: str, choices: list[str]) -> CliError:
    hint = _suggest(word, choices)
    if hint:
        return CliError("cli.unknown_command_hint", command=word, hint=hint)
    return CliError("cli.unknown_command", command=word)


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


@dataclass
class _Parsed:
    flags: dict[str, FlagValue] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _store(parsed: _Parsed, flag: Flag, value: str | bool, typed: str) -> None:
    if isinstance(value, str) and flag.check is not None:
        flag.check(typed, value)
    if flag.repeat and isinstance(value, str):
        previous = parsed.flags.get(flag.name, ())
        parsed.flags[flag.name] = (*previous, value) if isinstance(previous, tuple) else (value,)
    else:
        parsed.flags[flag.name] = value
    if flag.note and value is not False and flag.note not in parsed.notes:
        parsed.notes.append(flag.note)


def _long_flag(spec: SubcommandSpec, path: Path, word: str) -> Flag:
    name = word[2:].split("=", 1)[0]
    flag = spec.by_long.get(name)
    if flag is not None:
        return flag
    command = "docker " + " ".join(path)
    if name in {u.rpartition("|")[2] for u in spec.unsupported}:
        raise CliError("cli.unsupported_flag", flag="--" + name, command=command)
    hint = _suggest(name, spec.by_long)
    if hint:
        raise CliError("cli.unknown_flag_hint", flag="--" + name, command=command, hint="--" + hint)
    raise CliError("cli.unknown_flag", flag="--" + name, command=command)


def _short_flag(spec: SubcommandSpec, path: Path, letter: str, word: str) -> Flag:
    flag = spec.by_short.get(letter)
    if flag is not None:
        return flag
    command = "docker " + " ".join(path)
    for unsupported in spec.unsupported:
        short, _, long = unsupported.rpartition("|")
        if short == letter:
            raise CliError("cli.unsupported_flag", flag=f"-{letter} (--{long})", command=command)
    raise CliError("cli.unknown_shorthand", letter=letter, word=word, command=command)


def _next_value(words: list[str], index: int, typed: str) -> str:
    if index >= len(words):
        raise CliError("cli.missing_value", flag=typed)
    return words[index]


def _parse_options(spec: SubcommandSpec, path: Path, words: list[str]) -> _Parsed:
    parsed = _Parsed()
    index = 0
    only_args = False
    while index < len(words):
        word = words[index]
        index += 1
        if only_args or word == "-" or not word.startswith("-"):
            parsed.args.append(word)
            only_args = only_args or not spec.interspersed
        elif word == "--":
            only_args = True
        else:
            index = _parse_one(spec, path, words, index - 1, parsed)
    return parsed


def _parse_one(
    spec: SubcommandSpec, path: Path, words: list[str], index: int, parsed: _Parsed
) -> int:
    """Read the option at ``words[index]`` (and its value); the index after it."""
    word = words[index]
    if word.startswith("--"):
        return _parse_long(spec, path, words, index + 1, word, parsed)
    return _parse_cluster(spec, path, words, index + 1, word, parsed)


def _parse_long(
    spec: SubcommandSpec, path: Path, words: list[str], index: int, word: str, parsed: _Parsed
) -> int:
    flag = _long_flag(spec, path, word)
    name, has_value, value = word[2:].partition("=")
    typed = "--" + name
    if flag.value:
        if not has_value:
            value = _next_value(words, index, typed)
            index += 1
        _store(parsed, flag, value, typed)
    else:
        _store(parsed, flag, parse_bool(value, typed) if has_value else True, typed)
    return index


def _parse_cluster(
    spec: SubcommandSpec, path: Path, words: list[str], index: int, word: str, parsed: _Parsed
) -> int:
    cluster = word[1:]
    position = 0
    while position < len(cluster):
        letter = cluster[position]
        flag = _short_flag(spec, path, letter, word)
        rest = cluster[position + 1 :]
        typed = "-" + letter
        if flag.value:
            if rest:
                value = rest[1:] if rest.startswith("=") else rest
            else:
                value = _next_value(words, index, typed)
                index += 1
            _store(parsed, flag, value, typed)
            return index
        if rest.startswith("="):
            _store(parsed, flag, parse_bool(rest[1:], typed), typed)
            return index
        _store(parsed, flag, True, typed)
        position += 1
    return index


# --------------------------------------------------------------------------------------------
# Whole-command checks: arguments, filters, formats, images, cp
# --------------------------------------------------------------------------------------------


def _check_args(cmd: DockerCommand, spec: SubcommandSpec) -> None:
    count = len(cmd.args)
    if count < spec.min_args:
        raise CliError(
            "cli.needs_args", command=cmd.command_name, count=spec.min_args, usage=spec.usage
        )
    if spec.max_args is not None and count > spec.max_args:
        extra = cmd.args[spec.max_args]
        raise CliError("cli.too_many_args", command=cmd.command_name, arg=extra, usage=spec.usage)


def parse_filters(cmd: DockerCommand) -> dict[str, tuple[str, ...]]:
    """``--filter key=value`` flags as ``{key: values}`` (validated by the parser)."""
    found: dict[str, tuple[str, ...]] = {}
    for item in cmd.values("filter"):
        key, _, value = item.partition("=")
        found[key] = (*found.get(key, ()), value)
    return found


def _check_filters(cmd: DockerCommand, spec: SubcommandSpec) -> None:
    for item in cmd.values("filter"):
        key, has_value, value = item.partition("=")
        accepts = spec.filters.get(key)
        if not has_value or accepts is None:
            raise CliError(
                "cli.bad_filter", filter=item, command=cmd.command_name,
                keys=", ".join(sorted(spec.filters)),
            )  # fmt: skip
        if not accepts(value):
            raise CliError("cli.bad_filter_value", filter=item, command=cmd.command_name)


def _check_format(cmd: DockerCommand, spec: SubcommandSpec) -> None:
    template = cmd.text("format")
    if template is not None and spec.format is not None:
        spec.format.check(template)


def parse_copy(cmd: DockerCommand) -> CopySpec:
    """The two ``cp`` arguments as a :class:`~bot.dockercli.values.CopySpec`."""
    return parse_copy_args(cmd.args[0], cmd.args[1])


def _extra_notes(cmd: DockerCommand) -> tuple[str, ...]:
    if cmd.path == ("stats",) and not cmd.has("no-stream"):
        return ("cli.note_one_sample",)
    return ()


def _validate(cmd: DockerCommand, spec: SubcommandSpec) -> None:
    _check_args(cmd, spec)
    _check_filters(cmd, spec)
    _check_format(cmd, spec)
    if cmd.path == ("cp",):
        parse_copy(cmd)
    if cmd.path in IMAGE_COMMANDS:
        parse_image_reference(cmd.image)


def parse_docker(line: str) -> DockerCommand:
    """Parse one docker command line (``docker`` in front is optional; ``docker-compose`` is
    read as ``docker compose``); CliError when wrong."""
    words = split_words(line)
    if words[:1] == ["docker"]:
        words = words[1:]
    elif words[:1] == ["docker-compose"]:  # Compose v1's own program: the same commands
        words = ["compose", *words[1:]]
    if not words:
        raise CliError("cli.empty")
    path, rest = _route(words)
    spec = COMMANDS[path]
    parsed = _parse_options(spec, path, rest)
    cmd = DockerCommand(
        path=path,
        flags=MappingProxyType(parsed.flags),
        args=tuple(parsed.args),
        notes=tuple(parsed.notes),
        raw=line,
    )
    _validate(cmd, spec)
    extra = _extra_notes(cmd)
    if extra:
        cmd = DockerCommand(cmd.path, cmd.flags, cmd.args, cmd.notes + extra, cmd.raw)
    return cmd


def flag_spec(path: Path, name: str) -> Flag | None:
    """The table entry of flag ``name`` for the command at ``path``."""
    spec = COMMANDS.get(path)
    return spec.by_long.get(name) if spec else None


def flag_label(path: Path, name: str) -> str:
    """``-d/--detach`` for ``("run",), "detach"``; ``--name`` for flags without a letter."""
    flag = flag_spec(path, name)
    return flag.label if flag else "--" + name


def misplaced_options(cmd: DockerCommand) -> tuple[str, ...]:
    """Canonical names of run/create/exec flags typed after the image/container.

    ``docker run nginx -d`` hands ``-d`` to the container; the user almost surely meant it
    for docker. Reading stops at the first word that is not a known flag.
    """
    spec = COMMANDS.get(cmd.path)
    if spec is None or spec.interspersed:
        return ()
    found: list[str] = []
    words = list(cmd.args[1:])
    index = 0
    while index < len(words) and words[index].startswith("-") and words[index] != "--":
        parsed = _Parsed()
        try:
            index = _parse_one(spec, cmd.path, words, index, parsed)
        except CliError:
            break
        found.extend(n for n in parsed.flags if n not in found)
    return tuple(found)
