"""Quotas at the edge, one command per user, and output/time/process/memory bounds."""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_asyncio

from bot.core.errors import Busy, Unavailable, UserError
from bot.sandbox.service import SandboxService
from tests.sandbox.engine_support import (
    docker_text,
    engine_settings,
    isolated_service,
    labeled_objects,
    new_actor,
    sh_text,
    started_service,
    tr,
)

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]
QUOTAS = {"containers": 3, "running_containers": 2, "volumes": 2, "networks": 1}
DAN = new_actor("dan")
ERIN = new_actor("erin")
FRED = new_actor("fred")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service():
    async with started_service(DAN, ERIN, FRED, quotas=QUOTAS) as svc:
        yield svc


async def _key(call) -> str:
    try:
        await call
    except UserError as exc:
        return exc.key
    return "ok"


async def test_container_and_running_quotas(service: SandboxService) -> None:
    await docker_text(service, DAN, "run -d --name a busybox sleep 600")
    await docker_text(service, DAN, "run -d --name b busybox sleep 600")
    assert await _key(service.docker(DAN, tr(), "run -d --name c busybox sleep 600")) == (
        "sandbox.quota.running"
    )
    await docker_text(service, DAN, "create --name c busybox sleep 600")
    assert await _key(service.docker(DAN, tr(), "start c")) == "sandbox.quota.running"
    assert await _key(service.docker(DAN, tr(), "create --name d busybox true")) == (
        "sandbox.quota.containers"
    )
    await docker_text(service, DAN, "stop -t 0 a")
    assert "c" in await docker_text(service, DAN, "start c")
    await docker_text(service, DAN, "rm -f a b c")


async def test_one_start_of_several_containers_counts_each_one(service: SandboxService) -> None:
    for name in ("p", "q", "r"):
        await docker_text(service, FRED, f"create --name {name} busybox sleep 600")
    replies = await service.docker(FRED, tr(), "start p q r")
    lines = (replies[-1].code or "").splitlines()
    assert lines[:2] == ["p", "q"] and "2 running containers" in lines[2]
    assert "q" in await docker_text(service, FRED, "start q")  # running already: no extra count
    await docker_text(service, FRED, "rm -f p q r")


async def test_volume_and_network_quotas(service: SandboxService) -> None:
    await docker_text(service, DAN, "volume create v1")
    await docker_text(service, DAN, "volume create v2")
    assert await _key(service.docker(DAN, tr(), "volume create v3")) == "sandbox.quota.volumes"
    assert await _key(service.docker(DAN, tr(), "run --rm -v v4:/x busybox true")) == (
        "sandbox.quota.volumes"
    )
    await docker_text(service, DAN, "network create n1")
    assert await _key(service.docker(DAN, tr(), "network create n2")) == "sandbox.quota.networks"
    await docker_text(service, DAN, "volume rm v1 v2")
    await docker_text(service, DAN, "network rm n1")


async def test_one_command_per_user_at_a_time(service: SandboxService) -> None:
    await docker_text(service, ERIN, "ps")
    before = await labeled_objects(ERIN.user_id)
    lines = [f"run -d --name race{i} busybox sleep 600" for i in range(6)]
    results = await asyncio.gather(
        *(service.docker(ERIN, tr(), line) for line in lines), return_exceptions=True
    )
    assert sum(1 for r in results if isinstance(r, list)) == 1
    assert sum(1 for r in results if isinstance(r, Busy)) == 5
    assert len(await labeled_objects(ERIN.user_id) - before) == 1
    await docker_text(service, ERIN, "rm -f " + " ".join(f"race{i}" for i in range(6)) + " || true")


