"""daemon_config.py: the COACH_ENGINE_* settings become one dockerd's daemon.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.engine.conftest import load_engine_module

config = load_engine_module("daemon_config")


def test_defaults_give_btrfs_pools_for_a_thousand_networks_live_restore_and_log_caps() -> None:
    keys = config.merge({}, config.wanted_keys({}))
    assert keys["storage-driver"] == "btrfs"
    assert keys["data-root"] == "/var/lib/docker-coach/docker"
    assert keys["default-address-pools"] == [{"base": "10.200.0.0/16", "size": 26}]
    assert config.pool_capacity(keys["default-address-pools"]) == 1024
    assert keys["live-restore"] is True
    assert keys["log-driver"] == "json-file"
    assert keys["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert keys["registry-mirrors"] == ["http://127.0.0.1:5000"]
    assert keys["bip"] == "172.17.0.1/16"
    assert keys["exec-opts"] == ["native.cgroupdriver=cgroupfs"]


def test_extra_engine_settings_drop_the_bridge_and_its_address() -> None:
    env = {
        "COACH_ENGINE_DRIVER": "overlay2",
        "COACH_ENGINE_BRIDGE": "none",
        "COACH_ENGINE_IPTABLES": "false",
        "COACH_ENGINE_LIVE_RESTORE": "no",
        "COACH_ENGINE_ADDRESS_POOLS": "10.211.0.0/16:26, 10.212.0.0/16:24",
    }
    keys = config.merge({}, config.wanted_keys(env))
    assert keys["bridge"] == "none"
    assert "bip" not in keys  # dockerd refuses --bip with --bridge
    assert keys["iptables"] is False
    assert keys["live-restore"] is False
    assert config.pool_capacity(keys["default-address-pools"]) == 1024 + 256


def test_write_keeps_foreign_keys_and_drops_keys_given_as_flags(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text(
        json.dumps(
            {
                "debug": True,
                "hosts": ["fd://"],
                "pidfile": "/x.pid",
                "registry-mirrors": ["https://mirror.example"],
                "exec-opts": ["native.cgroupdriver=systemd", "foo=bar"],
            }
        )
    )
    status, digest = config.write(str(path), {})
    written = json.loads(path.read_text())
    assert status == "changed"
    assert written["debug"] is True
    assert "hosts" not in written and "pidfile" not in written
    assert written["registry-mirrors"] == ["http://127.0.0.1:5000", "https://mirror.example"]
    assert written["exec-opts"] == ["foo=bar", "native.cgroupdriver=cgroupfs"]
    assert config.write(str(path), {}) == ("unchanged", digest)


def test_an_invalid_file_is_moved_aside_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text("{not json")
    status, _ = config.write(str(path), {})
    assert "moved to" in status
    assert [p.read_text() for p in tmp_path.glob("daemon.json.invalid.*")] == ["{not json"]


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("DRIVER", "zfs", "COACH_ENGINE_DRIVER"),
        ("DATA_ROOT", "relative/dir", "absolute"),
        ("ADDRESS_POOLS", "10.200.0.0/16", "size must be"),
        ("ADDRESS_POOLS", "10.200.0.0/16:31", "size must be"),
        ("ADDRESS_POOLS", "10.200.0.1/16:24", "host bits"),
        ("LIVE_RESTORE", "maybe", "true or false"),
        ("LOG_MAX_FILE", "0", "whole numbers"),
    ],
)
def test_bad_settings_are_refused_naming_the_knob(name: str, value: str, needle: str) -> None:
    with pytest.raises(config.ConfigError, match=needle):
        config.wanted_keys({f"COACH_ENGINE_{name}": value})
