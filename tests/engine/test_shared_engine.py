"""The shared engine that deploy/engine/setup.sh starts (the console's, the tests', CI's).

Only reads its settings and creates one labelled probe container: other tests and other
people use this engine at the same time.
"""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest

from tests.engine.conftest import load_engine_module

pytestmark = pytest.mark.docker
probe = load_engine_module("engine_probe")
HINT = "run deploy/engine/setup.sh (it moves the engine to a btrfs data root with quotas)"


@pytest.fixture
def shared() -> Iterator[docker.DockerClient]:
    client = docker.from_env(timeout=60)
    yield client
    client.close()


def test_the_shared_engine_caps_a_containers_disk(shared: docker.DockerClient) -> None:
    support = probe.quota_support(shared, enforce=True)
    assert support.driver == "btrfs", HINT
    assert support.supported and support.enforced, support.detail


def test_the_shared_engine_keeps_containers_through_restarts_and_caps_logs(
    shared: docker.DockerClient,
) -> None:
    info = shared.info()
    assert info["LiveRestoreEnabled"] is True, HINT
    container = shared.containers.create(
        "busybox", ["true"], labels={"org.docker-coach.probe": "log-caps"}
    )
    try:
        config = container.attrs["HostConfig"]["LogConfig"]
        assert config["Type"] == "json-file"
        assert {"max-size", "max-file"} <= set(config["Config"]), HINT
    finally:
        container.remove(force=True)


def test_the_shared_engines_free_space_is_visible_through_the_api(
    shared: docker.DockerClient,
) -> None:
    space = probe.data_root_space(shared)
    assert 0 < space.free_bytes < space.total_bytes
