"""Quotas at the edge, one command per user, and output/time/process/memory bounds."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import pytest_asyncio

from bot.core.errors import Busy, Unavailable, UserError
from bot.sandbox.capacity import EngineCapacity
from bot.sandbox.service import SandboxService
from tests.sandbox.engine_support import (
    changed_settings,
    docker_text,
    engine_settings,
    eventually,
    isolated_service,
    labeled_objects,
    new_actor,
    sh_text,
    start,
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
    assert await _key(service.commands.docker(DAN, tr(), "run -d --name c busybox sleep 600")) == (
        "sandbox.quota.running"
    )
    await docker_text(service, DAN, "create --name c busybox sleep 600")
    assert await _key(service.commands.docker(DAN, tr(), "start c")) == "sandbox.quota.running"
    assert await _key(service.commands.docker(DAN, tr(), "create --name d busybox true")) == (
        "sandbox.quota.containers"
    )
    await docker_text(service, DAN, "stop -t 0 a")
    assert "c" in await docker_text(service, DAN, "start c")
    await docker_text(service, DAN, "rm -f a b c")


async def test_one_start_of_several_containers_counts_each_one(service: SandboxService) -> None:
    for name in ("p", "q", "r"):
        await docker_text(service, FRED, f"create --name {name} busybox sleep 600")
    replies = await service.commands.docker(FRED, tr(), "start p q r")
    assert (replies[-1].code or "").splitlines() == ["p", "q"]
    assert "2 running containers" in replies[-1].body  # r: the quota, said in a note
    assert "q" in await docker_text(service, FRED, "start q")  # running already: no extra count
    await docker_text(service, FRED, "rm -f p q r")


async def test_volume_and_network_quotas(service: SandboxService) -> None:
    await docker_text(service, DAN, "volume create v1")
    await docker_text(service, DAN, "volume create v2")
    assert (
        await _key(service.commands.docker(DAN, tr(), "volume create v3"))
        == "sandbox.quota.volumes"
    )
    assert await _key(service.commands.docker(DAN, tr(), "run --rm -v v4:/x busybox true")) == (
        "sandbox.quota.volumes"
    )
    await docker_text(service, DAN, "network create n1")
    assert (
        await _key(service.commands.docker(DAN, tr(), "network create n2"))
        == "sandbox.quota.networks"
    )
    await docker_text(service, DAN, "volume rm v1 v2")
    await docker_text(service, DAN, "network rm n1")


async def test_one_command_per_user_at_a_time(service: SandboxService) -> None:
    await docker_text(service, ERIN, "ps")
    before = await labeled_objects(ERIN.user_id)
    lines = [f"run -d --name race{i} busybox sleep 600" for i in range(6)]
    results = await asyncio.gather(
        *(service.commands.docker(ERIN, tr(), line) for line in lines), return_exceptions=True
    )
    assert sum(1 for r in results if isinstance(r, list)) == 1
    assert sum(1 for r in results if isinstance(r, Busy)) == 5
    assert len(await labeled_objects(ERIN.user_id) - before) == 1
    with contextlib.suppress(UserError):  # five of the names were never made
        await docker_text(service, ERIN, "rm -f " + " ".join(f"race{i}" for i in range(6)))


def InstanceCapacity(instance: str) -> EngineCapacity:
    """Counts only this test's own sandboxes, so that other coaches using the engine at the
    same time (parallel test runs, a console) cannot move the edge under the test. The
    coach's own count is physical (every instance's sandboxes): same check, same lock."""
    return EngineCapacity(instance)


async def test_worker_capacity_lets_exactly_the_allowed_number_through() -> None:
    """Five new users race for two free places: two get a sandbox, three a clear answer."""
    settings = engine_settings()
    svc = isolated_service(settings, capacity=InstanceCapacity(settings.sandbox.instance))
    await start(svc)
    worker = svc.manager.pool.workers[0]
    worker.settings = worker.settings.model_copy(update={"max_sandboxes": 2})
    actors = [new_actor(f"cap{i}") for i in range(5)]
    try:
        results = await asyncio.gather(
            *(svc.commands.docker(a, tr(), "ps") for a in actors), return_exceptions=True
        )
        assert sum(1 for r in results if isinstance(r, list)) == 2, results
        full = [r for r in results if isinstance(r, Unavailable)]
        assert len(full) == 3 and {r.key for r in full} == {"sandbox.workers_full"}
        assert (await svc.manager.capacity.load(worker)).count == 2
    finally:
        for actor in actors:
            await svc.reader.destroy_user(actor.user_id)
        await svc.close()


async def test_capacity_is_physical_by_default() -> None:
    """Without a capacity given, a worker counts every instance's host shells: an instance
    with no sandbox of its own sees another instance's sandbox as used capacity."""
    ours = isolated_service(engine_settings())
    other = isolated_service(engine_settings())
    await start(ours)
    await start(other)
    actor = new_actor("physical")
    try:
        await docker_text(other, actor, "ps")  # a sandbox of the other instance
        assert ours.manager.sandboxes() == []
        mine = InstanceCapacity(ours.manager.settings.instance)
        worker = ours.manager.pool.workers[0]
        assert (await mine.load(worker)).count == 0
        assert (await ours.manager.capacity.load(worker)).count >= 1
    finally:
        await other.reader.destroy_user(actor.user_id)
        await other.close()
        await ours.close()


