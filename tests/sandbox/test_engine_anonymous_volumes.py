"""Anonymous volumes go and stay as with Docker 20.10, against the real engine.

``--rm`` removes a container's anonymous volumes with it (never its named ones), also while
the disk monitor mounts them and also when a detached container ends by itself; ``rm``
keeps them and ``rm -v`` removes them; ``container prune`` keeps them; ``volume prune``
removes every unused volume, named ones too (Docker 20.10: ``--all`` came with API 1.42).
"""

from __future__ import annotations

import asyncio
from typing import Any

import docker
import pytest
import pytest_asyncio

from bot.core.context import Actor
from bot.core.errors import UserError
from bot.sandbox import limits as limits_module
from bot.sandbox import naming
from bot.sandbox.errors import LimitsMissing
from bot.sandbox.ops import run as run_ops
from bot.sandbox.service import SandboxService
from tests.sandbox.engine_support import (
    docker_text,
    eventually,
    new_actor,
    sh_text,
    started_service,
    tr,
)

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]
ANN = new_actor("ann")
VOLUMES = 3  # the volume quota of this module


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service():
    quotas = {"containers": 10, "running_containers": 6, "volumes": VOLUMES}
    async with started_service(ANN, quotas=quotas) as svc:
        await sh_text(
            svc, ANN, "mkdir -p vol && printf 'FROM busybox\\nVOLUME /data\\n' > vol/Dockerfile"
        )
        await docker_text(svc, ANN, "build -t vol vol")
        yield svc


def _engine(call: Any) -> Any:
    client = docker.from_env()
    try:
        return call(client.api)
    finally:
        client.close()


def _volumes(actor: Actor) -> dict[str, dict[str, str]]:
    """The actor's volumes on the engine: the learner's name → labels."""
    wanted = {"label": [f"{naming.OWNER}={actor.user_id}", f"{naming.KIND}={naming.KIND_VOLUME}"]}
    listed = _engine(lambda api: api.volumes(filters=wanted).get("Volumes") or [])
    return {v["Labels"][naming.NAME]: v["Labels"] for v in listed}


def _anonymous(actor: Actor) -> set[str]:
    return {name for name, labels in _volumes(actor).items() if naming.ANONYMOUS_FOR in labels}


async def _status(service: SandboxService, actor: Actor) -> str:
    reply = await service.commands.status(actor, tr())
    return "\n".join(f"{field.name}: {field.value}" for field in reply.fields)


async def _disk(service: SandboxService, actor: Actor) -> str:
    """The learner's disk use as ``/sandbox`` shows it (measured again when a command ran)."""
    reply = await service.commands.status(actor, tr())
    [disk] = [field.value for field in reply.fields if field.name == "Disk"]
    return disk


async def _gone(service: SandboxService, actor: Actor, name: str) -> None:
    """Nowhere the learner looks: the engine, ``volume ls``, ``/sandbox`` (names, disk)."""
    assert name not in _volumes(actor)
    assert name not in await docker_text(service, actor, "volume ls -q")
    assert name[:12] not in await _status(service, actor)


async def _clean(service: SandboxService, actor: Actor) -> None:
    wanted = {
        "label": [f"{naming.OWNER}={actor.user_id}", f"{naming.KIND}={naming.KIND_CONTAINER}"]
    }
    for summary in _engine(lambda api: api.containers(all=True, filters=wanted)):
        await docker_text(service, actor, f"rm -f {summary['Labels'][naming.NAME]}")
    await docker_text(service, actor, "volume prune -f")
    assert _volumes(actor) == {}


async def test_run_rm_in_the_foreground_removes_anonymous_volumes_not_named_ones(
    service: SandboxService,
) -> None:
    await _clean(service, ANN)
    out = await docker_text(
        service, ANN, "run --rm -v keep:/keep vol sh -c 'echo hi > /data/f && echo done'"
    )
    assert "done" in out
    assert set(_volumes(ANN)) == {"keep"}  # the image VOLUME's volume went with the container
    assert "keep" in await docker_text(service, ANN, "volume ls -q")
    # run again and again: nothing piles up against the volume quota
    for _ in range(VOLUMES + 1):
        await docker_text(service, ANN, "run --rm vol true")
    assert set(_volumes(ANN)) == {"keep"}
    await docker_text(service, ANN, "volume rm keep")


