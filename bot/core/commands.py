"""The command table shared by every front end.

Each capability registers :class:`CommandSpec` s (``/concept``, ``/practice start`` …),
action handlers for buttons and typed answers, and listeners that react after a command.
The console parses lines against this table; the Discord extensions build their slash
commands from it (a parity test checks that every command and option appears on both).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.context import Actor
from bot.core.i18n import Translator
from bot.core.reply import Reply


class OptionKind(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    ATTACHMENT = "attachment"
    MEMBER = "member"
    CHANNEL = "channel"  # a text channel: its id (Discord) or the name typed (console)
    ROLE = "role"  # a server role: its id (Discord) or the name typed (console)


@dataclass(frozen=True, slots=True)
class MemberRef:
    """Another member named in an option (``/progress member``)."""

    user_id: str
    display_name: str


MAX_SUGGESTIONS = 25
"""How many autocomplete suggestions a completer returns: enough to pick from while typing."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One autocomplete result: what the user sees and the value that is submitted."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Request:
    """One call into the core: who asks, in which language, with which options."""

    actor: Actor
    tr: Translator
    options: dict[str, Any] = field(default_factory=dict)

    def opt(self, name: str, default: Any = None) -> Any:
        value = self.options.get(name)
        return default if value is None else value


Handler = Callable[[Request], Awaitable[Reply | Sequence[Reply]]]
Completer = Callable[[Request, str], Awaitable[list[Suggestion]]]
ActionHandler = Callable[[Request, str, str | None], Awaitable[Reply | Sequence[Reply]]]
Listener = Callable[[Request, tuple[str, ...], list[Reply]], Awaitable[Sequence[Reply]]]


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option of a command, as Discord will show it.

    ``rest`` marks the last string option that swallows the rest of a console line
    (``/docker run -d --name web nginx``, ``/concept container lifecycle``).
    """

    name: str
    kind: OptionKind = OptionKind.STRING
    required: bool = False
    choices: tuple[str, ...] = ()
    completer: Completer | None = None
    rest: bool = False
    min_value: int | None = None
    max_value: int | None = None
    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A slash command (or a subcommand: ``path=("practice", "start")``)."""

    path: tuple[str, ...]
    handler: Handler
    options: tuple[OptionSpec, ...] = ()
    admin_only: bool = False
    touches_worker: bool = False
    share_option: bool = False

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def key(self) -> str:
        """The translation key prefix of this command's texts."""
        return "commands." + "_".join(self.path).replace("-", "_")

    def option(self, name: str) -> OptionSpec | None:
        return next((o for o in self.options if o.name == name), None)


class CommandTable:
    """Every command, action and listener that the capabilities registered."""

    def __init__(self) -> None:
        self._commands: dict[tuple[str, ...], CommandSpec] = {}
        self._actions: dict[str, ActionHandler] = {}
        self._listeners: list[tuple[tuple[str, ...], Listener]] = []

    # registration -------------------------------------------------------------------
    def add(self, spec: CommandSpec) -> None:
        if spec.path in self._commands:
            raise ValueError(f"command /{spec.name} registered twice")
        self._commands[spec.path] = spec

    def add_action(self, prefix: str, handler: ActionHandler) -> None:
        """Route choices whose action starts with ``prefix:`` to ``handler``."""
        if ":" in prefix or prefix in self._actions:
            raise ValueError(f"bad or duplicate action prefix {prefix!r}")
        self._actions[prefix] = handler

    def add_listener(self, path_prefix: tuple[str, ...], listener: Listener) -> None:
        """Call ``listener`` after every successful command under ``path_prefix``."""
        self._listeners.append((path_prefix, listener))

    # lookup -------------------------------------------------------------------------
    def all(self) -> list[CommandSpec]:
        return sorted(self._commands.values(), key=lambda spec: spec.path)

    def get(self, path: tuple[str, ...]) -> CommandSpec | None:
        return self._commands.get(path)

    def top_level_names(self) -> list[str]:
        return sorted({path[0] for path in self._commands})

    def subcommands(self, group: str) -> list[CommandSpec]:
        return [spec for spec in self.all() if spec.path[0] == group and len(spec.path) > 1]

    def resolve(self, words: Sequence[str]) -> tuple[CommandSpec | None, int]:
        """The longest registered command that ``words`` start with, and how many it used."""
        for length in range(min(len(words), 3), 0, -1):
            spec = self._commands.get(tuple(words[:length]))
            if spec:
                return spec, length
        return None, 0

    def action_handler(self, action: str) -> ActionHandler | None:
        return self._actions.get(action.split(":", 1)[0])

    def listeners_for(self, path: tuple[str, ...]) -> list[Listener]:
        return [fn for prefix, fn in self._listeners if path[: len(prefix)] == prefix]
