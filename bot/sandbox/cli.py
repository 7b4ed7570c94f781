"""Parse docker command lines the way the docker CLI does, for the commands the sandbox runs.

Pure: no Docker, no I/O. One data table (:data:`COMMANDS`) describes every subcommand: its
flags (long name, short letter, whether it takes a value, whether it repeats, how the value is
checked), whether options may follow positionals, and how many positionals it takes. The
parser follows the docker CLI (cobra/pflag): ``--name=web`` and ``--name web``, ``-e A=B`` and
``-eA=B``, clusters such as ``-dit`` and ``-dp 8080:80``, ``--`` ends options, ``--rm=false``
for booleans, and for ``run``/``create``/``exec``/``top`` everything after the image or
container goes to the container.

Every :class:`CliError` names the flag or argument at fault. The quiz grades typed commands
with :func:`normalize` and :func:`differences`.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.core.errors import UserError

FlagValue = bool | str | tuple[str, ...]
Path = tuple[str, ...]


class CliError(UserError):
    """A command line the sandbox cannot read; the key is ``cli.<problem>``."""


# --------------------------------------------------------------------------------------------
# The command line as data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DockerCommand:
    """One parsed docker command, in canonical form."""

    path: Path
    flags: Mapping[str, FlagValue]
    args: tuple[str, ...]
    notes: tuple[str, ...] = ()
    raw: str = field(default="", compare=False)

    def flag(self, name: str, default: Any = None) -> Any:
        """The value of flag ``name`` (canonical long name), or ``default`` when absent."""
        return self.flags.get(name, default)

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

    def __hash__(self) -> int:
        return hash(normalize(self))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DockerCommand):
            return NotImplemented
        return normalize(self) == normalize(other)


# --------------------------------------------------------------------------------------------
# Value checks (each raises CliError naming the flag)
# --------------------------------------------------------------------------------------------

_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_SIGNAL_RE = re.compile(r"^(?:\d{1,2}|(?:SIG)?[A-Z][A-Z0-9+-]{1,10})$", re.IGNORECASE)
_RESTART_RE = re.compile(r"^(?:no|always|unless-stopped|on-failure(?::\d+)?)$")
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_bytes(text: str) -> int:
    """A docker memory size (``256m``, ``1g``, ``512MB``, ``1048576``) in bytes; ValueError."""
    match = _SIZE_RE.match(text.strip())
    if not match:
        raise ValueError(text)
    number, unit = match.groups()
    return int(float(number) * _SIZE_UNITS[unit.lower()])


def parse_nano_cpus(text: str) -> int:
    """``--cpus 0.5`` as nano CPUs (500_000_000); ValueError when not a positive number."""
    value = float(text)
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(text)
    return round(value * 1_000_000_000)


def parse_bool(text: str, flag: str) -> bool:
    """Go's ``strconv.ParseBool``, the way ``--rm=false`` is read."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CliError("cli.bad_bool", flag=flag, value=text)


def _bad(flag: str, value: str, kind: str) -> CliError:
    """``cli.bad_<kind>``: the message says what ``flag`` expects instead of ``value``."""
    return CliError("cli.bad_" + kind, flag=flag, value=value)


def _check_count(flag: str, value: str) -> None:
    if not value.isdigit():
        raise _bad(flag, value, "count")


def _check_tail(flag: str, value: str) -> None:
    if value != "all" and not value.isdigit():
        raise _bad(flag, value, "tail")


def _check_bytes(flag: str, value: str) -> None:
    try:
        parse_bytes(value)
    except ValueError:
        raise _bad(flag, value, "size") from None


def _check_cpus(flag: str, value: str) -> None:
    try:
        parse_nano_cpus(value)
    except ValueError:
        raise _bad(flag, value, "cpus") from None


def _check_signal(flag: str, value: str) -> None:
    if not _SIGNAL_RE.match(value):
        raise _bad(flag, value, "signal")


def _check_restart(flag: str, value: str) -> None:
    if not _RESTART_RE.match(value):
        raise _bad(flag, value, "restart")


def _check_pull(flag: str, value: str) -> None:
    if value not in ("always", "missing", "never"):
        raise _bad(flag, value, "pull")


def _check_limit(flag: str, value: str) -> None:
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise _bad(flag, value, "limit")


def _check_label(flag: str, value: str) -> None:
    if not value.split("=", 1)[0].strip():
        raise _bad(flag, value, "label")


