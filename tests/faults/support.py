"""What the fault tests share: a real ``python -m bot console`` in a subprocess, coaches and
settings for an engine of the test's own, and reading an engine's whole inventory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker

from bot.coach import Coach
from bot.core.clock import Clock
from bot.core.context import Actor
from bot.core.reply import Reply
from bot.sandbox import diskprobe, lease, naming
from bot.sandbox.reconcile import Found, scan
from bot.settings import REPO_ROOT, Settings, load_settings
from tests.conftest import TEST_INSTANCE

QUIET = 3600.0  # periodic rounds that never come by themselves during a test
FULL_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
OWN_NAMES = re.compile(r"dc-[0-9a-f]{8}-|org\.docker-coach\.|docker-coach-lease")
PREDEFINED_NETWORKS = {"bridge", "host", "none"}


def new_instance(tag: str) -> str:
    """An instance of this test session (removed from the shared engine at its end)."""
    return f"{TEST_INSTANCE}-{tag}-{secrets.token_hex(2)}"


def coach_settings(
    data_dir: Path,
    engine_url: str,
    instance: str | None,
    *,
    database: Path | None = None,
    **sandbox: Any,
) -> Settings:
    data = load_settings(environ={}).model_dump()
    data["data_dir"] = data_dir
    data["database"] = database
    data["sandbox"].update(
        instance=instance,
        # no warm pool: the kill tests hold the learner's own creation calls, which a pool
        # refill would make too (the pool's safety is tested in tests/sandbox)
        workers=[{"name": "local", "url": engine_url, "warm_pool": 0}],
        cooldown_seconds=0,
        reaper_interval_seconds=QUIET,
        sweep_interval_seconds=QUIET,
        lease_heartbeat_seconds=QUIET,
    )
    data["sandbox"].update(sandbox)
    return Settings.model_validate(data)


@asynccontextmanager
async def running_coach(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Coach]:
    """A coach in this process; closed at the end."""
    coach = await Coach.open(settings, clock=clock)
    try:
        yield coach
    finally:
        await coach.close()


async def ask(coach: Coach, actor: Actor, command: str, line: str = "") -> list[Reply]:
    """One command through the whole coach (``/docker LINE``, ``/sh LINE``, ``/sandbox``)."""
    option = {"docker": "command", "sh": "command", "sandbox": "action"}[command]
    return await coach.run(actor, (command,), {option: line} if line else {})


def text(replies: list[Reply]) -> str:
    return "\n".join(f"{r.title or ''}\n{r.body or ''}\n{r.code or ''}" for r in replies)


def clean_for_learner(replies: list[Reply]) -> list[str]:
    """What is wrong with replies a learner sees: a bug report instead of an answer, full
    ids, the coach's internal names."""
    problems = []
    for reply in replies:
        shown = f"{reply.title or ''}\n{reply.body or ''}"
        if reply.title and "went wrong on our side" in reply.title:
            problems.append(f"unexpected error: {reply.body}")
        if FULL_ID.search(shown):
            problems.append(f"a full id: {shown[:200]}")
        if OWN_NAMES.search(shown + (reply.code or "")):
            problems.append(f"an internal name: {shown[:200]}")
    return problems


# --------------------------------------------------------------------------------------------
# The console in a subprocess
# --------------------------------------------------------------------------------------------


