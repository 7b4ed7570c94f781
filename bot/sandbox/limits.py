"""Hardening applied to every container the coach creates, and the check that it held.

CIS Docker Benchmark §5 in docker-py terms: memory with equal swap, CPU, pids,
``no-new-privileges``, dropped capabilities, a capped json-file log, ``init`` and no restart
policy. :func:`missing_limits` reads a created container's inspect data; the caller removes
the container when anything is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.settings import ContainerLimits

NO_NEW_PRIVILEGES = "no-new-privileges:true"


def host_config_kwargs(limits: ContainerLimits) -> dict[str, Any]:
    """Keyword arguments for ``APIClient.create_host_config``."""
    return {
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


def missing_limits(attrs: Mapping[str, Any], limits: ContainerLimits) -> list[str]:
    """What a created container lacks of ``limits`` (empty when it is fully hardened).

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
    return problems
