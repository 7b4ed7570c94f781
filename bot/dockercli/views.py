"""Docker objects as the CLI shows them, in the learner's own names.

Plain data: a container with its ports and mounts, an image, a network, a search result,
a ``stats`` sample and a learner's whole sandbox (:class:`SandboxState`). The sandbox builds
them from the engine's answers (rewriting real names into the learner's);
:mod:`bot.dockercli.output` prints them like the docker CLI; practice checks read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
    labels: Mapping[str, str] = field(default_factory=dict)  # the user's own labels
    # What ``docker inspect`` says about limits and health (the read model fills these).
    hostname: str = ""
    memory: int = 0  # HostConfig.Memory: the memory limit in bytes (0: no limit)
    nano_cpus: int = 0  # HostConfig.NanoCpus: the CPU limit in billionths of a CPU (0: none)
    oom_killed: bool = False  # State.OOMKilled
    health: str | None = None  # State.Health.Status: starting | healthy | unhealthy (None: none)
    addresses: tuple[str, ...] = ()  # "network/address" for each network it is on
    size_rw: int | None = None  # measured with ``ps -s`` only
    size_root_fs: int | None = None

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True, slots=True)
class SandboxState:
    """Everything one learner has in their sandbox right now, in their own names (empty if
    the sandbox does not exist yet): what ``docker ps -a``, ``volume ls``, ``network ls`` and
    ``images`` would show them. The sandbox reads it; practice checks look at it."""

    exists: bool = False
    worker: str | None = None
    containers: tuple[ContainerView, ...] = ()
    volumes: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()  # user-created networks (not the built-in "bridge")
    images: tuple[str, ...] = ()  # images the user can use, e.g. "busybox:latest", "site:latest"
    own_images: tuple[OwnImageView, ...] = ()  # the user's own named images (build, commit, tag)

    def container(self, name: str) -> ContainerView | None:
        return next((c for c in self.containers if c.name == name), None)


@dataclass(frozen=True, slots=True)
class OwnImageView:
    """One of the learner's own images as ``docker history`` and ``image inspect`` show it:
    ``steps`` are the instructions of the learner's own ``docker build`` steps, oldest first
    (``COPY index.html /www/``, ``RUN echo hi``; none for an image they only tagged or
    committed)."""

    id: str
    names: tuple[str, ...]  # the learner's names for it: "site:latest"
    built: bool = False  # made by ``docker build`` in this sandbox
    steps: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()  # Config.Cmd
    entrypoint: tuple[str, ...] = ()  # Config.Entrypoint


@dataclass(frozen=True, slots=True)
class ImageView:
    repository: str
    tag: str
    id: str  # "sha256:…" or bare hex
    size: int
    created_at: datetime | None = None
    digest: str = "<none>"  # "sha256:…" when the image came from a registry
    labels: Mapping[str, str] = field(default_factory=dict)
    containers: int = 0  # the learner's containers made from it
    own: bool = False  # the learner's own image (commit, tag, build), not a shared one

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True, slots=True)
class NetworkView:
    name: str
    id: str
    driver: str = "bridge"
    scope: str = "local"
    internal: bool = False
    ipv6: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def short_id(self) -> str:
        return self.id[:12]


@dataclass(frozen=True, slots=True)
class VolumeView:
    name: str
    driver: str = "local"
    scope: str = "local"
    mountpoint: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    links: int = 0  # containers using it
    size: int | None = None  # None: not measured


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One layer of ``docker history``."""

    id: str  # "sha256:…" or "<missing>"
    created_at: datetime | None
    created_by: str
    size: int
    comment: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchResult:
    name: str
    description: str = ""
    stars: int = 0
    official: bool = False


@dataclass(frozen=True, slots=True)
class StatsSample:
    id: str
    name: str
    running: bool = True
    cpu_percent: float = 0.0
    memory_usage: int = 0
    memory_limit: int = 0
    net_rx: int = 0
    net_tx: int = 0
    block_read: int = 0
    block_write: int = 0
    pids: int = 0

    @property
    def memory_percent(self) -> float:
        return 100.0 * self.memory_usage / self.memory_limit if self.memory_limit else 0.0


def _sum_blkio(stats: Mapping[str, Any], op: str) -> int:
    entries = (stats.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    return sum(int(e.get("value", 0)) for e in entries if str(e.get("op", "")).lower() == op)


def stats_sample(name: str, stats: Mapping[str, Any]) -> StatsSample:
    """A :class:`StatsSample` from the engine's stats JSON (``stream=False``), computed the
    way the docker CLI does (CPU % from the delta to the previous sample, memory without the
    inactive page cache)."""
    cpu = stats.get("cpu_stats") or {}
    pre = stats.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (
        pre.get("cpu_usage") or {}
    ).get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or [1])
    percent = 100.0 * cpu_delta / system_delta * online if cpu_delta > 0 and system_delta > 0 else 0
    memory = stats.get("memory_stats") or {}
    details = memory.get("stats") or {}
    cache = details.get("total_inactive_file", details.get("inactive_file", 0))
    usage = max(0, int(memory.get("usage", 0)) - int(cache))
    networks = (stats.get("networks") or {}).values()
    return StatsSample(
        id=str(stats.get("id", "")),
        name=name,
        cpu_percent=float(percent),
        memory_usage=usage,
        memory_limit=int(memory.get("limit", 0)),
        net_rx=sum(int(n.get("rx_bytes", 0)) for n in networks),
        net_tx=sum(int(n.get("tx_bytes", 0)) for n in networks),
        block_read=_sum_blkio(stats, "read"),
        block_write=_sum_blkio(stats, "write"),
        pids=int((stats.get("pids_stats") or {}).get("current", 0)),
    )