@dataclass
class ConsoleProcess:
    """``python -m bot console`` as a learner runs it, driven line by line through stdin."""

    database: Path
    environment: dict[str, str]
    user: str = "learner"
    process: asyncio.subprocess.Process | None = None
    lines: list[str] = field(default_factory=list)

    async def start(self) -> ConsoleProcess:
        env = {**os.environ, **self.environment, "PYTHONPATH": str(REPO_ROOT)}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "console",
            "--db",
            str(self.database),
            "--user",
            self.user,
            "--no-pager",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=REPO_ROOT,
        )
        return self

    async def send(self, line: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def expect(self, pattern: str, timeout: float = 120) -> str:  # noqa: ASYNC109
        """The next output line matching ``pattern`` (a hang guard, not a measurement)."""
        assert self.process is not None and self.process.stdout is not None
        wanted = re.compile(pattern)

        async def read() -> str:
            assert self.process is not None and self.process.stdout is not None
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    raise EOFError(f"the console ended before {pattern!r}:\n" + self.transcript)
                line = raw.decode(errors="replace").rstrip("\n")
                self.lines.append(line)
                if wanted.search(line):
                    return line

        try:
            return await asyncio.wait_for(read(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no line matching {pattern!r}:\n" + self.transcript) from None

    @property
    def transcript(self) -> str:
        return "\n".join(self.lines)

    async def kill(self) -> None:
        """``kill -9``: nothing of the coach runs after this."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def quit(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await self.send("/quit")
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            await self.kill()


def console_environment(
    data_dir: Path, engine_url: str, instance: str | None, **sandbox: Any
) -> dict[str, str]:
    """``COACH_*`` variables giving a console subprocess the same settings as
    :func:`coach_settings`."""
    values: dict[str, Any] = {
        "workers": json.dumps([{"name": "local", "url": engine_url, "warm_pool": 0}]),
        "cooldown_seconds": 0,
        "reaper_interval_seconds": QUIET,
        "sweep_interval_seconds": QUIET,
        "lease_heartbeat_seconds": QUIET,
        **sandbox,
    }
    if instance is not None:
        values["instance"] = instance
    env = {f"COACH_SANDBOX__{key.upper()}": str(value) for key, value in values.items()}
    env["COACH_DATA_DIR"] = str(data_dir)
    return env


# --------------------------------------------------------------------------------------------
# An engine's inventory
# --------------------------------------------------------------------------------------------


@dataclass
class Inventory:
    sandboxes: dict[str, Found]  # the instance's sandboxes by id
    strays: list[tuple[str, str]]
    leases: list[str]  # names of lease containers
    unlabelled: list[str]  # containers, networks, volumes nobody labelled

    def of(self, owner: str) -> list[Found]:
        return [f for f in self.sandboxes.values() if f.scope.owner == owner]

    def problems(self) -> list[str]:
        """Half-made or half-removed sandboxes, strays and unlabelled objects."""
        found = [f"unlabelled {item}" for item in self.unlabelled]
        found += [f"stray {kind} {ident[:12]}" for kind, ident in self.strays]
        for item in self.sandboxes.values():
            if item.removing:
                found.append(f"half-removed sandbox {item.scope.sandbox}")
            elif not item.complete:
                found.append(f"incomplete sandbox {item.scope.sandbox}")
            elif item.host_never_started:
                found.append(f"sandbox {item.scope.sandbox} with a host shell never started")
        return found


def _coach_made(labels: dict[str, str], instance: str) -> bool:
    """A sandbox's object, or one of the live coach's disk probes and its volume (a stopped
    coach's probes are removed when the next one brings the worker up)."""
    probing = bool(labels.get(diskprobe.PROBE)) and naming.instance_of(labels) == instance
    return naming.OWNER in labels or probing


def inventory(base_url: str, instance: str) -> Inventory:
    """Blocking: every object on the engine, as reconciliation groups them (an engine of the
    test's own: anything not labelled by the coach is a leftover)."""
    client = docker.DockerClient(base_url=base_url, timeout=60)
    try:
        api = client.api
        scanned = scan(api, instance)
        leases, unlabelled = [], []
        for container in api.containers(all=True):
            labels = container.get("Labels") or {}
            name = container["Names"][0].lstrip("/")
            if labels.get(naming.KIND) == lease.KIND_LEASE:
                leases.append(name)
            elif not _coach_made(labels, instance):
                unlabelled.append(f"container {name}")
        for network in api.networks():
            labels = network.get("Labels") or {}
            if network["Name"] not in PREDEFINED_NETWORKS and naming.OWNER not in labels:
                unlabelled.append(f"network {network['Name']}")
        for volume in api.volumes().get("Volumes") or []:
            if not _coach_made(volume.get("Labels") or {}, instance):
                unlabelled.append(f"volume {volume['Name']}")
        return Inventory(scanned.groups, scanned.strays, leases, unlabelled)
    finally:
        client.close()


async def engine_inventory(base_url: str, instance: str) -> Inventory:
    return await asyncio.to_thread(inventory, base_url, instance)
