"""The command model: flags, subcommands and one parsed :class:`DockerCommand`.

A :class:`SubcommandSpec` describes one docker subcommand as data (its flags, how many
positionals it takes, whether options may follow them, its ``--filter`` keys and its
``--format`` language); :mod:`bot.dockercli.table` lists them all. A :class:`DockerCommand` is
one parsed command line in canonical form; two commands are equal when they mean the same
(flag order, spellings, clusters, ``nginx`` vs ``docker.io/library/nginx:latest`` do not
matter), which is how quiz answers are graded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from bot.dockercli.errors import CliError
from bot.dockercli.values import (
    FilterValue,
    ValueCheck,
    parse_bytes,
    parse_image_reference,
    parse_mount,
    parse_nano_cpus,
    parse_publish,
    parse_volume,
)

FlagValue = bool | str | tuple[str, ...]
Path = tuple[str, ...]

# Subcommands whose first positional is an image reference.
IMAGE_COMMANDS: frozenset[Path] = frozenset({("run",), ("create",), ("pull",)})


class FormatLanguage(Protocol):
    """What ``--format`` accepts for one subcommand (see :mod:`bot.dockercli.templates`)."""

    def check(self, template: str) -> None:
        """Raise :class:`CliError` unless ``template`` is one this subcommand can fill."""
        ...


@dataclass(frozen=True)
class Flag:
    """One flag of one subcommand."""

    name: str  # canonical long name, without dashes
    short: str | None = None
    value: bool = False  # takes a value
    repeat: bool = False  # may be given several times: values collected into a tuple
    check: ValueCheck | None = None  # validates each value (raises CliError naming the flag)
    aliases: tuple[str, ...] = ()  # other long names (``--net`` for ``--network``)
    note: str | None = None  # a note key added when the flag is set

    @property
    def label(self) -> str:
        """``-d/--detach`` or ``--name``: how hints show this flag."""
        long = "--" + self.name
        return f"-{self.short}/{long}" if self.short else long


@dataclass(frozen=True)
class SubcommandSpec:
    """One docker subcommand as the parser reads it."""

    flags: tuple[Flag, ...] = ()
    interspersed: bool = True  # options may follow positionals (``docker rm web -f``)
    min_args: int = 0
    max_args: int | None = None
    usage: str = ""
    unsupported: tuple[str, ...] = ()  # real docker flags the sandbox does not offer
    filters: Mapping[str, FilterValue] = field(default_factory=dict)  # --filter key → values
    format: FormatLanguage | None = None  # what --format accepts (None: no --format)
    by_long: Mapping[str, Flag] = field(init=False, repr=False, compare=False)
    by_short: Mapping[str, Flag] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_long: dict[str, Flag] = {}
        by_short: dict[str, Flag] = {}
        for flag in self.flags:
            for name in (flag.name, *flag.aliases):
                by_long[name] = flag
            if flag.short:
                by_short[flag.short] = flag
        object.__setattr__(self, "by_long", MappingProxyType(by_long))
        object.__setattr__(self, "by_short", MappingProxyType(by_short))
        object.__setattr__(self, "filters", MappingProxyType(dict(self.filters)))

    @property
    def flag_names(self) -> frozenset[str]:
        """Canonical names of every flag this subcommand accepts."""
        return frozenset(flag.name for flag in self.flags)


@dataclass(frozen=True)
class DockerCommand:
    """One parsed docker command, in canonical form."""

    path: Path
    flags: Mapping[str, FlagValue]
    args: tuple[str, ...]
    notes: tuple[str, ...] = ()
    raw: str = field(default="", compare=False)

    def flag(self, name: str, default: FlagValue | None = None) -> FlagValue | None:
        """The value of flag ``name`` (canonical long name), or ``default`` when absent."""
        return self.flags.get(name, default)

    def text(self, name: str) -> str | None:
        """A single-valued flag's text (None when absent, false or not text)."""
        value = self.flags.get(name)
        return value if isinstance(value, str) else None

    def has(self, name: str) -> bool:
        """Whether flag ``name`` is set: present and not ``false``/empty."""
        value = self.flags.get(name)
        return value is not None and value is not False and value != ()

    def values(self, name: str) -> tuple[str, ...]:
        """A repeatable flag's values (empty when absent); a single value as a 1-tuple."""
        value = self.flags.get(name)
        if value is None or isinstance(value, bool):
            return ()
        return value if isinstance(value, tuple) else (value,)

    def int_flag(self, name: str, default: int | None = None) -> int | None:
        """A numeric flag as an int (already validated by the parser); ``all`` gives None."""
        value = self.flags.get(name)
        if value is None or value == "all":
            return default if value is None else None
        return int(str(value))

    @property
    def image(self) -> str:
        """For ``run``/``create``/``pull``: the image as typed."""
        return self.args[0] if self.args else ""

    @property
    def container(self) -> str:
        """For commands on one container (``exec``, ``logs``, ``top``…): its name or id."""
        return self.args[0] if self.args else ""

    @property
    def container_command(self) -> tuple[str, ...]:
        """For ``run``/``create``/``exec``: the command and arguments after the image/container."""
        return self.args[1:]

    @property
    def command_name(self) -> str:
        """``docker run``, ``docker volume create``: how messages name this command."""
        return "docker " + " ".join(self.path)

    def canonical(self) -> tuple[object, ...]:
        """A value equal for equivalent commands: flag order, spelling and clusters do not
        matter, nor ``-p 80`` vs ``-p 80/tcp``, ``nginx`` vs ``docker.io/library/nginx:latest``."""
        flags = [
            (name, canonical_value(name, value))
            for name, value in self.flags.items()
            if value is not False
        ]
        return (self.path, tuple(sorted(flags, key=lambda item: item[0])), canonical_args(self))

    def __hash__(self) -> int:
        return hash(self.canonical())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DockerCommand):
            return NotImplemented
        return self.canonical() == other.canonical()


# --------------------------------------------------------------------------------------------
# Canonical spellings of values
# --------------------------------------------------------------------------------------------


def _canonical_port(value: str) -> str:
    return ",".join(
        f"{p.host_ip or ''}:{p.host_port or ''}:{p.container_port}/{p.protocol}"
        for p in parse_publish(value)
    )


def _canonical_volume(value: str) -> str:
    spec = parse_volume(value)
    return f"{spec.source}:{spec.target}:{'ro' if spec.read_only else 'rw'}"


def _canonical_mount(value: str) -> str:
    spec = parse_mount(value)
    return f"{spec.type}:{spec.source}:{spec.target}:{'ro' if spec.read_only else 'rw'}"


# Values that can be spelled several ways: compared in one canonical spelling.
_CANONICAL: dict[str, Callable[[str], object]] = {
    "publish": _canonical_port,
    "volume": _canonical_volume,
    "mount": _canonical_mount,
    "memory": parse_bytes,
    "cpus": parse_nano_cpus,
}


def canonical_value(name: str, value: FlagValue) -> object:
    """Flag ``name``'s value in one spelling (repeated values sorted)."""
    convert = _CANONICAL.get(name)
    if isinstance(value, tuple):
        return tuple(sorted(str(convert(v)) if convert else v for v in value))
    if convert and isinstance(value, str):
        return convert(value)
    return value


def canonical_args(cmd: DockerCommand) -> tuple[str, ...]:
    """The positionals, the image (if the command takes one) in its canonical name."""
    if cmd.path in IMAGE_COMMANDS and cmd.args:
        try:
            return (parse_image_reference(cmd.args[0]).name, *cmd.args[1:])
        except CliError:
            return cmd.args
    return cmd.args
