"""Reconciliation: the labels on each worker are the truth about what exists.

Only the coach's own instance is considered (``org.docker-coach.instance``; objects without it
belong to ``"default"``), and only while this coach holds the instance's lease on the worker
(:mod:`bot.sandbox.lease`): no other coach can be creating or serving these sandboxes. Other
instances' sandboxes are never touched; they still count towards a worker's capacity
(:mod:`bot.sandbox.capacity`), which is physical.

:func:`scan` groups our objects by sandbox; :func:`plan` (pure, unit-tested) decides; the
manager carries the plan out, each owner's part in that owner's turn. The rules — the only
reasons reconciliation ever removes anything:

* **being removed** — the sandbox has a tombstone (a removal someone asked for was cut
  short): the removal is finished;
* **half-made** — nothing in it can hold the learner's data: a network alone, or a host
  shell that never started (creation was cut short). Completed instead when it is the
  owner's only sandbox: its host shell is checked and started, and it is adopted;
* **forgotten** — its owner is unknown to the store (``/forget-me``) and it was made after
  instances existed (a sandbox from before, with no instance label, is adopted whoever owns
  it: its owner may predate the store knowing them);
* **unchecked containers** — a learner's container that never started and lacks its
  hardening (the coach died between creating and checking it);
* **strays** — labelled objects of ours without a sandbox label.

Everything else that holds data is kept. One sandbox per owner is adopted: the one this
process already serves, else the newest. Any other sandbox of the same owner is **kept
aside** and reported (admins see it in ``/admin sandboxes``; it expires by the idle rules like
any sandbox) — reconciliation never removes a known learner's sandbox because a newer one
exists. A sandbox whose host shell or network vanished is adopted as it is and repaired before
its owner's next command (:func:`bot.sandbox.provision.prepare`). Sandboxes being created by
this process right now (their ids are reserved on the worker) are left alone.

**Warm sandboxes** (:mod:`bot.sandbox.warmpool`) are made before anyone asks, owned by
:data:`~bot.sandbox.naming.POOL_OWNER`; a learner's claim adds a *claim marker* (a volume
naming the learner: labels cannot change). Objects are grouped by sandbox id and the owner is
resolved over the whole group, whatever order the engine lists them in
(:func:`resolve_owner`): a claim marker's learner, else a learner named by any object, else
the pool. So a claimed warm sandbox is its learner's under every rule above (a claim marker
counts as data: it is never "half-made"), and one nobody claimed is never "forgotten": it is
the instance's. Complete unclaimed ones go back to the warm pool (:attr:`Plan.pooled`), which
alone decides to remove one (when it is over its size); half-made ones and tombstoned ones
are removed like any other.

The last activity of an adopted sandbox is derived from the engine's own times, since labels
cannot change after creation: the newest of the objects' creation and start/finish times (a
claim marker's creation is when its learner claimed it); when the host shell is stopped (only
the reaper stops it), its finish time minus the idle-stop time.
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
from bot.sandbox.limits import missing_limits
from bot.sandbox.naming import Scope
from bot.sandbox.objects import engine_time
from bot.sandbox.workers import engine_call
from bot.settings import ContainerLimits

log = logging.getLogger("bot.sandbox.reconcile")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

REMOVING = "being removed"
HALF_MADE = "half-made"
FORGOTTEN = "forgotten"
UNCHECKED = "never started and not hardened"


def _kind(item: Mapping[str, Any]) -> str:
    return str((item.get("Labels") or {}).get(naming.KIND, ""))


@dataclass
class Found:
    """What one sandbox id has on a worker."""

    scope: Scope
    worker: str = ""
    containers: list[dict[str, Any]] = field(default_factory=list)  # as listed
    networks: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    host: dict[str, Any] | None = None  # inspect data of the host shell, when inspected
    times: list[datetime] = field(default_factory=list)
    legacy: bool = False  # some object has no instance label (made before instances existed)
    unchecked: list[str] = field(default_factory=list)  # never started, hardening missing

    @property
    def has_bridge(self) -> bool:
        return any(_kind(n) == naming.KIND_BRIDGE for n in self.networks)

    @property
    def host_listed(self) -> dict[str, Any] | None:
        return next((c for c in self.containers if _kind(c) == naming.KIND_HOST), None)

    @property
    def host_never_started(self) -> bool:
        listed = self.host_listed
        return listed is not None and listed.get("State") == "created"

    @property
    def claimed(self) -> bool:
        """Whether a learner's claim marker is there (a warm sandbox made theirs)."""
        return any(_kind(v) == naming.KIND_CLAIM for v in self.volumes)

    @property
    def pooled(self) -> bool:
        """A warm sandbox nobody claimed (see :func:`resolve_owner`)."""
        return self.scope.pooled

    @property
    def removing(self) -> bool:
        return any(_kind(v) == naming.KIND_TOMBSTONE for v in self.volumes)

    @property
    def user_objects(self) -> int:
        """The learner's own containers, volumes and networks."""
        return (
            sum(1 for c in self.containers if _kind(c) == naming.KIND_CONTAINER)
            + sum(1 for v in self.volumes if _kind(v) == naming.KIND_VOLUME)
            + sum(1 for n in self.networks if _kind(n) == naming.KIND_NETWORK)
        )

    @property
    def holds_data(self) -> bool:
        """Whether anything in it may hold the learner's work (a claimed warm sandbox
        always may: it was handed to its learner)."""
        ran = self.host_listed is not None and not self.host_never_started
        return ran or self.user_objects > 0 or self.claimed

    @property
    def complete(self) -> bool:
        return self.has_bridge and self.host_listed is not None

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


