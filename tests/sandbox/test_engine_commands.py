"""Every docker subcommand through the sandbox layer, against the real engine."""

from __future__ import annotations

import asyncio
import json

import docker
import pytest
import pytest_asyncio

from bot.core.context import Upload
from bot.core.errors import NotFound, Refused, Unavailable, UserError
from bot.sandbox import naming
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
ALICE = new_actor("alice")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service():
    quotas = {"containers": 20, "running_containers": 12, "volumes": 8, "networks": 3}
    async with started_service(ALICE, quotas=quotas) as svc:
        yield svc


async def test_done_when_walkthrough(service: SandboxService) -> None:
    out = await docker_text(service, ALICE, "run -d --name web busybox httpd -f -p 80")
    assert len(out.strip().split()[-1]) == 64
    ps = await docker_text(service, ALICE, "ps")
    assert "CONTAINER ID" in ps and "web" in ps and "Up" in ps
    assert "dc-" not in ps
    await sh_text(service, ALICE, "echo hello from the host > index.html")
    copied = await docker_text(service, ALICE, "cp index.html web:/index.html")
    assert "Successfully copied" in copied
    assert "hello from the host" in await sh_text(service, ALICE, "wget -qO- http://web/")
    await docker_text(service, ALICE, "exec web sh -c 'echo changed > /index.html'")
    await docker_text(service, ALICE, "cp web:/index.html back.html")
    assert "changed" in await sh_text(service, ALICE, "cat back.html")


async def test_named_volume_outlives_containers(service: SandboxService) -> None:
    await docker_text(service, ALICE, "volume create notes")
    await docker_text(service, ALICE, "run --rm -v notes:/data busybox sh -c 'echo kept > /data/f'")
    out = await docker_text(service, ALICE, "run --rm -v notes:/data busybox cat /data/f")
    assert "kept" in out
    assert "notes" in await docker_text(service, ALICE, "volume ls")
    inspected = json.loads((await docker_text(service, ALICE, "volume inspect notes")).strip())
    assert inspected[0]["Name"] == "notes"
    assert not any(k.startswith("org.docker-coach") for k in inspected[0].get("Labels") or {})


async def test_foreground_run_returns_output_and_exit_code(service: SandboxService) -> None:
    out = await docker_text(service, ALICE, "run --rm busybox sh -c 'echo hi; exit 3'")
    assert "hi" in out and "code 3" in out


async def test_foreground_run_past_the_bound_keeps_running(service: SandboxService) -> None:
    out = await docker_text(
        service, ALICE, "run --name sleeper busybox sh -c 'echo start; sleep 60'"
    )
    assert "start" in out and "background" in out
    assert "sleeper" in await docker_text(service, ALICE, "ps --filter name=sleeper")
    await docker_text(service, ALICE, "rm -f sleeper")


async def test_lifecycle_commands(service: SandboxService) -> None:
    await docker_text(service, ALICE, "create --name life busybox sleep 300")
    assert "Created" in await docker_text(service, ALICE, "ps -a --filter name=life")
    assert "life" in await docker_text(service, ALICE, "start life")
    await docker_text(service, ALICE, "pause life")
    assert "Paused" in await docker_text(service, ALICE, "ps --filter name=life")
    await docker_text(service, ALICE, "unpause life")
    await docker_text(service, ALICE, "restart -t 0 life")
    assert "Up" in await docker_text(service, ALICE, "ps --filter name=life")
    await docker_text(service, ALICE, "kill life")
    assert "Exited" in await docker_text(service, ALICE, "ps -a --filter name=life")
    await docker_text(service, ALICE, "rm life")
    assert "life" not in await docker_text(service, ALICE, "ps -a -q --filter name=life")


