"""What a learner's command costs the engine (issue 19): the engine requests made in the
learner's turn, counted at docker-py's HTTP layer on a real engine, are held to what the
docker CLI makes for the same command (``bench/engine_calls.py`` prints both side by side).
Each is a round trip through the coach's thread pool; in a class's burst each waits its
turn there, so a request too many is a wait too many for every learner."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import docker
import pytest
from docker.api import APIClient

from bot.core.errors import UserError
from bot.sandbox import naming, provision, usage
from tests.sandbox.engine_support import (
    EngineRequests,
    docker_text,
    engine_settings,
    eventually,
    isolated_service,
    message,
    new_actor,
    sh_text,
    start,
)

pytestmark = [pytest.mark.docker]

# a returning learner's session (their sandbox is served, their host shell seen running):
# the command and the most requests it may make; the docker CLI's own count beside it
SESSION = (
    ("run -d --name web nginx", 4),  # CLI 4: ping, create, wait, start
    ("ps", 2),  # CLI 2: ping, list
    ("exec web echo ready", 4),  # CLI 5: ping, inspect, exec create, start, inspect
    ("logs web", 3),  # CLI 3: ping, inspect, logs
    ("rm -f web", 2),  # CLI 2: ping, remove
)


async def test_a_returning_learners_commands_cost_what_the_clis_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # however slow the machine, the host shell seen by the first command is still trusted
    monkeypatch.setattr(provision, "HOST_TRUST_SECONDS", 3600.0)
    actor = new_actor("calls")
    svc = await start(isolated_service())
    recorder = EngineRequests()
    try:
        await sh_text(svc, actor, "true")  # the sandbox made, its host shell seen running
        counted: dict[str, list[str]] = {}
        with recorder.installed():
            for line, _most in SESSION:
                mark = recorder.mark()
                assert "Error" not in await docker_text(svc, actor, line)
                counted[line] = recorder.of(actor.user_id, mark)
        for line, most in SESSION:
            assert len(counted[line]) <= most, (line, counted[line])
        # none looked at the host shell (seen running moments ago): run -d's container joins
        # the sandbox's network, which the engine keeps while the host shell is attached
        host = "GET /containers/<name>/json"
        assert not any(host in counted[line] for line, _most in SESSION), counted
        # run -d: the learner's own image names known (none: a sandbox just made), the
        # engine's record of its container not read back (the host shell's creation had
        # the same limit fields, kept): the quota's listing, the image, create, start
        assert counted["run -d --name web nginx"] == [
            "GET /containers/json",
            "GET /images/nginx:latest/json",
            "POST /containers/create",
            "POST /containers/<id>/start",
        ], counted
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()


def _behind_the_coachs_back(call: Callable[[APIClient], object]) -> None:
    """Blocking: one call on the engine through a client of its own (an operator's)."""
    client = docker.from_env()
    try:
        call(client.api)
    finally:
        client.close()


def _stop_host(name: str) -> None:
    _behind_the_coachs_back(lambda api: api.stop(name, timeout=0))


async def test_a_host_shell_stopped_behind_the_coachs_back_still_forwards_ports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``rm -f`` trusts the host shell it saw running moments ago; stopped since (as by an
    engine restart), it is started again when the forwarder's new table is handed over: the
    removed container's port is free in the host shell again, the others' still forwarded."""
    monkeypatch.setattr(provision, "HOST_TRUST_SECONDS", 3600.0)
    actor = new_actor("portwake")
    svc = await start(isolated_service(engine_settings()))
    try:
        await docker_text(svc, actor, "run -d --name one -p 8081:80 busybox httpd -f -p 80")
        await docker_text(svc, actor, "run -d --name two -p 8082:80 busybox httpd -f -p 80")
        sandbox = svc.manager.get(actor.user_id)
        assert sandbox is not None
        await asyncio.to_thread(_stop_host, sandbox.scope.host_name)
        assert "one" in await docker_text(svc, actor, "rm -f one")
        # as after Docker's rm -f: nothing holds 8081 any more, a server of one's own may
        bound = await sh_text(svc, actor, "httpd -p 127.0.0.1:8081 && echo bound")
        assert "bound" in bound and "in use" not in bound, bound
        await sh_text(svc, actor, "echo served > index.html")
        await docker_text(svc, actor, "cp index.html two:/index.html")
        assert "served" in await sh_text(svc, actor, "wget -qO- http://localhost:8082/")
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()


async def test_a_claimed_warm_sandbox_starts_no_disk_monitor() -> None:
    """The claim marker is the coach's (empty, mountable by no container): measuring the
    sandbox's disk does not start a disk monitor for it, as it did for every new learner of
    a class."""
    settings = engine_settings(workers=[{"name": "local", "warm_pool": 1}])
    actor = new_actor("claimer")
    svc = await start(isolated_service(settings))
    try:
        await svc.manager.warm_pool_ready()
        await docker_text(svc, actor, "run -d --name web nginx")
        sandbox = svc.manager.get(actor.user_id)
        assert sandbox is not None and sandbox.scope.sandbox  # claimed from the pool
        await svc.watchdog.round()
        kinds = await asyncio.to_thread(_kinds, sandbox.scope)
        assert naming.KIND_CLAIM in kinds["volume"]
        assert naming.KIND_MONITOR not in kinds["container"]
        assert (await svc.watchdog.current(sandbox)) is not None
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.manager.warm.close()
        await svc.close()


def _kinds(scope: naming.Scope) -> dict[str, set[str]]:
    client = docker.from_env()
    try:
        api, filters = client.api, scope.filters()
        containers = api.containers(all=True, filters=filters)
        volumes = api.volumes(filters=filters).get("Volumes") or []
        return {
            "container": {(c.get("Labels") or {}).get(naming.KIND, "") for c in containers},
            "volume": {(v.get("Labels") or {}).get(naming.KIND, "") for v in volumes},
        }
    finally:
        client.close()


async def test_a_running_sandbox_looked_at_again_costs_one_request() -> None:
    """The disk watchdog's look at a running sandbox with no command since the last one is
    one listing with sizes (its volumes cannot have changed: not listed again); in a class's
    burst these looks were as many requests as the learners' own commands. A command that
    makes a volume has it listed and measured at the next look."""
    actor = new_actor("watched")
    svc = await start(isolated_service())
    recorder = EngineRequests()
    try:
        await docker_text(svc, actor, "run -d --name web nginx")
        sandbox = svc.manager.get(actor.user_id)
        assert sandbox is not None
        await svc.watchdog.measure(sandbox)  # the command's look: everything listed
        with recorder.installed():
            mark = recorder.mark()
            await svc.watchdog.measure(sandbox)
            looked = [request for _owner, request in recorder.since(mark)]
        assert looked == ["GET /containers/json"], looked

        line = "run -v data:/data busybox sh -c 'head -c 3000000 /dev/zero > /data/f'"
        assert "Error" not in await docker_text(svc, actor, line)
        measured = await svc.watchdog.measure(sandbox)
        assert measured is not None
        assert measured.of(usage.KIND_VOLUME) >= 3_000_000, measured
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()


async def test_only_a_command_that_can_make_or_remove_a_volume_has_the_volumes_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``exec`` and ``/sh`` cannot make or remove a volume (no engine inside a container):
    the looks after them do not list the sandbox's volumes again; ``volume create`` does.
    A sandbox made by this process runs no learner's program in its host shell: its
    processes are first read after a ``/sh`` command, not at its first look."""
    actor = new_actor("volset")
    svc = await start(isolated_service())
    # however slow the machine, no look is the interval's own relisting (at most 15 s)
    monkeypatch.setattr(svc.watchdog, "interval", lambda _worker: 3600.0)
    recorder = EngineRequests()

    async def requests_around(line: str, docker: bool = True) -> list[str]:
        mark = recorder.mark()
        if docker:
            assert "Error" not in await docker_text(svc, actor, line)
        else:
            await sh_text(svc, actor, line)
        await svc.watchdog.measure(sandbox)  # the command's look (done, or after the loop's)
        return [request for _owner, request in recorder.since(mark)]

    try:
        with recorder.installed():
            assert "Error" not in await docker_text(svc, actor, "run -d --name web nginx")
            sandbox = svc.manager.get(actor.user_id)
            assert sandbox is not None and sandbox.fresh
            await svc.watchdog.measure(sandbox)
            made = [request for _owner, request in recorder.since(0)]
            assert "GET /volumes" in made  # run can make volumes
            assert not any(r.endswith("/top") for r in made), made  # a fresh host shell
            after_exec = await requests_around("exec web touch /tmp/x")
            assert "GET /volumes" not in after_exec, after_exec
            after_sh = await requests_around("echo hi > note.txt", docker=False)
            assert "GET /volumes" not in after_sh, after_sh
            assert any(r.endswith("/top") for r in after_sh), after_sh  # /sh: read them
            after_create = await requests_around("volume create notes")
            assert "GET /volumes" in after_create, after_create
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()


async def test_the_watchdog_reads_a_containers_cap_from_its_label() -> None:
    """On an engine that caps writable layers, the watchdog needs each running container's
    cap: the coach labels it at creation (as asked of the engine, and checked there), so a
    look after a class's ``run -d`` inspects no container for it."""
    actor = new_actor("capread")
    svc = await start(isolated_service())
    recorder = EngineRequests()
    try:
        await sh_text(svc, actor, "true")  # the sandbox made (its host shell labelled too)
        sandbox = svc.manager.get(actor.user_id)
        assert sandbox is not None
        support = await svc.watchdog.support(sandbox.worker)
        assert support is not None and support.limits_disk  # the test engine caps (btrfs)
        with recorder.installed():
            assert "Error" not in await docker_text(svc, actor, "run -d --name web nginx")
            await svc.watchdog.measure(sandbox)  # after the command's own look, if it ran
            background = [r for owner, r in recorder.since(0) if owner != actor.user_id]
        assert "GET /volumes" in background  # the command's look was made
        assert "GET /containers/<id>/json" not in background, background
        caps = svc.watchdog.state(sandbox).caps
        real = await asyncio.to_thread(_storage_caps, sandbox.scope)
        assert caps == real and all(cap > 0 for cap in caps.values()), (caps, real)
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()


def _storage_caps(scope: naming.Scope) -> dict[str, int]:
    """Each running container's ``StorageOpt`` size, as the engine holds it."""
    client = docker.from_env()
    try:
        running = client.api.containers(filters=scope.filters())
        return {
            str(c["Id"]): usage.writable_cap(client.api, str(c["Id"]))
            for c in running
            if (c.get("Labels") or {}).get(naming.KIND) in (naming.KIND_HOST, naming.KIND_CONTAINER)
        }
    finally:
        client.close()


# --------------------------------------------------------------------------------------------
# run's own requests: the learner's image names, the host shell, the hardening read back
# --------------------------------------------------------------------------------------------

IMAGES_LISTED = "GET /images/json"
READ_BACK = "GET /containers/<id>/json"


async def test_a_learners_image_names_are_kept_until_a_command_can_change_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``run`` resolves the learner's own image first; their names are listed once and kept
    (a sandbox just made has none) until a command that can make, tag or remove one: a
    ``commit`` named like a shared image is what the next ``run`` of that name runs, and
    after its ``rmi`` the shared image again — as Docker answers."""
    monkeypatch.setattr(provision, "HOST_TRUST_SECONDS", 3600.0)
    actor = new_actor("ownnames")
    svc = await start(isolated_service())
    recorder = EngineRequests()
    try:
        await docker_text(svc, actor, "run -d --name base busybox sleep 300")
        sandbox = svc.manager.get(actor.user_id)
        assert sandbox is not None and sandbox.own_images == {}  # made here: none
        await docker_text(svc, actor, "exec base touch /mine")
        assert "Error" not in await docker_text(svc, actor, "commit base busybox")
        assert sandbox.own_images is None  # listed again by the next command that asks
        assert "/mine" in await docker_text(svc, actor, "run --rm busybox ls /mine")
        assert sandbox.own_images == {"busybox:latest": sandbox.scope.image_real("busybox:latest")}
        with recorder.installed():
            mark = recorder.mark()
            assert "/mine" in await docker_text(svc, actor, "run --rm busybox ls /mine")
            kept = recorder.of(actor.user_id, mark)
        assert IMAGES_LISTED not in kept, kept
        assert "Error" not in await docker_text(svc, actor, "rmi busybox")
        gone = await docker_text(svc, actor, "run --rm busybox ls /mine")
        assert "No such file" in gone, gone
        # an adopted sandbox's names are not known: listed at its first run, then kept
        sandbox.own_images = None
        with recorder.installed():
            mark = recorder.mark()
            await docker_text(svc, actor, "run -d --name one busybox sleep 300")
            first = recorder.of(actor.user_id, mark)
            mark = recorder.mark()
            await docker_text(svc, actor, "run -d --name two busybox sleep 300")
            second = recorder.of(actor.user_id, mark)
        assert IMAGES_LISTED in first and IMAGES_LISTED not in second, (first, second)
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()


def _remove_image(name: str) -> None:
    _behind_the_coachs_back(lambda api: api.remove_image(name))


async def test_an_own_image_removed_behind_the_coachs_back_answers_as_without_the_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kept name whose image is gone (an operator's ``docker rmi`` on the worker) is
    resolved again from a listing of now: the learner gets the answer a fresh listing
    gives, not the engine's complaint about an internal name."""
    monkeypatch.setattr(provision, "HOST_TRUST_SECONDS", 3600.0)
    actor = new_actor("owngone")
    svc = await start(isolated_service())
    try:
        await docker_text(svc, actor, "run -d --name base busybox sleep 300")
        assert "Error" not in await docker_text(svc, actor, "commit base snap")
        assert "Error" not in await docker_text(svc, actor, "tag busybox nginx:mine")
        await docker_text(svc, actor, "run --rm snap true")  # the names listed and kept
        sandbox = svc.manager.get(actor.user_id)
        assert sandbox is not None and sandbox.own_images is not None
        assert "snap:latest" in sandbox.own_images
        for name in ("snap:latest", "nginx:mine"):
            await asyncio.to_thread(_remove_image, sandbox.scope.image_real(name))

        async def answer(line: str) -> str:
            try:
                return await docker_text(svc, actor, line)
            except UserError as exc:  # a refusal, in the learner's words
                return message(exc)

        kept_answer = await answer("run --rm snap true")
        history = await answer("history nginx:mine")
        sandbox.own_images = None
        listed_answer = await answer("run --rm snap true")
        assert kept_answer == listed_answer, (kept_answer, listed_answer)
        assert "snap" in kept_answer and "dc-" not in kept_answer, kept_answer
        sandbox.own_images = None
        assert history == await answer("history nginx:mine"), history
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()


def _requests_of_run(counted: list[str]) -> tuple[bool, bool]:
    """Whether a run looked at the host shell before its creation (a forwarder that wakes
    it looks after), and whether it read its container back (at once, if at all)."""
    create = counted.index("POST /containers/create")
    host = "GET /containers/<name>/json" in counted[:create]
    return host, counted[create + 1 : create + 2] == [READ_BACK]


async def test_run_takes_the_host_shell_as_seen_unless_it_writes_into_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``run`` does not look at a host shell seen running moments ago: its container joins
    the sandbox's network (kept by the engine while the host shell is attached), and a
    published port's forwarder table wakes a host shell stopped meanwhile. ``--cidfile``
    writes into the host shell: looked at (and woken) first."""
    monkeypatch.setattr(provision, "HOST_TRUST_SECONDS", 3600.0)
    actor = new_actor("runtrust")
    svc = await start(isolated_service(engine_settings()))
    recorder = EngineRequests()
    try:
        await sh_text(svc, actor, "true")
        sandbox = svc.manager.get(actor.user_id)
        assert sandbox is not None
        await asyncio.to_thread(_stop_host, sandbox.scope.host_name)  # behind its back
        with recorder.installed():
            mark = recorder.mark()
            line = "run -d --name web -p 8091:80 busybox httpd -f -p 80"
            assert "Error" not in await docker_text(svc, actor, line)
            published = recorder.of(actor.user_id, mark)
            mark = recorder.mark()
            line = "run -d --cidfile /home/coach/web2.id --name web2 busybox sleep 300"
            assert "Error" not in await docker_text(svc, actor, line)
            with_cidfile = recorder.of(actor.user_id, mark)
        assert not _requests_of_run(published)[0], published
        assert _requests_of_run(with_cidfile)[0], with_cidfile
        await sh_text(svc, actor, "echo served > index.html")
        await docker_text(svc, actor, "cp index.html web:/index.html")
        assert "served" in await sh_text(svc, actor, "wget -qO- http://localhost:8091/")
        assert len((await sh_text(svc, actor, "cat web2.id")).strip()) == 64
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()


async def test_the_engines_record_is_read_back_for_each_new_shape_of_creation() -> None:
    """Every limit is checked in the request; what the engine recorded is read back until a
    creation with the same limit fields was seen fully hardened on this engine since the
    coach last found it reachable (the host shell's counts): a first container publishing a
    port is read back, the second not; after the engine was found unreachable, again."""
    actor = new_actor("readback")
    svc = await start(isolated_service())
    recorder = EngineRequests()

    async def run_requests(line: str) -> list[str]:
        mark = recorder.mark()
        assert "Error" not in await docker_text(svc, actor, line)
        return recorder.of(actor.user_id, mark)

    try:
        await sh_text(svc, actor, "true")
        sandbox = svc.manager.get(actor.user_id)
        assert sandbox is not None
        worker = sandbox.worker
        with recorder.installed():
            plain = await run_requests("run -d --name a busybox sleep 300")
            first = await run_requests("run -d --name b -p 8092:80 busybox sleep 300")
            second = await run_requests("run -d --name c -p 8093:80 busybox sleep 300")
            worker.epoch += 1  # as when the engine was found unreachable: maybe another now
            sandbox.saw_host_running()
            again = await run_requests("run -d --name d -p 8094:80 busybox sleep 300")
        assert not _requests_of_run(plain)[1], plain  # the host shell's shape
        assert _requests_of_run(first)[1] and not _requests_of_run(second)[1], (first, second)
        assert _requests_of_run(again)[1], again
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()


def _create_directly(extra: dict[str, Any]) -> list[str]:
    """``_create_blocking`` straight on the engine, the shape of its limits taken as kept,
    with ``extra`` host-config arguments: the requests it made."""
    from bot.sandbox.limits import checked_shape, host_config_kwargs
    from bot.sandbox.ops import run as run_ops
    from bot.settings import ContainerLimits

    limits = ContainerLimits()
    host = {**host_config_kwargs(limits), **extra}
    name = f"dc-readback-{uuid.uuid4().hex[:8]}"
    creation = run_ops._Creation(
        spec={"image": "busybox", "command": ["true"], "name": name,
              "labels": {"org.docker-coach.test": name}},
        host=host, network="none", aliases=[],
    )  # fmt: skip
    client = docker.from_env()
    recorder = EngineRequests()
    try:
        api = client.api
        kept = frozenset({checked_shape(api.create_host_config(network_mode="none", **host))})
        with recorder.installed():
            run_ops._create_blocking(api, creation, limits, None, kept)
        return [request for _owner, request in recorder.since(0)]
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(name, force=True)
        client.close()


async def test_a_creation_the_engine_warns_about_is_read_back() -> None:
    """The engine warns of each setting it drops or changes; a creation it warned about is
    read back even when its shape was seen kept (a kernel memory limit: deprecated, the
    engine says so; the policy never lets a learner ask for one)."""
    quiet = await asyncio.to_thread(_create_directly, {})
    warned = await asyncio.to_thread(_create_directly, {"kernel_memory": "8m"})
    assert quiet == ["POST /containers/create"], quiet
    assert warned == ["POST /containers/create", READ_BACK], warned


def _state_of(name: str) -> str:
    client = docker.from_env()
    try:
        return str(client.api.inspect_container(name)["State"]["Status"])
    finally:
        client.close()


async def test_a_look_lists_only_the_running_containers_when_nothing_else_can_have_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sandbox with a stopped container: a look with no command since lists the running
    containers with their sizes, one request (the stopped one, sized once, as last listed)
    where it listed them all and then sized the running ones. A container that was running
    and stopped by itself meanwhile makes the look list them all: what it wrote counts."""
    actor = new_actor("quicklook")
    svc = await start(isolated_service())
    # however slow the machine, no look is the interval's own relisting (at most 15 s)
    monkeypatch.setattr(svc.watchdog, "interval", lambda _worker: 3600.0)
    recorder = EngineRequests()
    try:
        await docker_text(svc, actor, "run -d --name web nginx")
        await docker_text(svc, actor, "run -d --name old nginx")
        await docker_text(svc, actor, "stop -t 0 old")
        line = "run -d --name burst busybox sh -c 'sleep 3; head -c 3000000 /dev/zero > /f'"
        assert "Error" not in await docker_text(svc, actor, line)
        sandbox = svc.manager.get(actor.user_id)
        assert sandbox is not None
        await svc.watchdog.measure(sandbox)  # the commands' look: everything listed
        with recorder.installed():
            mark = recorder.mark()
            await svc.watchdog.measure(sandbox)
            looked = [request for _owner, request in recorder.since(mark)]
        assert looked == ["GET /containers/json"], looked
        real = sandbox.scope.real("burst")
        await eventually(lambda: asyncio.to_thread(_state_of, real), lambda s: s == "exited")
        measured = await svc.watchdog.measure(sandbox)
        assert measured is not None
        burst = [p for p in measured.parts if p.name == "burst"]
        assert burst and burst[0].bytes >= 3_000_000 and not burst[0].running, measured.parts
        assert {p.name for p in measured.parts if p.kind == usage.KIND_CONTAINER} == {
            "web", "old", "burst"
        }  # fmt: skip
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()