def resolve_owner(labelled: list[Mapping[str, str]]) -> str:
    """The owner of a sandbox from the labels of all its objects, whatever their order: the
    learner a claim marker names; else a learner any object names; else the pool. Several
    learners (which the coach never makes) resolve to the first by sort order."""
    claims = sorted(
        {
            labels.get(naming.OWNER, "")
            for labels in labelled
            if labels.get(naming.KIND) == naming.KIND_CLAIM
        }
        - {"", naming.POOL_OWNER}
    )
    if claims:
        return claims[0]
    learners = sorted(
        {labels.get(naming.OWNER, "") for labels in labelled} - {"", naming.POOL_OWNER}
    )
    return learners[0] if learners else naming.POOL_OWNER


@dataclass
class Scan:
    groups: dict[str, Found] = field(default_factory=dict)  # by sandbox id
    strays: list[tuple[str, str]] = field(default_factory=list)  # (kind, id)


def scan(
    api: APIClient,
    instance: str = naming.DEFAULT_INSTANCE,
    *,
    owner: str | None = None,
    limits: ContainerLimits | None = None,
    served: frozenset[str] = frozenset(),
) -> Scan:
    """Blocking: the instance's labelled objects (of one ``owner``: theirs, and every object
    of a warm sandbox their claim marker names), grouped by sandbox with the owner resolved
    over the group (:func:`resolve_owner`), and strays without a sandbox label. Containers of
    sandboxes not ``served`` (by sandbox id) are inspected for their times; never-started
    containers are checked against ``limits``.
    """
    found = Scan()
    wanted = [f"{naming.OWNER}={owner}" if owner else naming.OWNER]
    if instance != naming.DEFAULT_INSTANCE:  # the default one also owns unlabelled objects
        wanted.append(f"{naming.INSTANCE}={instance}")
    listed = _listing(api, {"label": wanted})
    if owner:  # their claimed warm sandboxes: the sandbox's own objects name the pool
        claimed = {
            labels.get(naming.SANDBOX, "")
            for _kind_of, item in listed
            if (labels := item.get("Labels") or {}).get(naming.KIND) == naming.KIND_CLAIM
        } - {""}
        for sandbox in sorted(claimed):
            wanted_here = [f"{naming.SANDBOX}={sandbox}", *wanted[1:]]
            listed += _listing(api, {"label": wanted_here})
    _group(found, listed, instance)
    for item in found.groups.values():
        _inspect(api, item, limits, detailed=item.scope.sandbox not in served)
    return found


