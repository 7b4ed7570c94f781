"""Reaper, reconciliation after a crash, and workers that go down and come back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from datetime import UTC, datetime, timedelta

import docker
import pytest

from bot.core.clock import FixedClock
from bot.core.errors import Unavailable
from bot.sandbox import naming
from bot.sandbox.reconcile import Found, last_activity
from bot.sandbox.service import SandboxService
from tests.sandbox.engine_support import (
    docker_text,
    engine_settings,
    eventually,
    inspect_containers,
    isolated_service,
    labeled_objects,
    new_actor,
    sh_text,
    start,
    tr,
)

pytestmark = [pytest.mark.docker]
DOCKER_SOCKET = "/var/run/docker.sock"


async def test_reaper_stops_idle_sandboxes_then_destroys_them() -> None:
    clock = FixedClock(datetime.now(UTC))
    settings = engine_settings(
        idle_stop_minutes=1, idle_destroy_minutes=5, reaper_interval_seconds=3600
    )
    svc = await start(isolated_service(settings, clock=clock))
    actor = new_actor("sleepy")
    try:
        await docker_text(svc, actor, "run -d --name web busybox sleep 600")
        await svc.manager.tick()
        assert all(a["State"]["Running"] for a in await inspect_containers(actor.user_id))
        clock.advance(minutes=2)
        await svc.manager.tick()
        assert not any(a["State"]["Running"] for a in await inspect_containers(actor.user_id))
        assert "stopped while idle" in str((await svc.commands.status(actor, tr())).fields)
        assert "back" in await sh_text(svc, actor, "echo back")  # the host shell wakes up
        clock.advance(minutes=6)
        await svc.manager.tick()
        assert await labeled_objects(actor.user_id) == set()
        assert (await svc.reader.state(actor)).exists is False
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()


def _half_created_network(scope: naming.Scope) -> str:
    client = docker.from_env()
    try:
        labels = scope.labels(naming.KIND_BRIDGE, "bridge", "2020-01-01T00:00:00+00:00")
        return client.api.create_network(scope.bridge_name, internal=True, labels=labels)["Id"]
    finally:
        client.close()


async def test_reconcile_adopts_known_users_and_removes_the_rest() -> None:
    settings = engine_settings()
    first = await start(isolated_service(settings))
    keeper, orphan, half = new_actor("keeper"), new_actor("orphan"), new_actor("half")
    second: SandboxService | None = None
    try:
        before = datetime.now(UTC)
        await docker_text(first, keeper, "run -d --name web busybox sleep 600")
        await docker_text(first, keeper, "volume create kept")
        await docker_text(first, orphan, "run -d --name gone busybox sleep 600")
        half_scope = naming.Scope(half.user_id, naming.new_sandbox_id(), settings.sandbox.instance)
        await asyncio.to_thread(_half_created_network, half_scope)
        sandbox_id = first.manager.get(keeper.user_id).scope.sandbox
        await first.close()  # as if the process died: nothing cleaned up

        async def known() -> set[str]:
            return {keeper.user_id}

        second = SandboxService(settings.sandbox, known_users=known)
        restarted_at = datetime.now(UTC)
        await start(second)  # the orphan's owner is unknown: removed at once
        assert await labeled_objects(orphan.user_id) == set()
        assert await labeled_objects(half.user_id) == set()
        state = await second.reader.state(keeper)
        assert state.container("web") is not None and "kept" in state.volumes
        assert second.manager.get(keeper.user_id).scope.sandbox == sandbox_id
        activity = second.manager.get(keeper.user_id).last_activity
        # derived from the engine's times of the keeper's objects, not the moment of adoption
        assert before - timedelta(seconds=1) <= activity <= restarted_at
        assert "web" in await docker_text(second, keeper, "ps")
    finally:
        for service in (second, first):
            if service is not None:
                for actor in (keeper, orphan):
                    with contextlib.suppress(Exception):
                        await service.reader.destroy_user(actor.user_id)
        if second is not None:
            await second.close()


async def test_two_instances_on_one_engine_leave_each_other_alone() -> None:
    """Staging beside production: each reconciles, sweeps and reaps only its own sandboxes;
    a second coach of staging's instance is refused while staging runs."""
    clock = FixedClock(datetime.now(UTC))
    production = isolated_service(engine_settings(), clock=clock)
    staging_settings = engine_settings(idle_stop_minutes=1, idle_destroy_minutes=2)
    staging = isolated_service(staging_settings, clock=clock)
    alice, bob = new_actor("prod-user"), new_actor("staging-user")
    try:
        await start(production)
        await start(staging)
        await docker_text(production, alice, "run -d --name web busybox sleep 600")
        await docker_text(staging, bob, "run -d --name web busybox sleep 600")
        alices, bobs = await labeled_objects(alice.user_id), await labeled_objects(bob.user_id)
        labels = [a["Config"]["Labels"] for a in await inspect_containers(alice.user_id)]
        assert {naming.instance_of(x) for x in labels} == {production.manager.settings.instance}

        await production.manager.reconcile(again=True)  # a sweep that knows only alice
        assert await labeled_objects(bob.user_id) == bobs
        twin = await start(isolated_service(staging_settings, clock=clock))
        with pytest.raises(Unavailable) as refused:  # staging runs: its instance is taken
            await twin.commands.docker(bob, tr(), "ps")
        assert refused.value.key == "sandbox.instance_taken"
        await twin.close()
        assert await labeled_objects(bob.user_id) == bobs

        await docker_text(staging, new_actor("idle"), "ps")
        clock.advance(minutes=5)  # staging's reaper destroys its idle sandboxes only
        await staging.manager.tick()
        assert staging.manager.sandboxes() == []
        assert await labeled_objects(bob.user_id) == set()
        assert await labeled_objects(alice.user_id) == alices
        assert "web" in await docker_text(production, alice, "ps")
    finally:
        await production.reader.destroy_user(alice.user_id)
        await production.close()
        await staging.close()


