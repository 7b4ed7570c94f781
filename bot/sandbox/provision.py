"""Creating and removing sandboxes: an internal bridge network and the user's host shell.

A sandbox lives on one worker (sticky). Creation is all-or-nothing: if any step fails, what
was created is removed again. Removal takes every object that carries the sandbox's labels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from docker.api import APIClient
from docker.errors import APIError, NotFound

from bot.core.errors import UserError
from bot.sandbox import naming
from bot.sandbox.limits import host_config_kwargs, missing_limits
from bot.sandbox.naming import Scope
from bot.sandbox.workers import Worker
from bot.settings import SandboxSettings

log = logging.getLogger("bot.sandbox.provision")
HOME = "/home/coach"


@dataclass
class Sandbox:
    """A user's sandbox as the service tracks it in memory."""

    scope: Scope
    worker: Worker
    created_at: datetime
    last_activity: datetime
    stopped: bool = False  # the reaper stopped it for being idle
    notes: dict[str, Any] = field(default_factory=dict)

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
        networking = api.create_networking_config(
            {scope.bridge_name: api.create_endpoint_config(aliases=[naming.HOST_NAME])}
        )
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
            raise RuntimeError(f"host shell lacks limits: {', '.join(missing)}")
    except BaseException:
        remove_sandbox_objects(api, scope)
        raise


def remove_sandbox_objects(api: APIClient, scope: Scope) -> int:
    """Blocking: remove every container, network and volume labeled for ``scope``."""
    filters = scope.filters()
    found = [("container", c["Id"]) for c in scope.mine(api.containers(all=True, filters=filters))]
    found += [("network", n["Id"]) for n in scope.mine(api.networks(filters=filters))]
    volumes = api.volumes(filters=filters).get("Volumes") or []
    found += [("volume", v["Name"]) for v in scope.mine(volumes)]
    return remove_objects(api, found)


def remove_objects(api: APIClient, found: list[tuple[str, str]]) -> int:
    """Blocking: remove ``(kind, id)`` objects in order; how many were still there."""
    removed = 0
    for kind, ident in found:
        try:
            if kind == "container":
                api.remove_container(ident, force=True, v=True)
            elif kind == "network":
                api.remove_network(ident)
            else:
                api.remove_volume(ident, force=True)
            removed += 1
        except NotFound:
            continue
    return removed


async def create(worker: Worker, scope: Scope, settings: SandboxSettings) -> None:
    """Create the sandbox on ``worker``; raise ``UserError`` when the host image is missing."""
    # The label records the engine-side (real) time: reconciliation compares it with the
    # engine's own times, whatever clock the coach runs on.
    stamp = datetime.now(UTC).isoformat()
    try:
        await worker.run(
            _create_sandbox, scope, settings, stamp, timeout=settings.api_timeout_seconds
        )
    except NotFound as exc:
        if settings.host_image.split(":")[0] not in str(exc):
            log.error("sandbox creation failed", extra={"worker": worker.name, "error": str(exc)})
            raise UserError("sandbox.create_failed", reason=str(exc.explanation or exc)) from exc
        log.error("host image missing", extra={"worker": worker.name, "error": str(exc)})
        raise UserError("sandbox.host_image_missing", image=settings.host_image) from exc
    except APIError as exc:
        log.error("sandbox creation failed", extra={"worker": worker.name, "error": str(exc)})
        raise UserError("sandbox.create_failed", reason=exc.explanation or str(exc)) from exc


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
    await sandbox.worker.run(_ensure_host_running, sandbox.scope, timeout=timeout)
    sandbox.stopped = False


def _restart_host(api: APIClient, scope: Scope) -> None:
    """Blocking: kill every process of the host shell and start it again (files stay)."""
    api.stop(scope.host_name, timeout=0)  # SIGKILL at once, and wait until it has exited
    api.start(scope.host_name)


async def restart_host(sandbox: Sandbox, timeout: float) -> None:  # noqa: ASYNC109
    await sandbox.worker.run(_restart_host, sandbox.scope, timeout=timeout)
