"""Docker CLI fidelity against the real engine: published ports reaching the host shell, Go
templates, filters, more of run, the learner's own images and ``cp -`` (issue 14)."""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import docker
import pytest
import pytest_asyncio

from bot.core.context import Actor, Upload
from bot.core.errors import Refused, UserError
from bot.sandbox.service import SandboxService
from tests.sandbox.engine_support import (
    changed_settings,
    docker_text,
    eventually,
    inspect_containers,
    message,
    new_actor,
    sh_text,
    started_service,
    tr,
)

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]
ALICE, BOB = new_actor("alice"), new_actor("bob")
IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service():
    quotas = {"containers": 12, "running_containers": 10, "volumes": 4, "networks": 3}
    async with started_service(ALICE, BOB, quotas=quotas) as svc:
        yield svc


async def failure(service: SandboxService, actor: Actor, line: str) -> str:
    with pytest.raises(UserError) as caught:
        await service.commands.docker(actor, tr(), line)
    return message(caught.value)


async def page(service: SandboxService, actor: Actor, url: str) -> str:
    return await sh_text(service, actor, f"wget -qO- {url} 2>&1 || echo FAILED")


async def clean(service: SandboxService, actor: Actor) -> None:
    names = (await docker_text(service, actor, "ps -aq")).split()
    if names:
        await docker_text(service, actor, "rm -f " + " ".join(names))


# --------------------------------------------------------------------------------------------
# Published ports
# --------------------------------------------------------------------------------------------


async def test_done_when_published_ports(service: SandboxService) -> None:
    await docker_text(service, ALICE, "run -d --name web -p 8080:80 nginx")
    assert "Welcome to nginx!" in await page(service, ALICE, "http://localhost:8080")
    assert "Welcome to nginx!" in await sh_text(service, ALICE, "curl -s localhost:8080")
    assert "0.0.0.0:8080->80/tcp" in await docker_text(service, ALICE, "ps")
    assert (await docker_text(service, ALICE, "port web")).strip() == "80/tcp -> 0.0.0.0:8080"
    assert (await docker_text(service, ALICE, "port web 80")).strip() == "0.0.0.0:8080"
    ip = await docker_text(
        service,
        ALICE,
        "inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' web",
    )
    assert IPV4.match(ip.strip()), ip
    ports = await docker_text(
        service, ALICE,
        "inspect -f '{{json .NetworkSettings.Ports}} {{json .HostConfig.PortBindings}}' web",
    )  # fmt: skip
    assert ports.strip() == (
        '{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]} '
        '{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}'
    )
    # a second container asking for the same host port: Docker's error; it stays created
    taken = await failure(service, ALICE, "run -d --name web2 -p 8080:80 httpd")
    assert "Bind for 0.0.0.0:8080 failed: port is already allocated" in taken
    assert "Created" in await docker_text(service, ALICE, "ps -a --filter name=web2")
    # another learner publishes 8080 too, and reaches their own container
    await docker_text(service, BOB, "run -d --name web -p 8080:80 httpd")
    assert "It works!" in await page(service, BOB, "http://localhost:8080")
    assert "Welcome to nginx!" in await page(service, ALICE, "http://localhost:8080")
    # forwarding stops with the container, the port goes to the next one, comes back
    await docker_text(service, ALICE, "stop web")
    assert "FAILED" in await page(service, ALICE, "http://localhost:8080")
    assert "0.0.0.0:8080" not in await docker_text(service, ALICE, "ps -a")
    await docker_text(service, ALICE, "start web2")
    assert "It works!" in await page(service, ALICE, "http://localhost:8080")
    assert "port is already allocated" in await failure(service, ALICE, "start web")
    await docker_text(service, ALICE, "rm -f web2")
    await docker_text(service, ALICE, "start web")
    assert "Welcome to nginx!" in await page(service, ALICE, "http://localhost:8080")
    # a command past the bound restarts the host shell: its forwarder comes back with the table
    assert "restarted" in await sh_text(service, ALICE, "sleep 60")
    assert "Welcome to nginx!" in await page(service, ALICE, "http://localhost:8080")
    await clean(service, ALICE)
    await clean(service, BOB)


