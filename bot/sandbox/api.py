"""What other capabilities may know of the sandbox: typed views and small interfaces.

Practice checks, autocomplete, the admin commands and the health endpoint depend on these,
never on the sandbox's internals (the manager, workers, docker-py). The views are plain,
frozen data in the learner's own names; the Protocols are what
:class:`~bot.sandbox.readmodel.SandboxReadModel` implements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.core.context import Actor
from bot.dockercli.views import ContainerView, MountView, PortView, SandboxState

__all__ = [
    "ContainerView",
    "MountView",
    "PortView",
    "SandboxAdmin",
    "SandboxHealth",
    "SandboxNames",
    "SandboxReader",
    "SandboxState",
    "SandboxSummary",
    "WorkerDiskView",
    "WorkerHealth",
]


@dataclass(frozen=True, slots=True)
class SandboxSummary:
    """One sandbox for the admin commands."""

    owner: str
    sandbox: str
    worker: str
    containers: int
    running: int
    volumes: int
    networks: int
    created_at: datetime
    last_activity: datetime
    stopped: bool
    aside: bool = False  # kept aside: the learner has another sandbox, which they use
    disk_bytes: int | None = None  # disk use as the watchdog last measured it
    over_budget: bool = False


@dataclass(frozen=True, slots=True)
class WorkerDiskView:
    """A worker's disk as admins and the health endpoint see it."""

    driver: str | None  # the engine's storage driver (None: not found out yet)
    limits_enforced: bool | None  # the engine caps each container's writable layer
    detail: str | None  # the probe's finding, or why it could not be made
    free_bytes: int | None  # the data root's free space, as last checked
    total_bytes: int | None
    floor: float  # new sandboxes, pulls and builds are refused below this free share
    below_floor: bool
    interval_seconds: float  # every sandbox on it is measured at least this often

    @property
    def free_fraction(self) -> float | None:
        if self.free_bytes is None or not self.total_bytes:
            return None
        return self.free_bytes / self.total_bytes

    def as_dict(self) -> dict[str, Any]:
        fraction = self.free_fraction
        return {
            "driver": self.driver,
            "limits_enforced": self.limits_enforced,
            "detail": self.detail,
            "free_bytes": self.free_bytes,
            "total_bytes": self.total_bytes,
            "free_fraction": None if fraction is None else round(fraction, 4),
            "floor": self.floor,
            "below_floor": self.below_floor,
            "watchdog_interval_seconds": self.interval_seconds,
        }


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    name: str
    healthy: bool
    error: str | None = None
    sandboxes: int | None = None  # host shells of every instance, when just counted
    disk: WorkerDiskView | None = None


@dataclass(frozen=True, slots=True)
class SandboxHealth:
    """The sandbox's side of the health endpoint: thread pools, workers, sandboxes."""

    api: dict[str, int] = field(default_factory=dict)  # the API pool's counters
    streams: dict[str, int] = field(default_factory=dict)  # the stream pool's counters
    workers: tuple[WorkerHealth, ...] = ()
    sandboxes: int = 0
    warm: dict[str, int] = field(default_factory=dict)  # ready warm sandboxes per worker

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, as the health file shows it."""
        return {
            "api": dict(self.api),
            "streams": dict(self.streams),
            "workers": {
                w.name: {
                    "healthy": w.healthy,
                    "error": w.error,
                    "warm": self.warm.get(w.name, 0),
                    **({"disk": w.disk.as_dict()} if w.disk is not None else {}),
                }
                for w in self.workers
            },
            "sandboxes": self.sandboxes,
        }


class SandboxReader(Protocol):
    """Read-only views of one learner's sandbox (practice checks)."""

    async def state(self, actor: Actor) -> SandboxState: ...

    async def read_file(
        self, actor: Actor, container: str | None, path: str, max_bytes: int = 65536
    ) -> bytes | None: ...

    async def http_get(self, actor: Actor, url: str, timeout: float = 5.0) -> str | None: ...  # noqa: ASYNC109


class SandboxNames(Protocol):
    """The learner's names of one kind (autocomplete); empty when they cannot be had."""

    async def container_names(self, actor: Actor) -> list[str]: ...

    async def volume_names(self, actor: Actor) -> list[str]: ...


class SandboxAdmin(Protocol):
    """What server managers and the health endpoint see and do."""

    async def list_sandboxes(
        self, guild_members: set[str] | None = None
    ) -> list[SandboxSummary]: ...

    async def destroy_user(self, user_id: str) -> bool: ...

    def health(self) -> SandboxHealth: ...

    async def probe_workers(self) -> tuple[WorkerHealth, ...]: ...

    def executor_stats(self) -> dict[str, Any]: ...