def _check_option(flag: str, value: str) -> None:
    if "=" not in value or not value.split("=", 1)[0]:
        raise _bad(flag, value, "option")


def _check_absolute(flag: str, value: str) -> None:
    if not value.split(":", 1)[0].startswith("/"):
        raise _bad(flag, value, "path")


def _check_publish(flag: str, value: str) -> None:
    parse_publish(value)


def _check_volume(flag: str, value: str) -> None:
    parse_volume(value)


def _check_mount(flag: str, value: str) -> None:
    parse_mount(value)


def _check_type(flag: str, value: str) -> None:
    if value not in ("container", "volume", "network"):
        raise _bad(flag, value, "type")


_CHECKS: dict[str, Callable[[str, str], None]] = {
    "count": _check_count,
    "tail": _check_tail,
    "bytes": _check_bytes,
    "cpus": _check_cpus,
    "signal": _check_signal,
    "restart": _check_restart,
    "pull": _check_pull,
    "limit": _check_limit,
    "label": _check_label,
    "option": _check_option,
    "absolute": _check_absolute,
    "publish": _check_publish,
    "volume": _check_volume,
    "mount": _check_mount,
    "type": _check_type,
}


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """One flag of one subcommand."""

    name: str  # canonical long name, without dashes
    short: str | None = None
    value: bool = False  # takes a value
    repeat: bool = False  # may be given several times: values collected into a tuple
    check: str | None = None  # a key of _CHECKS
    aliases: tuple[str, ...] = ()  # other long names (``--net`` for ``--network``)
    note: str | None = None  # a note key added when the flag is set

    @property
    def label(self) -> str:
        """``-d/--detach`` or ``--name``: how hints show this flag."""
        long = "--" + self.name
        return f"-{self.short}/{long}" if self.short else long


def _f(spec: str, check: str | None = None, note: str | None = None, **extra: Any) -> Flag:
    """A compact way to write a flag: ``"d|detach"``, ``"name="``, ``"e|env=*"``."""
    repeat = spec.endswith("*")
    spec = spec.rstrip("*")
    value = spec.endswith("=")
    spec = spec.rstrip("=")
    short, _, name = spec.rpartition("|")
    return Flag(name, short or None, value, repeat, check, note=note, **extra)


@dataclass(frozen=True)
class CommandSpec:
    flags: tuple[Flag, ...] = ()
    interspersed: bool = True  # options may follow positionals (``docker rm web -f``)
    min_args: int = 0
    max_args: int | None = None
    usage: str = ""
    unsupported: tuple[str, ...] = ()  # real docker flags the sandbox does not offer
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


_INTERACTIVE = "cli.note_interactive"

# Flags of ``run`` and ``create``. Supported ones first, then the ones the policy refuses by
# name (they must parse so that the refusal can name them).
RUN_FLAGS: tuple[Flag, ...] = (
    _f("d|detach"),
    _f("name="),
    _f("e|env=*"),
    _f("env-file=*"),
    _f("v|volume=*", "volume"),
    _f("mount=*", "mount"),
    _f("p|publish=*", "publish"),
    _f("P|publish-all"),
    _f("network=", aliases=("net",)),
    _f("network-alias=*", aliases=("net-alias",)),
    _f("rm"),
    _f("w|workdir="),
    _f("entrypoint="),
    _f("i|interactive", note=_INTERACTIVE),
    _f("t|tty", note=_INTERACTIVE),
    _f("l|label=*", "label"),
    _f("h|hostname="),
    _f("u|user="),
    _f("restart=", "restart"),
    _f("init"),
    _f("m|memory=", "bytes"),
    _f("cpus=", "cpus"),
    _f("read-only"),
    _f("tmpfs=*", "absolute"),
    _f("stop-timeout=", "count"),
    # refused or limited by the policy
    _f("privileged"),
    _f("cap-add=*"),
    _f("cap-drop=*"),
    _f("device=*"),
    _f("gpus="),
    _f("pid="),
    _f("ipc="),
    _f("uts="),
    _f("userns="),
    _f("cgroupns="),
    _f("security-opt=*"),
    _f("sysctl=*"),
    _f("cgroup-parent="),
    _f("runtime="),
    _f("oom-kill-disable"),
    _f("volumes-from=*"),
    _f("volume-driver="),
    _f("add-host=*"),
    _f("dns=*"),
    _f("link=*"),
    _f("shm-size=", "bytes"),
    _f("ulimit=*"),
    _f("memory-swap="),
    _f("pids-limit="),
    _f("log-driver="),
    _f("log-opt=*"),
    _f("platform="),
    _f("pull=", "pull"),
)

