"""A class arriving at once: N new learners send their first ``/docker run -d`` together.

Each learner is new (no sandbox yet), so the first command creates their sandbox and then a
container, through the whole coach (``Coach.run``: the store registers them, the sandbox is
placed, capacity is checked, the container is created and checked). Prints, per class size,
how many got a running container, how many the clean "every practice worker is full" answer
and how many anything else, with p50/p95/max of the time to the first answer.

    .venv/bin/python bench/first_run_bench.py [--users 30 60 120]

Runs on the engine the environment points at, as a coach instance of its own
(``bench-class-<random>``) with a database of its own; everything it made is removed at the
end of each class. Default settings otherwise (the worker's capacity is whatever they give).
``PYTHONPATH=/other/checkout`` measures another version of the coach with the same script.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import docker

from bot.coach import Coach
from bot.core.context import Actor
from bot.core.reply import Reply
from bot.settings import Settings, load_settings

FIRST_COMMAND = "run -d --name web busybox sleep 600"
LABEL_OWNER = "org.docker-coach.owner"
LABEL_INSTANCE = "org.docker-coach.instance"
LABEL_KIND = "org.docker-coach.kind"


def _settings(data_dir: Path, instance: str) -> Settings:
    data = load_settings().model_dump()
    data["data_dir"] = data_dir
    data["sandbox"]["instance"] = instance
    data["sandbox"]["cooldown_seconds"] = 0
    return Settings.model_validate(data)


def _outcome(replies: list[Reply]) -> str:
    text = "\n".join(f"{r.title or ''} {r.body or ''} {r.code or ''}" for r in replies)
    if "full" in text.lower() and "worker" in text.lower():
        return "full"
    if any(r.code and len(r.code.strip()) == 64 for r in replies):
        return "running"
    return "other: " + text.strip().replace("\n", " ")[:160]


async def _learner(coach: Coach, number: int, results: list[tuple[str, float]]) -> None:
    actor = Actor(f"class-{number}", f"learner {number}", "bench", "en")
    started = time.perf_counter()
    replies = await coach.run(actor, ("docker",), {"command": FIRST_COMMAND})
    results.append((_outcome(replies), time.perf_counter() - started))


def _remove_instance(instance: str) -> int:
    """Remove whatever the instance left on the engine; how many objects besides its lease
    (normally none)."""
    client = docker.from_env(timeout=120)
    removed = 0
    try:
        api = client.api
        wanted = {"label": [f"{LABEL_INSTANCE}={instance}"]}
        for container in api.containers(all=True, filters=wanted):
            api.remove_container(container["Id"], force=True, v=True)
            if (container.get("Labels") or {}).get(LABEL_KIND) != "lease":
                removed += 1  # the instance's lease stays by design (bot/sandbox/lease.py)
        for network in api.networks(filters=wanted):
            api.remove_network(network["Id"])
            removed += 1
        for volume in api.volumes(filters=wanted).get("Volumes") or []:
            api.remove_volume(volume["Name"], force=True)
            removed += 1
    finally:
        client.close()
    return removed


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_class(users: int) -> dict[str, object]:
    instance = f"bench-class-{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory() as tmp:
        coach = await Coach.open(_settings(Path(tmp), instance))
        results: list[tuple[str, float]] = []
        try:
            started = time.perf_counter()
            await asyncio.gather(*(_learner(coach, n, results) for n in range(users)))
            wall = time.perf_counter() - started
        finally:
            for number in range(users):
                try:
                    await coach.sandbox.reader.destroy_user(f"class-{number}")
                except Exception as exc:  # the figures matter more; the sweep below cleans up
                    print(f"  cleanup of class-{number} failed: {exc!r}", file=sys.stderr)
            await coach.close()
        leftovers = await asyncio.to_thread(_remove_instance, instance)
    outcomes = Counter(kind if not kind.startswith("other") else "other" for kind, _ in results)
    times = [seconds for _kind, seconds in results]
    running = [seconds for kind, seconds in results if kind == "running"]
    for kind, _ in results:
        if kind.startswith("other"):
            print(f"  {kind}", file=sys.stderr)
    return {
        "users": users,
        "running": outcomes["running"],
        "full": outcomes["full"],
        "other": outcomes["other"],
        "p50": statistics.median(times),
        "p95": _pct(times, 0.95),
        "max": max(times),
        "p95_running": _pct(running, 0.95) if running else float("nan"),
        "wall": wall,
        "leftovers": leftovers,
    }


async def main(sizes: list[int]) -> None:
    print(f"{'users':>5} {'running':>7} {'full':>5} {'other':>5} "
          f"{'p50':>8} {'p95':>8} {'max':>8} {'wall':>8} leftovers")  # fmt: skip
    for users in sizes:
        row = await one_class(users)
        print(
            f"{row['users']:>5} {row['running']:>7} {row['full']:>5} {row['other']:>5} "
            f"{row['p50']:>7.1f}s {row['p95']:>7.1f}s {row['max']:>7.1f}s {row['wall']:>7.1f}s "
            f"{row['leftovers']}",
            flush=True,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[30, 60, 120])
    args = parser.parse_args()
    asyncio.run(main(args.users))