async def test_run_rm_removes_them_while_the_disk_monitor_holds_them(
    service: SandboxService,
) -> None:
    """The disk monitor mounts the volume (it measured it); the container ends (``stop``):
    the monitor lets go and the volume goes, and the learner's disk use no longer shows it."""
    await _clean(service, ANN)
    await docker_text(service, ANN, "run -d --rm --name d vol sleep 600")
    [made] = _anonymous(ANN)
    assert _volumes(ANN)[made][naming.AUTO_REMOVE] == "true"
    await docker_text(service, ANN, "exec d dd if=/dev/zero of=/data/f bs=1M count=2")
    await service.watchdog.round()  # measured: the disk monitor mounts the volume
    assert _monitored(service, made)
    assert f"volume `{made}`" in await _disk(service, ANN)  # its 2 MiB: in the disk use
    await docker_text(service, ANN, "stop d")
    await _gone(service, ANN, made)
    assert "volume `" not in await _disk(service, ANN)
    assert "d" not in (await docker_text(service, ANN, "ps -a --format '{{.Names}}'")).split()


async def test_a_detached_rm_container_that_ends_by_itself_loses_them_too(
    service: SandboxService,
) -> None:
    """Nobody stops it: the watchdog's next look finds the volume without its container."""
    await _clean(service, ANN)
    await docker_text(
        service, ANN, "run -d --rm --name e vol sh -c 'test -e /data/go || sleep 600'"
    )
    [made] = _anonymous(ANN)
    await service.watchdog.round()
    assert _monitored(service, made)
    real = f"dc-{_sandbox(service)}-e"
    # the engine ends and removes it by itself (a kill the coach does not see)
    _engine(lambda api: api.kill(real))
    await eventually(
        lambda: docker_text(service, ANN, "ps -a --format '{{.Names}}'"),
        lambda out: "e" not in out.split(),
    )
    await service.watchdog.round()
    await _gone(service, ANN, made)


async def test_a_foreground_run_rm_ending_while_measured(service: SandboxService) -> None:
    """The monitor mounts the volume while the foreground run is still going; it ends."""
    await _clean(service, ANN)
    run = asyncio.create_task(
        docker_text(
            service, ANN, "run --rm --name f vol sh -c 'until test -e /data/go; do sleep 0.1; done'"
        )
    )
    real = f"dc-{_sandbox(service)}-f"

    def running() -> bool:
        listed = _engine(lambda api: api.containers(filters={"name": real}))
        return bool(listed)

    await eventually(lambda: asyncio.to_thread(running), bool)
    [made] = _anonymous(ANN)
    await service.watchdog.round()
    assert _monitored(service, made)  # the monitor mounts it now
    _engine(lambda api: api.exec_start(api.exec_create(real, ["touch", "/data/go"])["Id"]))
    await run
    await _gone(service, ANN, made)


async def test_rm_keeps_anonymous_volumes_rm_v_removes_them(service: SandboxService) -> None:
    await _clean(service, ANN)
    await docker_text(service, ANN, "create --name a -v named:/n vol")
    [first] = _anonymous(ANN)
    await docker_text(service, ANN, "rm a")
    assert set(_volumes(ANN)) == {first, "named"}  # as Docker: rm keeps every volume
    assert first in await docker_text(service, ANN, "volume ls -q --filter dangling=true")
    await docker_text(service, ANN, "create --name b -v named:/n vol")
    [second] = _anonymous(ANN) - {first}
    await docker_text(service, ANN, "rm -v b")
    assert second not in _volumes(ANN)
    assert set(_volumes(ANN)) == {first, "named"}  # -v: the anonymous one, not the named one
    await docker_text(service, ANN, "volume rm named " + first)


async def test_prunes_as_docker_20_10(service: SandboxService) -> None:
    """``container prune`` keeps the volumes; ``volume prune`` removes every unused one,
    anonymous and named, and keeps those a container uses."""
    await _clean(service, ANN)
    await docker_text(service, ANN, "create --name p vol")
    [left] = _anonymous(ANN)
    await docker_text(service, ANN, "volume create spare")
    await docker_text(service, ANN, "run -d --name busy -v used:/u busybox sleep 600")
    pruned = await docker_text(service, ANN, "container prune -f")
    assert "Deleted Containers:" in pruned
    assert set(_volumes(ANN)) == {left, "spare", "used"}
    pruned = await docker_text(service, ANN, "volume prune -f")
    assert left in pruned and "spare" in pruned and "used" not in pruned
    assert set(_volumes(ANN)) == {"used"}
    await docker_text(service, ANN, "rm -f busy")
    await docker_text(service, ANN, "volume rm used")


