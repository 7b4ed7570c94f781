"""Creating and removing sandboxes: an internal bridge network and the user's host shell.

A sandbox lives on one worker (sticky). Creation is all-or-nothing: if any step fails, what
was created is removed again. Removal takes every object that carries the sandbox's labels.
The blocking helpers here run on the worker's thread pool (``worker.run``).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from docker.api import APIClient

from bot.core.errors import Unavailable, UserError
from bot.sandbox import naming
from bot.sandbox.errors import EngineConflict, EngineError, EngineNotFound, LimitsMissing
from bot.sandbox.limits import host_config_kwargs, missing_limits
from bot.sandbox.naming import Scope
from bot.sandbox.workers import Worker, engine_call, networking_config
from bot.settings import SandboxSettings

log = logging.getLogger("bot.sandbox.provision")
HOME = "/home/coach"
REMOVAL_WAIT_SECONDS = 10
ADDRESS_POOLS_EXHAUSTED = "could not find an available, non-overlapping"


@dataclass
class Sandbox:
    """A user's sandbox as the manager tracks it in memory."""

    scope: Scope
    worker: Worker
    created_at: datetime
    last_activity: datetime
    stopped: bool = False  # the reaper stopped it for being idle

    @property
    def owner(self) -> str:
        return self.scope.owner


def _create_sandbox(api: APIClient, scope: Scope, settings: SandboxSettings, stamp: str) -> None:
    """Blocking: network, then host shell, started and checked; undone on any failure."""
    try:
        api.create_network(
            scope.bridge_name,
            driver="bridge",
            internal=True,
            check_duplicate=True,
            labels=scope.labels(naming.KIND_BRIDGE, "bridge", stamp),
        )
        host_config = api.create_host_config(
            network_mode=scope.bridge_name, **host_config_kwargs(settings.limits)
        )
        networking = networking_config(api, scope.bridge_name, [naming.HOST_NAME])
        created = api.create_container(
            settings.host_image,
            name=scope.host_name,
            hostname="host",
            working_dir=HOME,
            labels=scope.labels(naming.KIND_HOST, naming.HOST_NAME, stamp),
            host_config=host_config,
            networking_config=networking,
        )
        api.start(created["Id"])
        missing = missing_limits(api.inspect_container(created["Id"]), settings.limits)
        if missing:
            raise LimitsMissing(missing)
    except BaseException:
        try:
            remove_sandbox_objects(api, scope)
        except Exception:  # the original failure matters more; the sweep retries the rest
            log.exception("could not undo a half-made sandbox", extra={"sandbox": scope.sandbox})
        raise


def remove_sandbox_objects(api: APIClient, scope: Scope) -> int:
    """Blocking: remove every container, network and volume labeled for ``scope``."""
    filters = scope.filters()
    found = [("container", c["Id"]) for c in scope.mine(api.containers(all=True, filters=filters))]
    found += [("network", n["Id"]) for n in scope.mine(api.networks(filters=filters))]
    volumes = api.volumes(filters=filters).get("Volumes") or []
    found += [("volume", v["Name"]) for v in scope.mine(volumes)]
    found += [("image", ref) for ref in own_images(api, scope)]
    return remove_objects(api, found)


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


async def create(worker: Worker, scope: Scope, settings: SandboxSettings) -> None:
    """Create the sandbox on ``worker``; a :class:`UserError` (in the learner's words) when
    the engine refuses."""
    # The label records the engine-side (real) time: reconciliation compares it with the
    # engine's own times, whatever clock the coach runs on.
    stamp = datetime.now(UTC).isoformat()
    try:
        await worker.run(
            lambda api: _create_sandbox(api, scope, settings, stamp),
            timeout=settings.api_timeout_seconds,
        )
    except EngineError as exc:
        log.error(
            "sandbox creation failed",
            extra={"worker": worker.name, "error": exc.explanation, "status": exc.status},
        )
        image = settings.host_image.split(":")[0]
        if isinstance(exc, EngineNotFound) and image in exc.explanation:
            raise UserError("sandbox.host_image_missing", image=settings.host_image) from exc
        if ADDRESS_POOLS_EXHAUSTED in exc.explanation:
            raise Unavailable("sandbox.workers_full") from exc
        raise UserError(
            "sandbox.create_failed", reason=naming.for_user(exc.explanation, scope)
        ) from exc


def _ensure_host_running(api: APIClient, scope: Scope) -> bool:
    """Blocking: start the host shell (and stopped-by-the-reaper state); True if it was off."""
    state = api.inspect_container(scope.host_name)["State"]
    if state.get("Running") and not state.get("Paused"):
        return False
    if state.get("Paused"):
        api.unpause(scope.host_name)
    else:
        api.start(scope.host_name)
    return True


async def ensure_host_running(sandbox: Sandbox, timeout: float) -> None:  # noqa: ASYNC109
    scope = sandbox.scope
    await sandbox.worker.run(lambda api: _ensure_host_running(api, scope), timeout=timeout)
    sandbox.stopped = False


def _restart_host(api: APIClient, scope: Scope) -> None:
    """Blocking: kill every process of the host shell and start it again (files stay)."""
    api.stop(scope.host_name, timeout=0)  # SIGKILL at once, and wait until it has exited
    api.start(scope.host_name)


async def restart_host(sandbox: Sandbox, timeout: float) -> None:  # noqa: ASYNC109
    scope = sandbox.scope
    await sandbox.worker.run(lambda api: _restart_host(api, scope), timeout=timeout)
