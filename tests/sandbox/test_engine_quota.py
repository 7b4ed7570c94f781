"""Disk and resource quotas that hold, against the local engine (btrfs, size limits enforced).

Every container the coach creates has a writable-layer limit, and ``dd`` stops there — in a
container and in the host shell. The disk watchdog keeps a sandbox within its budget when a
volume is filled or three containers write at once, while another learner keeps working;
over the budget, writes are refused and freeing space works. Uploads and ``docker cp`` count,
tmpfs mounts are sized, pulls per hour are limited, a worker below its free-space floor
refuses new sandboxes and pulls but serves the learners it has, and 500,000 empty files do
not hurt the worker.

The watchdog runs as in production (its own loop); tests wait for the engine's state (a
container exited) with ``eventually`` and call ``watchdog.round()`` for a measurement at a
known moment. Sizes are read from the engine directly, not through the coach.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from docker.api import APIClient

from bot.core.clock import FixedClock
from bot.core.context import Actor, Upload
from bot.core.errors import Refused, Unavailable, UserError
from bot.ops.health import disk_detail
from bot.sandbox import diskprobe
from bot.sandbox import watchdog as watchdog_module
from bot.sandbox.service import SandboxService
from bot.settings import REPO_ROOT
from tests.sandbox.engine_support import (
    changed_settings,
    docker_text,
    eventually,
    inspect_containers,
    message,
    new_actor,
    sh_text,
    text_of,
    tr,
)
from tests.sandbox.quota_support import (
    MIB,
    dd_written,
    exited,
    quota_service,
    sandbox_bytes,
    volume_bytes,
    while_other_works,
)

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]
GIB = 1024 * MIB
BUDGET = GIB  # the default budget
WRITABLE = 512 * MIB  # the default writable-layer limit
FILLER = new_actor("filler")
TRIPLE = new_actor("triple")
SHELL = new_actor("shell")
BIGBOX = new_actor("bigbox")
OVER = new_actor("over")
ROOM = new_actor("room")
TMPFS = new_actor("tmpfs")
FLOOD = new_actor("flood")
PATHS = new_actor("paths")
STATUS = new_actor("status")
CAPPED = new_actor("capped")
OTHER = new_actor("other")  # another learner, working all along
ACTORS = (FILLER, TRIPLE, SHELL, BIGBOX, OVER, ROOM, TMPFS, FLOOD, PATHS, STATUS, CAPPED, OTHER)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service():
    async with quota_service(*ACTORS) as svc:
        yield svc


async def _key(call: Any) -> str:
    try:
        await call
    except UserError as exc:
        return exc.key
    return "ok"


def _real(svc: SandboxService, actor: Actor, name: str) -> str:
    sandbox = svc.manager.get(actor.user_id)
    assert sandbox is not None
    return sandbox.scope.real(name) if name != "host" else sandbox.scope.host_name


# --------------------------------------------------------------------------------------------
# The engine caps every container
# --------------------------------------------------------------------------------------------


async def test_the_local_engine_caps_containers_and_admins_see_it(service) -> None:
    worker = service.manager.pool.workers[0]
    support = await service.watchdog.support(worker)
    assert support is not None and support.driver == "btrfs"
    assert support.supported and support.enforced and support.limits_disk
    assert "Disk quota exceeded" in support.detail
    assert worker.disk_support == support
    assert service.watchdog.interval(worker) == 15
    [health] = await service.reader.probe_workers()
    assert health.disk is not None and health.disk.limits_enforced is True
    assert "disk limits enforced (btrfs)" in disk_detail(health.disk)


CREATION_PATHS = {
    ("bot/sandbox/provision.py", "create_host"),
    ("bot/sandbox/ops/run.py", "_create_blocking"),
    ("bot/sandbox/diskprobe.py", "run_probe"),
    ("bot/sandbox/usage.py", "ensure_monitor"),
    ("bot/sandbox/ops/build.py", "_create"),  # a build step (checked in test_engine_build_compose)
    ("bot/sandbox/ops/build.py", "_stage_files"),  # COPY --from: created, read, removed
    ("bot/sandbox/ops/build.py", "read"),
    ("bot/sandbox/lease.py", "_create"),  # the instance's lease: never started, holds a file
}


def _creation_calls() -> set[tuple[str, str]]:
    """Every function in bot/ that creates a container through docker-py."""
    found: set[tuple[str, str]] = set()
    for path in sorted((REPO_ROOT / "bot").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                named = isinstance(node, ast.Attribute) and node.attr == "create_container"
                collection = (  # client.containers.create / .run
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("create", "run")
                    and "container" in ast.unparse(node.func.value)
                )
                if named or collection:
                    found.add((str(Path(path).relative_to(REPO_ROOT)), function.name))
    return found


async def test_every_container_the_coach_creates_has_a_writable_limit(
    service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each place in the code that creates a container is one of the known paths, and each
    of them, exercised here against the engine, asks for a size limit."""
    assert _creation_calls() == CREATION_PATHS
    created: list[dict[str, Any]] = []
    original = APIClient.create_container

    def recording(self: APIClient, *args: Any, **kwargs: Any) -> Any:
        if (kwargs.get("labels") or {}).get("org.docker-coach.kind") != "lease":  # never runs
            created.append(dict(kwargs.get("host_config") or {}))
        return original(self, *args, **kwargs)

    settings = service.manager.settings
    worker = service.manager.pool.workers[0]
    await worker.ensure()  # brought up in the background since faults' start
    await service.watchdog.support(worker)  # what the coach learns before its first sandbox
    monkeypatch.setattr(APIClient, "create_container", recording)
    await docker_text(service, PATHS, "ps")  # the sandbox: network and host shell
    await docker_text(service, PATHS, "run -d --name p1 -v pdata:/d busybox sleep 600")
    await docker_text(service, PATHS, "create --name p2 busybox true")
    await docker_text(service, PATHS, "run --rm --name p3 busybox true")
    await service.watchdog.measure(service.manager.get(PATHS.user_id))  # the disk monitor
    await service.watchdog.space(worker, 0.0)  # the free-space probe
    support = await worker.run(
        lambda api: diskprobe.detect_support(
            api, settings.host_image, settings.limits, settings.instance
        )
    )  # the quota probe
    assert support.limits_disk
    assert len(created) >= 6
    for host_config in created:
        assert int(host_config["StorageOpt"]["size"]) > 0, host_config
    monkeypatch.undo()
    inspected = await inspect_containers(PATHS.user_id)
    kinds = {a["Config"]["Labels"]["org.docker-coach.kind"] for a in inspected}
    assert kinds == {"host", "container", "disk-monitor"}
    for attrs in inspected:
        size = int(attrs["HostConfig"]["StorageOpt"]["size"])
        assert WRITABLE < size <= WRITABLE + settings.max_image_bytes, attrs["Name"]
    await docker_text(service, PATHS, "rm -f p1 p2")