# Real ``docker run`` flags the sandbox does not offer: named precisely instead of "unknown".
RUN_UNSUPPORTED: tuple[str, ...] = (
    "a|attach", "annotation", "blkio-weight", "blkio-weight-device", "cgroup-rw", "cidfile",
    "c|cpu-shares", "cpu-period", "cpu-quota", "cpu-rt-period", "cpu-rt-runtime",
    "cpuset-cpus", "cpuset-mems", "detach-keys", "device-cgroup-rule", "device-read-bps",
    "device-read-iops", "device-write-bps", "device-write-iops", "disable-content-trust",
    "dns-option", "dns-opt", "dns-search", "domainname", "expose", "group-add", "health-cmd",
    "health-interval", "health-retries", "health-start-interval", "health-start-period",
    "health-timeout", "ip", "ip6", "isolation", "kernel-memory", "label-file", "link-local-ip",
    "mac-address", "memory-reservation", "memory-swappiness", "no-healthcheck",
    "oom-score-adj", "q|quiet", "sig-proxy", "stop-signal", "storage-opt", "use-api-socket",
)  # fmt: skip

_FILTER = _f("f|filter=*")
_QUIET = _f("q|quiet")
_FORCE = _f("f|force")

COMMANDS: dict[Path, CommandSpec] = {
    ("run",): CommandSpec(
        RUN_FLAGS, interspersed=False, min_args=1, usage="IMAGE [COMMAND] [ARG...]",
        unsupported=RUN_UNSUPPORTED,
    ),
    ("create",): CommandSpec(
        RUN_FLAGS, interspersed=False, min_args=1, usage="IMAGE [COMMAND] [ARG...]",
        unsupported=RUN_UNSUPPORTED,
    ),
    ("exec",): CommandSpec(
        (
            _f("d|detach"), _f("e|env=*"), _f("w|workdir="), _f("u|user="),
            _f("i|interactive", note=_INTERACTIVE), _f("t|tty", note=_INTERACTIVE),
            _f("privileged"),
        ),
        interspersed=False, min_args=2, usage="CONTAINER COMMAND [ARG...]",
        unsupported=("detach-keys", "env-file"),
    ),
    ("ps",): CommandSpec(
        (
            _f("a|all"), _QUIET, _FILTER, _f("n|last=", "count"), _f("l|latest"),
            _f("no-trunc"), _f("s|size"), _f("format="),
        ),
        max_args=0,
    ),
    ("images",): CommandSpec(
        (_QUIET, _f("a|all"), _f("no-trunc")), max_args=1, usage="[REPOSITORY[:TAG]]",
        unsupported=("digests", "f|filter", "format", "tree"),
    ),
    ("start",): CommandSpec(
        (_f("a|attach", note="cli.note_attach"), _f("i|interactive", note=_INTERACTIVE)),
        min_args=1, usage="CONTAINER [CONTAINER...]",
        unsupported=("detach-keys", "checkpoint", "checkpoint-dir"),
    ),
    ("stop",): CommandSpec(
        (_f("t|time=", "count"), _f("s|signal=", "signal")),
        min_args=1, usage="CONTAINER [CONTAINER...]",
    ),
    ("restart",): CommandSpec(
        (_f("t|time=", "count"), _f("s|signal=", "signal")),
        min_args=1, usage="CONTAINER [CONTAINER...]",
    ),
    ("pause",): CommandSpec(min_args=1, usage="CONTAINER [CONTAINER...]"),
    ("unpause",): CommandSpec(min_args=1, usage="CONTAINER [CONTAINER...]"),
    ("kill",): CommandSpec(
        (_f("s|signal=", "signal"),), min_args=1, usage="CONTAINER [CONTAINER...]"
    ),
    ("rm",): CommandSpec(
        (_f("f|force"), _f("v|volumes")), min_args=1, usage="CONTAINER [CONTAINER...]",
        unsupported=("l|link",),
    ),
    ("logs",): CommandSpec(
        (
            _f("n|tail=", "tail"), _f("t|timestamps"),
            _f("f|follow", note="cli.note_follow"),
        ),
        min_args=1, max_args=1, usage="CONTAINER",
        unsupported=("details", "since", "until"),
    ),
    ("cp",): CommandSpec(
        (_f("a|archive"), _f("L|follow-link")),
        min_args=2, max_args=2, usage="SRC DEST (one of them CONTAINER:PATH)",
        unsupported=("q|quiet",),
    ),
    ("inspect",): CommandSpec(
        (_f("f|format="), _f("type=", "type"), _f("s|size")),
        min_args=1, usage="NAME|ID [NAME|ID...]",
    ),
    ("rename",): CommandSpec(min_args=2, max_args=2, usage="CONTAINER NEW_NAME"),
    ("top",): CommandSpec(interspersed=False, min_args=1, usage="CONTAINER [ps OPTIONS]"),
    ("port",): CommandSpec(min_args=1, max_args=2, usage="CONTAINER [PRIVATE_PORT[/PROTO]]"),
    ("stats",): CommandSpec(
        (_f("no-stream"), _f("a|all"), _f("no-trunc")), usage="[CONTAINER...]",
        unsupported=("format",),
    ),
    ("search",): CommandSpec(
        (_f("limit=", "limit"), _FILTER, _f("no-trunc"), _f("format=")),
        min_args=1, max_args=1, usage="TERM",
    ),
    ("pull",): CommandSpec(
        (_QUIET, _f("a|all-tags"), _f("platform=")),
        min_args=1, max_args=1, usage="NAME[:TAG]",
        unsupported=("disable-content-trust",),
    ),
    ("container", "prune"): CommandSpec(
        (_FORCE, _f("filter=*")), max_args=0
    ),
    ("volume", "create"): CommandSpec(
        (_f("d|driver="), _f("o|opt=*", "option"), _f("label=*", "label")), max_args=1,
        usage="[VOLUME]",
    ),
    ("volume", "ls"): CommandSpec((_QUIET, _FILTER), max_args=0, unsupported=("format",)),
    ("volume", "inspect"): CommandSpec(
        (_f("f|format="),), min_args=1, usage="VOLUME [VOLUME...]"
    ),
    ("volume", "rm"): CommandSpec((_FORCE,), min_args=1, usage="VOLUME [VOLUME...]"),
    ("volume", "prune"): CommandSpec((_FORCE, _f("filter=*"), _f("a|all")), max_args=0),
    ("network", "create"): CommandSpec(
        (
            _f("d|driver="), _f("internal"), _f("subnet=*"), _f("gateway=*"),
            _f("ip-range=*"), _f("label=*", "label"), _f("o|opt=*", "option"), _f("attachable"),
            _f("ipv6"),
        ),
        min_args=1, max_args=1, usage="NETWORK",
    ),
    ("network", "ls"): CommandSpec(
        (_QUIET, _FILTER, _f("no-trunc")), max_args=0, unsupported=("format",)
    ),
    ("network", "inspect"): CommandSpec(
        (_f("f|format="),), min_args=1, usage="NETWORK [NETWORK...]"
    ),
    ("network", "rm"): CommandSpec((_FORCE,), min_args=1, usage="NETWORK [NETWORK...]"),
    ("network", "connect"): CommandSpec(
        (_f("alias=*"), _f("ip=")), min_args=2, max_args=2, usage="NETWORK CONTAINER",
        unsupported=("driver-opt", "ip6", "link", "link-local-ip"),
    ),
    ("network", "disconnect"): CommandSpec(
        (_FORCE,), min_args=2, max_args=2, usage="NETWORK CONTAINER"
    ),
    ("network", "prune"): CommandSpec((_FORCE, _f("filter=*")), max_args=0),
}  # fmt: skip

