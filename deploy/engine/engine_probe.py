"""What a coach can learn about a worker's disk through the Docker API alone.

A coach reaches a worker only through the Docker API (a unix socket here, TCP with TLS in
production), so it cannot run ``df`` on the worker. These probes, written with docker-py
for the coach to lift, answer three questions:

* ``quota_support``: does the engine cap a container's writable layer
  (``--storage-opt size``)? ``docker info`` names the driver; a probe container created
  with ``storage_opt`` is refused by engines that cannot (overlay2 on ext4: "--storage-opt
  is supported only for overlay over xfs with 'pquota' mount option") and, with
  ``enforce=True``, writes past a small limit to show that the limit bites.
* ``data_root_space``: total, used and free bytes of the filesystem holding the engine's
  data root. A tiny container mounts an anonymous *volume* (volumes live in
  ``<data root>/volumes``, on that filesystem, and are never quota-limited) and runs
  ``df`` on it: no bind mount of a host path, no privilege, no network.
* ``engine_usage``: what ``docker system df`` counts (image layers, containers' writable
  layers, volumes, build cache). It is not the free space: it misses what is not Docker's
  (logs, other files on the disk) and, on btrfs, metadata (500,000 empty files weigh
  ~175 MiB of qgroup space and 0 bytes here).

    python deploy/engine/engine_probe.py [--host unix:///run/docker.sock] [--enforce]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import docker
from docker.errors import APIError, ImageNotFound
from docker.types import Mount

PROBE_LABEL = "org.docker-coach.probe"
PROBE_IMAGE = "busybox"
QUOTA_REFUSALS = ("storage-opt", "storage opt", "quota")
QUOTA_HITS = ("Disk quota exceeded", "No space left on device")


@dataclass(frozen=True)
class QuotaSupport:
    driver: str
    backing_filesystem: str
    supported: bool  # the engine accepts storage_opt={"size": ...}
    enforced: bool | None  # a write past the limit failed (None: not tried)
    detail: str


@dataclass(frozen=True)
class DiskSpace:
    total_bytes: int
    used_bytes: int
    free_bytes: int
    seconds: float

    @property
    def free_fraction(self) -> float:
        return self.free_bytes / self.total_bytes if self.total_bytes else 0.0


def _hardened(**extra: Any) -> dict[str, Any]:
    """Create-arguments of a probe container: no network, no privilege, small, labelled."""
    return {
        "network_disabled": True,
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "mem_limit": "32m",
        "memswap_limit": "32m",
        "pids_limit": 16,
        "log_config": {"type": "json-file", "config": {"max-size": "64k", "max-file": "1"}},
        **extra,
    }


def _run_to_end(
    client: docker.DockerClient, command: list[str], timeout: float, **create: Any
) -> tuple[int, str]:
    """Create, start, wait for and remove one probe container; (exit code, output)."""
    container = client.containers.create(PROBE_IMAGE, command, **_hardened(**create))
    try:
        container.start()
        status = container.wait(timeout=timeout)
        output = container.logs(stdout=True, stderr=True).decode(errors="replace")
        return int(status.get("StatusCode", -1)), output
    finally:
        container.remove(force=True, v=True)


def _driver_status(info: dict[str, Any]) -> dict[str, str]:
    return {key: value for key, value in info.get("DriverStatus") or []}


def quota_support(
    client: docker.DockerClient, *, enforce: bool = False, timeout: float = 30
) -> QuotaSupport:
    """Does this engine cap containers' writable layers? (driver + a probe container)."""
    info = client.info()
    driver = str(info.get("Driver", "?"))
    backing = _driver_status(info).get("Backing Filesystem", driver)
    labels = {PROBE_LABEL: "quota"}
    limit_mib, write_mib = 8, 32
    command = ["true"]
    if enforce:
        # Written to the writable layer itself (the probe drops read_only for this).
        command = ["dd", "if=/dev/zero", "of=/probe.bin", "bs=1M", f"count={write_mib}"]
    try:
        code, output = _run_to_end(
            client,
            command,
            timeout,
            storage_opt={"size": f"{limit_mib}M"},
            labels=labels,
            read_only=False,
        )
    except APIError as exc:
        text = str(exc.explanation or exc)
        if exc.status_code in (400, 500) and any(s in text.lower() for s in QUOTA_REFUSALS):
            return QuotaSupport(driver, backing, False, None, text)
        raise
    if not enforce:
        return QuotaSupport(driver, backing, True, None, "storage_opt size accepted")
    hit = code != 0 and any(s in output for s in QUOTA_HITS)
    detail = output.strip().splitlines()[0] if output.strip() else f"exit code {code}"
    return QuotaSupport(driver, backing, True, hit, detail)


def parse_df(output: str) -> tuple[int, int, int]:
    """``df -Pk`` output → (total, used, free) in bytes, from the last line."""
    fields = output.strip().splitlines()[-1].split()
    if len(fields) < 6 or not all(f.isdigit() for f in fields[1:4]):
        raise ValueError(f"unexpected df output: {output!r}")
    total, used, free = (int(f) * 1024 for f in fields[1:4])
    return total, used, free


def data_root_space(client: docker.DockerClient, *, timeout: float = 30) -> DiskSpace:
    """Free space of the worker's data-root filesystem, seen from an anonymous volume."""
    started = time.perf_counter()
    code, output = _run_to_end(
        client,
        ["df", "-Pk", "/probe"],
        timeout,
        mounts=[Mount(target="/probe", source=None, type="volume")],
        labels={PROBE_LABEL: "df"},
    )
    if code != 0:
        raise RuntimeError(f"df probe failed with exit code {code}: {output.strip()}")
    total, used, free = parse_df(output)
    return DiskSpace(total, used, free, time.perf_counter() - started)


def engine_usage(client: docker.DockerClient) -> dict[str, int | float]:
    """``docker system df`` in bytes: what the engine counts as its own."""
    started = time.perf_counter()
    data = client.df()
    containers = data.get("Containers") or []
    volumes = data.get("Volumes") or []
    cache = data.get("BuildCache") or []
    return {
        "images_bytes": int(data.get("LayersSize") or 0),
        "containers_rw_bytes": sum(int(c.get("SizeRw") or 0) for c in containers),
        "volumes_bytes": sum(
            max(0, int((v.get("UsageData") or {}).get("Size") or 0)) for v in volumes
        ),
        "build_cache_bytes": sum(int(b.get("Size") or 0) for b in cache),
        "containers": len(containers),
        "volumes": len(volumes),
        "seconds": round(time.perf_counter() - started, 3),
    }


def ensure_probe_image(client: docker.DockerClient) -> None:
    try:
        client.images.get(PROBE_IMAGE)
    except ImageNotFound:
        client.images.pull(PROBE_IMAGE, tag="latest")


def report(client: docker.DockerClient, *, enforce: bool) -> dict[str, Any]:
    ensure_probe_image(client)
    support = quota_support(client, enforce=enforce)
    space = data_root_space(client)
    return {
        "quota": asdict(support),
        "data_root": {**asdict(space), "free_fraction": round(space.free_fraction, 4)},
        "engine_usage": engine_usage(client),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="engine URL (default: DOCKER_HOST or the local socket)")
    parser.add_argument("--enforce", action="store_true", help="also write past a limit")
    args = parser.parse_args(argv)
    client = docker.DockerClient(base_url=args.host) if args.host else docker.from_env()
    try:
        print(json.dumps(report(client, enforce=args.enforce), indent=2))
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