async def _other_user_answers(service: SandboxService) -> None:
    """Another learner's command gets its normal answer."""
    assert "CONTAINER ID" in await docker_text(service, FRED, "ps")


async def test_a_process_printing_forever_is_bounded(service: SandboxService) -> None:
    replies = await service.commands.sh(DAN, tr(), "yes")
    body = replies[-1].body
    assert "8192 bytes" in body and "restarted" in body
    assert 0 < len((replies[-1].code or "").encode()) <= 8192
    assert "alive" in await sh_text(service, DAN, "echo alive")
    await _other_user_answers(service)


async def test_a_fork_bomb_is_bounded(service: SandboxService) -> None:
    # busybox sh refuses the classic ":" function name; the same bomb with a named function:
    assert "bad function name" in await sh_text(service, DAN, ":(){ :|:& };:")
    bomb = service.commands.sh(DAN, tr(), "bomb(){ bomb|bomb& };bomb")
    replies, _ = await asyncio.gather(bomb, _other_user_answers(service))
    assert replies  # it answered: the bomb ran out of processes or the shell was restarted
    assert "alive" in await sh_text(service, DAN, "echo alive")
    processes = await sh_text(service, DAN, "ps -o pid | wc -l")
    assert int(processes.split()[-1]) < 10  # nothing of the bomb is left behind
    await _other_user_answers(service)


async def test_a_memory_hog_is_bounded(service: SandboxService) -> None:
    # time enough for the memory limit to bite first, however busy the machine
    with changed_settings(service, exec_timeout_seconds=120):
        out = await sh_text(service, DAN, "head -c 600m /dev/zero | tail >/dev/null; echo rc=$?")
    assert "rc=137" in out or "Killed" in out
    assert "alive" in await sh_text(service, DAN, "echo alive")
    await docker_text(
        service, DAN, "run -d --name hog busybox sh -c 'head -c 400m /dev/zero | tail'"
    )
    status = await eventually(  # the kernel kills it as soon as it reaches the limit
        lambda: docker_text(service, DAN, "ps -a --filter name=hog"),
        lambda out: "Exited" in out,
        attempts=600,
    )
    assert "Exited (137)" in status
    await docker_text(service, DAN, "rm hog")
    await _other_user_answers(service)


async def test_exec_and_foreground_run_output_are_capped(service: SandboxService) -> None:
    replies = await service.commands.docker(DAN, tr(), "run --name yes1 busybox yes")
    assert "8192 bytes" in replies[-1].body and "background" in replies[-1].body
    replies = await service.commands.docker(DAN, tr(), "logs yes1")
    assert 0 < len((replies[-1].code or "").encode()) <= 8192
    await docker_text(service, DAN, "rm -f yes1")
    await docker_text(service, DAN, "run --name counted busybox seq 1 20000")  # 109 kB
    # cut at the cap, it may finish in the background; its log is whole once it has exited
    assert (await docker_text(service, DAN, "wait counted")).split() == ["0"]
    replies = await service.commands.docker(DAN, tr(), "logs counted")
    code = replies[-1].code or ""
    assert code.startswith("1\n2\n") and len(code.encode()) <= 8192
    assert "8192 bytes" in replies[-1].body
    await docker_text(service, DAN, "rm counted")
    await docker_text(service, DAN, "run -d --name idle busybox sleep 600")
    replies = await service.commands.docker(DAN, tr(), "exec idle sleep 30")
    assert "stopped" in replies[-1].body  # the exec time limit (4 s here) ended it
    replies = await service.commands.docker(DAN, tr(), "exec idle yes")
    assert "8192 bytes" in replies[-1].body
    await docker_text(service, DAN, "rm -f idle")
    await _other_user_answers(service)
