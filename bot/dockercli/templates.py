"""``--format`` the way the docker CLI reads it, on top of :mod:`bot.dockercli.gotemplate`.

- :class:`RowFormat` (``ps``, ``images``, ``volume ls``, ``network ls``, ``stats``, ``search``,
  ``history``, ``system df``): each row is a :class:`~bot.dockercli.gotemplate.Struct` of the
  CLI's fields (``.ID``, ``.Names``, ``.Label "key"``…); ``table …`` adds a header row (the
  same template run over the column names, docker's header functions leaving them as they
  are) and lays the cells out like Go's tabwriter; ``table`` alone is the default table and
  ``json`` prints every row as one JSON object.
- :class:`ObjectFormat` (``inspect`` and the other ``inspect``-like outputs, ``info``,
  ``version``): the template runs over the object's JSON with Go's ``missingkey=error``, as
  docker's fallback to raw JSON does.

``\\t`` and ``\\n`` typed literally become a tab and a newline before parsing, as with the
docker CLI. Every problem is a :class:`~bot.dockercli.errors.CliError` whose text is docker's
own (``template parsing error: template: :1:2: executing "" at <.Nope>: …``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.dockercli.errors import CliError
from bot.dockercli.gotemplate import HEADER_FUNCTIONS, Struct, Template, TemplateError, parse
from bot.dockercli.layout import table as tabwriter

JSON_FORMAT = "{{json .}}"


def unescape(template: str) -> str:
    """docker's pre-format step: literal ``\\t`` and ``\\n`` become a tab and a newline."""
    return template.replace("\\t", "\t").replace("\\n", "\n")


def _split_table(template: str) -> tuple[bool, str]:
    if template.startswith("table"):
        return True, unescape(template[len("table") :].strip(" "))
    return False, unescape(template)


def _parse(text: str, fields: str = "") -> Template:
    try:
        return parse(text)
    except TemplateError as exc:
        raise _cli_error(exc, fields) from None


def _cli_error(exc: TemplateError, fields: str = "") -> CliError:
    error = f"template parsing error: {exc.message}"
    if fields and "can't evaluate field" in exc.message:
        return CliError("cli.template_field", error=error, fields=fields)
    return CliError("cli.template_error", error=error)


def header_label(name: str) -> str:
    """docker's header for ``{{.Label "com.example.version"}}``: ``version``."""
    last = name.split(".")[-1]
    return last.replace("-", " ").replace("_", " ")


@dataclass(frozen=True)
class RowFormat:
    """The ``--format`` language of one listing: its fields with their headers, the Go type
    name errors give its rows, and the template used without ``--format``."""

    headers: Mapping[str, str]  # field → column header (``ID`` → ``CONTAINER ID``)
    default: str
    type_name: str = "*formatter.Context"
    methods: tuple[str, ...] = ()  # methods taking an argument, e.g. ("Label",)
    field_list: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [*self.headers, *self.methods]
        object.__setattr__(self, "field_list", " ".join("{{." + n + "}}" for n in sorted(names)))

    def parse(self, template: str | None) -> tuple[bool, Template]:
        """``(is a table, parsed template)`` for ``template`` (None: the default one)."""
        text = self.default if template in (None, "", "table") else template
        assert text is not None
        if text == "json":
            text = JSON_FORMAT
        is_table, body = _split_table(text)
        return is_table, _parse(body, self.field_list)

    def check(self, template: str) -> None:
        self.parse(template)

    def row(self, fields: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> Struct:
        """A row context: ``fields`` (values or callables) and, when the format has a
        ``Label`` method, the object's ``labels`` behind it."""
        methods: dict[str, Callable[..., Any]] = {}
        if "Label" in self.methods:
            known = dict(labels or {})
            methods["Label"] = lambda name: known.get(name, "")
        return Struct(self.type_name, fields, methods)

    def header(self) -> Struct:
        return Struct("formatter.SubHeaderContext", self.headers, {"Label": header_label})

    def render(self, template: str | None, rows: Sequence[Struct]) -> str:
        """``rows`` through ``template`` (the default when None); a ``table`` template gets a
        header row and tabwriter columns (cells separated by tabs)."""
        is_table, parsed = self.parse(template)
        try:
            lines = [parsed.execute(row) for row in rows]
            if not is_table:
                return "\n".join(lines)
            head = parsed.execute(self.header(), HEADER_FUNCTIONS)
        except TemplateError as exc:
            raise _cli_error(exc, self.field_list) from None
        text = "\n".join([head, *lines])
        return tabwriter([line.split("\t") for line in text.split("\n")])


@dataclass(frozen=True)
class ObjectFormat:
    """The ``--format`` language of ``inspect``: templates over the object's JSON."""

    def parse(self, template: str) -> Template:
        return _parse(JSON_FORMAT if template == "json" else unescape(template))

    def check(self, template: str) -> None:
        self.parse(template)

    def render(self, template: str, data: Any) -> str:
        """Fill an inspect template (``{{.State.Status}}``, ``{{json .Config.Env}}``)."""
        parsed = self.parse(template)
        try:
            return parsed.execute(data, missing_key_error=True)
        except TemplateError as exc:
            raise _cli_error(exc) from None


OBJECT_FORMAT = ObjectFormat()
