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
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import docker
import requests

from bench.class_bench import STEPS, CoachSide, Step, _problem, bench_settings, remove_instance
from bot.coach import Coach, load_content
from bot.sandbox import executor as executor_module
from bot.settings import load_settings

T = TypeVar("T")
_HEX = re.compile(r"[0-9a-f]{64}")
_DC_NAME = re.compile(r"dc-[\w.-]+")
_VERSION = re.compile(r"^/v\d+\.\d+(?=/)")


def shape(method: str, path: str) -> str:
    """``GET /containers/<id>/json``: a request without its ids and names."""
    path = _VERSION.sub("", path.split("?", 1)[0])
    path = _DC_NAME.sub("<name>", _HEX.sub("<id>", path))
    return f"{method} {path}"


class Recorder:
    """Every request docker-py sends, with the owner of the pool call that sent it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []  # (owner, request shape)
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        recorder = self
        original_send = requests.Session.send
        original_call = executor_module.DockerExecutor.call

        def send(session: requests.Session, request: Any, **kwargs: Any) -> Any:
            if isinstance(session, docker.APIClient):
                owner = getattr(recorder._local, "owner", "?")
                with recorder._lock:
                    recorder.seen.append((owner, shape(request.method, request.path_url)))
            return original_send(session, request, **kwargs)

        async def call(
            self: executor_module.DockerExecutor,
            fn: Callable[[], T],
            timeout: float | None = None,  # noqa: ASYNC109
        ) -> T:
            owner = executor_module.OWNER.get() or "background"

            def owned() -> T:
                recorder._local.owner = owner
                return fn()

            return await original_call(self, owned, timeout)

        requests.Session.send = send  # type: ignore[method-assign]
        executor_module.DockerExecutor.call = call  # type: ignore[method-assign]
        try:
            yield
        finally:
            requests.Session.send = original_send  # type: ignore[method-assign]
            executor_module.DockerExecutor.call = original_call  # type: ignore[method-assign]

    def mark(self) -> int:
        with self._lock:
            return len(self.seen)

    def since(self, mark: int) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.seen[mark:])


# the same session again in the same sandbox, with a container of another name
AGAIN = (
    Step("run -d", "run -d --name web2 nginx", STEPS[0].ok),
    Step("ps", "ps", lambda code: "web2" in code),
    Step("exec", "exec web2 echo ready", STEPS[2].ok),
    Step("logs", "logs web2", lambda _code: True),
    Step("rm -f", "rm -f web2", lambda code: code.strip() == "web2"),
)


def _print_step(label: str, seconds: float, mine: list[str], others: list[str], verbose: bool):
    print(
        f"  {label:10} {len(mine):>3} requests ({seconds * 1000:.0f} ms)"
        + (f", {len(others)} background meanwhile" if others else "")
    )
    if verbose:
        for request in mine:  # in the order they were sent
            print(f"      {request}")
        for request, count in Counter(others).items():
            print(f"      (background) {count} × {request}")


async def coach_session(side: CoachSide, recorder: Recorder, verbose: bool) -> dict[str, int]:
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
    recorder = Recorder()
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
    from tests.faults.proxy import HoldingProxy

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
                seen = [shape(*r.split(" ", 1)) for r in proxy.seen[mark:]]
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
