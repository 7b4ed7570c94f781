"""The production deployment's files say what docs/deploy.md promises (issue 12), checked
without building anything: ``deploy/dev.sh stack test`` runs the stack itself in CI.

The compose files are read as data, the worker's daemon.json is written by the worker's own
entrypoint function, and the lock file is compared with pyproject.toml.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from bot.settings import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
COMPOSE_FILES = sorted(DEPLOY.glob("compose*.yaml"))


def compose(name: str = "compose.yaml") -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each volume of a service, short syntax."""
    pairs = []
    for volume in service.get("volumes", []):
        source, target, *_mode = str(volume).split(":")
        pairs.append((source, target))
    return pairs


def test_three_services_and_the_host_engine_is_mounted_nowhere() -> None:
    assert set(compose()["services"]) == {"coach", "worker", "registry"}
    assert len(COMPOSE_FILES) >= 4  # base, offline, test, caps
    for path in COMPOSE_FILES:
        assert "docker.sock" not in path.read_text(), path.name


def test_the_certificates_volume_is_shared_by_coach_and_worker_only() -> None:
    for path in COMPOSE_FILES:
        services = yaml.safe_load(path.read_text())["services"]
        sharing = {n for n, s in services.items() if "worker-certs" in dict(mounts(s))}
        assert sharing <= {"coach", "worker"}, path.name
    services = compose()["services"]
    assert "/certs:ro" in " ".join(services["coach"]["volumes"])  # the coach only reads them
    setting = services["coach"]["environment"]["COACH_SANDBOX__WORKERS"]
    [worker] = json.loads(setting.replace("${WORKER_MAX_SANDBOXES:-50}", "50"))
    assert worker["url"] == "tcp://worker:2376" and worker["tls_verify"] is True
    for key in ("tls_ca_cert", "tls_client_cert", "tls_client_key"):
        assert worker[key].startswith("/certs/client/"), key


def test_the_coach_is_locked_down_and_published_on_loopback_only() -> None:
    coach = compose()["services"]["coach"]
    assert coach["env_file"]  # DISCORD_TOKEN comes from an env file
    assert ("coach-data", "/data") in mounts(coach)
    assert all(port.startswith("127.0.0.1:") for port in coach["ports"])
    assert coach["healthcheck"]["test"][-1] == "bot.ops.probe"
    assert coach["read_only"] is True and coach["cap_drop"] == ["ALL"]
    assert coach["depends_on"]["worker"]["condition"] == "service_healthy"
    for path in COMPOSE_FILES:  # no override publishes anything beyond the loopback
        for name, service in yaml.safe_load(path.read_text())["services"].items():
            for port in service.get("ports", []):
                assert str(port).startswith("127.0.0.1:"), (path.name, name, port)


def test_the_image_is_multi_stage_non_root_with_a_health_check_and_the_lock() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 2
    [user] = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert not user.startswith(("root", "0"))
    assert re.search(r"^HEALTHCHECK .*\n?.*bot\.ops\.probe", dockerfile, re.M)
    assert "requirements.lock" in dockerfile and "--require-hashes" in dockerfile
    assert "deploy/requirements.lock" in (DEPLOY / "dev.sh").read_text()


def test_the_lock_pins_every_dependency_within_its_range() -> None:
    """A dependency added to pyproject.toml without `deploy/dev.sh lock` would be missing
    from the image only."""
    lock = (DEPLOY / "requirements.lock").read_text()
    pinned = {
        re.sub(r"[-_.]+", "-", name).lower(): version
        for name, version in re.findall(r"^([A-Za-z0-9][\w.-]*)==(\S+)", lock, re.M)
    }
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    for dependency in project["dependencies"]:
        wanted = Requirement(dependency)
        version = pinned.get(re.sub(r"[-_.]+", "-", wanted.name).lower())
        assert version is not None, f"{wanted.name} is not in deploy/requirements.lock"
        assert wanted.specifier.contains(version), (dependency, version)
    hashed = re.findall(r"^[A-Za-z0-9][\w.-]*==\S+ \\\n\s+--hash=sha256:", lock, re.M)
    assert len(hashed) == len(pinned)  # every pin has its hashes: pip --require-hashes


@pytest.fixture
def daemon_json(tmp_path: Path) -> dict[str, Any]:
    """The daemon.json the worker's entrypoint writes (its own function, its defaults)."""
    script = (DEPLOY / "worker" / "entrypoint.sh").read_text()
    body = script.rsplit('\nmain "$@"', 1)[0]  # the functions, without starting anything
    target = tmp_path / "daemon.json"
    run = (
        f'{body}\nDAEMON_JSON="{target}"\nSTORAGE_DRIVER=btrfs\n'
        "WORKER_REGISTRY_MIRROR=http://registry:5000 write_daemon_json\n"
    )
    subprocess.run(["bash", "-c", run], check=True, capture_output=True, text=True)
    loaded = json.loads(target.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_worker_engine_settings(daemon_json: dict[str, Any]) -> None:
    assert daemon_json["live-restore"] is True
    assert daemon_json["log-driver"] == "json-file"
    assert daemon_json["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert daemon_json["registry-mirrors"] == ["http://registry:5000"]
    assert daemon_json["storage-driver"] == "btrfs"  # per-container disk limits hold
    assert daemon_json["tlsverify"] is True
    assert daemon_json["hosts"][-1] == "tcp://0.0.0.0:2376"
    assert daemon_json["default-address-pools"] == [{"base": "10.201.0.0/16", "size": 26}]
