"""Creating, repairing and removing sandboxes: an internal bridge network and the user's host
shell, and whatever the user made in it.

A sandbox lives on one worker (sticky). Everything here is written to survive the coach being
killed between any two engine calls (the fault suite does exactly that):

* **Creation** — network, host shell created, started, its hardening checked. A failure
  undoes what was made; a kill leaves a *half-made* sandbox that holds no user data (a network
  alone, or a host shell that never started), which reconciliation completes or removes.
* **Removal** — a *tombstone* comes first: a labelled volume ``dc-<sandbox>--removing``
  that says "this sandbox is being removed because someone asked". Then the user's
  containers, volumes and networks, the host shell, the sandbox's network, and the tombstone
  last. A kill anywhere in between leaves the tombstone, and reconciliation finishes the
  removal; a sandbox without a tombstone is never removed for looking incomplete.
* **Repair** — before each command :func:`prepare` checks the host shell (one inspect when
  all is well); one that is stopped is started, one that vanished is made again, and a
  sandbox network that vanished is made again with every container of the sandbox
  reconnected to it. What had to be repaired is returned so the learner can be told.

The blocking helpers run on the worker's thread pool (``worker.run``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from docker.api import APIClient

from bot.core.errors import Unavailable
from bot.sandbox import naming
from bot.sandbox.errors import EngineConflict, EngineError, EngineNotFound, LimitsMissing
from bot.sandbox.limits import (
    DiskSupport,
    checked_shape,
    host_config_kwargs,
    missing_limits,
    storage_for,
)
from bot.sandbox.naming import Scope
from bot.sandbox.workers import Slot, Worker, engine_call, networking_config
from bot.settings import SandboxSettings

log = logging.getLogger("bot.sandbox.provision")
HOME = "/home/coach"
REMOVAL_WAIT_SECONDS = 10
ADDRESS_POOLS_EXHAUSTED = "could not find an available, non-overlapping"
NEVER = "0001-01-01T00:00:00Z"  # the engine's StartedAt of a container never started

# What :func:`prepare` had to repair (the learner is told).
REPAIRED_NETWORK = "network"
REPAIRED_HOST = "host"
# A host shell this process saw running (after a command's inspect or a repair, at its
# creation, in the disk watchdog's listing of the sandbox) is taken to be running this long
# by commands that do not need it running (see :func:`prepare`).
HOST_TRUST_SECONDS = 10.0


@dataclass
class Sandbox:
    """A user's sandbox as the manager tracks it in memory."""

    scope: Scope
    worker: Worker
    created_at: datetime
    last_activity: datetime
    stopped: bool = False  # the reaper stopped it for being idle
    repairs: list[str] = field(default_factory=list)  # found damaged when adopted
    # When (monotonic) this process last saw the host shell running, and the worker's
    # connection epoch then (an engine that went away may have stopped it since).
    host_seen: float = -math.inf
    host_epoch: int = -1
    # Made (or claimed from the warm pool) by this process: no learner's program has run in
    # its host shell before this process served it, so none can be left running there.
    fresh: bool = False
    # The learner's own image names (their tags under the sandbox's prefix, ``mysite:v1`` →
    # engine tag) as listed in their last turn; None: not known. Only the learner's own
    # commands make, tag or remove them (the instance's lease keeps every other coach off
    # the sandbox), and each command that can forgets them (see ``images.forget_own``); a
    # sandbox this process made or claimed has none.
    own_images: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.fresh:
            self.own_images = {}

    @property
    def owner(self) -> str:
        return self.scope.owner

    def saw_host_running(self) -> None:
        """The host shell was just seen running on its network."""
        self.host_seen = time.monotonic()
        self.host_epoch = self.worker.epoch

    def forget_host(self) -> None:
        """The host shell's state is not known any more (an engine error, a kill, a stop):
        the next command inspects it."""
        self.host_seen = -math.inf

    def host_known_running(self) -> bool:
        """Whether the host shell was seen running moments ago (and nothing since says it
        may have stopped)."""
        return (
            not self.stopped
            and not self.repairs
            and self.host_epoch == self.worker.epoch
            and time.monotonic() - self.host_seen < HOST_TRUST_SECONDS
        )

    @property
    def key(self) -> tuple[str, str]:
        return self.scope.instance, self.scope.sandbox


