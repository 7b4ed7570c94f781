"""The engine setup, proved on extra engines started by the test (never the shared one).

btrfs (like the shared engine): ``storage_opt size`` caps a container's writable layer, the
host-shell image's included, against ``dd``, ``docker cp`` and a flood of empty files;
a volume's directory can be turned into a qgroup-limited subvolume; the address pools hold
hundreds of networks; every container gets the log caps. overlay2 on ext4: ``storage_opt``
is refused, which is how the coach tells an engine without quota support.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Iterator
from typing import Any

import docker
import pytest
from docker.models.containers import Container

from tests.engine.conftest import load_engine_module
from tests.engines import ExtraEngine

pytestmark = [pytest.mark.docker, pytest.mark.slow]
probe = load_engine_module("engine_probe")
MIB = 1024 * 1024
QUOTA_HIT = ("Disk quota exceeded", "No space left on device")
LABELS = {"org.docker-coach.test": "engine"}


@pytest.fixture
def btrfs(btrfs_engine: ExtraEngine) -> Iterator[docker.DockerClient]:
    client = btrfs_engine.client()
    yield client
    for container in client.containers.list(all=True, filters={"label": "org.docker-coach.test"}):
        container.remove(force=True, v=True)
    client.close()


def _run(client: docker.DockerClient, image: str, script: str, **kwargs: Any) -> Container:
    container = client.containers.run(
        image, ["sh", "-c", script], detach=True, labels=LABELS, **kwargs
    )
    container.wait(timeout=120)
    container.reload()
    return container


def _size_rw(client: docker.DockerClient, container: Container) -> int:
    (listed,) = client.api.containers(all=True, size=True, filters={"id": container.id})
    return int(listed.get("SizeRw") or 0)


@pytest.mark.parametrize("image", ["busybox", "docker-coach/host"])
def test_dd_stops_at_the_containers_size_limit(btrfs: docker.DockerClient, image: str) -> None:
    container = _run(
        btrfs,
        image,
        "dd if=/dev/zero of=/tmp/big bs=1M count=100",
        storage_opt={"size": "20M"},
    )
    output = container.logs().decode()
    assert container.attrs["State"]["ExitCode"] != 0
    assert any(hit in output for hit in QUOTA_HIT), output
    assert _size_rw(btrfs, container) <= 20 * MIB


def test_a_container_without_the_option_is_not_capped(btrfs: docker.DockerClient) -> None:
    """The limit is per container: the engine has no default (btrfs has no daemon-wide size)."""
    container = _run(btrfs, "busybox", "dd if=/dev/zero of=/big bs=1M count=40")
    assert container.attrs["State"]["ExitCode"] == 0
    assert _size_rw(btrfs, container) >= 40 * MIB


def test_docker_cp_into_a_container_stops_at_its_limit(btrfs: docker.DockerClient) -> None:
    container = btrfs.containers.create(
        "busybox", ["true"], storage_opt={"size": "20M"}, labels=LABELS
    )
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo("big.bin")
        info.size = 64 * MIB
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    with pytest.raises(docker.errors.APIError, match="quota exceeded"):
        container.put_archive("/", archive.getvalue())
    assert _size_rw(btrfs, container) <= 20 * MIB


def test_a_flood_of_empty_files_is_stopped_by_the_size_limit(btrfs: docker.DockerClient) -> None:
    """btrfs has no inode limit; its qgroup counts metadata, so the size limit bounds files
    (~2,200 empty files per MiB). docker's SizeRw does not see that metadata."""
    container = _run(
        btrfs,
        "busybox",
        "mkdir /f && cd /f && seq 1 60000 | xargs touch 2>/dev/null; echo files=$(ls | wc -l)",
        storage_opt={"size": "8M"},
    )
    files = int(container.logs().decode().strip().rpartition("files=")[2])
    assert 1000 < files < 60000
    assert btrfs.ping()


def test_a_volume_can_be_capped_as_a_qgroup_limited_subvolume(
    btrfs_engine: ExtraEngine, btrfs: docker.DockerClient
) -> None:
    """Host-side proof: `--storage-opt` does not cover volumes, a subvolume limit does."""
    volume = btrfs.volumes.create(labels=LABELS)
    try:
        path = volume.attrs["Mountpoint"]
        subprocess.run(["rmdir", path], check=True)
        subprocess.run(["btrfs", "subvolume", "create", path], check=True, capture_output=True)
        subprocess.run(["btrfs", "qgroup", "limit", "20M", path], check=True)
        container = _run(
            btrfs,
            "busybox",
            "dd if=/dev/zero of=/data/big bs=1M count=100",
            volumes={volume.name: {"bind": "/data", "mode": "rw"}},
        )
        assert any(hit in container.logs().decode() for hit in QUOTA_HIT)
        container.remove(v=True)
    finally:
        volume.remove(force=True)  # the local driver deletes the subvolume too


def test_the_address_pools_hold_hundreds_of_networks(btrfs: docker.DockerClient) -> None:
    networks = []
    try:
        for index in range(300):
            networks.append(btrfs.networks.create(f"pool-{index}", labels=LABELS))
        subnets = {net.attrs["IPAM"]["Config"][0]["Subnet"] for net in networks}
        assert len(subnets) == 300
        assert all(subnet.endswith("/26") for subnet in subnets)
    finally:
        for net in networks:
            net.remove()


def test_every_container_gets_the_log_caps(btrfs: docker.DockerClient) -> None:
    container = btrfs.containers.create("busybox", ["true"], labels=LABELS)
    log_config = container.attrs["HostConfig"]["LogConfig"]
    assert log_config == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}


def test_the_probe_sees_quota_support_and_the_data_roots_free_space(
    btrfs_engine: ExtraEngine, btrfs: docker.DockerClient
) -> None:
    support = probe.quota_support(btrfs, enforce=True)
    assert (support.driver, support.supported, support.enforced) == ("btrfs", True, True)
    space = probe.data_root_space(btrfs)
    statvfs = os.statvfs(btrfs_engine.data_root)
    assert space.total_bytes == statvfs.f_blocks * statvfs.f_frsize
    assert 0 < space.free_bytes <= space.total_bytes


def test_an_overlay2_engine_refuses_storage_opt_and_the_probe_says_so(
    overlay_engine: ExtraEngine,
) -> None:
    client = overlay_engine.client()
    try:
        support = probe.quota_support(client, enforce=True)
        assert (support.driver, support.supported, support.enforced) == (
            "overlay2",
            False,
            None,
        )
        assert "storage-opt" in support.detail
        assert probe.data_root_space(client).free_bytes > 0
    finally:
        client.close()
