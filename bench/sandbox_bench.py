"""Benchmark the sandbox layer against direct docker SDK calls, on the real engine.

Prints, for ``run -d``, ``exec`` and ``cp``: the median time through the sandbox layer
(``SandboxCommands.docker``: parse, policy, quotas, name resolution, hardening check, reply)
and of the same docker SDK calls made directly, and their ratio; the median time to
provision a new sandbox; and the event loop's lag (p50/p99) while 20 users run commands at
once. Targets (2 cores): overhead ≤ 15 % for run -d and exec, lag p99 < 50 ms, provision
< 1 s median.

    .venv/bin/python bench/sandbox_bench.py [--rounds 15] [--users 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import docker

from bot.content.library import load_library
from bot.core.context import Actor
from bot.core.i18n import Translator
from bot.sandbox.limits import host_config_kwargs
from bot.sandbox.service import SandboxService
from bot.settings import REPO_ROOT, load_settings


async def _nobody() -> set[str]:
    """Adopt no one at start (the bench runs as a coach instance of its own)."""
    return set()


def _actor(name: str) -> Actor:
    return Actor(user_id=f"bench-{name}-{uuid.uuid4().hex[:6]}", display_name=name)


async def _timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


class Direct:
    """The same work through docker-py directly (blocking calls in a thread)."""

    def __init__(self, service: SandboxService, owner: str) -> None:
        self.client = docker.from_env()
        self.sandbox = service.manager.get(owner)
        self.limits = service.manager.settings.limits

    def run_d(self, name: str) -> str:
        network = self.sandbox.scope.bridge_name
        container = self.client.containers.run(
            "busybox:latest",
            ["sleep", "600"],
            detach=True,
            name=f"{self.sandbox.scope.prefix}direct-{name}",
            network=network,
            labels=self.sandbox.scope.labels("container", f"direct-{name}"),
            **{k: v for k, v in host_config_kwargs(self.limits).items() if k != "privileged"},
        )
        return container.id

    def exec(self, container_id: str) -> bytes:
        return self.client.containers.get(container_id).exec_run(["echo", "hi"]).output

    def cp(self, container_id: str) -> None:
        host = self.sandbox.scope.host_name
        chunks, _stat = self.client.api.get_archive(host, "/home/coach/bench.txt")
        self.client.api.put_archive(container_id, "/tmp", b"".join(chunks))

    def remove(self, container_id: str) -> None:
        self.client.api.remove_container(container_id, force=True)


async def _one_round(
    service: SandboxService,
    tr: Translator,
    actor: Actor,
    direct: Direct,
    target: str,
    name: str,
    timings: dict[str, tuple[list[float], list[float]]],
) -> None:
    """One sample of each command, through the layer and directly, one after the other."""
    layer, direct_calls = timings["run -d"]
    layer.append(
        await _timed(
            lambda: service.commands.docker(actor, tr, f"run -d --name {name} busybox sleep 600")
        )
    )
    created: list[str] = []

    async def direct_run() -> None:
        created.append(await asyncio.to_thread(direct.run_d, name))

    direct_calls.append(await _timed(direct_run))
    await service.commands.docker(actor, tr, f"rm -f {name}")
    await asyncio.to_thread(direct.remove, created[0])

    for label, line, direct_call in (
        ("exec", "exec target echo hi", direct.exec),
        ("cp", "cp bench.txt target:/tmp", direct.cp),
    ):
        layer, direct_calls = timings[label]
        layer.append(await _timed(lambda line=line: service.commands.docker(actor, tr, line)))
        direct_calls.append(await _timed(lambda call=direct_call: asyncio.to_thread(call, target)))


async def compare(service: SandboxService, tr: Translator, rounds: int) -> list[tuple]:
    actor = _actor("compare")
    await service.commands.docker(actor, tr, "run -d --name target busybox sleep 600")
    await service.commands.sh(actor, tr, "head -c 4096 /dev/urandom > bench.txt")
    direct = Direct(service, actor.user_id)
    target = (await service.reader.state(actor)).container("target").id
    timings: dict[str, tuple[list[float], list[float]]] = {
        "run -d": ([], []),
        "exec": ([], []),
        "cp": ([], []),
    }
    try:
        for index in range(rounds):
            await _one_round(service, tr, actor, direct, target, f"r{index}", timings)
    finally:
        await service.reader.destroy_user(actor.user_id)
        direct.client.close()
    rows = []
    for command, (layer_times, raw_times) in timings.items():
        layer, raw = statistics.median(layer_times), statistics.median(raw_times)
        rows.append((command, layer, raw, layer / raw))
    return rows


async def provision_times(service: SandboxService, count: int) -> list[float]:
    times = []
    for index in range(count):
        actor = _actor(f"prov{index}")
        try:
            times.append(await _timed(lambda actor=actor: service.manager.provision(actor.user_id)))
        finally:
            await service.reader.destroy_user(actor.user_id)
    return times


async def loop_lag(
    service: SandboxService, tr: Translator, users: int
) -> tuple[list[float], float]:
    """Lag of a 10 ms ticker while ``users`` users each run a short session at once."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        interval = 0.01
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(interval)
            lags.append(max(0.0, time.perf_counter() - started - interval))

    async def session(actor: Actor) -> None:
        await service.commands.docker(actor, tr, "run -d --name web busybox httpd -f -p 80")
        await service.commands.docker(actor, tr, "ps")
        await service.commands.sh(
            actor, tr, "echo hello > index.html && wget -qO- http://web/ || true"
        )
        await service.commands.docker(actor, tr, "exec web ls /")
        await service.commands.docker(actor, tr, "logs web")
        await service.commands.docker(actor, tr, "run --rm busybox echo done")
        await service.commands.docker(actor, tr, "rm -f web")

    actors = [_actor(f"lag{i}") for i in range(users)]
    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    try:
        await asyncio.gather(*(session(a) for a in actors))
    finally:
        elapsed = time.perf_counter() - started
        stop.set()
        await task
        for actor in actors:
            await service.reader.destroy_user(actor.user_id)
    return lags, elapsed


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--provisions", type=int, default=9)
    options = parser.parse_args()
    settings = load_settings()
    data = settings.sandbox.model_dump()
    data["quotas"].update(containers=50, running_containers=50)
    data["instance"] = f"bench-{uuid.uuid4().hex[:8]}"  # other coaches' sandboxes stay untouched
    sandbox_settings = type(settings.sandbox).model_validate(data)
    tr = Translator(load_library(REPO_ROOT / "content").catalog, "en")
    service = SandboxService(sandbox_settings, known_users=_nobody)
    await service.start()
    try:
        print(f"docker SDK {docker.__version__}, thread pool {sandbox_settings.thread_pool_size}")
        print(f"\nsandbox layer vs direct SDK (median of {options.rounds}):")
        print(f"  {'command':8} {'sandbox':>10} {'direct':>10} {'ratio':>7}")
        for command, layer, raw, ratio in await compare(service, tr, options.rounds):
            print(
                f"  {command:8} {_ms(layer)} {_ms(raw)} {ratio:7.2f}  ({(ratio - 1) * 100:+.0f}%)"
            )
        times = await provision_times(service, options.provisions)
        print(
            f"\nprovision a new sandbox: median {_ms(statistics.median(times))}, "
            f"min {_ms(min(times))}, max {_ms(max(times))} ({len(times)} sandboxes)"
        )
        lags, elapsed = await loop_lag(service, tr, options.users)
        print(
            f"\nevent-loop lag, {options.users} users at once (7 commands each, {elapsed:.1f} s): "
            f"p50 {_ms(_percentile(lags, 0.5))}, p99 {_ms(_percentile(lags, 0.99))}, "
            f"max {_ms(max(lags))} ({len(lags)} samples)"
        )
        print(f"executor: {service.reader.executor_stats()['api']}")
    finally:
        await service.close()


if __name__ == "__main__":
    asyncio.run(main())
