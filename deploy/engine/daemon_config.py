#!/usr/bin/env python3
"""Write one dockerd's daemon.json from the COACH_ENGINE_* settings.

Stdlib only: ``deploy/engine/dockerd.sh`` runs it with the system python3, before the
project's virtual environment exists.

    daemon_config.py write PATH     merge our keys into PATH (other keys are kept), print
                                    "changed" or "unchanged" and, on a second line, the
                                    sha256 of the file as written
    daemon_config.py show           print the JSON our keys would have (nothing written)

Every knob, its default and why it has that default is listed in ``KNOBS`` and in
deploy/engine/README.md.  Settings that differ per engine instance on one machine (socket,
pidfile, exec root) are dockerd flags, not keys: ``dockerd.sh`` passes them, and this script
removes the same keys from the file because dockerd refuses a directive given both ways.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "COACH_ENGINE_"
DRIVERS = ("btrfs", "overlay2")
# Keys dockerd.sh passes as flags (never in the file, or dockerd refuses to start).
FLAG_KEYS = ("hosts", "pidfile", "exec-root")


@dataclass(frozen=True)
class Knob:
    name: str
    default: str
    help: str


KNOBS = (
    Knob("DRIVER", "btrfs", "storage driver: btrfs (enforces --storage-opt size) or overlay2"),
    Knob("DATA_ROOT", "/var/lib/docker-coach/docker", "dockerd --data-root"),
    Knob(
        "ADDRESS_POOLS",
        "10.200.0.0/16:26",
        "default-address-pools as BASE/PREFIX:SIZE[,...]; /16 in /26 = 1024 networks "
        "of 62 addresses",
    ),
    Knob("BRIDGE", "", "default bridge: empty = docker0, 'none' = no default bridge"),
    Knob("BRIDGE_IP", "172.17.0.1/16", "docker0's address (bip); empty = Docker picks one"),
    Knob("IPTABLES", "true", "let dockerd manage iptables (NAT, isolation)"),
    Knob("MIRROR", "http://127.0.0.1:5000", "registry mirror (empty = none)"),
    Knob("LIVE_RESTORE", "true", "containers keep running while dockerd restarts"),
    Knob("LOG_MAX_SIZE", "10m", "json-file max-size of every container's log"),
    Knob("LOG_MAX_FILE", "3", "json-file max-file"),
    Knob("SHUTDOWN_TIMEOUT", "15", "seconds dockerd waits for containers when it stops"),
)


class ConfigError(ValueError):
    """A knob has a value dockerd would refuse; the message names the knob."""


def knob(env: Mapping[str, str], name: str) -> str:
    for item in KNOBS:
        if item.name == name:
            return env.get(PREFIX + name, item.default).strip()
    raise KeyError(name)


def _bool(env: Mapping[str, str], name: str) -> bool:
    value = knob(env, name).lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{PREFIX}{name}={value!r}: use true or false")


def parse_pools(text: str) -> list[dict[str, Any]]:
    """``10.200.0.0/16:26,10.201.0.0/16:24`` → daemon.json's default-address-pools."""
    pools: list[dict[str, Any]] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        base, sep, size_text = item.partition(":")
        try:
            network = ipaddress.ip_network(base, strict=True)
            size = int(size_text) if sep else -1
        except ValueError as exc:
            raise ConfigError(f"{PREFIX}ADDRESS_POOLS: {item!r}: {exc}") from None
        if not network.prefixlen <= size <= network.max_prefixlen - 2:
            raise ConfigError(
                f"{PREFIX}ADDRESS_POOLS: {item!r}: size must be between /{network.prefixlen} "
                f"and /{network.max_prefixlen - 2} (write BASE/PREFIX:SIZE)"
            )
        pools.append({"base": str(network), "size": size})
    return pools


def pool_capacity(pools: list[dict[str, Any]]) -> int:
    """How many networks the pools hold."""
    return sum(2 ** (pool["size"] - ipaddress.ip_network(pool["base"]).prefixlen) for pool in pools)