# Words that reach a canonical path: the short forms and the management-command forms.
_CONTAINER_VERBS = (
    "run", "create", "start", "stop", "restart", "pause", "unpause", "kill", "rm", "logs",
    "exec", "cp", "inspect", "rename", "top", "port", "stats",
)  # fmt: skip
ROUTES: dict[Path, Path] = {
    **{(verb,): (verb,) for verb in (*_CONTAINER_VERBS, "ps", "images", "search", "pull")},
    **{("container", verb): (verb,) for verb in _CONTAINER_VERBS},
    ("container", "ls"): ("ps",),
    ("container", "list"): ("ps",),
    ("container", "ps"): ("ps",),
    ("container", "remove"): ("rm",),
    ("container", "prune"): ("container", "prune"),
    ("image", "ls"): ("images",),
    ("image", "list"): ("images",),
    ("image", "pull"): ("pull",),
    **{("volume", verb): ("volume", verb) for verb in ("create", "ls", "inspect", "rm", "prune")},
    ("volume", "list"): ("volume", "ls"),
    ("volume", "remove"): ("volume", "rm"),
    **{
        ("network", verb): ("network", verb)
        for verb in ("create", "ls", "inspect", "rm", "connect", "disconnect", "prune")
    },
    ("network", "list"): ("network", "ls"),
    ("network", "remove"): ("network", "rm"),
}
GROUPS = ("container", "image", "volume", "network")

