"""``--format`` templates, the subset of Go's text/template the sandbox understands today.

A template is parsed once into a :class:`Template` (literal text and placeholders), checked
against the subcommand's format language, then filled:

- :class:`RowFormat` (``ps``, ``search``): ``{{.Field}}`` placeholders of a known set of
  fields, optionally ``table …`` for a header row and tabwriter columns;
- :class:`ObjectFormat` (``inspect``): ``{{.A.B}}``, ``{{.}}`` and ``{{json .A}}`` over the
  object's JSON, printed the way Go prints decoded JSON.

``\\t`` and ``\\n`` typed literally become a tab and a newline, as with the docker CLI. Every
problem is a :class:`~bot.dockercli.errors.CliError` quoting the part at fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.dockercli.errors import CliError
from bot.dockercli.layout import table as tabwriter

_PLACEHOLDER = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_ROW_FIELD = re.compile(r"^\.([A-Za-z]+)$")
_OBJECT_FIELD = re.compile(r"^(?:(json)\s+)?(\.|(?:\.[A-Za-z0-9_]+)+)$")


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Field:
    """``{{.A.B}}`` (path ``("A", "B")``; ``{{.}}`` is the empty path), maybe as JSON."""

    path: tuple[str, ...]
    as_json: bool = False
    source: str = ""


Node = Text | Field


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: whether it is a ``table`` one, and its nodes."""

    table: bool
    nodes: tuple[Node, ...]


def _unescape(template: str) -> str:
    return template.replace("\\t", "\t").replace("\\n", "\n")


def _split_table(template: str) -> tuple[bool, str]:
    stripped = template.strip()
    if stripped == "table" or stripped.startswith(("table ", "table\t")):
        return True, _unescape(stripped[5:].strip())
    return False, _unescape(template)


def _parse(
    body: str, field: re.Pattern[str], allowed: Callable[[tuple[str, ...]], bool] | None = None
) -> tuple[tuple[Node, ...], list[str]]:
    """Nodes of ``body`` and, in order, the parts that are not placeholders of the ``field``
    form (or name a path that is not ``allowed``)."""
    nodes: list[Node] = []
    problems: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(body):
        if match.start() > position:
            nodes.append(Text(body[position : match.start()]))
        found = field.match(match.group(1))
        if found is None:
            problems.append(match.group(0))
        else:
            as_json = found.lastindex == 2 and found.group(1) == "json"
            path = found.group(found.lastindex or 1)
            parts = tuple(p for p in path.split(".") if p)
            if allowed is not None and not allowed(parts):
                problems.append(match.group(0))
            nodes.append(Field(parts, as_json, match.group(0)))
        position = match.end()
    if position < len(body):
        nodes.append(Text(body[position:]))
    leftover = _PLACEHOLDER.sub("", body)
    if "{{" in leftover or "}}" in leftover:
        problems.append(leftover)
    return tuple(nodes), problems


# --------------------------------------------------------------------------------------------
# Rows: ps, search
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowFormat:
    """The ``--format`` language of a listing: its fields and their table headers."""

    headers: Mapping[str, str]  # field name → header (``ID`` → ``CONTAINER ID``)
    default: str  # the template used without --format

    def parse(self, template: str) -> Template:
        is_table, body = _split_table(template)
        nodes, problems = _parse(body, _ROW_FIELD, lambda path: path[0] in self.headers)
        if problems:
            raise CliError(
                "cli.bad_format",
                part=problems[0],
                fields=" ".join("{{." + name + "}}" for name in sorted(self.headers)),
            )
        return Template(is_table, nodes)

    def check(self, template: str) -> None:
        self.parse(template)

    def render(self, template: str | None, rows: Sequence[Mapping[str, str]]) -> str:
        """``rows`` through ``template`` (the default when None); a ``table`` template gets a
        header row and tabwriter columns (cells separated by tabs)."""
        parsed = self.parse(template or self.default)
        if not parsed.table:
            return "\n".join(_fill_row(parsed, row) for row in rows)
        header = {key: self.headers.get(key, key.upper()) for key in self.headers}
        lines = [_fill_row(parsed, header), *(_fill_row(parsed, row) for row in rows)]
        return tabwriter([line.split("\t") for line in lines])


def _fill_row(template: Template, row: Mapping[str, str]) -> str:
    return "".join(
        node.text if isinstance(node, Text) else str(row.get(node.path[0], ""))
        for node in template.nodes
    )


# --------------------------------------------------------------------------------------------
# Objects: inspect
# --------------------------------------------------------------------------------------------


def go_text(value: object) -> str:
    """How Go's text/template prints a decoded JSON value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        inner = " ".join(f"{k}:{go_text(v)}" for k, v in sorted(value.items()))
        return f"map[{inner}]"
    if isinstance(value, list):
        return "[" + " ".join(go_text(v) for v in value) + "]"
    return str(value)


_MISSING = object()


def _lookup(data: object, path: Sequence[str]) -> object:
    current = data
    for part in path:
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


@dataclass(frozen=True)
class ObjectFormat:
    """The ``--format`` language of ``inspect``: paths into the object's JSON."""

    def parse(self, template: str) -> Template:
        nodes, problems = _parse(_unescape(template), _OBJECT_FIELD)
        if problems:
            raise CliError("cli.bad_inspect_format", part=problems[0])
        return Template(False, nodes)

    def check(self, template: str) -> None:
        self.parse(template)

    def render(self, template: str, data: Mapping[str, object]) -> str:
        """Fill an inspect template (``{{.State.Status}}``, ``{{json .Config.Env}}``)."""
        parts: list[str] = []
        for node in self.parse(template).nodes:
            if isinstance(node, Text):
                parts.append(node.text)
                continue
            found = _lookup(data, node.path)
            if found is _MISSING:
                parts.append("null" if node.as_json else "<no value>")
            elif node.as_json:
                parts.append(json.dumps(found, separators=(",", ":"), ensure_ascii=False))
            else:
                parts.append(go_text(found))
        return "".join(parts)


OBJECT_FORMAT = ObjectFormat()
