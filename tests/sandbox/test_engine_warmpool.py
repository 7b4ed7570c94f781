"""The warm pool on the real engine: filled at start, claimed by a new learner's first
command, refilled, bounded by the worker's capacity, understood by reconciliation and the
reaper after a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import docker
import pytest

from bot.core.clock import FixedClock
from bot.core.errors import Unavailable
from bot.sandbox import naming
from bot.sandbox.capacity import EngineCapacity
from bot.sandbox.service import SandboxService
from bot.settings import Settings
from tests.sandbox.engine_support import (
    destroy_all,
    docker_text,
    engine_settings,
    new_actor,
    sh_text,
    start,
)

pytestmark = [pytest.mark.docker]


def pool_settings(size: int = 2, **sandbox: Any) -> Settings:
    return engine_settings(workers=[{"name": "local", "warm_pool": size}], **sandbox)


def _objects(instance: str) -> list[dict[str, str]]:
    """Labels of every container, network and volume of ``instance``'s sandboxes, read
    directly (its lease is no sandbox's)."""
    client = docker.from_env()
    try:
        api, wanted = client.api, {"label": [f"{naming.INSTANCE}={instance}"]}
        found = [c.get("Labels") or {} for c in api.containers(all=True, filters=wanted)]
        found += [n.get("Labels") or {} for n in api.networks(filters=wanted)]
        found += [v.get("Labels") or {} for v in api.volumes(filters=wanted).get("Volumes") or []]
        return [labels for labels in found if naming.SANDBOX in labels]
    finally:
        client.close()


async def sandboxes_on_engine(instance: str) -> dict[str, set[str]]:
    """sandbox id → the owners its objects name."""
    found: dict[str, set[str]] = {}
    for labels in await asyncio.to_thread(_objects, instance):
        found.setdefault(labels[naming.SANDBOX], set()).add(labels[naming.OWNER])
    return found


async def nobody() -> set[str]:
    return set()


def service(settings: Settings, known: Any = nobody, **kwargs: Any) -> SandboxService:
    """Only this test's own sandboxes count (others may use the engine meanwhile)."""
    capacity = EngineCapacity(settings.sandbox.instance)
    return SandboxService(settings.sandbox, known_users=known, capacity=capacity, **kwargs)


def with_pool(settings: Settings, size: int) -> Settings:
    """The same instance (same sandboxes), another warm pool size."""
    data = settings.model_dump()
    data["sandbox"]["workers"] = [{**w, "warm_pool": size} for w in data["sandbox"]["workers"]]
    return Settings.model_validate(data)


def claims_on_engine(instance: str) -> dict[str, str]:
    """sandbox id → the learner its claim marker names."""
    return {
        labels[naming.SANDBOX]: labels[naming.OWNER]
        for labels in _objects(instance)
        if labels.get(naming.KIND) == naming.KIND_CLAIM
    }


async def test_a_new_learner_claims_a_warm_sandbox_and_the_pool_refills() -> None:
    settings = pool_settings(2)
    instance = settings.sandbox.instance
    svc = service(settings)
    alice = new_actor("alice")
    await start(svc)
    try:
        await svc.manager.warm_pool_ready()
        assert svc.manager.warm.counts() == {"local": 2}
        warm = await sandboxes_on_engine(instance)
        assert len(warm) == 2 and all(owners == {naming.POOL_OWNER} for owners in warm.values())

        assert len(await docker_text(svc, alice, "run -d --name web nginx")) >= 64
        sandbox = svc.manager.get(alice.user_id)
        assert sandbox is not None and sandbox.scope.sandbox in warm  # claimed, not made
        await svc.manager.warm_pool_ready()
        assert svc.manager.warm.counts() == {"local": 2}  # refilled in the background

        on_engine = await sandboxes_on_engine(instance)
        assert len(on_engine) == 3
        assert on_engine[sandbox.scope.sandbox] == {naming.POOL_OWNER, alice.user_id}
        # the claimed sandbox works like any other: its network, host shell, own objects
        assert "web" in await docker_text(svc, alice, "ps")
        assert "bridge" in await docker_text(svc, alice, "network ls")
        assert "hello" in await sh_text(svc, alice, "echo hello > f.txt && cat f.txt")
        assert "web" in await docker_text(svc, alice, "rm -f web")
    finally:
        await destroy_all(svc, alice)
        await svc.close()
    left = await sandboxes_on_engine(instance)
    assert len(left) == 2 and all(owners == {naming.POOL_OWNER} for owners in left.values())


async def test_after_a_restart_the_claim_says_whose_sandbox_it_is() -> None:
    """Reconciliation adopts the claimed sandbox for its learner (files kept), puts the
    unclaimed warm sandboxes back into the pool and removes none of them, through the
    sweep and reaper rounds too."""
    settings = pool_settings(2)
    instance = settings.sandbox.instance
    alice = new_actor("alice")
    first = service(settings)
    await start(first)
    await first.manager.warm_pool_ready()
    await sh_text(first, alice, "echo kept > notes.txt")
    claimed = first.manager.get(alice.user_id)
    assert claimed is not None
    await first.manager.warm_pool_ready()
    await first.close()
    before = await sandboxes_on_engine(instance)

    async def known() -> set[str]:
        return {alice.user_id}

    second = service(settings, known)
    await start(second)
    try:
        adopted = second.manager.get(alice.user_id)
        assert adopted is not None and adopted.scope.sandbox == claimed.scope.sandbox
        assert "kept" in await sh_text(second, alice, "cat notes.txt")
        await second.manager.warm_pool_ready()
        assert second.manager.warm.counts() == {"local": 2}
        assert await sandboxes_on_engine(instance) == before  # nothing removed, nothing made
        for _round in range(2):
            await second.manager.sweep()
            await second.manager.tick()
        assert await sandboxes_on_engine(instance) == before
        assert "kept" in await sh_text(second, alice, "cat notes.txt")
    finally:
        await destroy_all(second, alice)
        await second.close()


async def test_warm_sandboxes_are_never_an_unknown_owners_nor_the_reapers() -> None:
    settings = pool_settings(2, idle_stop_minutes=1, idle_destroy_minutes=2)
    instance = settings.sandbox.instance
    clock = FixedClock()
    first = service(settings, clock=clock)
    await start(first)
    await first.manager.warm_pool_ready()
    warm = await sandboxes_on_engine(instance)
    clock.advance(timedelta(hours=3))
    await first.manager.tick()  # long idle: the reaper sees no warm sandbox
    assert await sandboxes_on_engine(instance) == warm
    await first.close()

    second = service(settings)  # knows nobody: a learner's sandbox would go, warm ones stay
    await start(second)
    try:
        assert await sandboxes_on_engine(instance) == warm
        assert second.manager.warm.counts() == {"local": 2}
        assert second.reader.executor_stats()["workers"]["local"]["warm"] == 2
    finally:
        await second.close()


async def test_the_pool_never_fills_past_the_workers_capacity() -> None:
    settings = engine_settings(workers=[{"name": "local", "warm_pool": 5, "max_sandboxes": 2}])
    instance = settings.sandbox.instance
    svc = service(settings)
    alice, bob, carol = new_actor("alice"), new_actor("bob"), new_actor("carol")
    await start(svc)
    try:
        await svc.manager.warm_pool_ready()
        assert svc.manager.warm.counts() == {"local": 2}
        assert len(await sandboxes_on_engine(instance)) == 2
        # the warm sandboxes are the worker's places: two learners get them, the third is told
        for actor in (alice, bob):
            assert "CONTAINER ID" in await docker_text(svc, actor, "ps")
        await svc.manager.warm_pool_ready()
        assert svc.manager.warm.counts() == {"local": 0}
        with pytest.raises(Unavailable) as refused:
            await docker_text(svc, carol, "ps")
        assert refused.value.key == "sandbox.workers_full"
        assert len(await sandboxes_on_engine(instance)) == 2
    finally:
        await destroy_all(svc, alice, bob, carol)
        await svc.close()


async def test_a_claimed_warm_sandbox_survives_a_restart_that_shuts_the_pool_down() -> None:
    """Coach stopped, started again with the pool set to 0 by a coach that does not know the
    learner yet as served: the unclaimed warm sandboxes are removed (the pool is over its
    size), the claimed one is the learner's and keeps their container, volume and file."""
    settings = pool_settings(2)
    instance = settings.sandbox.instance
    alice = new_actor("alice")
    first = service(settings)
    await start(first)
    await first.manager.warm_pool_ready()
    await docker_text(first, alice, "volume create data")
    await docker_text(first, alice, "run -d --name keep -v data:/data nginx")
    await sh_text(first, alice, "echo kept > notes.txt")
    claimed = first.manager.get(alice.user_id)
    assert claimed is not None
    await first.manager.warm_pool_ready()
    await first.close()
    assert claims_on_engine(instance) == {claimed.scope.sandbox: alice.user_id}

    async def known() -> set[str]:
        return {alice.user_id}

    second = service(with_pool(settings, 0), known)
    await start(second)
    try:
        await second.manager.warm_pool_ready()
        await second.manager.sweep()
        await second.manager.tick()
        on_engine = await sandboxes_on_engine(instance)
        assert list(on_engine) == [claimed.scope.sandbox]  # the pool's are gone, hers is not
        adopted = second.manager.get(alice.user_id)
        assert adopted is not None and adopted.scope.sandbox == claimed.scope.sandbox
        assert "kept" in await sh_text(second, alice, "cat notes.txt")
        assert "keep" in await docker_text(second, alice, "ps")
        assert "data" in await docker_text(second, alice, "volume ls")
    finally:
        await destroy_all(second, alice)
        await second.close()


async def test_an_unclaimed_warm_sandbox_is_never_handed_to_two_learners() -> None:
    """Six learners arrive at once at a pool of three while a sweep runs: each learner has a
    sandbox of their own, each claimed sandbox's marker names exactly its learner, and no
    claimed sandbox is back in the pool."""
    settings = pool_settings(3)
    instance = settings.sandbox.instance
    actors = [new_actor(f"l{i}") for i in range(6)]
    svc = service(settings)
    await start(svc)
    try:
        await svc.manager.warm_pool_ready()
        warm_before = set(await sandboxes_on_engine(instance))
        await asyncio.gather(
            *(docker_text(svc, actor, "ps") for actor in actors), svc.manager.sweep()
        )
        mine = {a.user_id: svc.manager.get(a.user_id) for a in actors}
        ids = [s.scope.sandbox for s in mine.values() if s is not None]
        assert len(ids) == len(set(ids)) == len(actors)
        claims = claims_on_engine(instance)
        assert {sid: owner for sid, owner in claims.items()} == {
            s.scope.sandbox: owner
            for owner, s in mine.items()
            if s is not None and s.scope.sandbox in warm_before
        }
        assert len(claims) == 3  # the three warm ones went to three learners, once each
        await svc.manager.sweep()
        await svc.manager.warm_pool_ready()
        ready = {s.sandbox for scopes in svc.manager.warm._ready.values() for s in scopes}
        assert not ready & set(ids)
    finally:
        await destroy_all(svc, *actors)
        await svc.close()
