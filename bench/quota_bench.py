"""Benchmark another learner's latency while a hostile learner fills their disk budget.

Prints, side by side in one run, the latency (p50/p95) of another learner's ``/docker ps``
and ``/sh echo`` with no writer, with a third learner's three busy loops (CPU contention
alone, for comparison), and while a learner's writers are being stopped by the engine's size
limit and the disk watchdog, and the ratio writers / no writer. The writer loops for the whole
second phase: two containers ``dd`` 2 GiB into a volume and one 1 GiB into its writable layer,
all at once; when all have been stopped it frees the space (``rm -f``, ``volume rm``) and
starts again.

By default the worker is a private btrfs engine started for the run (root:
``deploy/engine/extra_engine.sh``, removed at the end), so no one else's tests move the
figures; ``--shared`` uses the shared engine instead (DOCKER_HOST / settings).

    .venv/bin/python -m bench.quota_bench [--samples 40] [--shared]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.content.library import load_library
from bot.core.context import Actor
from bot.core.i18n import Translator
from bot.core.reply import Reply
from bot.sandbox.service import SandboxService
from bot.settings import REPO_ROOT, load_settings

EXTRA_ENGINE = REPO_ROOT / "deploy" / "engine" / "extra_engine.sh"
WRITERS = (
    ("v1", "-v fill:/d busybox dd if=/dev/zero of=/d/a bs=1M count=2048"),
    ("v2", "-v fill:/d busybox dd if=/dev/zero of=/d/b bs=1M count=2048"),
    ("l1", "busybox dd if=/dev/zero of=/x bs=1M count=1024"),
)


async def _nobody() -> set[str]:
    """Adopt no one at start (the bench runs as a coach instance of its own)."""
    return set()


def _actor(name: str) -> Actor:
    return Actor(user_id=f"bench-{name}-{uuid.uuid4().hex[:6]}", display_name=name)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _text(replies: list[Reply] | Reply) -> str:
    replies = [replies] if isinstance(replies, Reply) else replies
    return "\n".join(f"{reply.body}\n{reply.code or ''}" for reply in replies)


@contextmanager
def private_engine() -> Iterator[str]:
    """A btrfs engine of this run alone; its ``unix://`` address."""
    if os.geteuid() != 0:
        raise SystemExit("a private engine needs root (or use --shared)")
    name = f"qbench-{os.getpid() % 100000}"
    script = ["bash", str(EXTRA_ENGINE)]
    started = subprocess.run(
        [*script, "start", name, "--driver", "btrfs", "--size", "6G"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        if started.returncode != 0:
            raise SystemExit(f"extra_engine.sh start failed:\n{started.stdout}{started.stderr}")
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([*script, "stop", name], capture_output=True, check=False)


class Latency:
    """Another learner's commands, one after the other, timed."""

    def __init__(self, service: SandboxService, tr: Translator, actor: Actor) -> None:
        self.service, self.tr, self.actor = service, tr, actor

    async def _timed(self, call: Callable[[], Awaitable[Any]], check: str) -> float:
        started = time.perf_counter()
        replies = await call()
        elapsed = time.perf_counter() - started
        if check not in _text(replies):
            raise RuntimeError(f"unexpected reply: {_text(replies)[:200]!r}")
        return elapsed

    async def sample(self, samples: int) -> dict[str, list[float]]:
        commands = self.service.commands
        times: dict[str, list[float]] = {"/docker ps": [], "/sh echo": []}
        for _ in range(samples):
            times["/docker ps"].append(
                await self._timed(lambda: commands.docker(self.actor, self.tr, "ps"), "CONTAINER")
            )
            times["/sh echo"].append(
                await self._timed(lambda: commands.sh(self.actor, self.tr, "echo hi"), "hi")
            )
        return times


class Writer:
    """A learner writing past their budget again and again, until told to stop."""

    def __init__(self, service: SandboxService, tr: Translator, actor: Actor) -> None:
        self.service, self.tr, self.actor = service, tr, actor
        self.exits: Counter[str] = Counter()
        self.rounds = 0

    async def _docker(self, line: str) -> str:
        return _text(await self.service.commands.docker(self.actor, self.tr, line))

    async def _statuses(self) -> dict[str, str]:
        out = await self._docker("ps -a --format '{{.Names}}|{{.Status}}'")
        pairs = (line.split("|", 1) for line in out.splitlines() if "|" in line)
        return {name: status for name, status in pairs}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for name, line in WRITERS:
                await self._docker(f"run -d --name {name} {line}")
            while True:
                statuses = await self._statuses()
                if all("Exited" in statuses.get(name, "") for name, _ in WRITERS):
                    break
                await asyncio.sleep(0.2)  # polling the engine's state, as a learner would
            for name, _ in WRITERS:
                self.exits[statuses[name].split(")")[0] + ")"] += 1
            self.rounds += 1
            await self._docker("rm -f " + " ".join(name for name, _ in WRITERS))
            await self._docker("volume rm fill")


SPIN = "busybox sh -c 'while :; do :; done'"


def _figures(values: list[float]) -> tuple[float, float]:
    return _percentile(values, 0.5) * 1000, _percentile(values, 0.95) * 1000


def _row(label: str, phases: list[list[float]]) -> str:
    (i50, i95), *others = [_figures(values) for values in phases]
    cells = "".join(f"   {p50:7.1f} {p95:7.1f}" for p50, p95 in [(i50, i95), *others])
    w50, w95 = others[-1]
    return f"  {label:11}{cells}   {w50 / i50:5.2f} {w95 / i95:5.2f}"


async def _spinning(
    service: SandboxService, tr: Translator, other: Latency, samples: int
) -> dict[str, list[float]]:
    """The other learner's latency while a third learner's three containers only burn CPU
    (as much as the writers may: 0.5 CPU each): what CPU contention alone costs."""
    spinner = _actor("spinner")
    for index in range(len(WRITERS)):
        await service.commands.docker(spinner, tr, f"run -d --name s{index} {SPIN}")
    try:
        return await other.sample(samples)
    finally:
        await service.reader.destroy_user(spinner.user_id)


async def measure(service: SandboxService, tr: Translator, samples: int) -> None:
    other = Latency(service, tr, _actor("other"))
    writer = Writer(service, tr, _actor("writer"))
    await other.sample(3)  # the other learner's sandbox, and a warm start
    idle = await other.sample(samples)
    spinning = await _spinning(service, tr, other, samples)
    stop = asyncio.Event()
    writing = asyncio.create_task(writer.run(stop))
    try:
        busy = await other.sample(samples)
    finally:
        stop.set()
        await writing
    print(f"\nanother learner's latency, {samples} samples each (ms):")
    heads = ("no writer", "3 busy loops", "writers stopped", "wr. / none")
    print(f"  {'':11}   {heads[0]:>15}   {heads[1]:>15}   {heads[2]:>15}   {heads[3]:>11}")
    print(f"  {'command':11}" + "   {:>7} {:>7}".format("p50", "p95") * 3 + "     p50   p95")
    for label in idle:
        print(_row(label, [idle[label], spinning[label], busy[label]]))
    print(
        f"\nwriter: rounds of {len(WRITERS)} writers finished: {writer.rounds}; stopped with "
        + ", ".join(f"{status} × {count}" for status, count in sorted(writer.exits.items()))
        + "  (137: killed by the watchdog, 1: the engine's size limit, 0: finished)"
    )
    for actor in (other.actor, writer.actor):
        await service.reader.destroy_user(actor.user_id)


async def run(url: str | None, samples: int) -> None:
    tr = Translator(load_library(REPO_ROOT / "content").catalog, "en")
    settings = load_settings()
    data = settings.sandbox.model_dump()
    data["instance"] = f"bench-{uuid.uuid4().hex[:8]}"  # other coaches' sandboxes stay untouched
    if url is not None:
        data["workers"] = [{"name": "bench", "url": url, "warm_pool": 0}]
    sandbox_settings = type(settings.sandbox).model_validate(data)
    logging.getLogger("bot").setLevel(logging.ERROR)  # the watchdog's warnings: counted below
    service = SandboxService(sandbox_settings, known_users=_nobody)
    await service.start()
    try:
        engine = "the shared engine" if url is None else f"a private btrfs engine ({url})"
        print(f"worker: {engine}; budget {sandbox_settings.disk.budget_bytes >> 20} MiB")
        await measure(service, tr, samples)
    finally:
        await service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--shared", action="store_true", help="use the shared engine")
    options = parser.parse_args()
    if options.shared:
        asyncio.run(run(None, options.samples))
        return
    with private_engine() as url:
        asyncio.run(run(url, options.samples))


if __name__ == "__main__":
    main()