async def test_dd_in_a_container_stops_at_its_writable_limit(service) -> None:
    line = "run -d --name big busybox dd if=/dev/zero of=/big bs=1M count=2048"
    await docker_text(service, BIGBOX, line)
    status = await exited(service, BIGBOX, "big")
    assert "Exited (1)" in status  # dd failed: the engine's limit, not the watchdog, stopped it
    logs = await docker_text(service, BIGBOX, "logs big")
    assert "Disk quota exceeded" in logs
    written = dd_written(logs)
    assert WRITABLE * 0.9 < written <= WRITABLE * 1.05
    await docker_text(service, BIGBOX, "rm big")


async def test_dd_in_the_host_shell_stops_at_its_writable_limit(service) -> None:
    with changed_settings(service, exec_timeout_seconds=120):
        out = await sh_text(service, SHELL, "dd if=/dev/zero of=big bs=1M count=2048; echo rc=$?")
    assert "Disk quota exceeded" in out and "rc=1" in out
    written = dd_written(out)
    assert WRITABLE * 0.9 < written <= WRITABLE * 1.05
    await sh_text(service, SHELL, "rm big")


async def test_sandbox_shows_disk_use_against_the_budget(service) -> None:
    # sync: btrfs sizes what is committed (a fresh write shows within its 30 s commit)
    await sh_text(service, STATUS, "dd if=/dev/zero of=three bs=1M count=3 && sync")
    reply = await service.commands.status(STATUS, tr())
    [disk] = [field for field in reply.fields if field.name == "Disk"]
    assert "of 1.0 GiB (0%)" in disk.value and "• host shell: 3." in disk.value
    assert "at most 512 MiB into its own filesystem" in disk.value