# --------------------------------------------------------------------------------------------
# Creation
# --------------------------------------------------------------------------------------------


def stamp_now() -> str:
    """The label that records the engine-side (real) creation time: reconciliation compares
    it with the engine's own times, whatever clock the coach runs on."""
    return datetime.now(UTC).isoformat()


def create_bridge(api: APIClient, scope: Scope, stamp: str) -> str:
    """Blocking: the sandbox's own internal network; its id."""
    created = api.create_network(
        scope.bridge_name,
        driver="bridge",
        internal=True,
        check_duplicate=True,
        labels=scope.labels(naming.KIND_BRIDGE, "bridge", stamp),
    )
    return str(created["Id"])


def create_host(
    api: APIClient,
    scope: Scope,
    settings: SandboxSettings,
    stamp: str,
    support: DiskSupport | None = None,
) -> tuple[str, frozenset[str]]:
    """Blocking: the host shell, created, started and checked (removed again when its
    hardening did not hold); its id and the :func:`checked_shape` of its creation
    (``support``: what the worker's engine does with container size limits)."""
    storage = storage_for(api, settings.limits, support, settings.host_image)
    host_config = api.create_host_config(
        network_mode=scope.bridge_name, **host_config_kwargs(settings.limits, storage)
    )
    networking = networking_config(api, scope.bridge_name, [naming.HOST_NAME])
    created = api.create_container(
        settings.host_image,
        name=scope.host_name,
        hostname="host",
        working_dir=HOME,
        labels={
            **scope.labels(naming.KIND_HOST, naming.HOST_NAME, stamp),
            **naming.writable_cap_label(storage),
        },
        host_config=host_config,
        networking_config=networking,
    )
    ident = str(created["Id"])
    start_checked(api, ident, settings, storage)
    return ident, checked_shape(host_config)


def start_checked(api: APIClient, ident: str, settings: SandboxSettings, storage: int = 0) -> None:
    """Blocking: start a container the coach created and check its hardening (``storage``:
    the size limit it was given); one that lacks any is removed and :class:`LimitsMissing`
    raised."""
    engine_call(api.start, ident)
    attrs = engine_call(api.inspect_container, ident)
    missing = missing_limits(attrs, settings.limits, storage)
    if missing:
        with contextlib.suppress(EngineNotFound):
            engine_call(api.remove_container, ident, force=True, v=True)
        raise LimitsMissing(missing)


def start_host_checked(
    api: APIClient, scope: Scope, settings: SandboxSettings, support: DiskSupport | None
) -> None:
    """Blocking: start a host shell made earlier and check its hardening, its size limit
    included."""
    storage = storage_for(api, settings.limits, support, settings.host_image)
    start_checked(api, scope.host_name, settings, storage)


def _create_sandbox(
    api: APIClient,
    scope: Scope,
    settings: SandboxSettings,
    stamp: str,
    support: DiskSupport | None = None,
) -> frozenset[str]:
    """Blocking: network, then host shell, started and checked; undone on any failure
    (``support``: what the worker's engine does with container size limits). The host
    shell's creation's :func:`checked_shape` (its every limit kept by the engine)."""
    try:
        create_bridge(api, scope, stamp)
        return create_host(api, scope, settings, stamp, support)[1]
    except BaseException:
        try:
            remove_sandbox_objects(api, scope)
        except Exception:  # the original failure matters more; the sweep finishes it
            log.exception("could not undo a half-made sandbox", extra={"sandbox": scope.sandbox})
        raise


