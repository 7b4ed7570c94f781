"""Reconciliation at start: labels on each worker are the truth about what exists.

Only the coach's own instance is considered (``org.docker-coach.instance``; objects without it
belong to ``"default"``): other coaches on the same engine — a staging bot, parallel test runs —
are never touched. Their sandboxes still count towards a worker's capacity (see
:class:`~bot.sandbox.workers.PhysicalCapacity`), which is physical.

Our objects are grouped by sandbox. A sandbox is adopted when it is complete (its network and
its host shell exist) and its owner is a known user; for one owner only the newest complete
sandbox is kept. Everything else is removed: sandboxes of owners the store does not know (the
coach registers a user before it creates their sandbox, so such an owner was forgotten),
half-created sandboxes older than :data:`CREATION_GRACE` (the process died mid-way) and stray
labeled objects. One exception: a sandbox from before instances existed (no instance label),
made when users were not yet registered first, is adopted even if its owner is unknown, and
expires by the usual idle rules. The manager runs this at start and whenever a worker is
reached for the first time.

Objects are grouped by sandbox id. The owner of a sandbox is the owner its labels name; a
warm sandbox's own objects name the pool (:data:`~bot.sandbox.naming.POOL_OWNER`), and once a
learner claimed it, its claim marker (a volume) names the learner. Complete warm sandboxes
nobody claimed go back into the warm pool — they are never counted as a learner's nor
removed as an unknown owner's; half-made ones get the same grace as any other.

The last activity of an adopted sandbox is derived from the engine's own times, since labels
cannot change after creation: the newest of the objects' creation and start/finish times
(a claim marker's creation is when its learner claimed it); when the host shell is stopped
(only the reaper stops it), its finish time minus the idle-stop time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from docker.api import APIClient

from bot.sandbox import naming
from bot.sandbox.errors import EngineNotFound
from bot.sandbox.naming import Scope
from bot.sandbox.objects import engine_time
from bot.sandbox.provision import Sandbox, remove_objects, remove_sandbox_objects
from bot.sandbox.workers import Worker, engine_call

log = logging.getLogger("bot.sandbox.reconcile")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CREATION_GRACE = timedelta(minutes=2)  # a sandbox this process is creating right now


@dataclass
class Found:
    """What one sandbox id has on a worker."""

    scope: Scope
    containers: list[dict[str, Any]] = field(default_factory=list)
    networks: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    host: dict[str, Any] | None = None  # inspect data of the host shell
    times: list[datetime] = field(default_factory=list)
    legacy: bool = False  # some object has no instance label (made before instances existed)

    @property
    def complete(self) -> bool:
        has_bridge = any(
            (n.get("Labels") or {}).get(naming.KIND) == naming.KIND_BRIDGE for n in self.networks
        )
        return has_bridge and self.host is not None

    @property
    def created(self) -> datetime | None:
        return min(self.times) if self.times else None

    @property
    def stamped(self) -> datetime | None:
        """The creation time written into the labels at creation (the oldest one)."""
        stamps = []
        for item in (*self.containers, *self.networks, *self.volumes):
            moment = engine_time((item.get("Labels") or {}).get(naming.CREATED))
            if moment:
                stamps.append(moment)
        return min(stamps) if stamps else self.created


@dataclass
class Outcome:
    adopted: list[Sandbox] = field(default_factory=list)
    pooled: list[Scope] = field(default_factory=list)  # complete warm sandboxes nobody claimed
    removed_sandboxes: int = 0
    removed_objects: int = 0


def scan(
    api: APIClient, instance: str = naming.DEFAULT_INSTANCE
) -> tuple[dict[str, Found], list[tuple[str, str]]]:
    """Blocking: the instance's labeled objects grouped by sandbox id (each with its owner:
    a claim marker's, else any learner's label, else the pool's); and strays without a
    sandbox label."""
    groups: dict[str, Found] = {}
    strays: list[tuple[str, str]] = []
    wanted = [naming.OWNER]
    if instance != naming.DEFAULT_INSTANCE:  # the default one also owns unlabeled objects
        wanted.append(f"{naming.INSTANCE}={instance}")
    label = {"label": wanted}

    def group(labels: dict[str, str], kind: str, ident: str) -> Found | None:
        if naming.instance_of(labels) != instance:
            return None
        owner, sandbox = labels.get(naming.OWNER, ""), labels.get(naming.SANDBOX, "")
        if not owner or not sandbox:
            strays.append((kind, ident))
            return None
        found = groups.setdefault(sandbox, Found(Scope(owner, sandbox, instance)))
        claim = labels.get(naming.KIND) == naming.KIND_CLAIM
        if owner != found.scope.owner and (found.scope.pooled or claim):
            found.scope = Scope(owner, sandbox, instance)
        found.legacy = found.legacy or naming.INSTANCE not in labels
        return found

    for summary in api.containers(all=True, filters=label):
        found = group(summary.get("Labels") or {}, "container", summary["Id"])
        if found is None:
            continue
        found.containers.append(summary)
        try:
            attrs = engine_call(api.inspect_container, summary["Id"])
        except EngineNotFound:  # removed since it was listed
            continue
        _add_times(found, attrs)
        if (summary.get("Labels") or {}).get(naming.KIND) == naming.KIND_HOST:
            found.host = attrs
    for network in api.networks(filters=label):
        found = group(network.get("Labels") or {}, "network", network["Id"])
        if found is not None:
            found.networks.append(network)
            moment = engine_time(network.get("Created"))
            if moment:
                found.times.append(moment)
    for volume in api.volumes(filters=label).get("Volumes") or []:
        labels = volume.get("Labels") or {}
        found = group(labels, "volume", volume["Name"])
        if found is not None:
            found.volumes.append(volume)
            moment = engine_time(volume.get("CreatedAt"))
            if moment and labels.get(naming.KIND) == naming.KIND_CLAIM:
                found.times.append(moment)
    return groups, strays


def _add_times(found: Found, attrs: Mapping[str, Any]) -> None:
    for value in (
        attrs.get("Created"),
        (attrs.get("State") or {}).get("StartedAt"),
        (attrs.get("State") or {}).get("FinishedAt"),
    ):
        moment = engine_time(value)
        if moment:
            found.times.append(moment)


def last_activity(found: Found, idle_stop: timedelta) -> tuple[datetime, bool]:
    """(derived last activity, whether the sandbox is stopped)."""
    state = (found.host or {}).get("State") or {}
    newest = max(found.times)
    if state.get("Running"):
        return newest, False
    finished = engine_time(state.get("FinishedAt"))
    if finished is None:
        return newest, True
    return min(newest, finished - idle_stop), True


def remove_blocking(api: APIClient, scopes: list[Scope], strays: list[tuple[str, str]]) -> int:
    removed = sum(remove_sandbox_objects(api, scope) for scope in scopes)
    return removed + remove_objects(api, strays)


def decide(
    groups: list[Found], known: set[str] | None, now: datetime
) -> tuple[dict[str, Found], list[Scope]]:
    """Which sandbox to adopt per owner, and which sandboxes to remove."""
    keep: dict[str, Found] = {}
    doomed: list[Scope] = []
    for found in groups:
        owner = found.scope.owner
        if not found.complete:
            if now - (found.stamped or now) >= CREATION_GRACE:
                doomed.append(found.scope)
            continue
        if known is not None and owner not in known and not found.legacy:
            doomed.append(found.scope)
            continue
        current = keep.get(owner)
        if current is None or (found.created or EPOCH) > (current.created or EPOCH):
            if current is not None:
                doomed.append(current.scope)
            keep[owner] = found
        else:
            doomed.append(found.scope)
    return keep, doomed


def pool_sandboxes(groups: list[Found], now: datetime) -> tuple[list[Scope], list[Scope]]:
    """Warm sandboxes nobody claimed: the complete ones go back into the pool, half-made ones
    older than the creation grace are removed."""
    ready = [found.scope for found in groups if found.complete]
    doomed = [
        found.scope
        for found in groups
        if not found.complete and now - (found.stamped or now) >= CREATION_GRACE
    ]
    return ready, doomed


async def reconcile(
    worker: Worker,
    instance: str,
    known: set[str] | None,
    idle_stop: timedelta,
    timeout: float,  # noqa: ASYNC109
    now: datetime | None = None,
) -> Outcome:
    """Adopt the instance's sandboxes of known users; remove the rest of what it labeled."""
    groups, strays = await worker.run(lambda api: scan(api, instance), timeout=timeout)
    moment = now or datetime.now(UTC)
    pooled, doomed_pool = pool_sandboxes([f for f in groups.values() if f.scope.pooled], moment)
    learners = [f for f in groups.values() if not f.scope.pooled]
    keep, doomed = decide(learners, known, moment)
    doomed += doomed_pool
    outcome = Outcome(pooled=pooled)
    if doomed or strays:
        outcome.removed_objects = await worker.run(
            lambda api: remove_blocking(api, doomed, strays), timeout=timeout
        )
        outcome.removed_sandboxes = len(doomed)
    for found in keep.values():
        activity, stopped = last_activity(found, idle_stop)
        outcome.adopted.append(
            Sandbox(found.scope, worker, found.created or activity, activity, stopped=stopped)
        )
    log.info(
        "reconciled",
        extra={
            "worker": worker.name,
            "instance": instance,
            "adopted": len(outcome.adopted),
            "pooled": len(outcome.pooled),
            "removed_sandboxes": outcome.removed_sandboxes,
            "removed_objects": outcome.removed_objects,
        },
    )
    return outcome
