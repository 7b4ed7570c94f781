"""A worker whose engine cannot cap containers: the disk watchdog alone holds the budget.

A second engine, started by the test beside the shared one (``tests/engines.py``: overlay2
on the host's ext4, where ``storage_opt`` is refused), is the coach's only worker. The coach
finds out at once that its limits cannot be enforced, says so to admins and on the health
endpoint, never asks the engine for a size it would refuse, watches every sandbox there more
often, and stops a container writing 2 GiB within the budget + 10 %.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import pytest_asyncio

from bot.ops.health import disk_detail
from bot.sandbox.service import SandboxService
from tests.conftest import IN_CI
from tests.engines import ExtraEngine, extra_engine
from tests.sandbox.engine_support import docker_text, eventually, new_actor
from tests.sandbox.quota_support import MIB, inspect_owned, quota_service, sandbox_bytes

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
BUDGET = 1024 * MIB  # the default budget
WRITER = new_actor("plainw")
OTHER = new_actor("plaino")


@pytest.fixture(scope="module")
def plain_engine(docker_engine: None) -> Iterator[ExtraEngine]:
    """An engine without quota support, started for this module and removed after it."""
    if os.geteuid() != 0:
        message = "extra engines need root (deploy/engine/extra_engine.sh)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with extra_engine("overlay2") as engine:
        yield engine


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service(plain_engine: ExtraEngine):
    worker = {"name": "plain", "url": plain_engine.base_url, "max_sandboxes": 100}
    async with quota_service(WRITER, OTHER, workers=[worker]) as svc:
        yield svc


async def test_the_coach_knows_the_worker_caps_nothing_and_says_so(service: SandboxService):
    worker = service.manager.pool.workers[0]
    support = await service.watchdog.support(worker)
    assert support is not None and support.driver == "overlay2"
    assert not support.supported and not support.limits_disk
    settings = service.manager.settings.disk
    assert service.watchdog.interval(worker) == settings.no_quota_interval_seconds < 15
    [health] = await service.reader.probe_workers()
    assert health.healthy and health.disk is not None and health.disk.limits_enforced is False
    assert "NO disk limits (overlay2)" in disk_detail(health.disk)
    await docker_text(service, OTHER, "run -d --name idle busybox sleep 600")
    for attrs in await inspect_owned(OTHER.user_id, plain_engine_url(service)):
        assert not (attrs["HostConfig"].get("StorageOpt") or {}), attrs["Name"]  # never asked


def plain_engine_url(service: SandboxService) -> str:
    url = service.manager.settings.workers[0].url
    assert url is not None
    return url


async def test_the_watchdog_alone_stops_a_writer_within_the_budget(service: SandboxService):
    line = "run -d --name w busybox dd if=/dev/zero of=/big bs=1M count=2048"
    await docker_text(service, WRITER, line)
    seen: list[str] = []

    async def status() -> str:
        out = await docker_text(service, WRITER, "ps -a --format '{{.Names}}|{{.Status}}'")
        seen.append(out)
        return out

    final = await eventually(status, lambda out: "w|Exited" in out, attempts=1200)
    assert "w|Exited (137)" in final  # killed by the watchdog: 2 GiB did not fit
    told = "\n".join(seen)
    assert "disk budget" in told and "container `w`" in told
    total = await sandbox_bytes(WRITER.user_id, plain_engine_url(service))
    assert 0 < total <= BUDGET * 1.10
    assert "CONTAINER ID" in await docker_text(service, OTHER, "ps")  # the other learner works
    await docker_text(service, WRITER, "rm w")
