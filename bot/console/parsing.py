"""Turn a console line into a command path and options, using the shared command table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.commands import CommandSpec, CommandTable, OptionKind


class LineError(ValueError):
    """The line cannot be read as a command; ``key`` names the translated reason."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class ParsedLine:
    spec: CommandSpec
    options: dict[str, Any]


def _split_first(text: str) -> tuple[str, str]:
    text = text.lstrip()
    if not text:
        return "", ""
    head, _, tail = text.partition(" ")
    return head, tail.lstrip()


def parse_line(table: CommandTable, line: str) -> ParsedLine:
    """``/concept container lifecycle`` → (``concept``, {"topic": "container lifecycle"})."""
    text = line.strip()
    if not text.startswith("/"):
        raise LineError("general.console_needs_slash")
    words = text[1:].split()
    if not words:
        raise LineError("general.console_needs_slash")
    spec, used = table.resolve([w.lower() for w in words])
    if spec is None:
        group = table.subcommands(words[0].lower())
        if group:
            names = ", ".join(s.path[-1] for s in group)
            raise LineError("general.console_needs_sub", command=f"/{words[0]}", names=names)
        raise LineError("general.unknown_command", command=f"/{words[0]}")
    remainder = text[1:]
    for _ in range(used):
        _, remainder = _split_first(remainder)
    return ParsedLine(spec, _options(spec, remainder))


def _options(spec: CommandSpec, remainder: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    positional = [o for o in spec.options if o.kind is not OptionKind.ATTACHMENT]
    for index, option in enumerate(positional):
        if not remainder:
            break
        if option.rest or index == len(positional) - 1:
            options[option.name] = remainder
            remainder = ""
            break
        value, remainder = _split_first(remainder)
        options[option.name] = value
    if remainder:
        raise LineError("general.console_too_many", command=f"/{spec.name}", count=len(positional))
    return options
