"""How many sandboxes a worker can hold, and placing a new one.

A worker's room is counted against what its engine really has, not a guess:

* **networks** — every sandbox takes one network for itself and may make up to
  ``quotas.networks`` more, each one a subnet from the engine's ``default-address-pools``
  (read from ``docker info``; Docker's built-in pools hold only 31 networks). A sandbox is
  counted at its worst case, ``1 + quotas.networks`` (or what it really has, if more);
  networks in the pools that are no sandbox's (another program's) are counted as they are;
* **sandboxes** — ``max_sandboxes`` when set, else what the engine's memory holds at
  ``memory_per_sandbox_bytes`` each; never more than the pools allow.

Counting is physical by default: every coach instance's sandboxes on the engine take its
networks and memory. Sandboxes being created (the manager's reservations, ``Worker.pending``)
count as used from the moment their place is reserved, so only the check and the
reservation are serialized (under ``Worker.provision_lock``); the creation itself runs
concurrently.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from docker.api import APIClient

from bot.core import metrics
from bot.sandbox import naming
from bot.sandbox.workers import EngineFacts, Worker
from bot.settings import WorkerSettings

SandboxKey = tuple[str, str]  # (instance, sandbox id)


@dataclass(frozen=True, slots=True)
class Load:
    """What a worker holds now: sandboxes (with the networks each has) and other networks
    taken from the address pools."""

    sandboxes: Mapping[SandboxKey, int] = field(default_factory=dict)
    other_networks: int = 0

    @property
    def count(self) -> int:
        return len(self.sandboxes)


class Capacity(Protocol):
    """Counts what a worker holds (the default, :class:`EngineCapacity`, counts physically)."""

    async def load(self, worker: Worker) -> Load: ...


def _subnets(network: Mapping[str, Any]) -> list[str]:
    configs = ((network.get("IPAM") or {}).get("Config")) or []
    return [str(c["Subnet"]) for c in configs if c.get("Subnet")]


def in_pools(subnets: Iterable[str], pools: Iterable[tuple[str, int]]) -> bool:
    """Whether any of ``subnets`` was taken from one of the address pools."""
    bases = [ipaddress.ip_network(base) for base, _size in pools]
    for subnet in subnets:
        try:
            net = ipaddress.ip_network(subnet, strict=False)
        except ValueError:
            continue
        if any(net.version == base.version and net.subnet_of(base) for base in bases):  # type: ignore[arg-type]
            return True
    return False


def count_load(
    hosts: list[dict[str, Any]],
    networks: list[dict[str, Any]],
    pools: tuple[tuple[str, int], ...],
    instance: str | None = None,
) -> Load:
    """Pure: the load from the engine's host shells and networks (``instance``: count only
    that instance's sandboxes; other networks still take the pools)."""

    def key(labels: Mapping[str, str] | None) -> SandboxKey | None:
        labels = labels or {}
        sandbox = labels.get(naming.SANDBOX)
        if not sandbox or not labels.get(naming.OWNER):
            return None
        owner_instance = naming.instance_of(labels)
        if instance is not None and owner_instance != instance:
            return None
        return owner_instance, sandbox

    sandboxes: dict[SandboxKey, int] = {}
    for host in hosts:
        found = key(host.get("Labels"))
        if found is not None:
            sandboxes.setdefault(found, 0)
    other = 0
    for network in networks:
        labels = network.get("Labels") or {}
        found = key(labels)
        if found is not None and labels.get(naming.KIND) == naming.KIND_BRIDGE:
            sandboxes.setdefault(found, 0)
        if not in_pools(_subnets(network), pools):
            continue
        if found is not None:
            sandboxes[found] = sandboxes.get(found, 0) + 1
        elif instance is None or not labels.get(naming.OWNER):
            other += 1
    return Load(sandboxes, other)


def with_sandboxes(load: Load, keys: Iterable[SandboxKey]) -> Load:
    """``load`` with the sandboxes ``keys`` counted too (made since it was counted)."""
    sandboxes = dict(load.sandboxes)
    for key in keys:
        sandboxes.setdefault(key, 0)
    return Load(sandboxes, load.other_networks)


def _listing(api: APIClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    hosts = api.containers(all=True, filters={"label": [f"{naming.KIND}={naming.KIND_HOST}"]})
    return hosts, api.networks()


class EngineCapacity:
    """Counts the engine's host shells and networks (one list of each); ``instance``: count
    only that instance's sandboxes (tests that need an edge no one else can move)."""

    def __init__(self, instance: str | None = None) -> None:
        self.instance = instance

    async def load(self, worker: Worker) -> Load:
        facts = worker.facts or await worker.read_facts()
        hosts, networks = await worker.read(_listing)
        load = count_load(hosts, networks, facts.pools, self.instance)
        if self.instance is None:
            metrics.set_sandboxes(worker.name, load.count)
        return load


def pool_networks(facts: EngineFacts, settings: WorkerSettings) -> int:
    return settings.address_pool_networks or facts.pool_networks


def sandbox_limit(facts: EngineFacts, settings: WorkerSettings, per_sandbox: int) -> int:
    """The most sandboxes the worker may hold (see the module doc)."""
    by_networks = pool_networks(facts, settings) // per_sandbox
    if settings.max_sandboxes is not None:
        return min(settings.max_sandboxes, by_networks)
    by_memory = facts.memory_bytes // settings.memory_per_sandbox_bytes
    return min(by_networks, by_memory) if by_memory > 0 else by_networks


def has_room(
    load: Load,
    pending: Iterable[SandboxKey],
    facts: EngineFacts,
    settings: WorkerSettings,
    per_sandbox: int,
) -> bool:
    """Whether one more sandbox fits beside ``load`` and the ``pending`` reservations."""
    keys = set(load.sandboxes) | set(pending)
    if len(keys) + 1 > sandbox_limit(facts, settings, per_sandbox):
        return False
    taken = sum(max(load.sandboxes.get(key, 0), per_sandbox) for key in keys)
    return taken + per_sandbox + load.other_networks <= pool_networks(facts, settings)
