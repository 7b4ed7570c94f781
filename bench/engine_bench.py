"""Container create+start and remove on btrfs (with and without a size limit) vs overlay2.

Starts two extra engines (deploy/engine/extra_engine.sh, root needed), one after the
other so they never compete: btrfs on its own loop file with quotas (the shared engine's
setup) and overlay2 on the host's ext4 (Docker's default). The same BusyBox image, the
same containers (``sleep``, no network). Per engine:

* sequential: ROUNDS containers created+started one by one, then removed one by one
  (latency p50/p95 per operation, throughput);
* concurrent: 20 and 50 at once (throughput, latency p50/p95), then removed at once.

btrfs runs twice: without ``storage_opt`` and with ``size=512M`` (every sandbox container
will have one: the driver sets a qgroup limit per container). Each pass runs the three
setups; passes alternate their order (ABC CBA) so that a machine getting busier or quieter
favours none. Ratios are btrfs / overlay2: above 1 means btrfs's figure is larger.

    sudo .venv/bin/python bench/engine_bench.py [--rounds 30] [--concurrency 20,50] [--repeat 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import docker

from tests.engines import extra_engine

LABELS = {"org.docker-coach.bench": "engine"}


@dataclass
class Figures:
    """Seconds per operation, and the wall time of the whole batch."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _batch(calls: list[Callable[[], Any]], workers: int) -> Figures:
    figures = Figures()
    started = time.perf_counter()
    if workers == 1:
        figures.latencies = [_timed(call) for call in calls]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            figures.latencies = list(pool.map(_timed, calls))
    figures.wall = time.perf_counter() - started
    return figures


def _scenario(
    client: docker.DockerClient, count: int, workers: int, create: dict[str, Any]
) -> tuple[Figures, Figures]:
    made: list[Any] = []

    def start_one() -> None:
        container = client.containers.create(
            "busybox", ["sleep", "600"], network_mode="none", labels=LABELS, **create
        )
        container.start()
        made.append(container)

    started = _batch([start_one] * count, workers)
    removed = _batch([partial(c.remove, force=True) for c in list(made)], workers)
    return started, removed


def measure(
    driver: str, rounds: int, concurrency: Iterable[int], create: dict[str, Any]
) -> dict[str, tuple[Figures, Figures]]:
    results: dict[str, tuple[Figures, Figures]] = {}
    with extra_engine(driver, size="8G", images=["busybox"]) as engine:
        client = docker.DockerClient(base_url=engine.base_url, timeout=120, max_pool_size=64)
        try:
            _scenario(client, 5, 1, create)  # warm-up: first container, first qgroup
            results["sequential"] = _scenario(client, rounds, 1, create)
            for workers in concurrency:
                results[f"{workers} at once"] = _scenario(client, workers, workers, create)
        finally:
            client.close()
    return results


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:6.0f}"


def print_table(runs: dict[str, dict[str, tuple[Figures, Figures]]]) -> None:
    names = list(runs)
    base = names[0]
    header = f"{'scenario':<13} {'operation':<13} {'figure':<11}" + "".join(
        f"{name:>16}" for name in names
    )
    header += "".join(f"{n + ' / ' + base:>28}" for n in names[1:])
    print(header)
    print("-" * len(header))
    for scenario in runs[base]:
        for index, operation in enumerate(("create+start", "remove")):
            rows: list[tuple[str, Callable[[Figures], float], Callable[[float], str]]] = [
                ("p50 ms", lambda f: f.p50, _ms),
                ("p95 ms", lambda f: f.pct(0.95), _ms),
                ("per second", lambda f: f.per_second, lambda v: f"{v:6.1f}"),
            ]
            for label, figure, fmt in rows:
                values = [figure(runs[name][scenario][index]) for name in names]
                line = f"{scenario:<13} {operation:<13} {label:<11}"
                line += "".join(f"{fmt(value):>16}" for value in values)
                line += "".join(f"{value / values[0]:>27.2f}x" for value in values[1:])
                print(line)
    print()
    print("ratio > 1: btrfs's figure is larger (slower for ms, faster for per second)")


ENGINES: dict[str, tuple[str, dict[str, Any]]] = {
    "overlay2": ("overlay2", {}),
    "btrfs": ("btrfs", {}),
    "btrfs size=512M": ("btrfs", {"storage_opt": {"size": "512M"}}),
}


def _merge(
    into: dict[str, tuple[Figures, Figures]], new: dict[str, tuple[Figures, Figures]]
) -> None:
    for scenario, pair in new.items():
        if scenario not in into:
            into[scenario] = (Figures(), Figures())
        for total, part in zip(into[scenario], pair, strict=True):
            total.latencies += part.latencies
            total.wall += part.wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--concurrency", default="20,50")
    parser.add_argument(
        "--repeat", type=int, default=2, help="passes, in alternating order (ABC CBA ...)"
    )
    args = parser.parse_args(argv)
    concurrency = [int(n) for n in args.concurrency.split(",") if n]
    runs: dict[str, dict[str, tuple[Figures, Figures]]] = {name: {} for name in ENGINES}
    order = list(ENGINES)
    for _ in range(args.repeat):
        for name in order:
            driver, create = ENGINES[name]
            _merge(runs[name], measure(driver, args.rounds, concurrency, create))
        order.reverse()
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    print(f"{args.repeat} passes (alternating order), load average after: {' '.join(load)}")
    print_table(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