async def test_published_port_variants(service: SandboxService) -> None:
    await docker_text(
        service, ALICE, "run -d --name local -p 127.0.0.1:8081:80 --expose 7777 nginx"
    )
    await docker_text(service, ALICE, "run -d --name anyport -p 80 httpd")
    await docker_text(service, ALICE, "run -d --name all -P nginx")
    await docker_text(
        service, ALICE, "run -d --name range -p 9000-9001:9000-9001 busybox "
        "sh -c 'httpd -p 9000 -h /etc; httpd -f -p 9001 -h /etc'",
    )  # fmt: skip
    ps = await docker_text(service, ALICE, "ps --format '{{.Names}} {{.Ports}}'")
    assert "local 127.0.0.1:8081->80/tcp" in ps
    assert "range 0.0.0.0:9000->9000/tcp, 0.0.0.0:9001->9001/tcp" in ps
    ephemeral = {
        line.split()[0]: int(re.search(r":(\d+)->", line).group(1))  # type: ignore[union-attr]
        for line in ps.split("\n")
        if line.split()[:1] in (["anyport"], ["all"])
    }
    assert all(32768 <= port <= 60999 for port in ephemeral.values()), ps
    assert len(set(ephemeral.values())) == 2
    assert "It works!" in await page(service, ALICE, f"http://localhost:{ephemeral['anyport']}")
    assert "Welcome" in await page(service, ALICE, f"http://127.0.0.1:{ephemeral['all']}")
    assert "passwd" not in await page(service, ALICE, "http://localhost:9001/hostname")
    assert "FAILED" not in await page(service, ALICE, "http://localhost:9001/hostname")
    # 127.0.0.1 only: the host shell's own network address does not answer
    assert "Welcome" in await page(service, ALICE, "http://127.0.0.1:8081")
    assert "FAILED" in await page(service, ALICE, "http://host:8081")
    # the same ephemeral port while the container runs
    assert f"0.0.0.0:{ephemeral['all']}" in await docker_text(service, ALICE, "port all")
    assert str(ephemeral["all"]) in await docker_text(service, ALICE, "ps --filter publish=80")
    # exposed only: expose finds it, publish does not (docker reads the port bindings)
    exposed = await docker_text(service, ALICE, "ps --filter expose=7777 --format '{{.Names}}'")
    assert exposed.split() == ["local"]
    published = await service.commands.docker(ALICE, tr(), "ps --filter publish=7777 -q")
    assert published[-1].code is None
    await clean(service, ALICE)


def _udp_probe() -> bytes:
    """tests/sandbox/udp_probe.c built static (musl-gcc, as the host image's forwarder is)."""
    source = Path(__file__).with_name("udp_probe.c")
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "udp-probe"
        for compiler in ("musl-gcc", "cc"):
            if shutil.which(compiler) is None:
                continue
            built = subprocess.run(
                [compiler, "-static", "-Os", "-o", str(binary), str(source)],
                capture_output=True,
                check=False,
            )
            if built.returncode == 0:
                return binary.read_bytes()
    pytest.fail("cannot build the UDP probe: apt-get install musl-tools (or gcc)")


async def test_udp_is_published(service: SandboxService) -> None:
    """A datagram sent to the host shell's published port reaches the container and its
    answer comes back (BusyBox has no UDP tools: a small static probe plays both sides)."""
    probe = _udp_probe()

    async def read() -> bytes:
        return probe

    with_probe = Actor(
        ALICE.user_id, ALICE.display_name, uploads=(Upload("udp-probe", len(probe), read),)
    )
    await service.commands.sh(with_probe, tr(), "chmod +x udp-probe")
    await docker_text(
        service, ALICE, "create --name udp -p 8053:53/udp busybox /udp-probe serve 53"
    )
    await docker_text(service, ALICE, "cp udp-probe udp:/udp-probe")
    await docker_text(service, ALICE, "start udp")
    assert "0.0.0.0:8053->53/udp" in await docker_text(service, ALICE, "ps")
    assert "53/udp -> 0.0.0.0:8053" in await docker_text(service, ALICE, "port udp")
    table = await sh_text(service, ALICE, "coach-portd show")
    assert re.search(r"udp:0\.0\.0\.0:8053:\d+\.\d+\.\d+\.\d+:53", table), table
    answer = await sh_text(service, ALICE, "./udp-probe ask 127.0.0.1 8053 ping-udp")
    assert "echo:ping-udp" in answer
    await docker_text(service, ALICE, "stop -t 0 udp")  # forwarding stops with it
    assert ":8053 " not in await sh_text(service, ALICE, "netstat -lun")
    assert "no answer" in await sh_text(service, ALICE, "./udp-probe ask 127.0.0.1 8053 x")
    await clean(service, ALICE)