# --------------------------------------------------------------------------------------------
# The watchdog holds the budget
# --------------------------------------------------------------------------------------------


async def test_dd_into_a_volume_is_stopped_by_the_watchdog(service) -> None:
    """Volumes have no size limit: the watchdog stops the writer, the learner is told why,
    their total stays within the budget + 10 %, and another learner keeps working."""
    await docker_text(service, OTHER, "ps")
    line = "run -d --name filler -v data:/d busybox dd if=/dev/zero of=/d/big bs=1M count=2048"
    await docker_text(service, FILLER, line)
    seen, answered = await while_other_works(service, OTHER, exited(service, FILLER, "filler"))
    assert answered >= 1
    assert "Exited (137)" in seen  # killed, not finished: 2 GiB did not fit
    assert "disk budget" in seen and "volume `data`" in seen  # told, in a reply, what and why
    total = await sandbox_bytes(FILLER.user_id)
    assert total <= BUDGET * 1.10
    assert await volume_bytes(_real(service, FILLER, "data")) <= BUDGET * 1.10
    measured = await service.watchdog.measure(service.manager.get(FILLER.user_id))
    assert measured is not None and abs(measured.total - total) <= 16 * MIB
    await docker_text(service, FILLER, "rm filler")
    await docker_text(service, FILLER, "volume rm data")
    assert "data" not in await docker_text(service, FILLER, "volume ls")


async def test_three_containers_writing_at_once_stay_within_the_budget(service) -> None:
    names = ("w1", "w2", "w3")
    for name in names:  # each may write 512 MiB: together 1.5 GiB, more than the budget
        await docker_text(
            service, TRIPLE, f"run -d --name {name} busybox dd if=/dev/zero of=/x bs=1M count=1024"
        )

    async def all_exited() -> list[str]:
        return [await exited(service, TRIPLE, name) for name in names]

    seen, answered = await while_other_works(service, OTHER, all_exited())
    assert answered >= 1
    assert any("Exited (137)" in status for status in seen)  # the watchdog stopped some
    assert await sandbox_bytes(TRIPLE.user_id) <= BUDGET * 1.10
    await docker_text(service, TRIPLE, "rm " + " ".join(names))


async def test_over_the_budget_writes_are_refused_until_space_is_freed(service) -> None:
    await docker_text(service, OVER, "run -d --name keep busybox sleep 600")
    await sh_text(service, OVER, "dd if=/dev/zero of=fill bs=1M count=40")
    sandbox = service.manager.get(OVER.user_id)
    small = service.manager.settings.disk.model_copy(update={"budget_bytes": 32 * MIB})
    with changed_settings(service, disk=small):
        await service.watchdog.round()
        assert service.watchdog.state(sandbox).over
        replies = await service.commands.docker(OVER, tr(), "ps")  # looking works…
        notice = text_of(replies)
        assert "32 MiB disk budget" in notice and "host shell" in notice  # …and tells why
        for line in ("run --rm busybox true", "start keep", "pull busybox"):
            assert await _key(service.commands.docker(OVER, tr(), line)) == (
                "sandbox.disk.over_budget"
            ), line
        with pytest.raises(UserError) as refused:
            await service.commands.docker(OVER, tr(), "exec keep sh -c 'echo x > /y'")
        assert "`rm`" in message(refused.value) or "rm FILE" in message(refused.value)
        assert await _key(service.commands.sh(OVER, tr(), "dd if=/dev/zero of=more")) == (
            "sandbox.disk.over_budget_sh"
        )
        assert await _key(service.commands.sh(OVER, tr(), "echo x > y")) == (
            "sandbox.disk.over_budget_sh"
        )
        upload = Upload("a.txt", 3, _reader(b"abc"))
        uploader = Actor(OVER.user_id, OVER.display_name, uploads=(upload,))
        assert await _key(service.commands.docker(uploader, tr(), "ps")) == (
            "sandbox.disk.over_budget_upload"
        )
        assert "bin" in await docker_text(service, OVER, "exec keep ls /")  # looking, inside
        assert "fill" in await sh_text(service, OVER, "ls")
        await sh_text(service, OVER, "rm fill")  # freeing works…
        assert "ok" in await docker_text(service, OVER, "run --rm busybox echo ok")  # …and counts
        assert not service.watchdog.state(sandbox).over
    await docker_text(service, OVER, "rm -f keep")