async def create(worker: Worker, scope: Scope, settings: SandboxSettings) -> None:
    """Create the sandbox on ``worker``; :class:`Unavailable` (in the learner's words) when
    the engine refuses."""
    stamp = stamp_now()
    support, epoch = worker.disk_support, worker.epoch
    try:
        shape = await worker.run(
            lambda api: _create_sandbox(api, scope, settings, stamp, support),
            timeout=settings.api_timeout_seconds * 2,
            heavy=Slot.CREATE,
        )
    except EngineError as exc:
        log.error(
            "sandbox creation failed",
            extra={"worker": worker.name, "error": exc.explanation, "status": exc.status},
        )
        image = settings.host_image.split(":")[0]
        if isinstance(exc, EngineNotFound) and image in exc.explanation:
            raise Unavailable("sandbox.host_image_missing", image=settings.host_image) from exc
        if ADDRESS_POOLS_EXHAUSTED in exc.explanation:
            raise Unavailable("sandbox.workers_full") from exc
        raise Unavailable("sandbox.create_failed") from exc
    except LimitsMissing as exc:
        log.error("host shell lacked limits", extra={"worker": worker.name, "missing": exc.missing})
        raise Unavailable("sandbox.create_failed") from exc
    worker.limits_kept(shape, epoch)  # a learner's container of the same shape: not read back


# --------------------------------------------------------------------------------------------
# Removal
# --------------------------------------------------------------------------------------------

_REMOVAL_ORDER = {
    ("container", naming.KIND_CONTAINER): 0,
    ("container", naming.KIND_HOST): 1,
    ("volume", naming.KIND_VOLUME): 2,
    ("network", naming.KIND_NETWORK): 3,
    ("network", naming.KIND_BRIDGE): 4,
}


def _mark_removing(api: APIClient, scope: Scope) -> None:
    """The tombstone: removal of this sandbox was asked for (kept until the very end)."""
    labels = scope.labels(naming.KIND_TOMBSTONE, "removing")
    # creating a volume that exists (an earlier removal left it) is fine for the engine
    engine_call(api.create_volume, scope.tombstone_name, driver="local", labels=labels)


def remove_sandbox_objects(api: APIClient, scope: Scope) -> int:
    """Blocking: remove every container, volume and network labelled for ``scope``, kill-safe
    (see the module doc); how many objects were still there."""
    _mark_removing(api, scope)
    filters = scope.filters()
    found: list[tuple[int, str, str]] = []
    for container in scope.mine(api.containers(all=True, filters=filters)):
        kind = (container.get("Labels") or {}).get(naming.KIND, "")
        found.append((_REMOVAL_ORDER.get(("container", kind), 0), "container", container["Id"]))
    volumes = api.volumes(filters=filters).get("Volumes") or []
    for volume in scope.mine(volumes):
        if volume["Name"] != scope.tombstone_name:
            found.append((2, "volume", volume["Name"]))
    for network in scope.mine(api.networks(filters=filters)):
        kind = (network.get("Labels") or {}).get(naming.KIND, "")
        found.append((_REMOVAL_ORDER.get(("network", kind), 3), "network", network["Id"]))
    # the learner's own images once no container of theirs uses them any more
    found += [(5, "image", ref) for ref in own_images(api, scope)]
    found.sort(key=lambda item: item[0])
    removed = remove_objects(api, [(kind, ident) for _order, kind, ident in found])
    remove_objects(api, [("volume", scope.tombstone_name)])
    return removed


def own_images(api: APIClient, scope: Scope) -> list[str]:
    """Blocking: the learner's own images (``commit``, ``tag``): each of their names under the
    sandbox's prefix, then the ids of their images left without a name. Removing a name of a
    shared image only takes the name away."""
    refs: list[str] = []
    ids: list[str] = []
    listed = api.images(all=True)
    parents = {str(i["Id"]): str(i.get("ParentId") or "") for i in listed}
    for image in listed:
        names = [t for t in image.get("RepoTags") or [] if t.startswith(scope.image_prefix)]
        labels = image.get("Labels") or {}
        if names:
            refs += names
        elif scope.owns(labels) and labels.get(naming.KIND) == naming.KIND_IMAGE:
            ids.append(str(image["Id"]))
    # a build's steps are a chain of images: a child goes before its parent (the engine
    # refuses to remove an image other images are built on)
    return refs + sorted(ids, key=lambda ident: -_depth(ident, parents))