async def test_logs_exec_top_stats_port(service: SandboxService) -> None:
    await docker_text(
        service,
        ALICE,
        "run -d --name talker -p 8080:8080 busybox "
        "sh -c 'for i in 1 2 3 4 5; do echo line$i; done; httpd -f -p 8080'",
    )
    logs = await eventually(
        lambda: docker_text(service, ALICE, "logs --tail 2 talker"), lambda out: "line5" in out
    )
    assert "line5" in logs and "line1" not in logs
    assert "/" in await docker_text(service, ALICE, "exec talker pwd")
    assert "A=1" in await docker_text(service, ALICE, "exec -e A=1 talker env")
    assert "httpd" in await docker_text(service, ALICE, "top talker")
    assert "talker" in await docker_text(service, ALICE, "stats --no-stream")
    attrs = [a for a in await inspect_containers(ALICE.user_id) if a["Name"].endswith("-talker")]
    bindings = attrs[0]["HostConfig"]["PortBindings"]["8080/tcp"]
    assert bindings and all(b["HostIp"] == "127.0.0.1" for b in bindings)
    await docker_text(service, ALICE, "rm -f talker")  # its 8080 is the next test's


async def test_published_ports_reach_the_host_shell(service: SandboxService) -> None:
    """-p publishes in the learner's host shell (its forwarder), as Docker publishes on the
    host; the container is reachable by name too."""
    await docker_text(service, ALICE, "run -d --name pub -p 8080:80 busybox httpd -f -p 80")
    ps = await service.commands.docker(ALICE, tr(), "ps")
    assert "0.0.0.0:8080->80/tcp" in ps[0].code
    port = await service.commands.docker(ALICE, tr(), "port pub")
    assert port[0].code == "80/tcp -> 0.0.0.0:8080"
    assert (await service.reader.state(ALICE)).container("pub").ports[0].host_port == 8080
    await sh_text(service, ALICE, "echo served > index.html")
    await docker_text(service, ALICE, "cp index.html pub:/index.html")
    assert "served" in await sh_text(service, ALICE, "wget -qO- http://pub:80/")
    assert "served" in await sh_text(service, ALICE, "wget -qO- http://localhost:8080/")
    await docker_text(service, ALICE, "create --name nopub busybox")
    with pytest.raises(UserError) as caught:  # no -p at all: Docker's own answer
        await service.commands.docker(ALICE, tr(), "port nopub 80")
    assert caught.value.key == "cli.no_public_port"
    await docker_text(service, ALICE, "rm -f pub nopub")


async def test_inspect_uses_the_users_names(service: SandboxService) -> None:
    await docker_text(service, ALICE, "run -d --name insp busybox sleep 300")
    data = json.loads((await docker_text(service, ALICE, "inspect insp")).strip())
    assert data[0]["Name"] == "/insp"
    assert data[0]["HostConfig"]["NetworkMode"] == "bridge"
    raw = json.dumps(data)
    # the sandbox's real names (a random id may hold "dc-", as in a layer's "…4bdc-init")
    sandbox = service.manager.get(ALICE.user_id)
    assert sandbox is not None and sandbox.scope.prefix not in raw
    assert "org.docker-coach" not in raw
    assert "bridge" in await docker_text(
        service, ALICE, "inspect -f '{{.HostConfig.NetworkMode}}' insp"
    )


async def test_rename_keeps_the_name_reachable(service: SandboxService) -> None:
    await docker_text(
        service, ALICE, "run -d --name old --network-alias api busybox httpd -f -p 80"
    )
    replies = await service.commands.docker(ALICE, tr(), "rename old new")
    assert replies[-1].body == "Done."  # no network refused the new name
    ps = await docker_text(service, ALICE, "ps")
    assert " new" in ps and " old" not in ps
    for reachable in ("new", "api"):  # the new name, and the alias the learner gave
        out = await sh_text(service, ALICE, f"wget -qO- http://{reachable}/ 2>&1; true")
        assert "bad address" not in out, reachable
    await docker_text(service, ALICE, "rm -f new")