def wanted_keys(env: Mapping[str, str]) -> dict[str, Any]:
    """Our keys; a value of None means 'remove the key'."""
    driver = knob(env, "DRIVER")
    if driver not in DRIVERS:
        raise ConfigError(f"{PREFIX}DRIVER={driver!r}: use one of {', '.join(DRIVERS)}")
    data_root = knob(env, "DATA_ROOT")
    if not data_root.startswith("/"):
        raise ConfigError(f"{PREFIX}DATA_ROOT={data_root!r}: needs an absolute path")
    mirror = knob(env, "MIRROR")
    bridge = knob(env, "BRIDGE")
    bridge_ip = knob(env, "BRIDGE_IP")
    timeout = knob(env, "SHUTDOWN_TIMEOUT")
    max_file = knob(env, "LOG_MAX_FILE")
    if not timeout.isdigit() or not max_file.isdigit() or int(max_file) < 1:
        raise ConfigError(f"{PREFIX}SHUTDOWN_TIMEOUT and {PREFIX}LOG_MAX_FILE take whole numbers")
    keys: dict[str, Any] = {
        "storage-driver": driver,
        "data-root": data_root,
        "default-address-pools": parse_pools(knob(env, "ADDRESS_POOLS")) or None,
        "bridge": bridge or None,
        # dockerd refuses --bip together with --bridge.
        "bip": bridge_ip if bridge_ip and not bridge else None,
        "iptables": _bool(env, "IPTABLES"),
        "live-restore": _bool(env, "LIVE_RESTORE"),
        "log-driver": "json-file",
        "log-opts": {"max-size": knob(env, "LOG_MAX_SIZE"), "max-file": max_file},
        "shutdown-timeout": int(timeout),
    }
    keys["registry-mirrors"] = [mirror] if mirror else None
    for key in FLAG_KEYS:
        keys[key] = None
    return keys


def merge(current: dict[str, Any], keys: Mapping[str, Any]) -> dict[str, Any]:
    new = json.loads(json.dumps(current))
    for key, value in keys.items():
        if key == "registry-mirrors" and value:
            others = [m for m in new.get(key, []) if m.rstrip("/") != value[0].rstrip("/")]
            new[key] = value + others
        elif value is None:
            new.pop(key, None)
        else:
            new[key] = value
    # cgroupfs, as before: the coach's limits are tested with it (cgroup v1 here).
    opts = [
        o
        for o in new.get("exec-opts", [])
        if not o.replace(" ", "").startswith("native.cgroupdriver=")
    ]
    new["exec-opts"] = [*opts, "native.cgroupdriver=cgroupfs"]
    return new


def read_config(path: str) -> tuple[dict[str, Any], str]:
    if not os.path.exists(path):
        return {}, ""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        config = json.loads(text) if text.strip() else {}
        if not isinstance(config, dict):
            raise ValueError("not a JSON object")
    except ValueError:
        backup = f"{path}.invalid.{int(time.time())}"
        os.replace(path, backup)
        return {}, f" (the invalid file was moved to {backup})"
    return config, ""


def write(path: str, env: Mapping[str, str]) -> tuple[str, str]:
    current, note = read_config(path)
    new = merge(current, wanted_keys(env))
    text = json.dumps(new, indent=2, sort_keys=True) + "\n"
    changed = True
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            changed = fh.read() != text
    if changed:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    status = ("changed" if changed else "unchanged") + note
    return status, hashlib.sha256(text.encode()).hexdigest()


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 3 and argv[1] == "write":
            status, digest = write(argv[2], os.environ)
            print(status)
            print(digest)
            return 0
        if len(argv) == 2 and argv[1] == "show":
            print(json.dumps(merge({}, wanted_keys(os.environ)), indent=2, sort_keys=True))
            return 0
        if len(argv) == 2 and argv[1] == "capacity":
            print(pool_capacity(parse_pools(knob(os.environ, "ADDRESS_POOLS"))))
            return 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
