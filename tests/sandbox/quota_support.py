"""Helpers of the disk-quota engine tests (``test_engine_quota*.py``): a started service of
its own instance, and readings taken from the engine directly where the test must not trust
the coach (a container's ``SizeRw``, what a sandbox's volumes hold)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import docker

from bot.core.clock import Clock
from bot.core.context import Actor
from bot.sandbox import naming
from bot.sandbox.service import SandboxService
from tests.sandbox.engine_support import (
    destroy_all,
    docker_text,
    engine_settings,
    eventually,
    isolated_service,
    sh_text,
)

MIB = 1024 * 1024
T = TypeVar("T")


@asynccontextmanager
async def quota_service(
    *actors: Actor, clock: Clock | None = None, **sandbox: Any
) -> AsyncIterator[SandboxService]:
    """A started service of its own instance (settings overridden by ``sandbox``); the
    ``actors``' sandboxes are destroyed at the end."""
    svc = isolated_service(engine_settings(**sandbox), clock=clock)
    await svc.start()
    try:
        yield svc
    finally:
        await destroy_all(svc, *actors)
        await svc.close()


def dd_written(report: str, block: int = MIB) -> int:
    """The bytes ``dd bs=BLOCK`` wrote, from its own report (``17+0 records out``): whole
    blocks only, as a partial one is not sized. How a test measures a write the engine's
    limit stopped: btrfs cannot size a layer at its qgroup limit (reapplying the limit when
    mounting it fails with "disk quota exceeded"), so ``SizeRw`` stays -1 for it."""
    found = re.search(r"(\d+)\+\d+ records out", report)
    assert found, f"no dd report in {report!r}"
    return int(found.group(1)) * block


def _volume_bytes(base_url: str | None, volume: str) -> int:
    client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
    try:
        output = client.containers.run(
            "busybox",
            ["du", "-sk", "/d"],
            volumes={volume: {"bind": "/d", "mode": "ro"}},
            network_mode="none",
            remove=True,
        )
        return int(output.split()[0]) * 1024
    finally:
        client.close()


async def volume_bytes(volume: str, base_url: str | None = None) -> int:
    """What a volume holds (real name), read with ``du`` in a throwaway container."""
    return await asyncio.to_thread(_volume_bytes, base_url, volume)


def _sandbox_bytes(base_url: str | None, owner: str) -> int:
    """Every writable layer and volume labelled for ``owner``, read from the engine."""
    client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
    wanted = {"label": [f"{naming.OWNER}={owner}"]}
    try:
        sizes = [-1]
        for _attempt in range(50):  # btrfs answers -1 now and then: ask again
            listed = client.api.containers(all=True, size=True, filters=wanted)
            sizes = [int(c.get("SizeRw") or 0) for c in listed]
            if min(sizes, default=0) >= 0:
                break
        total = sum(sizes)
        volumes = client.api.volumes(filters=wanted).get("Volumes") or []
    finally:
        client.close()
    return total + sum(_volume_bytes(base_url, v["Name"]) for v in volumes)


async def sandbox_bytes(owner: str, base_url: str | None = None) -> int:
    """What a learner's sandbox holds on the worker, read directly (not through the coach)."""
    return await asyncio.to_thread(_sandbox_bytes, base_url, owner)


def _inspect_owned(base_url: str | None, owner: str) -> list[dict[str, Any]]:
    client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
    wanted = {"label": [f"{naming.OWNER}={owner}"]}
    try:
        listed = client.api.containers(all=True, filters=wanted)
        return [client.api.inspect_container(c["Id"]) for c in listed]
    finally:
        client.close()


async def inspect_owned(owner: str, base_url: str | None = None) -> list[dict[str, Any]]:
    """Inspect data of every container labelled for ``owner`` on an engine."""
    return await asyncio.to_thread(_inspect_owned, base_url, owner)


async def exited(svc: SandboxService, actor: Actor, name: str, attempts: int = 1200) -> str:
    """Every reply seen while waiting for container ``name`` to exit (the engine gets there
    by itself); the last one has its status, ``Exited (CODE) …``."""
    seen: list[str] = []

    async def read() -> str:
        out = await docker_text(svc, actor, "ps -a --format '{{.Names}}|{{.Status}}'")
        seen.append(out)
        return next((line for line in out.splitlines() if line.startswith(name + "|")), "")

    status = await eventually(read, lambda line: "|Exited" in line, attempts=attempts)
    assert "|Exited" in status, f"{name} did not exit: {status!r}"
    return "\n".join([*seen, status])


async def _meanwhile(svc: SandboxService, other: Actor, done: asyncio.Event) -> int:
    """Another learner's commands while others write: each must complete; how many did."""
    answered = 0
    while not done.is_set():
        assert "CONTAINER ID" in await docker_text(svc, other, "ps")
        assert "hello" in await sh_text(svc, other, "echo hello")
        answered += 1
    return answered


async def while_other_works(svc: SandboxService, other: Actor, wait: Awaitable[T]) -> tuple[T, int]:
    """What ``wait`` returns, and how many rounds of ``other``'s ``/docker ps`` and
    ``/sh echo`` completed meanwhile (each one asserted to answer as it should)."""
    done = asyncio.Event()
    working = asyncio.create_task(_meanwhile(svc, other, done))
    try:
        result = await wait
    finally:
        done.set()
    return result, await working