def test_activity_of_a_sandbox_stopped_by_the_reaper() -> None:
    finished = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    found = Found(naming.Scope("u", "s"))
    found.host = {"State": {"Running": False, "FinishedAt": finished.isoformat()}}
    found.times = [finished - timedelta(hours=1), finished]
    activity, stopped = last_activity(found, timedelta(minutes=30))
    assert stopped and activity == finished - timedelta(minutes=30)


class SocketProxy:
    """A unix socket that forwards to the engine: a worker we can take down and bring back."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.server: asyncio.AbstractServer | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_unix_server(self._handle, path=self.path)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(DOCKER_SOCKET)
        self.writers += [writer, up_writer]
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        await self.server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            target.write(data)
            await target.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        target.close()


async def test_a_worker_that_goes_down_and_comes_back() -> None:
    path = os.path.join(tempfile.mkdtemp(), "engine.sock")
    proxy = SocketProxy(path)
    await proxy.start()
    settings = engine_settings(workers=[{"name": "proxied", "url": f"unix://{path}"}])
    svc = await start(isolated_service(settings))
    actor = new_actor("flaky")
    try:
        assert "CONTAINER ID" in await docker_text(svc, actor, "ps")
        await proxy.stop()
        with pytest.raises(Unavailable) as caught:
            await svc.commands.docker(actor, tr(), "ps")
        assert caught.value.key == "sandbox.worker_unavailable"
        await proxy.start()
        await svc.manager.tick()  # the reaper's round brings down workers up again
        assert svc.manager.pool.workers[0].ready
        assert "CONTAINER ID" in await docker_text(svc, actor, "ps")
    finally:
        with contextlib.suppress(Exception):
            await svc.reader.destroy_user(actor.user_id)
        await svc.close()
        with contextlib.suppress(Exception):
            await proxy.stop()


async def test_new_sandboxes_go_to_a_healthy_worker() -> None:
    workers = [
        {"name": "dead", "url": "unix:///nonexistent/docker.sock"},
        {"name": "live", "url": f"unix://{DOCKER_SOCKET}"},
    ]
    svc = await start(isolated_service(engine_settings(workers=workers)))
    actor = new_actor("placed")
    try:
        await docker_text(svc, actor, "ps")
        assert svc.manager.worker_of(actor.user_id).name == "live"
        stats = svc.reader.executor_stats()
        assert stats["workers"]["dead"]["healthy"] is False
    finally:
        await svc.reader.destroy_user(actor.user_id)
        await svc.close()


async def test_no_reachable_worker_gives_a_clear_answer() -> None:
    workers = [{"name": "dead", "url": "tcp://127.0.0.1:9"}]
    svc = await start(isolated_service(engine_settings(workers=workers, api_timeout_seconds=3)))
    try:
        with pytest.raises(Unavailable) as caught:
            await svc.commands.docker(new_actor("nobody"), tr(), "ps")
        assert caught.value.key == "sandbox.worker_unavailable"
        assert await svc.reader.container_names(new_actor("nobody")) == []
    finally:
        await svc.close()


def _break_sandbox(scope: naming.Scope, remove_host: bool) -> None:
    """What another coach's cleanup did to a learner's sandbox (issue 11): every container of
    it killed, its network removed, and the host shell too when ``remove_host``."""
    client = docker.from_env()
    try:
        api = client.api
        for container in api.containers(filters=scope.filters()):
            api.kill(container["Id"])
        if remove_host:
            api.remove_container(scope.host_name, force=True)
        api.remove_network(scope.bridge_name)
    finally:
        client.close()


async def test_a_vanished_network_is_made_again_and_the_containers_reconnected() -> None:
    actor = new_actor("renet")
    service = await start(isolated_service())
    try:
        await docker_text(service, actor, "run -d --name web busybox sleep 600")
        await sh_text(service, actor, "echo kept > notes.txt")
        scope = service.manager.get(actor.user_id).scope
        await asyncio.to_thread(_break_sandbox, scope, False)

        replies = await service.commands.docker(actor, tr(), "start web")
        told = "\n".join(r.body or "" for r in replies)
        assert tr()("sandbox.repaired.network") in told
        assert "web" in await docker_text(service, actor, "ps")  # running on the new network
        assert "kept" in await sh_text(service, actor, "cat notes.txt")
        again = await service.commands.docker(actor, tr(), "ps")
        assert tr()("sandbox.repaired.network") not in "\n".join(r.body or "" for r in again)
    finally:
        await service.reader.destroy_user(actor.user_id)
        await service.close()


async def test_a_vanished_host_shell_is_made_again_and_the_learner_told() -> None:
    actor = new_actor("rehost")
    service = await start(isolated_service())
    try:
        await docker_text(service, actor, "volume create data")
        await sh_text(service, actor, "echo gone > notes.txt")
        scope = service.manager.get(actor.user_id).scope
        await asyncio.to_thread(_break_sandbox, scope, True)

        replies = await service.commands.sh(actor, tr(), "cat notes.txt")
        told = "\n".join(r.body or "" for r in replies)
        assert tr()("sandbox.repaired.host") in told
        assert tr()("sandbox.repaired.network") in told
        assert "data" in await docker_text(service, actor, "volume ls")  # the rest is kept
        assert "alive" in await sh_text(service, actor, "echo alive")
    finally:
        await service.reader.destroy_user(actor.user_id)
        await service.close()


async def test_the_sweep_runs_on_its_own_schedule_while_the_reaper_ticks() -> None:
    """v1 reset the sweep's timer on every reaper round, so it never ran: a half-made sandbox
    (a network left by a coach killed while creating it) now goes within a sweep interval."""
    settings = engine_settings(reaper_interval_seconds=0.05, sweep_interval_seconds=0.3)
    service = await start(isolated_service(settings))
    half = new_actor("halfmade")
    try:
        scope = naming.Scope(half.user_id, naming.new_sandbox_id(), settings.sandbox.instance)
        await asyncio.to_thread(_half_created_network, scope)
        assert await labeled_objects(half.user_id) != set()
        left = await eventually(lambda: labeled_objects(half.user_id), lambda s: not s, 600)
        assert left == set()
    finally:
        await service.close()