# --------------------------------------------------------------------------------------------
# Templates and filters
# --------------------------------------------------------------------------------------------


async def test_formats_and_filters_behave_like_docker(service: SandboxService) -> None:
    network = f"net{random.randrange(10**6)}"
    await docker_text(service, ALICE, f"network create {network}")
    await docker_text(service, ALICE, "run --name ok busybox true")
    await docker_text(service, ALICE, "run --name bad busybox sh -c 'exit 3'")
    await docker_text(service, ALICE, f"run -d --name busy --network {network} -l tier=back "
                      "busybox sh -c 'while :; do :; done'")  # fmt: skip
    images = await docker_text(service, ALICE, "images --format '{{.Repository}}:{{.Tag}}'")
    assert "busybox:latest" in images.split()
    exited = await docker_text(service, ALICE, "ps -a --filter exited=0 --format '{{.Names}}'")
    assert exited.split() == ["ok"]
    assert (await docker_text(service, ALICE, f"ps --filter network={network} -q")).strip()
    both = await docker_text(
        service, ALICE, "ps -a --filter name=ok --filter name=bad --format '{{.Names}}'"
    )
    assert sorted(both.split()) == ["bad", "ok"]  # values of one key: OR
    # since/before list stopped containers without -a, as the engine does; status implies -a
    since = await docker_text(service, ALICE, "ps --filter since=ok --format '{{.Names}}'")
    assert sorted(since.split()) == ["bad", "busy"]
    assert len((await docker_text(service, ALICE, "ps -f status=exited -q")).split()) == 2
    sized = await docker_text(service, ALICE, "ps --filter name=busy --format '{{.Size}}'")
    assert "(virtual " in sized  # .Size in a template asks the engine for sizes, as -s does
    neither = await service.commands.docker(
        ALICE, tr(), "ps -a --filter name=ok --filter exited=3 --format '{{.Names}}'"
    )
    assert neither[-1].code is None  # keys: AND — nothing is both
    labelled = await docker_text(service, ALICE, "ps --format '{{.Names}} {{.Label \"tier\"}}'")
    assert "busy back" in labelled
    stats = await docker_text(
        service, ALICE, "stats --no-stream --format '{{.Name}} {{.CPUPerc}}' busy"
    )
    name, cpu = stats.split()
    assert name == "busy" and cpu.endswith("%") and float(cpu[:-1]) > 1.0, stats
    custom = await docker_text(
        service, ALICE, "network ls --filter type=custom --format '{{.Name}}'"
    )
    assert custom.split() == [network]
    table = await docker_text(service, ALICE, "ps -a --format 'table {{.Names}}\\t{{.Status}}'")
    assert table.strip().splitlines()[0].split() == ["NAMES", "STATUS"]
    error = await failure(service, ALICE, "ps --format '{{.Nope}}'")
    assert "can't evaluate field Nope in type *formatter.ContainerContext" in error
    error = await failure(service, ALICE, "inspect -f '{{.Nope}}' ok")
    assert 'map has no entry for key "Nope"' in error
    await clean(service, ALICE)
    await docker_text(service, ALICE, f"network rm {network}")


# --------------------------------------------------------------------------------------------
# More of run/create
# --------------------------------------------------------------------------------------------


