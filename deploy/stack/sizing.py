"""Sizing a worker: memory per sandbox and CPU per command, measured on a running stack.

    deploy/dev.sh stack up
    .venv/bin/python deploy/stack/sizing.py [--users 20]

It runs a load script *inside the coach container* (so commands take the production path: the
coach's executor, mutual TLS, the DinD worker): USERS learners at once each get a sandbox,
start an nginx and a busybox container, then run ps, logs, exec and a /sh wget. Meanwhile it
reads, from the host, the worker's and the coach's cgroups: resident memory (anon RSS) before
and after, and CPU time used. It prints the figures docs/deploy.md quotes and removes the
sandboxes it made (its own instance name, so nothing else is touched).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent.parent

LOAD = r"""
import asyncio, json, sys, time
from bot.coach import Coach
from bot.core.context import Actor
from bot.settings import load_settings

USERS = int(sys.argv[1])
SCRIPT = [
    ("docker", "run -d --name web nginx"),
    ("docker", "run -d --name app busybox sleep 3600"),
    ("docker", "ps"),
    ("sh", "wget -qO- http://web"),
    ("docker", "logs web"),
    ("docker", "exec app echo hi"),
]

async def learner(coach, n, timings):
    actor = Actor(f"sizing-{n}", f"sizing-{n}", "sizing", "en")
    for command, line in SCRIPT:
        option = "command"
        started = time.perf_counter()
        replies = await coach.run(actor, (command,), {option: line})
        name = line.split()[0] if command == "docker" else command
        timings.append((name, time.perf_counter() - started))
        if any(r.tone.value == "error" for r in replies):
            print(json.dumps({"error": line, "reply": replies[0].body}), file=sys.stderr)

async def main():
    settings = load_settings().with_overrides(database="/tmp/sizing.sqlite3")
    data = settings.model_dump()
    data["sandbox"]["instance"] = "sizing"
    data["sandbox"]["cooldown_seconds"] = 0
    settings = type(settings).model_validate(data)
    coach = await Coach.open(settings)
    async with coach:
        timings = []
        started = time.perf_counter()
        await asyncio.gather(*(learner(coach, n, timings) for n in range(USERS)))
        wall = time.perf_counter() - started
        every = sorted(s for _name, s in timings)
        slowest = {}
        for name, seconds in timings:
            slowest[name] = max(slowest.get(name, 0), round(seconds, 2))
        print(json.dumps({"commands": len(timings), "wall": wall,
                          "p50": every[len(every) // 2], "p95": every[int(len(every) * 0.95)],
                          "slowest": slowest}), flush=True)
        sys.stdin.readline()  # the host measures memory now, then says "go on"
        service = coach.sandbox.reader
        for n in range(USERS):
            await service.destroy_user(f"sizing-{n}")

asyncio.run(main())
"""


def compose_command() -> list[str]:
    """The dev stack's compose command line (project, files and env file as stack.sh has them)."""
    return ["bash", str(DEPLOY / "stack.sh"), "compose"]


def container_id(compose: list[str], service: str) -> str:
    return subprocess.run(
        [*compose, "ps", "-q", service], capture_output=True, text=True, check=True
    ).stdout.strip()


def cgroup_file(controller: str, cid: str, name: str) -> Path:
    for base in (
        Path(f"/sys/fs/cgroup/{controller}/docker/{cid}"),
        Path(f"/sys/fs/cgroup/system.slice/docker-{cid}.scope"),
    ):
        if (base / name).exists():
            return base / name
    raise SystemExit(f"no cgroup file {name} for {cid[:12]} (cgroup v1 with cgroupfs expected)")


def rss(cid: str) -> int:
    stat = cgroup_file("memory", cid, "memory.stat").read_text().split("\n")
    values = dict(line.split() for line in stat if line)
    return int(values.get("total_rss", values.get("anon", 0)))


def cpu_seconds(cid: str) -> float:
    return int(cgroup_file("cpuacct", cid, "cpuacct.usage").read_text()) / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    compose = compose_command()
    worker, coach = container_id(compose, "worker"), container_id(compose, "coach")
    if not worker or not coach:
        raise SystemExit("the dev stack is not up: deploy/dev.sh stack up")
    mem_before = rss(worker)
    cpu_before = cpu_seconds(worker) + cpu_seconds(coach)
    load = subprocess.Popen(
        [*compose, "exec", "-T", "coach", "python", "-c", LOAD, str(args.users)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert load.stdout is not None and load.stdin is not None
    result = json.loads(load.stdout.readline())
    cpu_used = cpu_seconds(worker) + cpu_seconds(coach) - cpu_before
    mem_after = rss(worker)
    load.stdin.write("\n")
    load.stdin.close()
    load.wait()
    per_sandbox = (mem_after - mem_before) / args.users
    per_command_cpu = cpu_used / result["commands"]
    figures = {
        "users": args.users,
        "commands": result["commands"],
        "wall_s": round(result["wall"], 1),
        "latency_p50_ms": round(result["p50"] * 1000),
        "latency_p95_ms": round(result["p95"] * 1000),
        "slowest_s_by_command": result["slowest"],
        "worker_rss_per_sandbox_mib": round(per_sandbox / 2**20, 1),
        "sandboxes_per_gib": int(2**30 / per_sandbox) if per_sandbox > 0 else None,
        "cpu_ms_per_command": round(per_command_cpu * 1000, 1),
        "commands_per_core_second": round(1 / per_command_cpu, 1) if per_command_cpu else None,
    }
    print(json.dumps(figures, indent=2))
    return 0 if load.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
