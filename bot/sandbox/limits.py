"""Hardening and resource limits applied to every container the coach creates, and the check
that they held.

CIS Docker Benchmark §5 in docker-py terms: memory with equal swap, CPU, pids,
``no-new-privileges``, dropped capabilities, a capped json-file log, ``init`` and no restart
policy — plus a cap on what the container may write into its own filesystem
(``storage_opt={"size": …}``) on engines that enforce one (btrfs, zfs, overlay2 on xfs with
project quota), and a size on every tmpfs mount.

:func:`for_container` is the one function that gives these host-config arguments for any
container the coach makes (a sandbox's host shell, a learner's container, a build step, the
coach's own probes); :func:`missing_limits` reads a created container's inspect data, and the
caller removes the container when anything is missing.

On btrfs the image's own bytes count against the size (the limit is on *referenced* bytes), so
the size asked of the engine is the writable allowance plus the image's size there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docker.api import APIClient

from bot.dockercli.values import parse_bytes
from bot.settings import ContainerLimits

NO_NEW_PRIVILEGES = "no-new-privileges:true"
# Storage drivers whose size limit counts the image's bytes too (btrfs qgroups limit the
# bytes a subvolume references, and a container's subvolume is a snapshot of its image).
IMAGE_COUNTED_DRIVERS = frozenset({"btrfs"})


@dataclass(frozen=True, slots=True)
class DiskSupport:
    """What a worker's engine does with ``storage_opt={"size": …}`` (see
    :mod:`bot.sandbox.diskprobe`, which finds it out when the coach connects)."""

    driver: str  # the storage driver (``docker info``)
    backing_filesystem: str
    supported: bool  # the engine accepts a size limit
    enforced: bool  # a probe writing past a small limit was stopped
    detail: str = ""  # the engine's refusal or the probe's error, for admins

    @property
    def limits_disk(self) -> bool:
        """Whether containers' writable layers are really capped on this worker."""
        return self.supported and self.enforced

    @property
    def counts_image(self) -> bool:
        return self.driver in IMAGE_COUNTED_DRIVERS

    @property
    def sizes_lag(self) -> bool:
        """Whether the disk watchdog keeps a margin (a writer's memory limit) for each
        container still writing, on btrfs: the qgroup that enforces a container's size is
        updated only at commit (``SizeRw`` itself is current: the apparent size of the
        layer's files), and a kill of a container deep in writes returns once it has
        exited, seconds on a busy worker, so a writer that starts near the budget is stopped
        at its first look."""
        return self.driver in IMAGE_COUNTED_DRIVERS


def storage_bytes(limits: ContainerLimits, support: DiskSupport | None, image_bytes: int) -> int:
    """The ``size`` to ask of the engine for a container of an ``image_bytes`` image (0: none,
    because the engine does not take one or is not known yet)."""
    if support is None or not support.supported:
        return 0
    return limits.writable_bytes + (image_bytes if support.counts_image else 0)


def host_config_kwargs(limits: ContainerLimits, storage: int = 0) -> dict[str, Any]:
    """Keyword arguments for ``APIClient.create_host_config`` (``storage``: the size limit of
    the container's writable layer in bytes, 0 for none)."""
    kwargs: dict[str, Any] = {
        "mem_limit": limits.memory_bytes,
        "memswap_limit": limits.memory_bytes,
        "nano_cpus": int(limits.nano_cpus),
        "pids_limit": int(limits.pids),
        "security_opt": [NO_NEW_PRIVILEGES],
        "cap_drop": list(limits.cap_drop),
        "log_config": {
            "Type": "json-file",
            "Config": {"max-size": limits.log_max_size, "max-file": str(limits.log_max_file)},
        },
        "init": True,
        "privileged": False,
        "restart_policy": {"Name": "no"},
    }
    if storage:
        kwargs["storage_opt"] = {"size": str(storage)}
    return kwargs


def image_size(api: APIClient, image: str) -> int:
    """Blocking: the image's size in bytes (what it adds to a btrfs container's size)."""
    attrs: dict[str, Any] = api.inspect_image(image)  # type: ignore[no-untyped-call]
    return int(attrs.get("Size") or 0)


def storage_for(
    api: APIClient, limits: ContainerLimits, support: DiskSupport | None, image: str
) -> int:
    """Blocking: :func:`storage_bytes` for a container of ``image`` (its size looked up only
    where it counts)."""
    if support is None or not support.supported:
        return 0
    return storage_bytes(limits, support, image_size(api, image) if support.counts_image else 0)


def for_container(
    api: APIClient, limits: ContainerLimits, support: DiskSupport | None, image: str
) -> dict[str, Any]:
    """Blocking: every host-config limit of a coach-made container of ``image`` on a worker
    with ``support`` — the one function for any container the coach creates."""
    return host_config_kwargs(limits, storage_for(api, limits, support, image))


# --------------------------------------------------------------------------------------------
# tmpfs: always sized, never above the cap
# --------------------------------------------------------------------------------------------


def tmpfs_size(options: str) -> int | None:
    """The ``size=`` of ``--tmpfs`` mount options (``noexec,size=32m``) in bytes; None when
    there is none. ValueError for a size that is not a number of bytes (a percentage of the
    worker's memory included: the sandbox sizes in bytes)."""
    for option in options.split(","):
        key, _, value = option.strip().partition("=")
        if key == "size":
            return parse_bytes(value)
    return None