def _sandbox(service: SandboxService) -> str:
    sandbox = service.manager.get(ANN.user_id)
    assert sandbox is not None
    return sandbox.scope.sandbox


def _monitored(service: SandboxService, name: str) -> bool:
    """Whether the sandbox's disk monitor mounts the learner's volume ``name``."""
    monitor = _engine(lambda api: api.inspect_container(f"dc-{_sandbox(service)}--disk"))
    return any(m.get("Name", "").endswith(name) for m in monitor["Mounts"])


async def test_v_path_and_mount_without_source_make_sandbox_volumes(
    service: SandboxService,
) -> None:
    """``-v /x`` and ``--mount type=volume,target=/x`` (lines of Docker's own docs) make an
    anonymous volume of the sandbox: listed, counted by the quota, read-only when asked, gone
    with ``--rm`` and ``rm -v``."""
    await _clean(service, ANN)
    out = await docker_text(
        service, ANN, "run --rm --read-only -v /icanwrite busybox touch /icanwrite/here"
    )
    assert "Error" not in out and _volumes(ANN) == {}  # --rm: gone with the container
    await docker_text(service, ANN, "run -d --name w -v /scratch busybox sleep 600")
    [made] = _anonymous(ANN)
    assert _volumes(ANN)[made][naming.ANONYMOUS_FOR] == "w"
    assert naming.AUTO_REMOVE not in _volumes(ANN)[made]
    assert made in await docker_text(service, ANN, "volume ls -q")
    await docker_text(
        service, ANN, "create --name r --mount type=volume,target=/m,readonly -v /n busybox"
    )
    assert len(_anonymous(ANN)) == VOLUMES  # every one counts against the quota
    with pytest.raises(UserError) as caught:
        await docker_text(service, ANN, "create --name over -v /o busybox")
    assert caught.value.key == "sandbox.quota.volumes"
    mounts = _engine(lambda api: api.inspect_container(f"dc-{_sandbox(service)}-r"))["Mounts"]
    assert {m["Destination"]: m["RW"] for m in mounts} == {"/m": False, "/n": True}
    await docker_text(service, ANN, "rm -f -v w r")
    assert _volumes(ANN) == {}


COMPOSE = """\
services:
  app:
    image: busybox
    command: sleep 600
    volumes: ["/cache", "kept:/kept"]
volumes:
  kept:
"""


async def test_compose_down_v_removes_the_services_anonymous_volumes(
    service: SandboxService,
) -> None:
    await _clean(service, ANN)
    await sh_text(service, ANN, f"mkdir -p proj && cat > proj/compose.yaml <<'EOF'\n{COMPOSE}EOF")
    await docker_text(service, ANN, "compose -f proj/compose.yaml up -d")
    assert len(_anonymous(ANN)) == 1 and "proj_kept" in _volumes(ANN)
    await docker_text(service, ANN, "compose -f proj/compose.yaml down")
    assert len(_anonymous(ANN)) == 1  # without -v: kept, as compose keeps them
    await docker_text(service, ANN, "compose -f proj/compose.yaml up -d")
    await docker_text(service, ANN, "compose -f proj/compose.yaml down -v")
    assert len(_anonymous(ANN)) == 1  # the first run's, which no container holds any more
    assert "proj_kept" not in _volumes(ANN)
    await docker_text(service, ANN, "volume prune -f")
    assert _volumes(ANN) == {}


async def test_a_container_refused_for_a_missing_limit_leaves_no_anonymous_volume(
    service: SandboxService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine made the volume with the container; the coach removes both."""
    await _clean(service, ANN)

    def weak(limits: Any) -> dict[str, Any]:
        kwargs = limits_module.host_config_kwargs(limits)
        kwargs.pop("pids_limit")
        return kwargs

    monkeypatch.setattr(run_ops, "host_config_kwargs", weak)
    with pytest.raises(LimitsMissing, match="pids"):
        await docker_text(service, ANN, "run -d --name weak -v /scratch vol sleep 60")
    assert _volumes(ANN) == {}