async def test_health_checks_show_in_ps(service: SandboxService) -> None:
    await docker_text(
        service, ALICE, "run -d --name h --health-cmd 'true' --health-interval 1s busybox sleep 300"
    )
    ps = await eventually(
        lambda: docker_text(service, ALICE, "ps --filter name=h"), lambda out: "(healthy)" in out
    )
    assert "(healthy)" in ps
    assert "h" in await docker_text(
        service, ALICE, "ps --filter health=healthy --format '{{.Names}}'"
    )
    await docker_text(
        service, ALICE, "run -d --name sick --health-cmd 'false' --health-interval 1s "
        "--health-retries 1 busybox sleep 300",
    )  # fmt: skip
    await eventually(
        lambda: docker_text(service, ALICE, "ps --filter name=sick"),
        lambda out: "(unhealthy)" in out,
    )
    await docker_text(service, ALICE, "run -d --name none --no-healthcheck busybox sleep 300")
    status = await docker_text(service, ALICE, "inspect -f '{{json .Config.Healthcheck}}' none")
    assert '"NONE"' in status
    await clean(service, ALICE)


async def test_run_flags_reach_the_engine(service: SandboxService) -> None:
    await docker_text(
        service, ALICE,
        "create --name flags --group-add 100 --cpuset-cpus 0 --stop-signal SIGUSR1 "
        "--stop-timeout 3 --init --expose 9999 --domainname example.org "
        "--memory-reservation 32m -c 512 --oom-score-adj 100 busybox sleep 300",
    )  # fmt: skip
    attrs = next(a for a in await inspect_containers(ALICE.user_id) if a["Name"].endswith("-flags"))
    host, config = attrs["HostConfig"], attrs["Config"]
    assert host["GroupAdd"] == ["100"] and host["CpusetCpus"] == "0"
    assert config["StopSignal"] == "SIGUSR1" and config["StopTimeout"] == 3
    assert host["Init"] is True and "9999/tcp" in config["ExposedPorts"]
    assert config["Domainname"] == "example.org"
    assert host["MemoryReservation"] == 32 * 1024 * 1024 and host["CpuShares"] == 512
    assert host["OomScoreAdj"] == 100
    groups = await docker_text(service, ALICE, "run --rm --group-add 100 busybox id")
    assert "100(users)" in groups
    too_many = await failure(service, ALICE, "run --rm --cpuset-cpus 0-255 busybox true")
    assert "cpuset" in too_many.lower() or "not available" in too_many.lower()
    attached = await docker_text(
        service, ALICE, "run --rm -a stdout busybox sh -c 'echo to-out; echo to-err >&2'"
    )
    assert "to-out" in attached and "to-err" not in attached
    await docker_text(service, ALICE, "run --cidfile run.cid --name cid busybox true")
    cid = (await sh_text(service, ALICE, "cat run.cid")).strip()
    assert len(cid) == 64
    assert "Container ID file found" in await failure(
        service, ALICE, "run --cidfile run.cid busybox true"
    )
    await clean(service, ALICE)


async def test_ip_on_a_network_with_a_subnet(service: SandboxService) -> None:
    for _attempt in range(5):  # the pool is shared by every sandbox of the worker
        third = random.randrange(0, 256)
        second = random.choice((28, 29, 30, 31))
        try:
            await docker_text(
                service, ALICE, f"network create --subnet 172.{second}.{third}.0/24 fixed"
            )
            break
        except UserError as exc:
            assert "overlap" in message(exc).lower(), message(exc)
    else:
        pytest.fail("no free /24 in the learners' pool")
    address = f"172.{second}.{third}.10"
    await docker_text(service, ALICE, f"run -d --name pinned --network fixed --ip {address} "
                      "busybox sleep 300")  # fmt: skip
    shown = await docker_text(
        service,
        ALICE,
        "inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' pinned",
    )
    assert shown.strip() == address
    refused = await failure(service, ALICE, "network create --subnet 10.0.0.0/8 wide")
    assert "172.28.0.0/14" in refused
    await clean(service, ALICE)
    await docker_text(service, ALICE, "network rm fixed")