def tmpfs_options(value: str, limits: ContainerLimits) -> tuple[str, str]:
    """``--tmpfs /run:noexec,size=1m`` → ``("/run", "noexec,size=<bytes>")``: the size asked
    for (the policy refuses one above the cap), else the sandbox's default size."""
    path, _, options = value.partition(":")
    asked = tmpfs_size(options)
    size = limits.tmpfs_bytes if asked is None else min(asked, limits.tmpfs_max_bytes)
    kept = [o for o in options.split(",") if o and not o.strip().startswith("size=")]
    return path, ",".join([*kept, f"size={size}"])


def tmpfs_mount_bytes(asked: int | None, limits: ContainerLimits) -> int:
    """The size of a ``--mount type=tmpfs`` (``tmpfs-size``): as asked, within the cap."""
    return limits.tmpfs_bytes if not asked else min(asked, limits.tmpfs_max_bytes)


# --------------------------------------------------------------------------------------------
# The check after creation
# --------------------------------------------------------------------------------------------


def _tmpfs_problems(attrs: Mapping[str, Any], limits: ContainerLimits) -> list[str]:
    host = attrs.get("HostConfig") or {}
    sizes: list[int | None] = []
    for options in (host.get("Tmpfs") or {}).values():
        try:
            sizes.append(tmpfs_size(str(options or "")))
        except ValueError:
            sizes.append(None)
    for mount in host.get("Mounts") or []:
        if mount.get("Type") == "tmpfs":
            sizes.append(int((mount.get("TmpfsOptions") or {}).get("SizeBytes") or 0) or None)
    if any(size is None or size > limits.tmpfs_max_bytes for size in sizes):
        return ["tmpfs-size"]
    return []


def _storage_problems(attrs: Mapping[str, Any], storage: int) -> list[str]:
    if not storage:
        return []
    wanted = ((attrs.get("HostConfig") or {}).get("StorageOpt") or {}).get("size")
    try:
        size = parse_bytes(str(wanted)) if wanted else 0
    except ValueError:
        size = 0
    return [] if 0 < size <= storage else ["storage-size"]


# The host-config fields :func:`missing_limits` reads: those an engine could drop or change.
CHECKED_FIELDS = frozenset(
    {"Memory", "MemorySwap", "NanoCpus", "PidsLimit", "SecurityOpt", "CapDrop", "CapAdd",
     "LogConfig", "Init", "Privileged", "RestartPolicy", "PortBindings", "Binds", "Tmpfs",
     "Mounts", "StorageOpt"}
)  # fmt: skip


def checked_shape(host_config: Mapping[str, Any]) -> frozenset[str]:
    """Which of :data:`CHECKED_FIELDS` a creation's host config sends: an engine that kept
    every limit of one creation of a shape keeps them for the next one (what it drops, it
    drops for want of support, and says so in the creation's warnings)."""
    return frozenset(field for field in host_config if field in CHECKED_FIELDS)


def missing_limits(
    attrs: Mapping[str, Any], limits: ContainerLimits, storage: int = 0
) -> list[str]:
    """What a created container lacks of ``limits`` (empty when it is fully hardened);
    ``storage``: the writable-layer size it must have at most (0: none expected).

    Memory and CPU may be lower than configured (``-m``, ``--cpus``), never higher.
    """
    host = attrs.get("HostConfig") or {}
    problems: list[str] = []
    memory = host.get("Memory") or 0
    if not 0 < memory <= limits.memory_bytes:
        problems.append("memory")
    if host.get("MemorySwap") != memory:
        problems.append("memory-swap")
    if not 0 < (host.get("NanoCpus") or 0) <= limits.nano_cpus:
        problems.append("cpus")
    if host.get("PidsLimit") != limits.pids:
        problems.append("pids")
    if NO_NEW_PRIVILEGES not in (host.get("SecurityOpt") or []):
        problems.append("no-new-privileges")
    dropped = {cap.upper().removeprefix("CAP_") for cap in host.get("CapDrop") or []}
    if not {cap.upper().removeprefix("CAP_") for cap in limits.cap_drop} <= dropped:
        problems.append("cap-drop")
    if host.get("CapAdd"):
        problems.append("cap-add")
    log = host.get("LogConfig") or {}
    log_config = log.get("Config") or {}
    if log.get("Type") != "json-file" or log_config.get("max-size") != limits.log_max_size:
        problems.append("log-size")
    if str(log_config.get("max-file")) != str(limits.log_max_file):
        problems.append("log-files")
    if host.get("Init") is not True:
        problems.append("init")
    if host.get("Privileged"):
        problems.append("privileged")
    if (host.get("RestartPolicy") or {}).get("Name") not in ("", "no", None):
        problems.append("restart-policy")
    for binding in (host.get("PortBindings") or {}).values():
        for item in binding or []:
            if item.get("HostIp") != "127.0.0.1":
                problems.append("port-binding")
    if host.get("Binds"):
        problems.append("bind-mount")
    problems += _tmpfs_problems(attrs, limits)
    problems += _storage_problems(attrs, storage)
    return problems
