"""Two users on one worker: neither can see or touch the other's objects."""

from __future__ import annotations

import json

import pytest
import pytest_asyncio

from bot.core.errors import NotFound, UserError
from bot.sandbox.service import SandboxService
from tests.sandbox.engine_support import (
    docker_text,
    new_actor,
    sh_text,
    started_service,
    tr,
)

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]
ALICE = new_actor("alice")
BOB = new_actor("bob")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service():
    async with started_service(ALICE, BOB) as svc:
        await docker_text(svc, ALICE, "run -d --name web busybox httpd -f -p 80")
        await docker_text(svc, ALICE, "volume create secret")
        await docker_text(svc, ALICE, "network create alicenet")
        await sh_text(svc, ALICE, "echo alice-only > diary.txt")
        yield svc


async def _alice_web_id(service: SandboxService) -> str:
    state = await service.reader.state(ALICE)
    view = state.container("web")
    assert view is not None
    return view.id


async def test_bob_sees_nothing_of_alice(service: SandboxService) -> None:
    web_id = await _alice_web_id(service)
    assert "web" not in await docker_text(service, BOB, "ps -a")
    assert web_id[:12] not in await docker_text(service, BOB, "ps -a -q")
    assert "secret" not in await docker_text(service, BOB, "volume ls")
    assert "alicenet" not in await docker_text(service, BOB, "network ls")
    state = await service.reader.state(BOB)
    assert state.containers == () and state.volumes == () and state.networks == ()


@pytest.mark.parametrize(
    "template",
    [
        "stop {ref}",
        "kill {ref}",
        "rm -f {ref}",
        "exec {ref} ls",
        "logs {ref}",
        "inspect {ref}",
        "cp {ref}:/etc/hostname here",
        "top {ref}",
        "port {ref}",
        "rename {ref} mine",
        "pause {ref}",
        "restart {ref}",
        "stats --no-stream {ref}",
    ],
)
@pytest.mark.parametrize("form", ["name", "full id", "id prefix"])
async def test_bob_cannot_touch_alices_web(
    service: SandboxService, template: str, form: str
) -> None:
    web_id = await _alice_web_id(service)
    ref = {"name": "web", "full id": web_id, "id prefix": web_id[:5]}[form]
    with pytest.raises(NotFound):
        await service.commands.docker(BOB, tr(), template.format(ref=ref))
    assert (await service.reader.state(ALICE)).container("web").running


async def test_bob_cannot_use_alices_volume_or_network(service: SandboxService) -> None:
    with pytest.raises(NotFound):
        await service.commands.docker(BOB, tr(), "volume inspect secret")
    with pytest.raises(NotFound):
        await service.commands.docker(BOB, tr(), "run -d --network alicenet busybox sleep 5")
    with pytest.raises(NotFound):
        await service.commands.docker(BOB, tr(), "network inspect alicenet")
    # the same volume name is Bob's own, empty volume
    await docker_text(service, ALICE, "run --rm -v secret:/s busybox sh -c 'echo a > /s/f'")
    out = await docker_text(service, BOB, "run --rm -v secret:/s busybox ls /s")
    assert "f" not in out.split()


async def test_bob_can_have_his_own_web(service: SandboxService) -> None:
    await docker_text(service, BOB, "run -d --name web busybox sleep 600")
    bob_view = (await service.reader.state(BOB)).container("web")
    alice_view = (await service.reader.state(ALICE)).container("web")
    assert bob_view.id != alice_view.id
    data = json.loads((await docker_text(service, BOB, "inspect web")).strip())
    assert data[0]["Id"] == bob_view.id
    assert alice_view.id not in json.dumps(data)
    bridge = json.loads((await docker_text(service, BOB, "network inspect bridge")).strip())
    assert alice_view.id not in json.dumps(bridge)


async def test_bob_cannot_reach_alice_over_the_network(service: SandboxService) -> None:
    out = await sh_text(service, BOB, "wget -q -O - http://web/ 2>&1; echo rc=$?")
    assert "rc=0" not in out  # Bob's "web" is a sleeping busybox, not Alice's httpd
    alice_name = (await service.reader.state(ALICE)).container("web").id
    out = await sh_text(
        service, BOB, f"timeout 3 wget -q -O - http://{alice_name[:12]}/; echo rc=$?"
    )
    assert "rc=0" not in out


async def test_bob_cannot_read_alices_files(service: SandboxService) -> None:
    assert await service.reader.read_file(BOB, None, "diary.txt") is None
    with pytest.raises(UserError):
        await service.commands.download(BOB, tr(), "diary.txt")
    assert await service.reader.read_file(ALICE, None, "diary.txt") == b"alice-only\n"