def _reader(data: bytes) -> Callable[[], Any]:
    async def read() -> bytes:
        return data

    return read


async def test_uploads_and_cp_count_against_the_budget(service) -> None:
    await docker_text(service, ROOM, "run -d --name box busybox sleep 600")
    await sh_text(service, ROOM, "dd if=/dev/zero of=five bs=1M count=5")
    await sh_text(service, ROOM, "dd if=/dev/zero of=fill bs=1M count=23")
    small = service.manager.settings.disk.model_copy(update={"budget_bytes": 32 * MIB})
    with changed_settings(service, disk=small):
        await service.watchdog.round()  # 28 MiB of 32 used
        with pytest.raises(UserError) as refused:
            await service.commands.docker(ROOM, tr(), "cp five box:/five")
        assert refused.value.key == "sandbox.disk.no_room" and "5.0 MiB" in message(refused.value)
        big = Upload("big.bin", 6 * MIB, _reader(b"\0" * 6 * MIB))
        uploader = Actor(ROOM.user_id, ROOM.display_name, uploads=(big,))
        assert await _key(service.commands.docker(uploader, tr(), "ps")) == "sandbox.disk.no_room"
        assert "big.bin" not in await sh_text(service, ROOM, "ls")
        await sh_text(service, ROOM, "rm fill")
        await service.watchdog.round()
        assert "Successfully copied" in await docker_text(service, ROOM, "cp five box:/five")
        await service.watchdog.round()
        state = service.watchdog.state(service.manager.get(ROOM.user_id))
        assert state.usage is not None
        box = next(p for p in state.usage.parts if p.name == "box")
        assert box.bytes >= 5 * MIB  # what was copied in counts, in the container it went to
        assert "big.bin" in text_of(await service.commands.docker(uploader, tr(), "ps"))
    await docker_text(service, ROOM, "rm -f box")


# --------------------------------------------------------------------------------------------
# Other resources
# --------------------------------------------------------------------------------------------


async def test_tmpfs_mounts_are_sized_and_capped(service) -> None:
    await docker_text(service, TMPFS, "run -d --name t1 --tmpfs /t busybox sleep 600")
    mount = "type=tmpfs,target=/m,tmpfs-size=8m"
    await docker_text(service, TMPFS, f"run -d --name t2 --mount {mount} busybox sleep 600")
    attrs = {a["Name"].rsplit("-", 1)[-1]: a for a in await inspect_containers(TMPFS.user_id)}
    assert attrs["t1"]["HostConfig"]["Tmpfs"]["/t"] == f"size={16 * MIB}"
    [mounted] = attrs["t2"]["HostConfig"]["Mounts"]
    assert mounted["TmpfsOptions"]["SizeBytes"] == 8 * MIB
    out = await docker_text(service, TMPFS, "exec t1 dd if=/dev/zero of=/t/x bs=1M count=32")
    assert "No space left on device" in out
    with pytest.raises(Refused) as refused:
        await service.commands.docker(TMPFS, tr(), "run --tmpfs /t:size=1g busybox true")
    assert refused.value.key == "policy.tmpfs_size" and "64m" in message(refused.value)
    await docker_text(service, TMPFS, "rm -f t1 t2")


async def test_pulls_per_user_per_hour_are_limited() -> None:
    clock = FixedClock()
    actor = new_actor("puller")
    async with quota_service(actor, clock=clock, quotas={"pulls_per_hour": 2}) as svc:
        assert "busybox" in await docker_text(svc, actor, "pull busybox")
        assert "alpine" in await docker_text(svc, actor, "pull alpine")
        with pytest.raises(UserError) as refused:
            await svc.commands.docker(actor, tr(), "pull busybox")
        assert refused.value.key == "sandbox.quota.pulls"
        assert refused.value.params == {"limit": 2, "minutes": 60}
        assert "busybox" in await docker_text(svc, actor, "run --rm busybox echo busybox")
        clock.advance(minutes=61)
        assert "busybox" in await docker_text(svc, actor, "pull busybox")


