"""The benchmark on a core of its own: the local engine (``dockerd``, ``containerd`` and
every process they started — shims, ``runc``, the containers) on the other cores.

On a small machine the engine's burst takes every core, and any process — a ticker with
nothing else to do — waits for one: its loop lag is the machine's, not the coach's. Giving the
coach a core of its own (as a deployment does by running it beside, not on, the worker)
measures what the coach's own loop does. Linux only, and it needs the right to change the
engine's CPU affinity (root); the affinity is put back afterwards, to every core.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

# the shims (comm "containerd-shim", cut at 15 characters) leave containerd for init
ENGINE_PROGRAMS = frozenset({"dockerd", "containerd", "containerd-shim"})
PROC = Path("/proc")


def _parents() -> dict[int, int]:
    """Every process's parent, by pid."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid …": comm may hold spaces and parentheses
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def _comm(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def engine_processes() -> list[int]:
    """The engine's processes and every process they started, by pid."""
    parents = _parents()
    found = {pid for pid in parents if _comm(pid) in ENGINE_PROGRAMS}
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        grew = bool(more)
        found |= more
    return sorted(found)


def _pin(pids: list[int], cores: set[int]) -> int:
    """Every thread of ``pids`` on ``cores``; how many threads were moved."""
    moved = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):  # gone meanwhile
            for task in (PROC / str(pid) / "task").iterdir():
                with contextlib.suppress(ProcessLookupError, FileNotFoundError):  # gone
                    os.sched_setaffinity(int(task.name), cores)
                    moved += 1
    return moved


@contextlib.contextmanager
def own_core() -> Iterator[str]:
    """This process on the last core, the engine's on the others, while inside; what was
    done, to print."""
    every = set(range(os.cpu_count() or 1))
    if len(every) < 2:
        raise SystemExit("--own-core needs at least 2 cores")
    mine = {max(every)}
    others = every - mine
    engine = engine_processes()
    if not engine:
        raise SystemExit("--own-core: no dockerd or containerd on this machine to move")
    try:
        threads = _pin(engine, others)
    except PermissionError as exc:
        with contextlib.suppress(PermissionError):  # those moved before the refusal go back
            _pin(engine, every)
        message = f"--own-core needs the right to move the engine's processes: {exc}"
        raise SystemExit(message) from exc
    _pin([os.getpid()], mine)  # every thread of the bench's (the new ones inherit it)
    try:
        yield (
            f"the bench on core {min(mine)}, the engine's {threads} threads on "
            f"{', '.join(str(c) for c in sorted(others))}"
        )
    finally:
        _pin([os.getpid()], every)
        _pin(engine_processes(), every)