async def test_networks(service: SandboxService) -> None:
    await docker_text(service, ALICE, "network create backend")
    assert "backend" in await docker_text(service, ALICE, "network ls")
    await docker_text(service, ALICE, "run -d --name api --network backend busybox httpd -f -p 80")
    assert "bad address" not in await sh_text(service, ALICE, "wget -qO- http://api/ 2>&1; true")
    await docker_text(service, ALICE, "run -d --name side busybox sleep 300")
    await docker_text(service, ALICE, "network connect backend side")
    out = await docker_text(service, ALICE, "exec side wget -qO- http://api/ 2>&1")
    assert "bad address" not in out
    inspected = json.loads((await docker_text(service, ALICE, "network inspect backend")).strip())
    assert inspected[0]["Name"] == "backend" and inspected[0]["Internal"] is True
    await docker_text(service, ALICE, "network disconnect backend side")
    await docker_text(service, ALICE, "rm -f api side")
    assert "backend" in await docker_text(service, ALICE, "network rm backend")
    assert "backend" not in await docker_text(service, ALICE, "network ls")
    await docker_text(service, ALICE, "network create spare")
    assert "spare" in await docker_text(service, ALICE, "network prune -f")


async def test_prunes(service: SandboxService) -> None:
    await docker_text(service, ALICE, "run --name done1 busybox true")
    out = await docker_text(service, ALICE, "container prune -f")
    assert "Deleted Containers" in out
    await docker_text(service, ALICE, "volume create loose")
    assert "loose" in await docker_text(service, ALICE, "volume prune -f")


async def test_images_pull_and_search(service: SandboxService) -> None:
    images = await docker_text(service, ALICE, "images")
    assert "busybox" in images and "127.0.0.1" not in images and "docker-coach/host" not in images
    pulled = (await docker_text(service, ALICE, "pull busybox")).strip().splitlines()
    assert pulled[-3] == "latest: Pulling from library/busybox"
    assert pulled[-2].startswith("Status: ") and "busybox:latest" in pulled[-2]
    assert pulled[-1] == "docker.io/library/busybox:latest"
    found = await docker_text(service, ALICE, "search nginx")
    assert "NAME" in found and "nginx" in found


async def test_search_says_plainly_when_the_index_is_unreachable(service: SandboxService) -> None:
    with changed_settings(service, search_index="127.0.0.1:9"), pytest.raises(UserError) as caught:
        await service.commands.docker(ALICE, tr(), "search nginx")
    assert caught.value.key == "sandbox.index_unreachable"


async def test_a_slow_pull_is_told_plainly_and_the_worker_stays_up(
    service: SandboxService,
) -> None:
    with changed_settings(service, pull_timeout_seconds=0.001), pytest.raises(UserError) as caught:
        await service.commands.docker(ALICE, tr(), "pull busybox")
    assert caught.value.key == "sandbox.pull_slow"
    assert service.manager.pool.workers[0].healthy
    assert "CONTAINER ID" in await docker_text(service, ALICE, "ps")


async def test_engine_errors_get_a_friendly_line(service: SandboxService) -> None:
    await docker_text(service, ALICE, "run -d --name twin busybox sleep 300")
    with pytest.raises(UserError) as caught:
        await service.commands.docker(ALICE, tr(), "run -d --name twin busybox sleep 300")
    assert caught.value.params["hint"]
    message = caught.value.params["message"]
    assert "dc-" not in message and not naming.has_full_id(message)
    assert 'in use by container "twin"' in message  # the id, shown as the learner's name
    await docker_text(service, ALICE, "stop -t 0 twin")
    with pytest.raises(UserError) as caught:
        await service.commands.docker(ALICE, tr(), "exec twin ls")
    assert "not running" in caught.value.params["message"]
    with pytest.raises(NotFound):
        await service.commands.docker(ALICE, tr(), "logs ghost")
    await docker_text(service, ALICE, "rm twin")