async def test_logs_since_and_until(service: SandboxService) -> None:
    await docker_text(service, ALICE, "run --name talk busybox sh -c 'echo one; echo two'")
    assert "two" in await docker_text(service, ALICE, "logs --since 1h talk")
    before = await service.commands.docker(ALICE, tr(), "logs --until 2000-01-01 talk")
    assert before[-1].code is None
    assert "one" in await docker_text(service, ALICE, "logs --until 2099-01-01T00:00:00Z talk")
    stamped = await docker_text(service, ALICE, "logs -t --since 2000-01-01T00:00:00Z talk")
    assert re.search(r"\d{4}-\d\d-\d\dT", stamped)
    await clean(service, ALICE)


async def test_images_digests_and_inspect(service: SandboxService) -> None:
    listed = await docker_text(service, ALICE, "images --digests busybox")
    assert "DIGEST" in listed.strip().splitlines()[0] and "sha256:" in listed
    arch = await docker_text(service, ALICE, "image inspect -f '{{.Os}}/{{.Architecture}}' busybox")
    assert arch.strip() == "linux/amd64"
    assert "IMAGE" in await docker_text(service, ALICE, "image history busybox")


# --------------------------------------------------------------------------------------------
# The learner's own images
# --------------------------------------------------------------------------------------------


def _engine_tags(prefix: str) -> list[str]:
    client = docker.from_env()
    try:
        return [
            t for i in client.api.images() for t in i.get("RepoTags") or [] if t.startswith(prefix)
        ]
    finally:
        client.close()


async def test_commit_tag_rmi_are_the_learners_own(service: SandboxService) -> None:
    await docker_text(
        service, ALICE, "run -d --name src busybox sh -c 'echo mine > /marker; sleep 300'"
    )
    await eventually(
        lambda: docker_text(service, ALICE, "exec src cat /marker"), lambda out: "mine" in out
    )
    created = await docker_text(service, ALICE, "commit -m 'add marker' src mysite:v1")
    assert "sha256:" in created
    assert "mine" in await docker_text(service, ALICE, "run --rm mysite:v1 cat /marker")
    assert "mysite" in await docker_text(service, ALICE, "images")
    assert "add marker" in await docker_text(service, ALICE, "history --no-trunc mysite:v1")
    tags = await docker_text(service, ALICE, "image inspect -f '{{json .RepoTags}}' mysite:v1")
    assert tags.strip() == '["mysite:v1"]'
    # bob can neither see, run, tag nor remove it: for him it does not exist, in docker's words
    assert "mysite" not in await docker_text(service, BOB, "images")
    await _bob_has_no_mysite(service)
    # tag, the quota, rmi
    await docker_text(service, ALICE, "tag mysite:v1 mysite:v2")
    with changed_settings(service, quotas=service.manager.settings.quotas.model_copy(
        update={"images": 2}
    )):  # fmt: skip
        assert "2 images" in await failure(service, ALICE, "commit src mysite:v3")
    removed = await docker_text(service, ALICE, "rmi mysite:v2")
    assert "Untagged: mysite:v2" in removed
    assert "shared" in await failure(service, ALICE, "rmi busybox")
    prefix = service.manager.get(ALICE.user_id).scope.image_prefix  # type: ignore[union-attr]
    assert _engine_tags(prefix) == [prefix + "mysite:v1"]
    await clean(service, ALICE)


async def _bob_has_no_mysite(service: SandboxService) -> None:
    denied = (
        "Error response from daemon: pull access denied for mysite, repository does not exist "
        "or may require 'docker login': denied: requested access to the resource is denied"
    )
    for line in ("run --rm mysite:v1 true", "create mysite:v1"):
        answer = await failure(service, BOB, line)
        assert f"Unable to find image 'mysite:v1' locally\n{denied}\n" in answer, answer
        assert "not one of the images" not in answer
    assert f"```\n{denied}\n```" in await failure(service, BOB, "pull mysite:v1")
    for line in ("rmi mysite:v1", "image inspect mysite:v1"):
        assert await failure(service, BOB, line) == "Error: No such image: mysite:v1"
    for line in ("tag mysite:v1 x:1", "history mysite:v1"):
        answer = await failure(service, BOB, line)
        assert "Error response from daemon: No such image: mysite:v1\n" in answer, answer
    assert "No such object: mysite:v1" in await failure(service, BOB, "inspect mysite:v1")
    assert "mysite" not in await docker_text(service, BOB, "images -a")