def _depth(ident: str, parents: dict[str, str]) -> int:
    depth, seen = 0, {ident}
    while parents.get(ident) and parents[ident] not in seen:
        ident = parents[ident]
        seen.add(ident)
        depth += 1
    return depth


def _remove_one(api: APIClient, kind: str, ident: str) -> None:
    if kind == "container":
        try:
            engine_call(api.remove_container, ident, force=True, v=True)
        except EngineConflict as exc:
            if "already in progress" not in exc.explanation:
                raise
            # being removed already (``--rm``): wait until it is gone, so that its network
            # and volumes can go next
            engine_call(api.wait, ident, timeout=REMOVAL_WAIT_SECONDS, condition="removed")
    elif kind == "network":
        engine_call(api.remove_network, ident)
    elif kind == "image":
        engine_call(api.remove_image, ident, force=True)
    else:
        engine_call(api.remove_volume, ident, force=True)


def remove_objects(api: APIClient, found: list[tuple[str, str]]) -> int:
    """Blocking: remove ``(kind, id)`` objects in order; how many were still there (one
    already gone is what removal wants)."""
    removed = 0
    for kind, ident in found:
        with contextlib.suppress(EngineNotFound):
            _remove_one(api, kind, ident)
            removed += 1
    return removed


# --------------------------------------------------------------------------------------------
# The warm pool: claiming, and removing one nobody claimed
# --------------------------------------------------------------------------------------------


def claim_blocking(api: APIClient, scope: Scope) -> None:
    """Blocking: make the warm sandbox ``scope.sandbox`` ``scope.owner``'s with its claim
    marker, a volume labelled with the learner as owner (labels cannot change, so the marker
    says it). From then on it is the learner's under every rule of reconciliation."""
    labels = scope.labels(naming.KIND_CLAIM, "claim", stamp_now())
    engine_call(api.create_volume, scope.claim_name, driver="local", labels=labels)


def claimed_by(api: APIClient, scope: Scope) -> str | None:
    """Blocking: the learner whose claim marker is on the sandbox (None: nobody's)."""
    try:
        volume = engine_call(api.inspect_volume, scope.claim_name)
    except EngineNotFound:
        return None
    return str((volume.get("Labels") or {}).get(naming.OWNER) or "?")


def remove_unclaimed(api: APIClient, scope: Scope) -> bool:
    """Blocking: remove the warm sandbox ``scope`` (owned by the pool) unless a claim marker
    names a learner: then it is theirs and nothing is touched. Whether it was removed."""
    if not scope.pooled:
        raise ValueError(f"not a warm sandbox: {scope.sandbox}")
    if claimed_by(api, scope) is not None:
        return False
    remove_sandbox_objects(api, scope)
    return True


# --------------------------------------------------------------------------------------------
# Before each command: wake and repair
# --------------------------------------------------------------------------------------------


def host_state(api: APIClient, scope: Scope) -> dict[str, Any] | None:
    """Blocking: the host shell's state (None when it does not exist)."""
    try:
        attrs = engine_call(api.inspect_container, scope.host_name)
    except EngineNotFound:
        return None
    state: dict[str, Any] = attrs.get("State") or {}
    return state


def _ensure_bridge(api: APIClient, scope: Scope) -> bool:
    """Blocking: make the sandbox's network again if it vanished; True if it had to."""
    try:
        engine_call(api.inspect_network, scope.bridge_name)
        return False
    except EngineNotFound:
        pass
    try:
        create_bridge(api, scope, stamp_now())
    except EngineConflict:  # made meanwhile
        return False
    return True


def _reconnect(api: APIClient, scope: Scope) -> None:
    """Blocking: after the sandbox's network was made again, join every container of the
    sandbox that was on the old one (containers remember a network by its id)."""
    network = engine_call(api.inspect_network, scope.bridge_name)
    for container in scope.mine(api.containers(all=True, filters=scope.filters())):
        networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
        endpoint = networks.get(scope.bridge_name)
        if endpoint is None or endpoint.get("NetworkID") == network["Id"]:
            continue
        name = (container.get("Labels") or {}).get(naming.NAME) or naming.HOST_NAME
        with contextlib.suppress(EngineNotFound, EngineConflict):
            engine_call(
                api.disconnect_container_from_network,
                container["Id"],
                scope.bridge_name,
                force=True,
            )
        engine_call(
            api.connect_container_to_network, container["Id"], network["Id"], aliases=[name]
        )


