"""What the coach finds out about a worker's disk through the Docker API alone.

The coach reaches a worker only through its API (possibly TCP with TLS), so it cannot run
``df`` there. Two blocking probes, each a short-lived hardened container of the sandbox's
host image (no network, read-only root, no capabilities), answer:

* :func:`detect_support` — does the engine cap a container's writable layer? ``docker info``
  names the storage driver; a probe container created with a small ``storage_opt`` size is
  refused by engines that cannot (overlay2 on ext4) and, where accepted, writes past its
  limit: the limit bites only if that write fails. Run when the coach first reaches a worker.
* :func:`data_root_space` — total and free bytes of the filesystem that holds the engine's
  data root, from ``df`` on an anonymous volume (volumes live on that filesystem): the
  worker's free-space floor.

Probe containers carry the instance label and ``org.docker-coach.probe``; each removes
itself, and :func:`remove_stale_probes` clears what a crash left.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from docker.api import APIClient
from docker.types import Mount

from bot.sandbox import naming
from bot.sandbox.errors import EngineConflict, EngineError, EngineNotFound
from bot.sandbox.limits import DiskSupport, host_config_kwargs, image_size
from bot.sandbox.workers import engine_call
from bot.settings import ContainerLimits

PROBE = naming.LABEL_PREFIX + "probe"
PROBE_LIMIT_BYTES = 8 * 1024 * 1024  # the probe's own writable allowance
PROBE_WRITE_MIB = 32  # what the probe tries to write past it
QUOTA_REFUSALS = ("storage-opt", "storage opt", "quota")
QUOTA_HITS = ("Disk quota exceeded", "No space left on device")
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class DiskSpace:
    """The worker's data-root filesystem, as ``df`` saw it."""

    total_bytes: int
    free_bytes: int

    @property
    def free_fraction(self) -> float:
        return self.free_bytes / self.total_bytes if self.total_bytes else 0.0


def _driver_status(info: dict[str, Any]) -> dict[str, str]:
    return {str(key): str(value) for key, value in info.get("DriverStatus") or []}


def _probe_labels(instance: str, kind: str) -> dict[str, str]:
    return {naming.INSTANCE: instance, PROBE: kind}


def run_probe(
    api: APIClient,
    image: str,
    command: list[str],
    *,
    host: dict[str, Any],
    labels: dict[str, str],
    timeout: float,
) -> tuple[int, str]:
    """Blocking: create, start, wait for and remove one probe container; (exit code, output)."""
    config = api.create_host_config(network_mode="none", **host)
    created = engine_call(  # mapped here: detect_support reads a refused size limit
        api.create_container,
        image,
        command,
        labels=labels,
        host_config=config,
        network_disabled=True,
    )
    cid = str(created["Id"])
    try:
        api.start(cid)
        status = api.wait(cid, timeout=int(timeout) + 1)
        output = api.logs(cid, stdout=True, stderr=True).decode("utf-8", "replace")
        return int(status.get("StatusCode", -1)), output
    finally:
        with contextlib.suppress(EngineNotFound):
            engine_call(api.remove_container, cid, force=True, v=True)


def _probe_host(limits: ContainerLimits, storage: int, **extra: Any) -> dict[str, Any]:
    """Host config of a probe: the sandbox's limits, fewer powers still, no writes unless
    asked (``read_only=False``)."""
    host = host_config_kwargs(limits, storage)
    host.update(cap_drop=["ALL"], read_only=True)
    host.update(extra)
    return host


def detect_support(
    api: APIClient, image: str, limits: ContainerLimits, instance: str, timeout: float = 60
) -> DiskSupport:
    """Blocking: does the engine cap containers' writable layers, and does the cap bite?"""
    info = api.info()
    driver = str(info.get("Driver", "?"))
    backing = _driver_status(info).get("Backing Filesystem", driver)
    counted = image_size(api, image) if driver == "btrfs" else 0
    write = ["dd", "if=/dev/zero", "of=/probe.bin", "bs=1M", f"count={PROBE_WRITE_MIB}"]
    try:
        code, output = run_probe(
            api,
            image,
            write,
            host=_probe_host(limits, PROBE_LIMIT_BYTES + counted, read_only=False),
            labels=_probe_labels(instance, "quota"),
            timeout=timeout,
        )
    except EngineError as exc:
        text = exc.explanation
        if exc.status in (400, 500) and any(word in text.lower() for word in QUOTA_REFUSALS):
            return DiskSupport(driver, backing, supported=False, enforced=False, detail=text[:300])
        raise
    hit = code != 0 and any(word in output for word in QUOTA_HITS)
    lines = output.strip().splitlines()
    detail = lines[0] if lines else f"exit code {code}"
    return DiskSupport(driver, backing, supported=True, enforced=hit, detail=detail[:300])


def parse_df(output: str) -> DiskSpace:
    """``df -Pk`` output → :class:`DiskSpace` from its last line; ValueError otherwise."""
    lines = output.strip().splitlines()
    fields = lines[-1].split() if lines else []
    if len(fields) < 6 or not all(f.isdigit() for f in fields[1:4]):
        raise ValueError(f"unexpected df output: {output[:200]!r}")
    return DiskSpace(int(fields[1]) * 1024, int(fields[3]) * 1024)


def data_root_space(
    api: APIClient, image: str, limits: ContainerLimits, instance: str, storage: int = 0,
    timeout: float = 30,
) -> DiskSpace:  # fmt: skip
    """Blocking: the data-root filesystem's size and free space, seen from an anonymous
    volume (no host path is mounted)."""
    labels = _probe_labels(instance, "df")
    volume = Mount("/probe", None, type="volume", labels=labels)  # labelled like its container
    code, output = run_probe(
        api,
        image,
        ["df", "-Pk", "/probe"],
        host=_probe_host(limits, storage, mounts=[volume]),
        labels=labels,
        timeout=timeout,
    )
    if code != 0:
        raise EngineError(f"the disk-space probe failed (exit code {code}): {output[:200]}")
    return parse_df(output)


def remove_stale_probes(
    api: APIClient, instance: str, older_than: timedelta | None = STALE_AFTER
) -> int:
    """Blocking: remove this instance's probe containers older than ``older_than`` (a coach
    that stopped mid-probe leaves one; None: all of them, for a coach that holds the
    instance's lease and so is the only one probing), then their volumes no container uses
    any more; how many containers were removed."""
    wanted = {"label": [PROBE, f"{naming.INSTANCE}={instance}"]}
    cutoff = None if older_than is None else time.time() - older_than.total_seconds()
    removed = 0
    for summary in api.containers(all=True, filters=wanted):
        if cutoff is not None and int(summary.get("Created") or 0) > cutoff:
            continue
        # gone, or its removal already under way (asked by a call the engine answers only
        # now, after a freeze): either way it is not ours to wait for
        with contextlib.suppress(EngineNotFound, EngineConflict):
            engine_call(api.remove_container, summary["Id"], force=True, v=True)
            removed += 1
    _remove_unused_probe_volumes(api, wanted)
    return removed


def _remove_unused_probe_volumes(api: APIClient, wanted: dict[str, list[str]]) -> None:
    """A probe volume outlives its container only if the coach stopped between the two
    removals; one still in use (a live probe's) is refused by the engine and kept."""
    dangling = {"label": wanted["label"], "dangling": ["true"]}
    for volume in api.volumes(filters=dangling).get("Volumes") or []:
        with contextlib.suppress(EngineNotFound, EngineConflict):
            engine_call(api.remove_volume, volume["Name"])


def now() -> datetime:
    return datetime.now(UTC)
