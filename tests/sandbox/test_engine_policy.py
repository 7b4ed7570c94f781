"""Refusals create nothing; every container the coach creates carries every limit."""

from __future__ import annotations

import pytest
import pytest_asyncio

from bot.core.errors import Refused, UserError
from bot.sandbox import limits as limits_module
from bot.sandbox import policy
from bot.sandbox.errors import LimitsMissing
from bot.sandbox.limits import missing_limits
from bot.sandbox.ops import run as run_ops
from bot.sandbox.service import SandboxService
from tests.sandbox.engine_support import (
    changed_settings,
    docker_text,
    engine_settings,
    inspect_containers,
    labeled_objects,
    new_actor,
    started_service,
    tr,
)

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]
CAROL = new_actor("carol")
ISSUE_REFUSALS = (
    "run --privileged busybox",
    "run -v /:/host busybox",
    "run -v /var/run/docker.sock:/var/run/docker.sock busybox",
    "run --mount type=bind,source=/,target=/host busybox",
    "run --pid host busybox",
    "run --network host busybox",
    "run --network container:web busybox",
    "run --cap-add SYS_ADMIN busybox",
    "run --device /dev/kmsg busybox",
    "run --security-opt apparmor=unconfined busybox",
    "run --volumes-from web busybox",
    "run -l org.docker-coach.owner=someone busybox",
    "volume create -o type=none -o o=bind -o device=/etc x",
    "exec --privileged web sh",
    "run quay.io/library/busybox",
    "run ubuntu",
    "pull 127.0.0.1:5000/library/busybox",
)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service():
    async with started_service(CAROL) as svc:
        yield svc


async def test_refused_before_any_sandbox_exists(service: SandboxService) -> None:
    actor = new_actor("never")
    with pytest.raises(Refused):
        await service.commands.docker(actor, tr(), "run --privileged busybox")
    assert await labeled_objects(actor.user_id) == set()


@pytest.mark.parametrize("line", ISSUE_REFUSALS)
async def test_issue_refusals_name_the_flag_and_create_nothing(
    service: SandboxService, line: str
) -> None:
    await docker_text(service, CAROL, "ps")  # the sandbox exists
    if line.startswith("exec") and "web" not in await docker_text(service, CAROL, "ps -a"):
        await docker_text(service, CAROL, "run -d --name web busybox sleep 600")
    before = await labeled_objects(CAROL.user_id)
    with pytest.raises(Refused) as caught:
        await service.commands.docker(CAROL, tr(), line)
    flag = caught.value.params.get("flag")
    assert flag, "a refusal names the flag or argument"
    assert tr()(caught.value.key, **caught.value.params) != caught.value.key
    assert await labeled_objects(CAROL.user_id) == before


@pytest.mark.parametrize("rule", policy.RULES, ids=lambda r: r.name)
async def test_every_policy_rule_refuses_through_the_service(
    service: SandboxService, rule: policy.Rule
) -> None:
    before = await labeled_objects(CAROL.user_id)
    with pytest.raises(Refused):
        await service.commands.docker(CAROL, tr(), rule.refused)
    assert await labeled_objects(CAROL.user_id) == before


async def test_images_above_the_size_limit_are_refused(service: SandboxService) -> None:
    before = await labeled_objects(CAROL.user_id)
    with changed_settings(service, max_image_bytes=1000), pytest.raises(UserError) as caught:
        await service.commands.docker(CAROL, tr(), "run busybox true")
    assert caught.value.key == "sandbox.image_too_big"
    assert await labeled_objects(CAROL.user_id) == before


async def test_every_container_has_every_limit(service: SandboxService) -> None:
    await docker_text(service, CAROL, "run -d --name lim1 busybox sleep 600")
    await docker_text(service, CAROL, "create --name lim2 -m 64m --cpus 0.25 busybox true")
    await docker_text(service, CAROL, "run -d --name lim3 -p 8081:80 --cap-drop CHOWN nginx")
    await docker_text(service, CAROL, "run --name lim4 busybox true")
    settings = service.manager.settings.limits
    inspected = await inspect_containers(CAROL.user_id)
    assert len(inspected) >= 5  # the host shell and the four above
    for attrs in inspected:
        assert missing_limits(attrs, settings) == [], attrs["Name"]
        host = attrs["HostConfig"]
        assert host["Init"] is True and host["RestartPolicy"]["Name"] in ("", "no")
        assert {"NET_RAW", "MKNOD"} <= {c.removeprefix("CAP_") for c in host["CapDrop"]}
        assert "no-new-privileges:true" in host["SecurityOpt"]
        assert host["LogConfig"]["Config"]["max-size"] == settings.log_max_size
        assert host["Memory"] == host["MemorySwap"] > 0
    lowered = next(a for a in inspected if a["Name"].endswith("-lim2"))
    assert lowered["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert lowered["HostConfig"]["NanoCpus"] == 250_000_000
    await docker_text(service, CAROL, "rm -f lim1 lim2 lim3 lim4")


async def test_a_container_missing_a_limit_is_removed(
    service: SandboxService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def weak(limits):
        kwargs = limits_module.host_config_kwargs(limits)
        kwargs.pop("pids_limit")
        return kwargs

    await docker_text(service, CAROL, "ps")
    before = await labeled_objects(CAROL.user_id)
    monkeypatch.setattr(run_ops, "host_config_kwargs", weak)
    with pytest.raises(LimitsMissing, match="pids"):
        await service.commands.docker(CAROL, tr(), "run -d --name weak busybox sleep 60")
    assert await labeled_objects(CAROL.user_id) == before


async def test_missing_limits_names_what_is_missing() -> None:
    settings = engine_settings().sandbox.limits
    host = {
        "Memory": settings.memory_bytes,
        "MemorySwap": -1,
        "NanoCpus": settings.nano_cpus,
        "PidsLimit": None,
        "SecurityOpt": [],
        "CapDrop": ["NET_RAW"],
        "Init": False,
        "LogConfig": {"Type": "json-file", "Config": {}},
        "Privileged": True,
        "RestartPolicy": {"Name": "always"},
        "PortBindings": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "80"}]},
        "Binds": ["/:/host"],
    }
    found = set(missing_limits({"HostConfig": host}, settings))
    assert {
        "memory-swap",
        "pids",
        "no-new-privileges",
        "cap-drop",
        "log-size",
        "init",
        "privileged",
        "restart-policy",
        "port-binding",
        "bind-mount",
    } <= found
