"""Which commands can fill a sandbox's disk, and what still runs when it is over its budget.

Pure rules, used by the handlers around the disk watchdog (:mod:`bot.sandbox.watchdog`):

* a command that **looks** changes nothing on disk;
* a command that **frees** (or changes no bytes: ``stop``, ``network create``) keeps working
  over the budget, and the sandbox is measured again after it, so that freed space counts;
* every other command **writes** — it is watched closely while it runs, measured after, and
  refused while the sandbox is over its budget. New subcommands write until listed here.

``docker exec`` and ``/sh`` run programs: over the budget only a command that can only look
or delete runs — one program from :data:`FREEING_PROGRAMS`, no shell syntax (no redirection,
no ``;``, ``|``, ``&``, ``$``…), so ``rm big.bin`` works and ``dd …`` or ``cat a > b`` do not.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Sequence

from bot.dockercli.model import Path

LOOKS: frozenset[Path] = frozenset(
    {("ps",), ("logs",), ("inspect",), ("top",), ("port",), ("stats",), ("images",),
     ("search",), ("volume", "ls"), ("volume", "inspect"), ("network", "ls"),
     ("network", "inspect")}
)  # fmt: skip
FREES: frozenset[Path] = frozenset(
    {("rm",), ("container", "prune"), ("stop",), ("kill",), ("pause",), ("rename",),
     ("volume", "rm"), ("volume", "prune"), ("volume", "create"), ("network", "create"),
     ("network", "rm"), ("network", "prune"), ("network", "connect"),
     ("network", "disconnect"), ("rmi",), ("image", "rm"), ("image", "prune")}
)  # fmt: skip
NO_VOLUMES: frozenset[Path] = frozenset({("pull",)})  # writes, but never into a volume
# neither makes nor removes a volume (a container's programs cannot: no engine inside)
KEEPS_VOLUMES: frozenset[Path] = frozenset(
    {("exec",), ("cp",), ("pause",), ("unpause",), ("rename",), ("pull",), ("tag",),
     ("rmi",), ("image", "rm"), ("image", "prune"), ("network", "create"), ("network", "rm"),
     ("network", "prune"), ("network", "connect"), ("network", "disconnect")}
)  # fmt: skip
# neither makes, tags nor removes an image of the learner's (``pull`` fetches shared images
# only; ``compose up`` and ``system prune`` can build or remove, so they are not here)
KEEPS_IMAGES: frozenset[Path] = frozenset(
    {("run",), ("create",), ("start",), ("stop",), ("restart",), ("pause",), ("unpause",),
     ("kill",), ("rm",), ("rename",), ("container", "prune"), ("ps",), ("logs",),
     ("inspect",), ("top",), ("port",), ("stats",), ("wait",), ("diff",), ("exec",), ("cp",),
     ("images",), ("pull",), ("search",), ("image", "inspect"), ("history",),
     ("compose", "ps"), ("compose", "logs"), ("compose", "exec"), ("compose", "stop"),
     ("compose", "start"), ("compose", "restart"), ("compose", "config"),
     ("system", "df"), ("version",), ("info",), ("volume", "create"), ("volume", "ls"),
     ("volume", "inspect"), ("volume", "rm"), ("volume", "prune"), ("network", "create"),
     ("network", "ls"), ("network", "inspect"), ("network", "rm"), ("network", "connect"),
     ("network", "disconnect"), ("network", "prune")}
)  # fmt: skip
FREEING_PROGRAMS = frozenset(
    {"rm", "rmdir", "ls", "du", "df", "pwd", "cat", "head", "tail", "wc", "stat"}
)
SHELL_SYNTAX = frozenset(";&|<>$`(){}\\\n")  # globs stay: they only name files


def looks(path: Path) -> bool:
    return path in LOOKS


def writes(path: Path) -> bool:
    """Whether the subcommand at ``path`` can add bytes to the sandbox's disk."""
    return path not in LOOKS and path not in FREES


def writes_volumes(path: Path) -> bool:
    return writes(path) and path not in NO_VOLUMES


def changes_volumes(path: Path) -> bool:
    """Whether the subcommand at ``path`` can make or remove a volume (``run``, ``rm -v``, a
    ``--rm`` container stopped, ``volume create``…): the sandbox's volumes are listed again
    after it. New subcommands can, until listed in :data:`KEEPS_VOLUMES`."""
    return not looks(path) and path not in KEEPS_VOLUMES


def changes_images(path: Path) -> bool:
    """Whether the subcommand at ``path`` can make, tag or remove one of the learner's
    images (``commit``, ``tag``, ``build``, ``rmi``, ``compose up``…): the learner's own
    image names are listed again after it. New subcommands can, until listed in
    :data:`KEEPS_IMAGES`."""
    return path not in KEEPS_IMAGES


def frees_space(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (a program and its arguments) can only look or delete."""
    return bool(argv) and posixpath.basename(argv[0]) in FREEING_PROGRAMS


def shell_frees_space(line: str) -> bool:
    """Whether a ``/sh`` line is one program that can only look or delete, without shell
    syntax that could write (a redirection) or run something else."""
    if any(char in SHELL_SYNTAX for char in line):
        return False
    try:
        argv = shlex.split(line)
    except ValueError:
        return False
    return frees_space(argv)