async def test_missing_images_answer_like_docker(service: SandboxService) -> None:
    """A name that exists nowhere gets docker's answer; one the sandbox will not pull, the
    policy's refusal; an allowed one the worker lacks is pulled first (here: the pull fails)."""
    before = await docker_text(service, BOB, "ps -aq")
    answer = await failure(service, BOB, "run --rm nosuchimage")
    assert "Unable to find image 'nosuchimage:latest' locally\n" in answer
    assert "pull access denied for nosuchimage, repository does not exist" in answer
    answer = await failure(service, BOB, "pull nosuchimage")
    assert "Using default tag: latest\nError response from daemon: pull access denied" in answer
    for line in ("run --rm ubuntu true", "pull ubuntu", "run --rm bitnami/redis true"):
        with pytest.raises(Refused) as refused:
            await service.commands.docker(BOB, tr(), line)
        assert refused.value.key == "policy.image_not_allowed"
    for line in ("image inspect ubuntu", "rmi ubuntu"):
        assert await failure(service, BOB, line) == "Error: No such image: ubuntu"
    answer = await failure(service, BOB, "tag nosuch x:1")
    assert "Error response from daemon: No such image: nosuch:latest" in answer
    # an allowed tag the worker does not have: run pulls it (and says why it could not)
    with pytest.raises(UserError) as caught:
        await service.commands.docker(BOB, tr(), "run --rm busybox:0.0-none true")
    assert caught.value.key == "sandbox.pull_failed", caught.value
    answer = await failure(service, BOB, "run --rm --pull never busybox:0.0-none true")
    assert "Error response from daemon: No such image: busybox:0.0-none\n" in answer
    assert await docker_text(service, BOB, "ps -aq") == before  # nothing was made


async def test_own_images_go_with_the_sandbox() -> None:
    carol = new_actor("carol")
    async with started_service(carol) as svc:
        await docker_text(svc, carol, "run --name c busybox true")
        await docker_text(svc, carol, "commit c keep:1")
        prefix = svc.manager.get(carol.user_id).scope.image_prefix  # type: ignore[union-attr]
        assert _engine_tags(prefix) == [prefix + "keep:1"]
        await svc.reader.destroy_user(carol.user_id)
        assert _engine_tags(prefix) == []


# --------------------------------------------------------------------------------------------
# cp with -, system commands
# --------------------------------------------------------------------------------------------


async def test_cp_streams_a_tar_out_and_in(service: SandboxService) -> None:
    await docker_text(service, ALICE, "run -d --name files busybox sleep 300")
    replies = await service.commands.docker(ALICE, tr(), "cp files:/etc/hostname -")
    archive = replies[-1].files[0]
    assert archive.filename == "hostname.tar"
    with tarfile.open(fileobj=io.BytesIO(archive.data)) as opened:
        assert opened.getnames() == ["hostname"]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        data = b"from a tar\n"
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    content = buffer.getvalue()

    async def read() -> bytes:
        return content

    actor = Actor(
        ALICE.user_id, ALICE.display_name, uploads=(Upload("in.tar", len(content), read),)
    )
    await service.commands.docker(actor, tr(), "cp - files:/tmp")
    assert "from a tar" in await docker_text(service, ALICE, "exec files cat /tmp/hello.txt")
    assert "attach one .tar" in await failure(service, ALICE, "cp - files:/tmp")
    await clean(service, ALICE)