def repair_blocking(
    api: APIClient, scope: Scope, settings: SandboxSettings, support: DiskSupport | None = None
) -> list[str]:
    """Blocking: bring the sandbox back to a working host shell on its network; what had to
    be made again (:data:`REPAIRED_NETWORK`, :data:`REPAIRED_HOST`)."""
    repaired: list[str] = []
    if _ensure_bridge(api, scope):
        repaired.append(REPAIRED_NETWORK)
        _reconnect(api, scope)
    state = host_state(api, scope)
    if state is None:
        create_host(api, scope, settings, stamp_now(), support)
        repaired.append(REPAIRED_HOST)
    elif state.get("Paused"):
        engine_call(api.unpause, scope.host_name)
    elif not state.get("Running"):
        if state.get("StartedAt") in (None, "", NEVER):
            start_host_checked(api, scope, settings, support)  # never started: check it first
        else:
            engine_call(api.start, scope.host_name)
    return repaired


async def prepare(
    sandbox: Sandbox, settings: SandboxSettings, wake: bool = True, trust: bool = False
) -> list[str]:
    """Make sure the sandbox's host shell runs on its network before a command: one inspect
    when it does; woken when the reaper (or an engine restart) stopped it (unless not
    ``wake``: reading files needs no running shell); repaired when its host shell or network
    vanished. Returns what had to be made again. ``trust``: the command does not need the
    host shell running (``ps``, ``logs``, ``exec`` in a container of the learner's, ``run``
    on the sandbox's network, which the engine keeps while the host shell is attached), so
    a host shell seen running moments ago is not inspected again: anything that happened to
    it since is repaired before the next command that uses it."""
    scope = sandbox.scope
    if trust and sandbox.host_known_running():
        await sandbox.worker.ensure()  # as the inspect would: a worker not ready refuses
        return []
    state = await sandbox.worker.read(lambda api: host_state(api, scope))
    repaired = sandbox.repairs
    sandbox.repairs = []
    if state is not None and not wake and not repaired:
        return []
    if state is None or not state.get("Running") or state.get("Paused") or repaired:
        repaired = repaired + await sandbox.worker.run(
            lambda api: repair_blocking(api, scope, settings, sandbox.worker.disk_support),
            timeout=settings.api_timeout_seconds * 2,
        )
        if repaired:
            log.warning(
                "sandbox repaired",
                extra={"user": sandbox.owner, "sandbox": scope.sandbox, "repaired": repaired},
            )
    sandbox.stopped = False
    sandbox.saw_host_running()
    return sorted(set(repaired))


def _ensure_host_running(api: APIClient, scope: Scope) -> bool:
    """Blocking: start the host shell (and stopped-by-the-reaper state); True if it was off."""
    state = engine_call(api.inspect_container, scope.host_name)["State"]
    if state.get("Running") and not state.get("Paused"):
        return False
    if state.get("Paused"):
        api.unpause(scope.host_name)
    else:
        api.start(scope.host_name)
    return True


async def ensure_host_running(sandbox: Sandbox, timeout: float) -> None:  # noqa: ASYNC109
    scope = sandbox.scope
    sandbox.forget_host()
    await sandbox.worker.run(lambda api: _ensure_host_running(api, scope), timeout=timeout)
    sandbox.stopped = False
    sandbox.saw_host_running()


def _restart_host(api: APIClient, scope: Scope) -> None:
    """Blocking: kill every process of the host shell and start it again (files stay)."""
    api.stop(scope.host_name, timeout=0)  # SIGKILL at once, and wait until it has exited
    api.start(scope.host_name)


async def restart_host(sandbox: Sandbox, timeout: float) -> None:  # noqa: ASYNC109
    scope = sandbox.scope
    sandbox.forget_host()
    await sandbox.worker.run(lambda api: _restart_host(api, scope), timeout=timeout)
