"""The commands a learner used during a scenario, and what each printed.

After every successful ``/docker`` or ``/sh`` command, practice records a :class:`CommandUse`:
the line as typed and the output the command showed (the ``code`` of its replies). ``used``
checks ask whether a matching command was used; ``output`` checks read what the last matching
command printed. A use is saved with the session (as one string, :meth:`CommandUse.encode`),
so it survives a restart; only the last :data:`OUTPUT_KEPT` uses keep their output, each cut
to :data:`OUTPUT_CHARS` characters.

What a use tells a check (parsed on demand): the docker subcommand as the parser names it
(``ps``; ``container ls`` is ``ps``), the flags typed (canonical long names: ``all`` for
``-a``), the container it acts on (``exec``, ``logs``, ``top``, ``inspect``, ``cp`` …) and the
program it runs — inside a container for ``exec``/``run``/``create`` (``docker exec web ps``
runs ``ps``; ``sh -c "ps > f"`` runs ``ps``), in the host shell for ``/sh`` (``wget``).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

from bot.core.errors import UserError
from bot.dockercli import DockerCommand, parse_docker
from bot.dockercli.compare import program_form
from bot.dockercli.errors import CliError
from bot.dockercli.values import parse_copy_args

OUTPUT_KEPT = 8
"""How many of the latest uses keep their output (an ``output`` check reads the last one)."""
OUTPUT_CHARS = 16_000
"""The most of one command's output that is kept (its beginning)."""
LEGACY_SHELL = "sh:"  # how sessions saved before uses kept their lines wrote a /sh program

Kind = Literal["docker", "sh"]
_SHELLS = frozenset({"sh", "ash", "bash", "dash"})
# Subcommands whose first argument is the container they act on.
_ON_A_CONTAINER = frozenset(
    {
        "exec", "logs", "top", "inspect", "start", "stop", "restart", "pause", "unpause",
        "kill", "rm", "port", "rename", "stats", "commit",
    }
)  # fmt: skip
_RUNS_A_PROGRAM = frozenset({"exec", "run", "create", "compose exec"})  # after the first arg


def first_program(script: str) -> str | None:
    """The first program of a shell line (``wget`` in ``A=1 wget -qO- http://web``)."""
    try:
        words = shlex.split(script)
    except ValueError:
        words = script.split()
    for word in words:
        if "=" in word and not word.startswith(("-", "/", ".")):
            continue  # an environment assignment such as NAME=value
        return word.rsplit("/", 1)[-1] or None
    return None


def program_of(words: tuple[str, ...]) -> str | None:
    """The program a command line runs: through ``sh -c``, the script's first program."""
    form = program_form(words)
    if not form:
        return None
    if form[0] in _SHELLS and len(form) >= 3 and form[1] == "-c":
        return first_program(form[2])
    return form[0]


@dataclass(frozen=True)
class CommandUse:
    """One successful command: ``kind`` is ``docker`` or ``sh``; ``line`` is what followed
    ``/docker`` or ``/sh``; ``output`` what it printed (None when not kept)."""

    kind: Kind
    line: str
    output: str | None = None
    legacy: str | None = field(default=None, compare=False)  # a subcommand saved bare

    # -- what a check asks ------------------------------------------------------------
    @cached_property
    def docker(self) -> DockerCommand | None:
        """The parsed docker command (None for ``/sh`` or a line the parser refuses)."""
        if self.kind != "docker" or not self.line:
            return None
        try:
            return parse_docker(self.line)
        except UserError:
            return None

    @property
    def subcommand(self) -> str | None:
        """``run``, ``volume create`` (None for ``/sh``)."""
        if self.kind != "docker":
            return None
        if self.legacy is not None:
            return self.legacy
        cmd = self.docker
        return " ".join(cmd.path) if cmd is not None else None

    def has_flag(self, name: str) -> bool:
        cmd = self.docker
        return cmd is not None and cmd.has(name)

    @property
    def container(self) -> str | None:
        """The container the command acts on, as typed (a name or an ID)."""
        cmd = self.docker
        if cmd is None or not cmd.args:
            return None
        name = " ".join(cmd.path)
        if name == "cp":
            try:
                return parse_copy_args(*cmd.args[:2]).container
            except (CliError, TypeError):
                return None
        return cmd.args[0] if name in _ON_A_CONTAINER else None

    @property
    def program(self) -> str | None:
        """The program it runs: in a container (``exec``/``run``) or in the host shell."""
        if self.kind == "sh":
            return first_program(self.line) if self.line else self.legacy
        cmd = self.docker
        if cmd is None or " ".join(cmd.path) not in _RUNS_A_PROGRAM:
            return None
        return program_of(cmd.args[1:])

    # -- saving -----------------------------------------------------------------------
    def without_output(self) -> CommandUse:
        return replace(self, output=None) if self.output is not None else self

    def encode(self) -> str:
        data: dict[str, str] = {"k": self.kind, "l": self.line}
        if self.output is not None:
            data["o"] = self.output[:OUTPUT_CHARS]
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, token: str) -> CommandUse:
        """A saved use; also the bare tokens older sessions saved (``ps``, ``sh:wget``)."""
        if token.startswith("{"):
            try:
                data = json.loads(token)
                kind: Kind = "sh" if data.get("k") == "sh" else "docker"
                output = data.get("o")
                return cls(
                    kind, str(data.get("l", "")), str(output) if output is not None else None
                )
            except (ValueError, AttributeError):
                pass
        if token.startswith(LEGACY_SHELL):
            return cls("sh", "", legacy=token.removeprefix(LEGACY_SHELL))
        return cls("docker", "", legacy=token)


def record(kind: Kind, line: str, output: str) -> CommandUse:
    """The use of one successful command that printed ``output``."""
    return CommandUse(kind, line.strip(), output[:OUTPUT_CHARS])


def keep_outputs(uses: list[CommandUse]) -> list[CommandUse]:
    """``uses`` with the output of all but the latest :data:`OUTPUT_KEPT` dropped."""
    cut = max(0, len(uses) - OUTPUT_KEPT)
    return [use.without_output() if index < cut else use for index, use in enumerate(uses)]