async def test_system_commands(service: SandboxService) -> None:
    await docker_text(service, ALICE, "run --name gone busybox touch /made")
    df = await docker_text(service, ALICE, "system df")
    assert df.strip().splitlines()[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert "A /made" in await docker_text(service, ALICE, "diff gone")
    assert (await docker_text(service, ALICE, "wait gone")).strip() == "0"
    version = await docker_text(service, ALICE, "version --format '{{.Server.Version}}'")
    assert version.strip().startswith("20.10")
    assert "Containers: 1" in await docker_text(service, ALICE, "info")
    pruned = await docker_text(service, ALICE, "system prune -f")
    assert "Deleted Containers:" in pruned
    listed = await service.commands.docker(ALICE, tr(), "container ls -a --format '{{.Names}}'")
    assert listed[-1].code is None
    assert "busybox" in await docker_text(service, ALICE, "image ls")


async def test_listing_filters_and_formats(service: SandboxService) -> None:
    """volume ls, network ls, images, prune, search and info with docker's filters and
    templates, against the sandbox's real objects."""
    await docker_text(service, ALICE, "volume create --label team=a used")
    await docker_text(service, ALICE, "volume create spare")
    await docker_text(service, ALICE, "network create --label team=a front")
    await docker_text(service, ALICE, "network create back")
    await docker_text(service, ALICE, "run -d --name user -v used:/d --network front -l "
                      "keep=yes busybox sleep 300")  # fmt: skip
    await docker_text(service, ALICE, "create --name idle -l tier=tmp busybox")

    async def names(line: str) -> list[str]:
        return sorted((await docker_text(service, ALICE, line)).split())

    assert await names("volume ls -q --filter dangling=true") == ["spare"]
    assert await names("volume ls -q --filter name=us") == ["used"]
    assert await names("volume ls --format '{{.Name}}' -f label=team=a") == ["used"]
    assert await names("volume ls -q -f driver=local") == ["spare", "used"]
    assert await names("network ls --format '{{.Name}}' -f dangling=true") == ["back"]
    assert await names("network ls --format '{{.Name}}' -f label=team") == ["front"]
    assert await names("network ls --format '{{.Name}}' -f name=ba") == ["back"]
    assert await names("network ls --format '{{.Name}}' -f type=builtin") == ["bridge"]
    assert "bridge" in await names("network ls --format '{{.Name}}' -f driver=bridge")
    # images: reference globs, before/since, labels, json
    await docker_text(service, ALICE, "commit -c 'LABEL stage=dev' user snap:1")
    assert await names("images --format '{{.Repository}}' -f reference='b*'") == ["busybox"]
    assert await names("images --format '{{.Tag}}' -f reference='snap:*'") == ["1"]
    assert await names("images --format '{{.Repository}}' -f label=stage=dev") == ["snap"]
    assert "snap" in await names("images --format '{{.Repository}}' -f since=busybox")
    assert "snap" not in await names("images --format '{{.Repository}}' -f before=busybox")
    lines = (await docker_text(service, ALICE, "images --format json snap")).strip().splitlines()
    assert [json.loads(line)["Tag"] for line in lines] == ["1"]
    rows = (await docker_text(service, ALICE, "ps -a --format json")).strip().splitlines()
    assert sorted(json.loads(row)["Names"] for row in rows) == ["idle", "user"]
    # prune: label and until decide what goes
    kept = await docker_text(service, ALICE, "container prune -f --filter until=1h")
    assert "idle" in await names("ps -a --format '{{.Names}}'"), kept
    await docker_text(service, ALICE, "container prune -f --filter label=tier=tmp")
    assert await names("ps -a --format '{{.Names}}'") == ["user"]
    await docker_text(service, ALICE, "volume prune -f --filter label=nothing")
    assert "spare" in await names("volume ls -q")
    # search and info take templates too
    found = await docker_text(service, ALICE, "search --format '{{.Name}}: {{.StarCount}}' nginx")
    assert re.search(r"^nginx: \d+$", found.strip().splitlines()[0]), found
    info = await docker_text(service, ALICE, "info --format '{{.Containers}} {{json .Images}}'")
    assert re.fullmatch(r"1 \d+", info.strip()), info
    await clean(service, ALICE)
    await docker_text(service, ALICE, "rmi snap:1")
    await docker_text(service, ALICE, "network rm front back")
    await docker_text(service, ALICE, "volume rm used spare")