async def test_removing_several_reports_each_and_hints_when_all_fail(
    service: SandboxService,
) -> None:
    await docker_text(service, ALICE, "volume create gone1")
    replies = await service.commands.docker(ALICE, tr(), "volume rm gone1 ghostvol")
    assert replies[-1].code.splitlines()[0] == "gone1" and "ghostvol" in replies[-1].code
    await docker_text(service, ALICE, "run -d --name busyrm busybox sleep 300")
    with pytest.raises(UserError) as caught:
        await service.commands.docker(ALICE, tr(), "rm busyrm")
    assert "rm -f" in caught.value.params["hint"]
    await docker_text(service, ALICE, "rm -f busyrm")
    with pytest.raises(UserError) as caught:  # each failure on its own line, as docker's
        await service.commands.docker(ALICE, tr(), "stop ghost1 ghost2")
    assert message(caught.value).split("```")[1].strip().splitlines() == [
        "Error response from daemon: No such container: ghost1",
        "Error response from daemon: No such container: ghost2",
    ]


async def test_cp_of_a_directory_under_a_new_name_keeps_hard_links(
    service: SandboxService,
) -> None:
    await sh_text(service, ALICE, "mkdir -p linked && echo x > linked/a && ln linked/a linked/b")
    await docker_text(service, ALICE, "run -d --name linkbox busybox sleep 300")
    assert "Successfully copied" in await docker_text(service, ALICE, "cp linked linkbox:/copy")
    listing = await docker_text(service, ALICE, "exec linkbox stat -c '%h %n' /copy/a /copy/b")
    assert "2 /copy/a" in listing and "2 /copy/b" in listing
    await docker_text(service, ALICE, "rm -f linkbox")


async def test_an_unnamed_volume_is_always_a_new_one(service: SandboxService) -> None:
    first = (await docker_text(service, ALICE, "volume create")).strip()
    second = (await docker_text(service, ALICE, "volume create")).strip()
    await docker_text(service, ALICE, f"volume rm {first}")
    third = (await docker_text(service, ALICE, "volume create")).strip()
    assert len({first, second, third}) == 2 and third != second
    await docker_text(service, ALICE, f"volume rm {second} {third}")


async def test_tmpfs_options_keep_the_path_and_a_size_within_the_cap(
    service: SandboxService,
) -> None:
    out = await docker_text(
        service, ALICE, "run --rm --tmpfs /cache:noexec,size=32m busybox grep /cache /proc/mounts"
    )
    assert "tmpfs /cache tmpfs" in out and "noexec" in out and "size=32768k" in out
    out = await docker_text(
        service, ALICE, "run --rm --tmpfs /cache:noexec busybox grep /cache /proc/mounts"
    )
    assert "noexec" in out and "size=16384k" in out  # no size asked: the sandbox's default
    # a size above limits.tmpfs_max_bytes is refused by the policy (test_engine_quota.py)


async def test_sh_starts_a_host_shell_stopped_behind_the_coachs_back(
    service: SandboxService,
) -> None:
    await sh_text(service, ALICE, "echo kept > kept.txt")
    host = service.manager.get(ALICE.user_id).scope.host_name
    await asyncio.to_thread(_stop_container, host)  # as after an engine restart
    assert "back" in await sh_text(service, ALICE, "echo back")
    await asyncio.to_thread(_stop_container, host)
    reply = await service.commands.download(ALICE, tr(), "kept.txt")  # read without starting it
    assert reply.files[0].data == b"kept\n"
    assert not await asyncio.to_thread(_running, host)
    assert "again" in await sh_text(service, ALICE, "echo again")


def _stop_container(name: str) -> None:
    client = docker.from_env()
    try:
        client.api.stop(name, timeout=0)
    finally:
        client.close()


def _running(name: str) -> bool:
    client = docker.from_env()
    try:
        return bool(client.api.inspect_container(name)["State"]["Running"])
    finally:
        client.close()


