"""A worker's room, counted against what its engine really has (``bot/sandbox/capacity.py``):
address pools, memory and ``max_sandboxes``, each shown biting."""

from __future__ import annotations

from typing import Any

from bot.sandbox import naming
from bot.sandbox.capacity import Load, count_load, has_room, in_pools, sandbox_limit
from bot.sandbox.workers import BUILTIN_POOLS, EngineFacts
from bot.settings import WorkerSettings

POOLS = (("10.200.0.0/16", 26),)  # the engine setup's pools: 1024 networks
GIB = 1024**3
PER_SANDBOX = 4  # its own network and quotas.networks = 3


def facts(pools: tuple[tuple[str, int], ...] = POOLS, memory: int = 24 * GIB) -> EngineFacts:
    return EngineFacts(pools, memory, True)


def network(instance: str, sandbox: str | None, kind: str, subnet: str) -> dict[str, Any]:
    labels = {naming.INSTANCE: instance, naming.KIND: kind}
    if sandbox is not None:
        labels |= {naming.OWNER: "u-" + sandbox, naming.SANDBOX: sandbox}
    return {"Labels": labels, "IPAM": {"Config": [{"Subnet": subnet}]}}


def host(instance: str, sandbox: str) -> dict[str, Any]:
    labels = {naming.INSTANCE: instance, naming.OWNER: "u-" + sandbox, naming.SANDBOX: sandbox}
    return {"Labels": labels | {naming.KIND: naming.KIND_HOST}}


def test_the_engine_says_how_many_networks_its_pools_hold() -> None:
    info = {"DefaultAddressPools": [{"Base": "10.200.0.0/16", "Size": 26}], "MemTotal": GIB}
    assert EngineFacts.from_info(info).pool_networks == 1024
    builtin = EngineFacts.from_info({"MemTotal": GIB})  # the engine names none
    assert builtin.pools == BUILTIN_POOLS and not builtin.configured_pools
    assert builtin.pool_networks == 31  # why a class of 60 broke on v1


def test_the_pools_bound_the_sandboxes() -> None:
    settings = WorkerSettings()
    assert sandbox_limit(facts(), settings, PER_SANDBOX) == 1024 // PER_SANDBOX
    assert sandbox_limit(facts(BUILTIN_POOLS), settings, PER_SANDBOX) == 31 // PER_SANDBOX
    capped = WorkerSettings(max_sandboxes=10_000)
    assert sandbox_limit(facts(), capped, PER_SANDBOX) == 256  # never more than the pools


def test_memory_bounds_the_sandboxes_when_no_cap_is_set() -> None:
    settings = WorkerSettings(memory_per_sandbox_bytes=GIB // 25)
    assert sandbox_limit(facts(memory=2 * GIB), settings, PER_SANDBOX) == 50
    assert sandbox_limit(facts(memory=2 * GIB), WorkerSettings(max_sandboxes=60), 4) == 60


def test_the_last_place_is_given_once_and_reservations_count() -> None:
    settings = WorkerSettings(max_sandboxes=3)
    load = Load({("a", "s1"): 1, ("b", "s2"): 0})
    assert has_room(load, [], facts(), settings, PER_SANDBOX)
    assert not has_room(load, [("a", "being-made")], facts(), settings, PER_SANDBOX)


def test_networks_no_sandbox_owns_take_room_too() -> None:
    settings = WorkerSettings(address_pool_networks=12)  # three sandboxes at worst
    empty = Load({("a", "s1"): 0, ("a", "s2"): 0})
    assert has_room(empty, [], facts(), settings, PER_SANDBOX)
    assert not has_room(Load(empty.sandboxes, 1), [], facts(), settings, PER_SANDBOX)


def test_a_sandbox_with_more_networks_than_planned_counts_as_it_is() -> None:
    settings = WorkerSettings(address_pool_networks=12)
    load = Load({("a", "s1"): 6})  # e.g. made before the quota was lowered
    assert has_room(load, [], facts(), settings, PER_SANDBOX)
    assert not has_room(load, [("a", "s2")], facts(), settings, PER_SANDBOX)


def test_the_load_counts_every_instance_and_foreign_networks_in_the_pools() -> None:
    hosts = [host("prod", "s1"), host("staging", "s2")]
    networks = [
        network("prod", "s1", naming.KIND_BRIDGE, "10.200.0.0/26"),
        network("prod", "s1", naming.KIND_NETWORK, "10.200.0.64/26"),
        network("staging", "s2", naming.KIND_BRIDGE, "10.200.0.128/26"),
        network("other", None, "", "10.200.1.0/26"),  # another program's network
        network("other", None, "", "172.30.0.0/16"),  # outside the pools: takes none
    ]
    physical = count_load(hosts, networks, POOLS)
    assert physical.sandboxes == {("prod", "s1"): 2, ("staging", "s2"): 1}
    assert physical.other_networks == 1
    ours = count_load(hosts, networks, POOLS, instance="prod")
    assert ours.sandboxes == {("prod", "s1"): 2}


def test_subnets_are_matched_to_their_pool() -> None:
    assert in_pools(["10.200.3.0/26"], POOLS)
    assert not in_pools(["10.201.0.0/26", "not a subnet"], POOLS)
