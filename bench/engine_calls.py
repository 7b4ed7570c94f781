"""Engine API requests per command: the coach's against the docker CLI's, side by side.

One learner, new to the bot, types the class benchmark's session — ``run -d --name web nginx``,
``ps``, ``exec web echo ready``, ``logs web``, ``rm -f web`` — and then the same session again
as a returning learner (their sandbox served already). Every HTTP request docker-py sends to the
engine is counted and attributed: the learner's own (made in their turn) or background work
(the warm pool, the watchdog, the sweep) that ran meanwhile. The docker CLI's requests for the
same session are counted with the fault suite's socket proxy, against the same engine.

    .venv/bin/python -m bench.engine_calls [--verbose] [--no-cli]

Every engine call is a round trip through a thread of the coach's pool; under a class's burst
each one also waits its turn there. The count is what a command costs the engine and the pool
whatever the load; the benchmark for the load is :mod:`bench.class_bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import docker

from bench.class_bench import STEPS, CoachSide, Step, _problem, bench_settings, remove_instance
from bot.coach import Coach, load_content
from bot.settings import load_settings
from tests.faults.proxy import HoldingProxy
from tests.sandbox.engine_support import EngineRequests, request_shape

# the same session again in the same sandbox, with a container of another name
AGAIN = (
    Step("run -d", "run -d --name web2 nginx", STEPS[0].ok),
    Step("ps", "ps", lambda code: "web2" in code),
    Step("exec", "exec web2 echo ready", STEPS[2].ok),
    Step("logs", "logs web2", lambda _code: True),
    Step("rm -f", "rm -f web2", lambda code: code.strip() == "web2"),
)


def _print_step(
    label: str, seconds: float, mine: list[str], others: list[str], verbose: bool
) -> None:
    print(
        f"  {label:10} {len(mine):>3} requests ({seconds * 1000:.0f} ms)"
        + (f", {len(others)} background meanwhile" if others else "")
    )
    if verbose:
        for request in mine:  # in the order they were sent
            print(f"      {request}")
        for request, count in Counter(others).items():
            print(f"      (background) {count} × {request}")


async def coach_session(side: CoachSide, recorder: EngineRequests, verbose: bool) -> dict[str, int]:
    counts: dict[str, int] = {}
    user = side.new_user("calls")
    for title, steps in (("new learner", STEPS), ("returning learner", AGAIN)):
        print(f" {title}")
        for step in steps:
            await side.pool_ready()  # no refill running while the command is counted
            mark, began = recorder.mark(), time.perf_counter()
            done = await side.command(user, step, began)
            seconds = time.perf_counter() - began
            seen = recorder.since(mark)
            mine = [r for owner, r in seen if owner == str(user.id)]
            others = [r for owner, r in seen if owner != str(user.id)]
            problem = _problem(step, done.replies)
            _print_step(step.label, seconds, mine, others, verbose)
            if problem:
                print(f"      failed: {problem}")
            counts[f"{title}:{step.label}"] = len(mine)
    return counts


async def measure_coach(verbose: bool, warm_pool: int) -> dict[str, int]:
    base = load_settings()
    instance = f"bench-calls-{uuid.uuid4().hex[:8]}"
    recorder = EngineRequests()
    with tempfile.TemporaryDirectory(prefix="engine-calls-") as tmp:
        settings = bench_settings(base, Path(tmp), instance, 1, warm_pool)
        coach = Coach(settings, load_content(settings.content_dir))
        try:
            with recorder.installed():
                await coach.start()
                side = CoachSide(coach)
                await side.pool_ready()
                print(f"coach (warm pool {warm_pool}), engine requests in the learner's turn:")
                counts = await coach_session(side, recorder, verbose)
                await side.forget_all()
        finally:
            await coach.close()
            await asyncio.to_thread(remove_instance, instance)
    return counts


async def measure_cli(verbose: bool) -> dict[str, int]:
    """The docker CLI's requests for the same session, through the fault suite's proxy."""
    tag = f"bench-calls-cli-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="engine-calls-cli-") as tmp:
        sock = str(Path(tmp) / "engine.sock")
        proxy = HoldingProxy(sock, "/var/run/docker.sock")
        await proxy.start()
        env = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
        client = docker.from_env()
        network = client.networks.create(tag, internal=True, labels={"org.docker-coach.bench": tag})
        steps = [
            ("run -d", ["run", "-d", "--name", tag, "--network", tag, "nginx"]),
            ("ps", ["ps", "--filter", f"name={tag}"]),
            ("exec", ["exec", tag, "echo", "ready"]),
            ("logs", ["logs", tag]),
            ("rm -f", ["rm", "-f", tag]),
        ]
        counts: dict[str, int] = {}
        print("docker CLI (its own client, same engine):")
        try:
            for label, args in steps:
                mark, began = len(proxy.seen), time.perf_counter()
                process = await asyncio.create_subprocess_exec(
                    "docker", *args, env=env,
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
                )  # fmt: skip
                _out, err = await process.communicate()
                seconds = time.perf_counter() - began
                seen = [request_shape(*r.split(" ", 1)) for r in proxy.seen[mark:]]
                _print_step(label, seconds, seen, [], verbose)
                if process.returncode:
                    print(f"      failed: {err.decode(errors='replace')[:160]}")
                counts[label] = len(seen)
        finally:
            await proxy.stop()
            with contextlib.suppress(docker.errors.APIError):
                client.api.remove_container(tag, force=True)
            network.remove()
            client.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list the requests of each step")
    parser.add_argument("--warm-pool", type=int, default=1)
    parser.add_argument("--no-cli", action="store_true", help="skip the docker CLI's count")
    options = parser.parse_args(argv)
    coach = asyncio.run(measure_coach(options.verbose, options.warm_pool))
    cli = {} if options.no_cli else asyncio.run(measure_cli(options.verbose))
    print("\nrequests per command: coach new learner / coach returning learner / docker CLI")
    for step in STEPS:
        new = coach.get(f"new learner:{step.label}", 0)
        again = coach.get(f"returning learner:{step.label}", 0)
        print(f"  {step.label:10} {new:>4} / {again:>4} / {cli.get(step.label, '—'):>4}")
    total_new = sum(v for k, v in coach.items() if k.startswith("new"))
    total_again = sum(v for k, v in coach.items() if k.startswith("returning"))
    print(f"  {'session':10} {total_new:>4} / {total_again:>4} / {sum(cli.values()) or '—':>4}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