async def test_below_the_floor_new_sandboxes_and_pulls_are_refused(service) -> None:
    """Existing learners keep working; admins see the worker below its floor."""
    await docker_text(service, OTHER, "ps")
    worker = service.manager.pool.workers[0]
    floor = service.manager.settings.disk.model_copy(update={"free_floor_fraction": 1.0})
    newcomer = new_actor("newcomer")
    with changed_settings(service, disk=floor):
        await service.watchdog.space(worker, 0.0)
        with pytest.raises(Unavailable) as refused:
            await service.commands.docker(newcomer, tr(), "ps")
        assert refused.value.key == "sandbox.disk.floor_new"
        assert "almost out of disk space" in message(refused.value)
        assert service.manager.get(newcomer.user_id) is None
        with pytest.raises(Unavailable) as refused:
            await service.commands.docker(OTHER, tr(), "pull alpine")
        assert refused.value.key == "sandbox.disk.floor_pull"
        assert "hi" in await docker_text(service, OTHER, "run --rm busybox echo hi")
        assert "hello" in await sh_text(service, OTHER, "echo hello")
        [health] = await service.reader.probe_workers()
        assert health.healthy and health.disk is not None and health.disk.below_floor
        assert "BELOW the 100% free-space floor" in disk_detail(health.disk)
    await service.watchdog.space(worker, 0.0)
    assert not service.watchdog.below_floor(worker)
    await docker_text(service, newcomer, "ps")
    await service.reader.destroy_user(newcomer.user_id)


@pytest.mark.slow
async def test_half_a_million_empty_files_leave_the_worker_healthy(service) -> None:
    """btrfs has no inode limit; the files' metadata counts against the container's size
    limit: 500,000 fit in 512 MiB (about 176 MiB), far fewer in a small limit."""
    script = "mkdir /m && cd /m && seq 1 500000 | xargs touch && ls | wc -l"
    await docker_text(service, FLOOD, f"run -d --name flood busybox sh -c '{script}'")
    _seen, answered = await while_other_works(
        service, OTHER, exited(service, FLOOD, "flood", attempts=6000)
    )
    assert answered >= 1
    assert "500000" in await docker_text(service, FLOOD, "logs flood")
    await service.watchdog.round()  # the watchdog measures it, however many files
    assert "CONTAINER ID" in await docker_text(service, OTHER, "ps")
    tight = service.manager.settings.limits.model_copy(update={"writable_bytes": 16 * MIB})
    loop = "mkdir /m && cd /m && i=0; while touch f$i; do i=$((i+1)); done; echo made $i"
    with changed_settings(service, limits=tight):
        await docker_text(service, FLOOD, f"run -d --name flood2 busybox sh -c '{loop}'")
    await exited(service, FLOOD, "flood2", attempts=6000)
    logs = await docker_text(service, FLOOD, "logs flood2")
    assert "Disk quota exceeded" in logs
    made = int(logs.split("made ")[-1].split()[0])
    assert 1000 < made < 500_000
    await docker_text(service, FLOOD, "rm flood flood2")


async def test_every_sandbox_is_measured_at_least_every_interval(service) -> None:
    await docker_text(service, OTHER, "ps")  # served (also when this test runs alone)
    sandbox = service.manager.get(OTHER.user_id)
    assert sandbox is not None
    await service.watchdog.round()
    state = service.watchdog.state(sandbox)
    assert state.usage is not None and state.due - time.monotonic() <= 15.0


