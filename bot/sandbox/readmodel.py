"""The sandbox as other capabilities see it: typed, read-only views and the admin's removal.

Practice checks read :meth:`~SandboxReadModel.state`, files and pages fetched from the host
shell; autocomplete reads names; admins list sandboxes and remove one; the health endpoint
reads :meth:`~SandboxReadModel.health`. Reads never create a sandbox and never wake one.
"Nothing to show" (no sandbox, a worker that cannot be reached, a file that is not there)
is an empty answer, never an error: checks and autocomplete go on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from bot.core.context import Actor
from bot.core.errors import CoachError, UserError
from bot.dockercli.views import ContainerView
from bot.sandbox import objects
from bot.sandbox.api import SandboxHealth, SandboxState, SandboxSummary, WorkerHealth
from bot.sandbox.errors import EngineNotFound, SandboxError, TooBig
from bot.sandbox.manager import SandboxManager
from bot.sandbox.naming import Scope
from bot.sandbox.ops import execs, files
from bot.sandbox.ops.images import visible
from bot.sandbox.ops.own_images import own_image_views
from bot.sandbox.watchdog import DiskWatchdog
from bot.sandbox.workers import Worker

log = logging.getLogger("bot.sandbox.readmodel")


def _with_limits(view: ContainerView, attrs: Mapping[str, Any]) -> ContainerView:
    """``view`` with what practice checks read of ``inspect``: hostname, limits, OOM kill
    (``view_from_inspect`` reads health already)."""
    host = attrs.get("HostConfig") or {}
    state = attrs.get("State") or {}
    return replace(
        view,
        hostname=str((attrs.get("Config") or {}).get("Hostname") or ""),
        memory=int(host.get("Memory") or 0),
        nano_cpus=int(host.get("NanoCpus") or 0),
        oom_killed=bool(state.get("OOMKilled")),
    )


class SandboxReadModel:
    """Implements :class:`~bot.sandbox.api.SandboxReader`, ``SandboxNames`` and
    ``SandboxAdmin``."""

    def __init__(self, manager: SandboxManager, disk: DiskWatchdog) -> None:
        self.manager = manager
        self.disk = disk

    # practice ----------------------------------------------------------------------
    async def state(self, actor: Actor) -> SandboxState:
        sandbox = self.manager.get(actor.user_id)
        if sandbox is None:
            return SandboxState()
        worker, scope = sandbox.worker, sandbox.scope
        listed, volumes, networks = await objects.listing(worker, scope)
        inspected, engine_images = await asyncio.gather(
            objects.inspected(worker, listed), worker.run(lambda api: api.images())
        )
        found = visible(scope, engine_images, self.manager.policy)
        images = {name for names in found.names.values() for name in names}
        own = await own_image_views(worker, scope, found)
        return SandboxState(
            exists=True,
            worker=worker.name,
            containers=tuple(
                _with_limits(objects.view_from_inspect(scope, a), a) for a in inspected
            ),
            volumes=objects.user_names(scope, volumes),
            networks=objects.user_names(scope, networks),
            images=tuple(sorted(images)),
            own_images=tuple(own),
        )

    async def read_file(
        self, actor: Actor, container: str | None, path: str, max_bytes: int = 65536
    ) -> bytes | None:
        """A file of the host shell (``container`` None) or of one of the learner's
        containers, at most ``max_bytes``; None when it cannot be read."""
        sandbox = self.manager.get(actor.user_id)
        if sandbox is None:
            return None
        worker, scope = sandbox.worker, sandbox.scope
        try:
            if container is None:
                target, real = scope.host_name, files.host_path(path)
            else:
                found = await objects.container(worker, scope, container)
                target, real = found.id, files.container_path(path)
            _archive, single = await worker.run(
                lambda api: files.read_file(api, target, real, max_bytes)
            )
        except (UserError, EngineNotFound, TooBig):  # no such container or file, worker down
            return None
        except SandboxError as exc:
            _unexpected("read a file", actor, exc)
            return None
        return None if single is None else single[1][:max_bytes]

    async def http_get(self, actor: Actor, url: str, timeout: float = 5.0) -> str | None:  # noqa: ASYNC109
        """The page at ``url`` as the learner's host shell sees it; None when not fetched."""
        sandbox = self.manager.get(actor.user_id)
        if sandbox is None or not url.startswith(("http://", "https://")):
            return None
        try:
            return await execs.fetch_from_host(sandbox, self.manager.settings, url, timeout)
        except UserError:  # the worker is down
            return None
        except SandboxError as exc:
            _unexpected("fetch a page", actor, exc)
            return None

    # autocomplete ------------------------------------------------------------------
    async def container_names(self, actor: Actor) -> list[str]:
        return await self._names(actor, objects.containers, objects.container_name)

    async def volume_names(self, actor: Actor) -> list[str]:
        return await self._names(actor, objects.volumes, objects.volume_name)

    async def _names(
        self,
        actor: Actor,
        listing: Callable[[Worker, Scope], Awaitable[list[objects.Listed]]],
        name_of: Callable[[Scope, objects.Listed], str],
    ) -> list[str]:
        """The user's names of one kind; nothing when that cannot be had."""
        sandbox = self.manager.get(actor.user_id)
        if sandbox is None or not sandbox.worker.ready:
            return []
        try:
            listed = await listing(sandbox.worker, sandbox.scope)
        except UserError:  # the worker is down
            return []
        except SandboxError as exc:
            _unexpected("list names", actor, exc)
            return []
        return sorted(name_of(sandbox.scope, item) for item in listed)

    # admin and health --------------------------------------------------------------
    async def list_sandboxes(self, guild_members: set[str] | None = None) -> list[SandboxSummary]:
        summaries: list[SandboxSummary] = []
        served = self.manager.sandboxes()
        for sandbox in [*served, *self.manager.aside()]:
            if guild_members is not None and sandbox.owner not in guild_members:
                continue
            counts = (0, 0, 0, 0)
            if sandbox.worker.ready:
                try:
                    listed, volumes, networks = await objects.listing(sandbox.worker, sandbox.scope)
                except CoachError as exc:  # shown with zero counts, and logged
                    log.warning(
                        "could not count a sandbox's objects",
                        extra={"user": sandbox.owner, "error": str(exc)[:200]},
                    )
                else:
                    running = sum(1 for c in listed if c.get("State") == "running")
                    counts = (len(listed), running, len(volumes), len(networks))
            disk = self.disk.state(sandbox)
            summaries.append(
                SandboxSummary(
                    sandbox.owner,
                    sandbox.scope.sandbox,
                    sandbox.worker.name,
                    *counts,
                    sandbox.created_at,
                    sandbox.last_activity,
                    sandbox.stopped,
                    aside=sandbox not in served,
                    disk_bytes=disk.usage.total if disk.usage is not None else None,
                    over_budget=disk.over,
                )
            )
        return summaries

    async def destroy_user(self, user_id: str) -> bool:
        """Remove the user's sandboxes — the one they use and any kept aside — after their
        running command; False when there is none."""
        return await self.manager.destroy_user(user_id)

    async def probe_workers(self) -> tuple[WorkerHealth, ...]:
        """Every worker pinged now, with its disk as the watchdog last saw it."""
        return self._with_disk(await self.manager.probe_workers())

    def health(self) -> SandboxHealth:
        health = self.manager.health()
        return dataclasses.replace(health, workers=self._with_disk(health.workers))

    def _with_disk(self, workers: tuple[WorkerHealth, ...]) -> tuple[WorkerHealth, ...]:
        found = []
        for health in workers:
            worker = self.manager.pool.get(health.name)
            view = self.disk.view(worker) if worker is not None else None
            found.append(dataclasses.replace(health, disk=view))
        return tuple(found)

    def executor_stats(self) -> dict[str, Any]:
        """:meth:`health` as JSON-ready data (the health file's ``workers`` entry)."""
        return self.health().as_dict()


def _unexpected(what: str, actor: Actor, exc: SandboxError) -> None:
    """A read the engine refused for a reason other than "not there": the reader gets
    nothing, the log gets why."""
    log.warning(
        "sandbox read failed", extra={"read": what, "user": actor.user_id, "error": repr(exc)}
    )
