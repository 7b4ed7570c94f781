"""Which concepts a scenario step exercises, and how ``content check`` holds a step to it.

A step **exercises** a concept when it lists the concept in its ``concepts`` *and* its check
touches the concept. The check touches a concept when what must hold to pass the step (its
``check``, outside any ``not``; fail checks aside) and one of the concept's examples that run
in the sandbox share a **facet** (each check model says its facets: ``facets()`` in
:mod:`bot.practice.content`): a docker subcommand (``cmd:top``), a flag of one
(``flag:run:hostname``, ``flag:ps:all``) or a program run in a container or the host shell
(``prog:ps``).

* A ``used`` or ``output`` check has the facets of the command it names: its subcommand, the
  flags it requires, the program it requires.
* A ``container`` check has the facets of the commands that make what it looks for:
  ``hostname`` ← ``run --hostname``, ``memory`` ← ``run -m``, ``mount`` ← ``run -v`` /
  ``--mount`` / ``volume create``, ``status: paused`` ← ``pause``, ``remembered: same`` ←
  ``start`` / ``restart``, an OOM kill ← ``run -m`` …
* ``volume``, ``network`` and ``image`` checks have ``volume create``, ``network create`` and
  ``pull``; ``removed`` has ``rm`` and ``container prune``; a file in a container ``cp`` and
  ``exec``; a page ``wget``.

Starting a container (``run``, ``-d``, ``--name``, ``--rm`` …) is part of nearly every
example: those facets are *generic* and count only for a step whose check has nothing more
specific. ``content coverage`` counts a part of the study text as practised when a step
exercises a concept that explains it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.core.errors import UserError
from bot.dockercli import parse_docker
from bot.practice.uses import program_of

GENERIC: frozenset[str] = frozenset(
    {
        "cmd:run", "flag:run:detach", "flag:run:name", "flag:run:rm", "flag:run:interactive",
        "flag:run:tty", "flag:exec:interactive", "flag:exec:tty",
    }
)  # fmt: skip
"""Facets of setting a container up: they count only when a check has nothing more specific."""

_RUN = "run"  # ``create`` takes run's flags: both are ``run`` facets
STATUS_FACETS: Mapping[str, tuple[str, ...]] = {
    "created": ("cmd:create",),
    "running": ("cmd:run",),
    "paused": ("cmd:pause",),
    "exited": ("cmd:stop", "cmd:kill"),
}
"""What makes a container be in a state."""
FIELD_FLAGS: Mapping[str, tuple[str, ...]] = {
    "hostname": ("hostname",),
    "memory": ("memory",),
    "cpus": ("cpus",),
    "network": ("network",),
    "mount": ("volume", "mount"),
    "env": ("env", "env-file"),
    "port": ("publish",),
    "health": ("health-cmd",),
    "oom_killed": ("memory",),
}
"""The ``run`` flags that set what a ``container`` check's field looks at."""


def cmd_facet(path: str) -> str:
    """``cmd:top``, ``cmd:volume create``."""
    return f"cmd:{path}"


def flag_facet(path: str, name: str) -> str:
    """``flag:ps:all``; ``create``'s flags count as ``run``'s."""
    return f"flag:{_RUN if path == 'create' else path}:{name}"


def run_flag_facets(field: str) -> tuple[str, ...]:
    return tuple(flag_facet(_RUN, flag) for flag in FIELD_FLAGS.get(field, ()))


def command_facets(line: str) -> frozenset[str]:
    """The facets of one docker command line (empty when it does not parse)."""
    try:
        cmd = parse_docker(line)
    except UserError:
        return frozenset()
    path = " ".join(cmd.path)
    found = {cmd_facet(path), *(flag_facet(path, name) for name in cmd.flags if cmd.has(name))}
    if path in ("exec", "run", "create", "compose exec"):
        program = program_of(cmd.args[1:])
        if program:
            found.add(f"prog:{program}")
    return frozenset(found)


def touches(step: frozenset[str], concept: frozenset[str]) -> bool:
    """Whether a step's facets touch a concept's: a specific facet in common, or — for a
    step whose check has only generic facets — a generic one."""
    specific = step - GENERIC
    if specific:
        return bool(specific & concept)
    return bool(step & concept)


def example_facets(words: Iterable[str]) -> dict[str, frozenset[str]]:
    """Each concept's facets from the ``concept-example`` vocabulary (``"<id> <command>"``)."""
    found: dict[str, set[str]] = {}
    for word in words:
        concept, _, command = word.partition(" ")
        found.setdefault(concept, set()).update(command_facets(command))
    return {concept: frozenset(facets) for concept, facets in found.items()}