async def test_long_output_arrives_whole(service: SandboxService) -> None:
    """Replies carry the whole output: fitting it to a medium is each front end's job."""
    expected = [str(n) for n in range(1, 5001)]
    with changed_settings(service, output_bytes=1024 * 1024):
        run = await service.commands.docker(ALICE, tr(), "run --name counter busybox seq 1 5000")
        logs = await service.commands.docker(ALICE, tr(), "logs counter")
        tail = await service.commands.docker(ALICE, tr(), "logs --tail 3 counter")
    assert (run[-1].code or "").splitlines() == expected
    assert (logs[-1].code or "").splitlines() == expected
    assert not logs[-1].files and logs[-1].code_name == "docker-logs.txt"
    assert (tail[-1].code or "").splitlines() == expected[-3:]
    await docker_text(service, ALICE, "rm counter")


async def test_output_past_the_limit_stops_there_and_says_so(service: SandboxService) -> None:
    cap = service.manager.settings.output_bytes
    replies = await service.commands.docker(ALICE, tr(), "run --rm busybox seq 1 5000")
    code = replies[-1].code or ""
    assert code.startswith("1\n2\n") and len(code.encode()) <= cap
    assert f"{cap} bytes" in replies[-1].body


async def test_uploads_download_and_reads(service: SandboxService) -> None:
    async def read() -> bytes:
        return b"uploaded!"

    actor = ALICE.__class__(
        ALICE.user_id, ALICE.display_name, uploads=(Upload("../../notes.txt", 9, read),)
    )
    replies = await service.commands.sh(actor, tr(), "cat notes.txt")
    assert "uploaded!" in replies[-1].code
    reply = await service.commands.download(ALICE, tr(), "notes.txt")
    assert reply.files[0].data == b"uploaded!"
    assert await service.reader.read_file(ALICE, None, "notes.txt") == b"uploaded!"
    assert await service.reader.read_file(ALICE, None, "missing.txt") is None
    with pytest.raises(UserError):
        await service.commands.download(ALICE, tr(), "missing.txt")


async def test_state_and_names(service: SandboxService) -> None:
    await docker_text(
        service, ALICE, "run -d --name st -e COLOR=blue -v stvol:/d busybox sleep 300"
    )
    state = await service.reader.state(ALICE)
    view = state.container("st")
    assert state.exists and view is not None and view.running
    assert view.env["COLOR"] == "blue" and view.mounts[0].source == "stvol"
    assert "stvol" in state.volumes and "busybox:latest" in state.images
    assert "st" in await service.reader.container_names(ALICE)
    assert "stvol" in await service.reader.volume_names(ALICE)
    assert (await service.reader.state(new_actor("nobody"))).exists is False
    await docker_text(
        service, ALICE, "run -d --name webby busybox sh -c 'echo ok > /i.html; httpd -f -p 80 -h /'"
    )
    body = None
    for _ in range(20):  # the server needs a moment to listen
        body = await service.reader.http_get(ALICE, "http://webby/i.html")
        if body is not None:
            break
        await asyncio.sleep(0.1)
    assert body == "ok\n"
    assert await service.reader.http_get(ALICE, "http://nothing-here/") is None


async def test_status_reply(service: SandboxService) -> None:
    reply = await service.commands.status(ALICE, tr())
    names = [f.name for f in reply.fields]
    assert "Worker" in names and "Limits per container" in names
    empty = await service.commands.status(new_actor("fresh"), tr())
    assert "no sandbox" in empty.body


async def test_cli_errors_and_unsupported(service: SandboxService) -> None:
    with pytest.raises(UserError):
        await service.commands.docker(ALICE, tr(), "run --bogus busybox")
    with pytest.raises(UserError):
        await service.commands.docker(ALICE, tr(), "build .")
    with pytest.raises(Refused):
        await service.commands.docker(ALICE, tr(), "run --privileged busybox")
    assert not isinstance(Unavailable, type(None))