async def test_a_sandbox_its_caps_keep_under_the_budget_is_looked_at_every_interval(
    service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running container that mounts no volume can add at most its cap: a sandbox whose
    running containers cannot reach the budget even together is measured every interval,
    not every couple of seconds. One whose container mounts a volume (no size limit) is
    watched on the close schedule again."""
    monkeypatch.setattr(watchdog_module, "HOT_SECONDS", 0.0)  # no close look after a command
    watchdog = service.watchdog
    await docker_text(service, CAPPED, "run -d --name idle busybox sleep 600")
    sandbox = service.manager.get(CAPPED.user_id)
    assert sandbox is not None
    interval = watchdog.interval(sandbox.worker)

    async def next_look_in() -> float:
        for _ in range(2):  # the first look after a command sees every part as new
            await watchdog.measure(sandbox)
        return watchdog.state(sandbox).due - time.monotonic()

    assert await next_look_in() > interval / 2  # WRITABLE (512 MiB) fits in the budget
    real = _real(service, CAPPED, "idle")
    idle = [a for a in await inspect_containers(CAPPED.user_id) if a["Name"] == f"/{real}"]
    assert watchdog.state(sandbox).caps[idle[0]["Id"]] >= WRITABLE  # the engine's own limit

    await docker_text(service, CAPPED, "run -d --name vol -v data:/d busybox sleep 600")
    assert await next_look_in() <= 3.0  # BUDGET / write_rate_bytes / 2 = 2 s
    await docker_text(service, CAPPED, "rm -f vol")
    await docker_text(service, CAPPED, "run -d --name idle2 busybox sleep 600")
    assert await next_look_in() <= 3.0  # two caps (1 GiB) could fill the budget
    await docker_text(service, CAPPED, "rm -f idle idle2")
    await docker_text(service, CAPPED, "volume rm data")


async def test_sh_and_exec_stop_at_their_time_limit(service) -> None:
    """A busy loop (CPU time) in the host shell and in a container ends at the wall-clock
    limit (``exec_timeout_seconds``, 4 s in these tests), and nothing of it keeps running."""
    seconds = service.manager.settings.exec_timeout_seconds
    out = await sh_text(service, TMPFS, "while :; do :; done")
    assert f"still running after {seconds:g} s" in out and "restarted" in out
    assert "while" not in await sh_text(service, TMPFS, "ps -o args")  # the shell restarted
    await docker_text(service, TMPFS, "run -d --name spin busybox sleep 600")
    out = await docker_text(service, TMPFS, "exec spin sh -c 'while :; do :; done'")
    assert f"still running after {seconds:g} s" in out and "was stopped" in out

    async def top() -> str:
        return await docker_text(service, TMPFS, "top spin")

    # `timeout -s KILL` ends it a moment after the reply; the container runs on
    assert "while" not in await eventually(top, lambda out: "while" not in out)
    await docker_text(service, TMPFS, "rm -f spin")


async def test_disk_probes_label_their_volume_and_a_stopped_coachs_are_removed(
    service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The free-space probe's anonymous volume carries the probe's labels (labels are the
    truth about what exists); one a stopped coach left behind is removed at bring-up, one
    in use is kept."""
    worker = service.manager.pool.workers[0]
    labels = {"org.docker-coach.instance": service.manager.instance, diskprobe.PROBE: "df"}
    mounts: list[Any] = []
    original = APIClient.create_container

    def recording(self: APIClient, *args: Any, **kwargs: Any) -> Any:
        mounts.extend((kwargs.get("host_config") or {}).get("Mounts") or [])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(APIClient, "create_container", recording)
    await service.watchdog.space(worker, 0.0)
    monkeypatch.undo()
    assert mounts  # the watchdog's own probes may be recorded too: all of them labelled
    assert all(m["VolumeOptions"]["Labels"] == labels for m in mounts)

    stopped = f"{service.manager.instance}-stopped"  # a stopped coach's instance: nothing live
    left = {"org.docker-coach.instance": stopped, diskprobe.PROBE: "df"}

    def leftovers(api: APIClient) -> tuple[bool, bool]:
        stale = api.create_volume(labels=left)["Name"]
        used = api.create_volume(labels=left)["Name"]
        holder = api.create_container(
            "busybox", ["true"], volumes=["/v"],
            host_config=api.create_host_config(binds={used: {"bind": "/v", "mode": "rw"}}),
        )  # fmt: skip
        try:
            diskprobe.remove_stale_probes(api, stopped, older_than=None)  # as at bring-up
            names = {v["Name"] for v in api.volumes().get("Volumes") or []}
            return stale in names, used in names
        finally:
            api.remove_container(holder["Id"], force=True)
            api.remove_volume(used)

    assert await worker.run(leftovers) == (False, True)
