"""Read-only views of one user's sandbox, in the user's own names.

Practice checks, autocomplete and ``/sandbox`` read these; they never expose the real
(prefixed) Docker names or another user's objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class MountView:
    type: str  # "volume" or "tmpfs"
    source: str  # the user's volume name ("" for tmpfs)
    destination: str
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class PortView:
    container_port: int
    protocol: str = "tcp"
    host_ip: str | None = None
    host_port: int | None = None  # asked for with -p (set even when nothing was published)
    published: bool = True  # False: asked for, but the engine bound nothing (closed networks)

    @property
    def asked(self) -> str:
        """The mapping as ``docker run -p`` wrote it, e.g. ``8080->80/tcp``."""
        inner = f"{self.container_port}/{self.protocol}"
        return f"{self.host_port}->{inner}" if self.host_port else inner


@dataclass(frozen=True, slots=True)
class ContainerView:
    name: str  # the user's name for it, e.g. "web"
    id: str  # full Docker id
    image: str  # as the user named it, e.g. "nginx:latest"
    status: str  # created | running | paused | restarting | exited | dead
    command: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    mounts: tuple[MountView, ...] = ()
    networks: tuple[str, ...] = ()  # the user's network names ("bridge" is the sandbox's own)
    ports: tuple[PortView, ...] = ()
    exit_code: int | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True, slots=True)
class SandboxState:
    """Everything a user has in their sandbox right now (empty if it does not exist yet)."""

    exists: bool = False
    worker: str | None = None
    containers: tuple[ContainerView, ...] = ()
    volumes: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()  # user-created networks (not the built-in "bridge")
    images: tuple[str, ...] = ()  # images the user can use, e.g. "busybox:latest"

    def container(self, name: str) -> ContainerView | None:
        return next((c for c in self.containers if c.name == name), None)