# Real docker commands the sandbox does not run (a clear message instead of "unknown").
NOT_IN_SANDBOX: frozenset[str] = frozenset(
    {
        "attach", "build", "builder", "buildx", "checkpoint", "commit", "compose", "config",
        "context", "debug", "diff", "events", "export", "help", "history", "import", "info",
        "init", "load", "login", "logout", "manifest", "node", "plugin", "push", "rmi", "save",
        "scout", "secret", "service", "stack", "swarm", "system", "tag", "trust", "update",
        "version", "wait",
        "container attach", "container commit", "container diff", "container export",
        "container update", "container wait",
        "image build", "image history", "image import", "image inspect", "image load",
        "image prune", "image push", "image rm", "image remove", "image save", "image tag",
        "volume update",
    }
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Splitting and routing
# --------------------------------------------------------------------------------------------


def split_words(line: str) -> list[str]:
    """Split ``line`` like a POSIX shell (quotes, backslashes); unbalanced quotes → CliError."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise CliError("cli.bad_quotes", reason=str(exc).lower()) from None


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return found[0] if found else None


def _route(words: list[str]) -> tuple[Path, list[str]]:
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
        return _unknown(" ".join(key), [f"{first} {s}" for s in subs])
    if (first,) in ROUTES:
        return ROUTES[(first,)], words[1:]
    if first in NOT_IN_SANDBOX:
        raise CliError("cli.not_in_sandbox", command=first)
    return _unknown(first, [k[0] for k in ROUTES if len(k) == 1] + list(GROUPS))


def _unknown(word: str, choices: list[str]) -> tuple[Path, list[str]]:
    hint = _suggest(word, choices)
    if hint:
        raise CliError("cli.unknown_command_hint", command=word, hint=hint)
    raise CliError("cli.unknown_command", command=word)


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


@dataclass
class _Parsed:
    flags: dict[str, FlagValue] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _store(parsed: _Parsed, flag: Flag, value: str | bool, typed: str) -> None:
    if isinstance(value, str) and flag.check:
        _CHECKS[flag.check](typed, value)
    if flag.repeat and isinstance(value, str):
        previous = parsed.flags.get(flag.name, ())
        parsed.flags[flag.name] = (*previous, value) if isinstance(previous, tuple) else (value,)
    else:
        parsed.flags[flag.name] = value
    if flag.note and value is not False and flag.note not in parsed.notes:
        parsed.notes.append(flag.note)


def _long_flag(spec: CommandSpec, path: Path, word: str) -> Flag:
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


def _short_flag(spec: CommandSpec, path: Path, letter: str, word: str) -> Flag:
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


def _parse_options(spec: CommandSpec, path: Path, words: list[str]) -> _Parsed:
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
        elif word.startswith("--"):
            index = _parse_long(spec, path, words, index, word, parsed)
        else:
            index = _parse_cluster(spec, path, words, index, word, parsed)
    return parsed


def _parse_long(
    spec: CommandSpec, path: Path, words: list[str], index: int, word: str, parsed: _Parsed
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
    spec: CommandSpec, path: Path, words: list[str], index: int, word: str, parsed: _Parsed
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
# Structured values: ports, volumes, mounts, filters, cp arguments
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortSpec:
    """One ``-p`` mapping: ``[IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`` (ranges expanded)."""

    container_port: int
    protocol: str = "tcp"
    host_ip: str | None = None
    host_port: int | None = None


_PORT_RANGE_MAX = 16


def _port_range(text: str, flag_value: str) -> list[int]:
    low, _, high = text.partition("-")
    try:
        first = int(low)
        last = int(high) if high else first
    except ValueError:
        raise CliError("cli.bad_publish", value=flag_value) from None
    if not (1 <= first <= last <= 65535) or last - first >= _PORT_RANGE_MAX:
        raise CliError("cli.bad_publish", value=flag_value)
    return list(range(first, last + 1))


def parse_publish(value: str) -> list[PortSpec]:
    """``-p`` value → one :class:`PortSpec` per container port; CliError when malformed."""
    body, _, protocol = value.partition("/")
    protocol = protocol or "tcp"
    if protocol not in ("tcp", "udp", "sctp") or not body:
        raise CliError("cli.bad_publish", value=value)
    host_ip: str | None = None
    if body.startswith("["):  # [::1]:8080:80
        end = body.find("]")
        if end < 0 or body[end + 1 : end + 2] != ":":
            raise CliError("cli.bad_publish", value=value)
        host_ip, body = body[1:end], body[end + 2 :]
    parts = body.split(":")
    if host_ip is None and len(parts) == 3:
        host_ip = parts.pop(0) or None
    if len(parts) > 2 or (host_ip is not None and len(parts) != 2):
        raise CliError("cli.bad_publish", value=value)
    container_ports = _port_range(parts[-1], value)
    host_ports: list[int | None] = [None] * len(container_ports)
    if len(parts) == 2 and parts[0]:
        host_ports = list(_port_range(parts[0], value))
        if len(host_ports) != len(container_ports):
            raise CliError("cli.bad_publish", value=value)
    return [
        PortSpec(port, protocol, host_ip, host)
        for port, host in zip(container_ports, host_ports, strict=True)
    ]


@dataclass(frozen=True)
class VolumeSpec:
    """One ``-v`` value: ``[SOURCE:]TARGET[:OPTIONS]``; ``source`` empty for anonymous."""

    source: str
    target: str
    read_only: bool = False
    options: tuple[str, ...] = ()

    @property
    def is_path(self) -> bool:
        """Whether the source is a path on the machine (a bind mount), not a volume name."""
        src = self.source
        return src.startswith(("/", ".", "~")) or "/" in src or "\\" in src


_VOLUME_OPTIONS = frozenset({"ro", "rw", "nocopy", "z", "Z"})


def parse_volume(value: str) -> VolumeSpec:
    """``-v`` value → :class:`VolumeSpec`; CliError when malformed."""
    parts = value.split(":")
    if len(parts) == 1:
        source, target, options = "", parts[0], ""
    elif len(parts) == 2:
        if parts[1] in _VOLUME_OPTIONS or "," in parts[1]:
            source, target, options = "", parts[0], parts[1]
        else:
            source, target, options = parts[0], parts[1], ""
    elif len(parts) == 3:
        source, target, options = parts
    else:
        raise CliError("cli.bad_volume", value=value)
    opts = tuple(o for o in options.split(",") if o)
    if not target.startswith("/") or any(o not in _VOLUME_OPTIONS for o in opts):
        raise CliError("cli.bad_volume", value=value)
    if len(parts) >= 2 and not source and parts[0] == "":
        raise CliError("cli.bad_volume", value=value)
    return VolumeSpec(source, target, "ro" in opts, opts)


@dataclass(frozen=True)
class MountSpec:
    """One ``--mount`` value, as key=value fields."""

    type: str
    source: str
    target: str
    read_only: bool
    fields: Mapping[str, str]


_MOUNT_KEYS = {
    "src": "source", "source": "source", "dst": "target", "destination": "target",
    "target": "target", "ro": "readonly", "readonly": "readonly",
}  # fmt: skip


def parse_mount(value: str) -> MountSpec:
    """``--mount type=volume,source=data,target=/data,readonly`` → :class:`MountSpec`."""
    fields: dict[str, str] = {}
    for item in value.split(","):
        if not item:
            continue
        key, has_value, val = item.partition("=")
        key = _MOUNT_KEYS.get(key.strip(), key.strip())
        if not has_value:
            if key != "readonly":
                raise CliError("cli.bad_mount", value=value, field=item)
            val = "true"
        fields[key] = val
    mount_type = fields.get("type", "volume")
    target = fields.get("target", "")
    if not target.startswith("/"):
        raise CliError("cli.bad_mount", value=value, field="target")
    read_only = fields.get("readonly", "false")
    if read_only not in _TRUE | _FALSE:
        raise CliError("cli.bad_mount", value=value, field="readonly")
    return MountSpec(
        mount_type, fields.get("source", ""), target, read_only in _TRUE,
        MappingProxyType(fields),
    )  # fmt: skip


# Filter keys each command accepts (the sandbox implements these).
FILTER_KEYS: dict[Path, frozenset[str]] = {
    ("ps",): frozenset({"name", "status", "ancestor", "id", "label"}),
    ("search",): frozenset({"is-official", "stars"}),
    ("container", "prune"): frozenset({"label", "label!"}),
    ("volume", "ls"): frozenset({"name", "label", "dangling"}),
    ("volume", "prune"): frozenset({"label", "label!"}),
    ("network", "ls"): frozenset({"name", "label", "driver", "id"}),
    ("network", "prune"): frozenset({"label", "label!"}),
}
PS_STATUSES = frozenset(
    {"created", "restarting", "running", "removing", "paused", "exited", "dead"}
)


def parse_filters(cmd: DockerCommand) -> dict[str, tuple[str, ...]]:
    """``--filter key=value`` flags as ``{key: values}`` (validated by the parser)."""
    found: dict[str, tuple[str, ...]] = {}
    for item in cmd.values("filter"):
        key, _, value = item.partition("=")
        found[key] = (*found.get(key, ()), value)
    return found


def _check_filters(cmd: DockerCommand) -> None:
    allowed = FILTER_KEYS.get(cmd.path, frozenset())
    for item in cmd.values("filter"):
        key, has_value, value = item.partition("=")
        if not has_value or key not in allowed:
            raise CliError(
                "cli.bad_filter", filter=item, command=cmd.command_name,
                keys=", ".join(sorted(allowed)),
            )  # fmt: skip
        bad = (
            (key == "status" and value not in PS_STATUSES)
            or (key in ("is-official", "dangling") and value not in ("true", "false"))
            or (key == "stars" and not value.isdigit())
        )
        if bad:
            raise CliError("cli.bad_filter_value", filter=item, command=cmd.command_name)


@dataclass(frozen=True)
class CopySpec:
    """``docker cp``: which side is the container, and the paths on each side."""

    container: str
    container_path: str
    local_path: str  # in the user's host shell (their own machine in the sandbox)
    to_container: bool  # True: host shell → container


def _split_cp(arg: str) -> tuple[str, str] | None:
    """``web:/tmp`` → ("web", "/tmp"); a local path → None (like the docker CLI)."""
    if arg.startswith(("/", ".")) or ":" not in arg:
        return None
    container, _, path = arg.partition(":")
    return (container, path) if container else None


def parse_copy(cmd: DockerCommand) -> CopySpec:
    """The two ``cp`` arguments as a :class:`CopySpec`; CliError when not exactly one side."""
    source, dest = cmd.args[0], cmd.args[1]
    if "-" in (source, dest):
        raise CliError("cli.cp_stream")
    src, dst = _split_cp(source), _split_cp(dest)
    if src and dst:
        raise CliError("cli.cp_two_containers", source=source, dest=dest)
    if not src and not dst:
        raise CliError("cli.cp_no_container", source=source, dest=dest)
    if dst:
        return CopySpec(dst[0], dst[1] or "/", source, to_container=True)
    assert src is not None
    return CopySpec(src[0], src[1] or "/", dest, to_container=False)


# --------------------------------------------------------------------------------------------
# Image references
# --------------------------------------------------------------------------------------------

DEFAULT_REGISTRIES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


@dataclass(frozen=True)
class ImageRef:
    """A normalized image reference: ``repository`` without ``docker.io/`` or ``library/``."""

    repository: str
    tag: str = "latest"
    digest: str | None = None
    registry: str | None = None  # None: Docker Hub

    @property
    def name(self) -> str:
        """``nginx:latest`` or ``nginx@sha256:…``: how the sandbox names and pulls it."""
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"


def is_registry(component: str) -> bool:
    """Whether the first part of a name is a registry host (``quay.io``, ``localhost:5000``)."""
    return "." in component or ":" in component or component == "localhost"


def parse_image_reference(ref: str) -> ImageRef:
    """``NAME[:TAG][@DIGEST]`` → :class:`ImageRef`; CliError ``cli.bad_image`` when malformed."""
    rest, _, digest = ref.partition("@")
    if "@" in ref and not _DIGEST.match(digest):
        raise CliError("cli.bad_image", image=ref)
    slash = rest.rfind("/")
    name, tag = rest, ""
    colon = rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.match(tag):
            raise CliError("cli.bad_image", image=ref)
    parts = name.split("/")
    registry: str | None = None
    if len(parts) > 1 and is_registry(parts[0]):
        registry = parts.pop(0).lower()
        if registry in DEFAULT_REGISTRIES:
            registry = None
    if not parts or not all(_COMPONENT.match(p) for p in parts) or len(name) > 255:
        raise CliError("cli.bad_image", image=ref)
    if registry is None and len(parts) == 2 and parts[0] == "library":
        parts.pop(0)
    return ImageRef("/".join(parts), tag or "latest", digest or None, registry)


# --------------------------------------------------------------------------------------------
# Parsing a line
# --------------------------------------------------------------------------------------------


def _check_args(cmd: DockerCommand, spec: CommandSpec) -> None:
    count = len(cmd.args)
    if count < spec.min_args:
        raise CliError(
            "cli.needs_args", command=cmd.command_name, count=spec.min_args, usage=spec.usage
        )
    if spec.max_args is not None and count > spec.max_args:
        extra = cmd.args[spec.max_args]
        raise CliError("cli.too_many_args", command=cmd.command_name, arg=extra, usage=spec.usage)


def _check_formats(cmd: DockerCommand) -> None:
    from bot.sandbox import render  # render has no dependency on this module's state

    template = cmd.flag("format")
    if not isinstance(template, str):
        return
    fields = render.FORMAT_FIELDS.get(cmd.path)
    if fields is not None:
        render.check_template(template, fields)
    elif cmd.path in (("inspect",), ("volume", "inspect"), ("network", "inspect")):
        render.check_inspect_template(template)


def _extra_notes(cmd: DockerCommand) -> tuple[str, ...]:
    if cmd.path == ("stats",) and not cmd.has("no-stream"):
        return ("cli.note_one_sample",)
    return ()


_IMAGE_COMMANDS: frozenset[Path] = frozenset({("run",), ("create",), ("pull",)})


def _validate(cmd: DockerCommand) -> None:
    _check_filters(cmd)
    _check_formats(cmd)
    if cmd.path == ("cp",):
        parse_copy(cmd)
    if cmd.path in _IMAGE_COMMANDS:
        parse_image_reference(cmd.image)


def parse_docker(line: str) -> DockerCommand:
    """Parse one docker command line (``docker`` in front is optional); CliError when wrong."""
    words = split_words(line)
    if words[:1] == ["docker"]:
        words = words[1:]
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
    _check_args(cmd, spec)
    _validate(cmd)
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


# --------------------------------------------------------------------------------------------
# Equivalence and differences (quiz grading)
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


def _canonical_value(name: str, value: FlagValue) -> Any:
    convert = _CANONICAL.get(name)
    if isinstance(value, tuple):
        return tuple(sorted(str(convert(v)) if convert else v for v in value))
    if convert and isinstance(value, str):
        return convert(value)
    return value


def _canonical_args(cmd: DockerCommand) -> tuple[str, ...]:
    if cmd.path in _IMAGE_COMMANDS and cmd.args:
        try:
            return (parse_image_reference(cmd.args[0]).name, *cmd.args[1:])
        except CliError:
            return cmd.args
    return cmd.args


def normalize(cmd: DockerCommand) -> tuple[Any, ...]:
    """A value equal for equivalent commands: flag order, spelling and clusters do not matter,
    nor ``-p 80`` vs ``-p 80/tcp``, ``nginx`` vs ``docker.io/library/nginx:latest``."""
    flags = [
        (name, _canonical_value(name, value))
        for name, value in cmd.flags.items()
        if value is not False
    ]
    return (cmd.path, tuple(sorted(flags, key=lambda item: item[0])), _canonical_args(cmd))


def equivalent(a: DockerCommand, b: DockerCommand) -> bool:
    return normalize(a) == normalize(b)


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


def _parse_one(spec: CommandSpec, path: Path, words: list[str], index: int, parsed: _Parsed) -> int:
    word = words[index]
    if word.startswith("--"):
        return _parse_long(spec, path, words, index + 1, word, parsed)
    return _parse_cluster(spec, path, words, index + 1, word, parsed)


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


def _flag_differences(
    expected: DockerCommand, given: DockerCommand, misplaced: set[str]
) -> list[Difference]:
    found: list[Difference] = []
    want = dict(normalize(expected)[1])
    got = dict(normalize(given)[1])
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
    if spec.interspersed:
        if _canonical_args(expected) == _canonical_args(given):
            return []
        kind = "image" if expected.path in _IMAGE_COMMANDS else "args"
        return [Difference(kind, expected=" ".join(expected.args), given=" ".join(given.args))]
    found: list[Difference] = []
    if _canonical_args(expected)[:1] != _canonical_args(given)[:1]:
        kind = "image" if expected.path in _IMAGE_COMMANDS else "args"
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