def _listing(api: APIClient, filters: dict[str, list[str]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        *(("container", c) for c in api.containers(all=True, filters=filters)),
        *(("network", n) for n in api.networks(filters=filters)),
        *(("volume", v) for v in api.volumes(filters=filters).get("Volumes") or []),
    ]


def _group(found: Scan, listed: list[tuple[str, dict[str, Any]]], instance: str) -> None:
    """Group listed objects by sandbox id (each object once), then resolve each group's owner
    over all of its objects."""
    seen: set[tuple[str, str]] = set()
    labelled: dict[str, list[Mapping[str, str]]] = {}
    for kind, item in listed:
        ident = str(item["Name"] if kind == "volume" else item["Id"])
        labels = item.get("Labels") or {}
        if (kind, ident) in seen or naming.instance_of(labels) != instance:
            continue
        seen.add((kind, ident))
        who, sandbox = labels.get(naming.OWNER, ""), labels.get(naming.SANDBOX, "")
        if not who or not sandbox:
            found.strays.append((kind, ident))
            continue
        group = found.groups.setdefault(sandbox, Found(Scope(who, sandbox, instance)))
        group.legacy = group.legacy or naming.INSTANCE not in labels
        labelled.setdefault(sandbox, []).append(labels)
        if kind == "container":
            group.containers.append(item)
            continue
        moment = engine_time(item.get("Created" if kind == "network" else "CreatedAt"))
        if kind == "network":
            group.networks.append(item)
        else:
            group.volumes.append(item)
            if labels.get(naming.KIND) != naming.KIND_CLAIM:
                moment = None  # a claim marker's creation is when the learner claimed it
        if moment:
            group.times.append(moment)
    for sandbox, labels_seen in labelled.items():
        group = found.groups[sandbox]
        group.scope = Scope(resolve_owner(labels_seen), sandbox, instance)


def _inspect(api: APIClient, item: Found, limits: ContainerLimits | None, detailed: bool) -> None:
    for summary in item.containers:
        never_started = summary.get("State") == "created"
        if not detailed and not never_started:
            continue
        try:
            attrs = engine_call(api.inspect_container, summary["Id"])
        except EngineNotFound:  # removed since it was listed
            continue
        if detailed:
            _add_times(item, attrs)
            if _kind(summary) == naming.KIND_HOST:
                item.host = attrs
        is_user = _kind(summary) == naming.KIND_CONTAINER
        if never_started and is_user and limits is not None and missing_limits(attrs, limits):
            item.unchecked.append(str(summary["Id"]))


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
    newest = max(found.times) if found.times else datetime.now(UTC)
    if state.get("Running"):
        return newest, False
    finished = engine_time(state.get("FinishedAt"))
    if finished is None:
        return newest, True
    return min(newest, finished - idle_stop), True


@dataclass
class Plan:
    """What reconciliation does, owner by owner (see the module doc)."""

    adopt: dict[str, Found] = field(default_factory=dict)  # owner → the sandbox to serve
    aside: dict[str, list[Found]] = field(default_factory=dict)  # kept, reported
    remove: list[tuple[Found, str]] = field(default_factory=list)  # (sandbox, why)
    unchecked: list[Found] = field(default_factory=list)  # sandboxes with such containers
    strays: list[tuple[str, str]] = field(default_factory=list)
    pooled: list[Found] = field(default_factory=list)  # complete warm sandboxes nobody claimed

    def owners(self) -> set[str]:
        owners = set(self.adopt) | set(self.aside)
        owners |= {found.scope.owner for found, _why in self.remove}
        return owners | {found.scope.owner for found in self.unchecked}


def plan(
    groups: list[Found],
    known: set[str] | None,
    served: Mapping[str, str],
    in_flight: set[str],
) -> Plan:
    """Pure: decide for every sandbox found. ``known``: the owners the store knows (None:
    everyone); ``served``: owner → the sandbox id this process serves them; ``in_flight``:
    sandbox ids being created right now."""
    result = Plan()
    candidates: dict[str, list[Found]] = {}
    for found in groups:
        if found.scope.sandbox in in_flight:
            continue
        owner = found.scope.owner
        if found.removing:
            result.remove.append((found, REMOVING))
        elif found.pooled:  # the instance's, nobody's yet: never "forgotten"
            if found.complete and not found.host_never_started:
                result.pooled.append(found)
            else:
                result.remove.append((found, HALF_MADE))
        elif not found.holds_data and not found.complete:
            result.remove.append((found, HALF_MADE))
        elif known is not None and owner not in known and not found.legacy:
            result.remove.append((found, FORGOTTEN))
        else:
            candidates.setdefault(owner, []).append(found)
            if found.unchecked:
                result.unchecked.append(found)
    for owner, items in candidates.items():
        _choose(result, owner, items, served.get(owner))
    return result


def _choose(result: Plan, owner: str, items: list[Found], serving: str | None) -> None:
    with_data = sorted(
        (f for f in items if f.holds_data),
        key=lambda f: f.created or EPOCH,
        reverse=True,
    )
    empty = [f for f in items if not f.holds_data]  # complete, host never started
    if serving is not None:
        kept = [f for f in with_data if f.scope.sandbox != serving]
        spare = [f for f in empty if f.scope.sandbox != serving]
    elif with_data:
        result.adopt[owner], kept, spare = with_data[0], with_data[1:], empty
    else:
        result.adopt[owner], kept, spare = empty[0], [], empty[1:]
    if kept:
        result.aside[owner] = kept
    result.remove.extend((found, HALF_MADE) for found in spare)
