"""Comparing two docker commands by meaning, for grading typed answers.

A typed answer is right when it does what the expected command does, the way a Docker
engineer reading it would judge. Spelling never matters (the parser already makes flag order,
``--name=web`` vs ``--name web``, clusters, ``docker container run`` vs ``docker run`` and
``nginx`` vs ``docker.io/library/nginx:latest`` equal). On top of that, :func:`grading_form`
rewrites both commands into one form where the docker CLI offers several ways to say the
same thing:

* a default spelled out: ``network create -d bridge``, ``volume create -d local``,
  ``run --network bridge``, ``--restart no``, ``search --limit 25``, ``logs --tail all``,
  ``stop -t 10``, ``-p 0.0.0.0:8080:80``;
* ``--mount type=volume,source=data,target=/data`` for ``-v data:/data`` (and bind mounts),
  and ``-v data:/data/`` for it too;
* ``docker volume inspect NAME`` as ``docker inspect --type volume NAME`` (networks alike);
* spaces inside ``--format`` actions: ``{{ .State.ExitCode }}``;
* what a container runs: ``sh -c "ls /tmp"`` is ``ls /tmp``, ``/bin/ls`` is ``ls``,
  ``/tmp/`` is ``/tmp``, ``http://web`` is ``http://web/``, ``wget -q -O - web`` is
  ``wget -qO- http://web``, and programs that print the same
  thing (``ip a`` / ``ip addr``, ``printenv`` / ``env``, ``arch`` / ``uname -m``,
  ``cat /etc/hostname`` / ``hostname``, ``ps aux`` / ``ps``, ``ls -la`` / ``ls``);
* ``docker build``: the context folder in one spelling (``.``, ``./``; ``site/``, ``./site``),
  ``-t site`` as ``site:latest``, ``-f`` naming the context's own ``Dockerfile``, ``--rm``;
* ``docker compose``: ``-f compose.yaml`` (or another name compose finds by itself);
* ``docker cp``: what ends up where. ``docker cp web:/a/f.conf .``, ``./``, ``f.conf`` and
  ``./f.conf`` all make ``./f.conf``; a folder destination with or without its trailing slash.

Some differences only matter in one direction (:func:`aligned`): a typed answer may add a
flag that changes only how the output looks (``--no-trunc``, ``logs -t``, ``exec -it``) or how
a result is made but not the result (``build --no-cache``, ``compose up --build``), and
may leave out ``--type`` where the expected answer names the object's kind. One rewrite
depends on the task (:func:`alternatives`): ``docker exec N ps`` lists the processes that
``docker top N`` lists, with the container's own PIDs, so it is accepted unless the question
is ``strict`` (its prompt is about the host's view).

Everything else is a difference: :func:`differences` says what a typed command lacks, adds or
changes compared with the expected one, each a message key (``cli.diff_<kind>``) with the
flag's label and both values.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from urllib.parse import urlsplit, urlunsplit

from bot.dockercli.errors import CliError
from bot.dockercli.model import IMAGE_COMMANDS, DockerCommand, FlagValue, Path, canonical_args
from bot.dockercli.parser import flag_label, misplaced_options
from bot.dockercli.table import COMMANDS
from bot.dockercli.values import parse_copy_args, parse_image_reference, parse_mount

# --------------------------------------------------------------------------------------------
# The tables: defaults, display-only flags, programs that print the same
# --------------------------------------------------------------------------------------------

_RUN_DEFAULTS = {"network": "bridge", "restart": "no"}
DEFAULTS: Mapping[Path, Mapping[str, str]] = {
    ("run",): _RUN_DEFAULTS,
    ("create",): _RUN_DEFAULTS,
    ("network", "create"): {"driver": "bridge"},
    ("volume", "create"): {"driver": "local"},
    ("search",): {"limit": "25"},
    ("logs",): {"tail": "all"},
    ("stop",): {"time": "10"},
    ("restart",): {"time": "10"},
}
"""Flag values that say what the command does anyway (``--driver bridge``)."""

DISPLAY_ONLY: Mapping[Path, frozenset[str]] = {
    ("ps",): frozenset({"no-trunc", "size"}),
    ("images",): frozenset({"no-trunc"}),
    ("search",): frozenset({"no-trunc"}),
    ("stats",): frozenset({"no-trunc"}),
    ("network", "ls"): frozenset({"no-trunc"}),
    ("logs",): frozenset({"timestamps"}),
    ("inspect",): frozenset({"size"}),
    ("exec",): frozenset({"interactive", "tty"}),
    ("build",): frozenset({"quiet", "progress"}),
}
"""Flags that change only how the output looks: a typed answer may add them."""

SAME_RESULT: Mapping[Path, frozenset[str]] = {
    ("build",): frozenset({"no-cache", "pull"}),
    ("compose", "up"): frozenset({"build", "quiet-pull", "no-color", "remove-orphans", "wait"}),
    ("compose", "down"): frozenset({"remove-orphans"}),
}
"""Flags that change how a command works, not what it makes: the same image, the same running
app. A typed answer may add them too."""

COMPOSE_FILES = frozenset(
    {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}
)
"""The file names compose looks for in the project folder: ``-f`` naming one says the default."""

_TYPED_INSPECT: Mapping[Path, str] = {
    ("volume", "inspect"): "volume",
    ("network", "inspect"): "network",
}
_SHELLS = frozenset({"sh", "ash", "bash", "dash"})
_SHELL_SYNTAX = re.compile(r"""[|&;<>()$`\\"'*?\[\]#~=%{}\n]""")
_BIN_DIRS = ("/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/")
_PS_OPTIONS = frozenset({"aux", "-aux", "ax", "-e", "-ef", "-A", "-eF", "-ely", "-elf"})
_LS_OPTIONS = re.compile(r"^-[alhA1F]+$")
# Words that print the same as another spelling (whole command lines in a container).
_SAME_OUTPUT: Mapping[tuple[str, ...], tuple[str, ...]] = {
    ("ip", "a"): ("ip", "addr"),
    ("ip", "address"): ("ip", "addr"),
    ("ip", "addr", "show"): ("ip", "addr"),
    ("ip", "a", "show"): ("ip", "addr"),
    ("printenv",): ("env",),
    ("arch",): ("uname", "-m"),
    ("cat", "/etc/hostname"): ("hostname",),
}
_WGET_CLUSTER = re.compile(r"-(?P<quiet>q*)(?:O(?P<output>.*))?")
_FORMAT_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")


# --------------------------------------------------------------------------------------------
# One form for each way of saying the same thing
# --------------------------------------------------------------------------------------------


def _with(
    cmd: DockerCommand,
    *,
    path: Path | None = None,
    flags: Mapping[str, FlagValue] | None = None,
    args: tuple[str, ...] | None = None,
) -> DockerCommand:
    """A copy of ``cmd`` with another path, flags or arguments (``raw`` stays as typed)."""
    return replace(
        cmd,
        path=cmd.path if path is None else path,
        flags=cmd.flags if flags is None else MappingProxyType(dict(flags)),
        args=cmd.args if args is None else args,
    )


def _typed_inspect(cmd: DockerCommand) -> DockerCommand:
    kind = _TYPED_INSPECT.get(cmd.path)
    if kind is None:
        return cmd
    return _with(cmd, path=("inspect",), flags={**cmd.flags, "type": kind})


def _without_defaults(cmd: DockerCommand) -> DockerCommand:
    defaults = DEFAULTS.get(cmd.path, {})
    flags = {k: v for k, v in cmd.flags.items() if defaults.get(k) != v}
    if cmd.path == ("inspect",) and flags.get("type") == "container":
        flags.pop("type")  # containers are what inspect looks for first
    if "publish" in flags:
        flags["publish"] = tuple(v.removeprefix("0.0.0.0:") for v in _values(flags["publish"]))
    return _with(cmd, flags=flags) if flags != dict(cmd.flags) else cmd


def _values(value: FlagValue) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ()
    return value if isinstance(value, tuple) else (value,)


def _mounts_as_volumes(cmd: DockerCommand) -> DockerCommand:
    """``--mount`` values that ``-v`` can say, said with ``-v``."""
    if "mount" not in cmd.flags:
        return cmd
    volumes = list(_values(cmd.flags.get("volume", ())))
    kept: list[str] = []
    for value in _values(cmd.flags["mount"]):
        try:
            spec = parse_mount(value)
        except CliError:
            kept.append(value)
            continue
        plain = set(spec.fields) <= {"type", "source", "target", "readonly"}
        if spec.type in ("volume", "bind") and plain and (spec.source or spec.type == "volume"):
            source = f"{spec.source}:" if spec.source else ""
            volumes.append(f"{source}{spec.target}{':ro' if spec.read_only else ''}")
        else:
            kept.append(value)
    flags: dict[str, FlagValue] = {k: v for k, v in cmd.flags.items() if k != "mount"}
    if kept:
        flags["mount"] = tuple(kept)
    if volumes:
        flags["volume"] = tuple(volumes)
    return _with(cmd, flags=flags)


def _volume_paths(cmd: DockerCommand) -> DockerCommand:
    """``-v`` values with the path in the container in one spelling: ``data:/data/`` is
    ``data:/data``."""
    if "volume" not in cmd.flags:
        return cmd
    values = tuple(_volume_value(v) for v in _values(cmd.flags["volume"]))
    return _with(cmd, flags={**cmd.flags, "volume": values})


def _volume_value(value: str) -> str:
    parts = value.split(":")
    index = 0 if len(parts) == 1 else 1  # TARGET, SOURCE:TARGET or SOURCE:TARGET:MODE
    if len(parts) <= 3 and parts[index].startswith("/"):
        parts[index] = posixpath.normpath(parts[index])
    return ":".join(parts)


def _plain_format(cmd: DockerCommand) -> DockerCommand:
    template = cmd.flags.get("format")
    if not isinstance(template, str):
        return cmd
    plain = _FORMAT_ACTION.sub(lambda m: "{{" + " ".join(m.group(1).split()) + "}}", template)
    return _with(cmd, flags={**cmd.flags, "format": plain.strip()})


def _word(word: str) -> str:
    """One argument of a container command in one spelling."""
    if word.startswith(("http://", "https://")):
        parts = urlsplit(word)
        return urlunsplit(parts._replace(path=parts.path or "/"))
    if word.startswith("/") and len(word) > 1:
        return word.rstrip("/") or "/"
    return word


def _wget_form(words: tuple[str, ...]) -> tuple[str, ...] | None:
    """``wget`` with ``-q`` and ``-O FILE`` in one spelling (``-qO-``, ``-q -O -``,
    ``--quiet``, ``--output-document=-``) and each URL with its scheme (busybox's wget reads
    ``web`` as ``http://web/``); None when it has an option other than those."""
    quiet, output, urls = False, None, []
    rest = list(words)
    while rest:
        word = rest.pop(0)
        if word in ("-q", "--quiet"):
            quiet = True
        elif word.startswith("--output-document="):
            output = word.partition("=")[2]
        elif word in ("-O", "--output-document") and rest:
            output = rest.pop(0)
        elif (cluster := _WGET_CLUSTER.fullmatch(word)) and word != "-":
            quiet = quiet or bool(cluster["quiet"])
            if cluster["output"] is not None:  # -O FILE, -OFILE, -qO-
                if not cluster["output"] and not rest:
                    return None
                output = cluster["output"] or rest.pop(0)
        elif word.startswith("-"):
            return None
        else:
            urls.append(_word(word if "://" in word else f"http://{word}"))
    options = (("-q",) if quiet else ()) + (("-O", output) if output is not None else ())
    return ("wget", *options, *urls)


def program_form(words: tuple[str, ...]) -> tuple[str, ...]:
    """What a container runs, in one spelling (see the module docstring)."""
    if not words:
        return words
    program = words[0]
    for folder in _BIN_DIRS:
        if program.startswith(folder) and "/" not in program[len(folder) :]:
            program = program[len(folder) :]
    rest = tuple(_word(w) for w in words[1:])
    if program in _SHELLS and len(rest) == 2 and rest[0] == "-c":
        script = rest[1]
        if not _SHELL_SYNTAX.search(script) and script.strip():
            return program_form(tuple(shlex.split(script)))
    line = (program, *rest)
    if program == "wget":
        line = _wget_form(rest) or line
    if program == "ps" and all(w in _PS_OPTIONS for w in rest):
        return ("ps",)
    if program == "ls":
        line = (program, *(w for w in rest if not _LS_OPTIONS.match(w)))
    return _SAME_OUTPUT.get(line, line)


def _container_command(cmd: DockerCommand) -> DockerCommand:
    spec = COMMANDS.get(cmd.path)
    if spec is None or spec.interspersed or cmd.path == ("top",) or len(cmd.args) < 2:
        return cmd
    if misplaced_options(cmd):
        return cmd  # ``docker run nginx -d``: shown as typed, with its own hint
    return _with(cmd, args=(cmd.args[0], *program_form(cmd.args[1:])))


def _folder(path: str) -> str:
    """A host-shell folder in one spelling: ``./site/`` is ``site``, ``./`` is ``.``."""
    return posixpath.normpath(path) if path else path


def _build_form(cmd: DockerCommand) -> DockerCommand:
    """``docker build``: the context folder in one spelling, ``-t site`` as ``site:latest``,
    ``-f`` left out where it names the context's own Dockerfile, ``--rm`` (the default)
    left out."""
    if cmd.path != ("build",) or not cmd.args:
        return cmd
    context = _folder(cmd.args[0])
    flags = {k: v for k, v in cmd.flags.items() if k != "rm"}
    dockerfile = flags.get("file")
    if isinstance(dockerfile, str) and _folder(dockerfile) == posixpath.normpath(
        posixpath.join(context, "Dockerfile")
    ):
        flags.pop("file")
    if "tag" in flags:
        flags["tag"] = tuple(_image_name(v) for v in _values(flags["tag"]))
    return _with(cmd, flags=flags, args=(context, *cmd.args[1:]))


def _image_name(text: str) -> str:
    try:
        return parse_image_reference(text).name
    except CliError:
        return text


def _compose_form(cmd: DockerCommand) -> DockerCommand:
    """``docker compose``: ``-f compose.yaml`` (a file compose finds by itself) left out."""
    files = cmd.flags.get("file")
    if cmd.path[:1] != ("compose",) or files is None:
        return cmd
    named = _values(files)
    if len(named) != 1 or _folder(named[0]) not in COMPOSE_FILES:
        return cmd
    return _with(cmd, flags={k: v for k, v in cmd.flags.items() if k != "file"})


def grading_form(cmd: DockerCommand) -> DockerCommand:
    """``cmd`` in the one form shared by every way of saying it (see the module docstring)."""
    steps = (_typed_inspect, _without_defaults, _mounts_as_volumes, _volume_paths, _plain_format,
             _build_form, _compose_form)  # fmt: skip
    for step in steps:
        cmd = step(cmd)
    return _container_command(cmd)


def aligned(expected: DockerCommand, given: DockerCommand) -> DockerCommand:
    """``given`` without what may differ in one direction only: display-only flags and flags
    of the same result (:data:`SAME_RESULT`) that ``expected`` does not use, and ``inspect``
    without ``--type`` where ``expected`` has one."""
    if expected.path != given.path:
        return given
    may_add = DISPLAY_ONLY.get(given.path, frozenset()) | SAME_RESULT.get(given.path, frozenset())
    extra = may_add - expected.flags.keys()
    flags = {k: v for k, v in given.flags.items() if k not in extra}
    if given.path == ("inspect",) and "type" in expected.flags and "type" not in flags:
        flags["type"] = expected.flags["type"]
    return _with(given, flags=flags) if flags != dict(given.flags) else given


def alternatives(expected: DockerCommand, strict: bool = False) -> tuple[DockerCommand, ...]:
    """``expected`` and the other commands that do its task (none when ``strict``)."""
    found = [expected]
    if not strict and expected.path == ("top",) and len(expected.args) == 1:
        found.append(_with(expected, path=("exec",), flags={}, args=(expected.args[0], "ps")))
    return tuple(found)


# --------------------------------------------------------------------------------------------
# docker cp: what ends up where
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Copy:
    to_container: bool
    container: str
    source: str
    results: frozenset[str]  # the path (or paths) the copy may create


def _clean(path: str, local: bool) -> str:
    path = posixpath.normpath(path) if path else "."
    return path.removeprefix("./") if local else path


def _copy(cmd: DockerCommand) -> _Copy | None:
    if cmd.path != ("cp",) or len(cmd.args) != 2:
        return None
    try:
        spec = parse_copy_args(*cmd.args)
    except CliError:
        return None
    if spec.to_container:
        source, dest = _clean(spec.local_path, True), spec.container_path
    else:
        source, dest = _clean(spec.container_path, False), spec.local_path
    local_dest = not spec.to_container
    name = posixpath.basename(source)
    into = posixpath.join(dest, name)
    if dest in (".", "./", "") or dest.endswith("/"):
        results = {_clean(into, local_dest)}
    else:  # a file name, or a folder that exists: docker decides when it runs
        results = {_clean(dest, local_dest), _clean(into, local_dest)}
    return _Copy(spec.to_container, spec.container, source, frozenset(results))


def same_copy(expected: DockerCommand, given: DockerCommand) -> bool:
    """Whether two ``docker cp`` commands copy the same thing to the same place."""
    first, second = _copy(expected), _copy(given)
    if first is None or second is None:
        return False
    return (first.to_container, first.container, first.source) == (
        second.to_container,
        second.container,
        second.source,
    ) and bool(first.results & second.results)


# --------------------------------------------------------------------------------------------
# Equivalence and differences
# --------------------------------------------------------------------------------------------


def normalize(cmd: DockerCommand) -> tuple[object, ...]:
    """The canonical form of ``cmd``'s grading form (equal for equivalent commands)."""
    return grading_form(cmd).canonical()


def equivalent(a: DockerCommand, b: DockerCommand) -> bool:
    """Whether ``a`` and ``b`` mean the same, both ways round."""
    return not _differences(grading_form(a), grading_form(b)) and not _differences(
        grading_form(b), grading_form(a)
    )


def same_task(expected: DockerCommand, given: DockerCommand, strict: bool = False) -> bool:
    """Whether the typed ``given`` does what ``expected`` does (one direction)."""
    return not differences(expected, given, strict)


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


def differences(
    expected: DockerCommand, given: DockerCommand, strict: bool = False
) -> list[Difference]:
    """What ``given`` lacks, adds or changes compared with ``expected`` (empty: it does the
    same task): the fewest differences to any of ``expected``'s :func:`alternatives`."""
    typed = grading_form(given)
    best: list[Difference] | None = None
    for candidate in alternatives(grading_form(expected), strict):
        found = _differences(candidate, aligned(candidate, typed))
        if not found:
            return []
        if best is None or len(found) < len(best):
            best = found
    # A different subcommand is named as typed (``docker volume inspect``, not its form).
    return [
        replace(d, expected=expected.command_name, given=given.command_name)
        if d.kind == "subcommand" and len(best or ()) == 1
        else d
        for d in best or []
    ]


def _show(value: FlagValue | None) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "true"
    if isinstance(value, tuple):
        return " ".join(value)
    return value


def _differences(expected: DockerCommand, given: DockerCommand) -> list[Difference]:
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


_ArgCompare = Callable[[DockerCommand, DockerCommand], bool]
_SAME_ARGS: Mapping[Path, _ArgCompare] = {("cp",): same_copy}


def _arg_differences(
    expected: DockerCommand, given: DockerCommand, misplaced: bool
) -> list[Difference]:
    spec = COMMANDS[expected.path]
    kind = "image" if expected.path in IMAGE_COMMANDS else "args"
    same = _SAME_ARGS.get(expected.path)
    if same is not None and same(expected, given):
        return []
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