async def test_worker_capacity_lets_exactly_the_allowed_number_through() -> None:
    """Five new users race for two free places. Other test runs may share the engine, so an
    attempt during which someone else created or removed a sandbox is repeated."""
    svc = isolated_service(engine_settings())
    await svc.start()
    worker = svc.pool.workers[0]
    try:
        for _attempt in range(5):
            actors = [new_actor(f"cap{i}") for i in range(5)]
            current = await worker.sandbox_count()
            worker.settings = worker.settings.model_copy(update={"max_sandboxes": current + 2})
            results = await asyncio.gather(
                *(svc.docker(a, tr(), "ps") for a in actors), return_exceptions=True
            )
            created = sum(1 for r in results if isinstance(r, list))
            others_changed = await worker.sandbox_count() != current + created
            for actor in actors:
                await svc.destroy_user(actor.user_id)
            if others_changed:
                continue
            assert created == 2, results
            full = [r for r in results if isinstance(r, Unavailable)]
            assert len(full) == 3 and {r.key for r in full} == {"sandbox.workers_full"}
            return
        pytest.fail("the engine was too busy with other sandboxes to test the edge")
    finally:
        await svc.close()


async def _answers_quickly(service: SandboxService, seconds: float = 3.0) -> float:
    started = time.perf_counter()
    await docker_text(service, FRED, "ps")
    elapsed = time.perf_counter() - started
    assert elapsed < seconds
    return elapsed


async def test_a_process_printing_forever_is_bounded(service: SandboxService) -> None:
    await _answers_quickly(service)
    started = time.perf_counter()
    replies = await service.sh(DAN, tr(), "yes")
    assert time.perf_counter() - started < 15
    body = replies[-1].body
    assert "8192 bytes" in body and "restarted" in body
    assert len(replies[-1].files[0].data) <= 8192
    assert "alive" in await sh_text(service, DAN, "echo alive")


async def test_a_fork_bomb_is_bounded(service: SandboxService) -> None:
    # busybox sh refuses the classic ":" function name; the same bomb with a named function:
    assert "bad function name" in await sh_text(service, DAN, ":(){ :|:& };:")
    bomb = service.sh(DAN, tr(), "bomb(){ bomb|bomb& };bomb")
    other = _answers_quickly(service, 5.0)
    started = time.perf_counter()
    replies, _elapsed = await asyncio.gather(bomb, other)
    assert time.perf_counter() - started < 20
    assert replies  # it answered: the bomb ran out of processes or the shell was restarted
    assert "alive" in await sh_text(service, DAN, "echo alive")
    processes = await sh_text(service, DAN, "ps -o pid | wc -l")
    assert int(processes.split()[-1]) < 10  # nothing of the bomb is left behind
    await _answers_quickly(service)


async def test_a_memory_hog_is_bounded(service: SandboxService) -> None:
    out = await sh_text(service, DAN, "head -c 600m /dev/zero | tail > /dev/null; echo rc=$?")
    assert "rc=137" in out or "Killed" in out
    assert "alive" in await sh_text(service, DAN, "echo alive")
    await docker_text(
        service, DAN, "run -d --name hog busybox sh -c 'head -c 400m /dev/zero | tail'"
    )
    status = ""
    for _ in range(60):
        status = await docker_text(service, DAN, "ps -a --filter name=hog")
        if "Exited" in status:
            break
        await asyncio.sleep(0.25)
    assert "Exited (137)" in status
    await docker_text(service, DAN, "rm hog")
    await _answers_quickly(service)


async def test_exec_and_foreground_run_output_are_capped(service: SandboxService) -> None:
    replies = await service.docker(DAN, tr(), "run --name yes1 busybox yes")
    assert "8192 bytes" in replies[-1].body and "background" in replies[-1].body
    replies = await service.docker(DAN, tr(), "logs yes1")
    assert 0 < len(replies[-1].files[0].data) <= 8192
    await docker_text(service, DAN, "rm -f yes1")
    await docker_text(service, DAN, "run -d --name idle busybox sleep 600")
    started = time.perf_counter()
    replies = await service.docker(DAN, tr(), "exec idle sleep 30")
    assert time.perf_counter() - started < 10
    assert "stopped" in replies[-1].body
    replies = await service.docker(DAN, tr(), "exec idle yes")
    assert "8192 bytes" in replies[-1].body
    await docker_text(service, DAN, "rm -f idle")
    await _answers_quickly(service)
