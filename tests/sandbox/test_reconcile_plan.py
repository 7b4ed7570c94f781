"""Reconciliation's decisions (``reconcile.plan``), one rule at a time: what it removes, what
it adopts, and that it never removes a known learner's sandbox because another one exists."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sandbox import naming, reconcile
from bot.sandbox.reconcile import FORGOTTEN, HALF_MADE, REMOVING, Found, plan, resolve_owner

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _labels(kind: str) -> dict[str, Any]:
    return {"Labels": {naming.KIND: kind}}


def sandbox(
    owner: str,
    *,
    bridge: bool = True,
    host: str | None = "running",  # the host shell's listed state; None: no host shell
    containers: int = 0,
    volumes: int = 0,
    tombstone: bool = False,
    age_minutes: int = 60,
    legacy: bool = False,
) -> Found:
    found = Found(naming.Scope(owner, naming.new_sandbox_id()), legacy=legacy)
    found.times = [NOW - timedelta(minutes=age_minutes)]
    if bridge:
        found.networks.append(_labels(naming.KIND_BRIDGE))
    if host is not None:
        found.containers.append({**_labels(naming.KIND_HOST), "State": host})
    found.containers += [{**_labels(naming.KIND_CONTAINER), "State": "running"}] * containers
    found.volumes += [_labels(naming.KIND_VOLUME)] * volumes
    if tombstone:
        found.volumes.append(_labels(naming.KIND_TOMBSTONE))
    return found


def removed(result: Any) -> dict[str, str]:
    return {found.scope.sandbox: why for found, why in result.remove}


def test_a_newer_sandbox_never_costs_the_older_one_its_data() -> None:
    """The data-loss bug: a learner with two complete sandboxes keeps both."""
    older = sandbox("ann", containers=1, volumes=1, age_minutes=600)
    newer = sandbox("ann", age_minutes=1)
    result = plan([older, newer], {"ann"}, {}, set())
    assert result.adopt == {"ann": newer}
    assert result.aside == {"ann": [older]}
    assert result.remove == []


def test_the_served_sandbox_stays_and_any_other_is_kept_aside() -> None:
    served, other = sandbox("ann", age_minutes=1), sandbox("ann", volumes=2, age_minutes=900)
    result = plan([other, served], {"ann"}, {"ann": served.scope.sandbox}, set())
    assert result.adopt == {}
    assert result.aside == {"ann": [other]}
    assert result.remove == []


def test_half_made_sandboxes_without_data_are_removed() -> None:
    network_only = sandbox("bo", host=None)
    never_started_alone = sandbox("cy", bridge=False, host="created")
    result = plan([network_only, never_started_alone], {"bo", "cy"}, {}, set())
    assert removed(result) == {
        network_only.scope.sandbox: HALF_MADE,
        never_started_alone.scope.sandbox: HALF_MADE,
    }
    assert result.adopt == {}


def test_a_sandbox_cut_short_before_its_host_shell_started_is_completed_if_it_is_the_only_one() -> (
    None
):
    unstarted = sandbox("di", host="created")
    result = plan([unstarted], {"di"}, {}, set())
    assert result.adopt == {"di": unstarted} and result.remove == []
    # beside a sandbox with the learner's data, it is removed instead
    with_data = sandbox("di", volumes=1)
    result = plan([unstarted, with_data], {"di"}, {}, set())
    assert result.adopt == {"di": with_data}
    assert removed(result) == {unstarted.scope.sandbox: HALF_MADE}


def test_a_sandbox_whose_host_shell_or_network_vanished_is_adopted_to_be_repaired() -> None:
    no_host = sandbox("ed", host=None, containers=1, volumes=1)
    no_network = sandbox("fay", bridge=False, host="exited")
    result = plan([no_host, no_network], {"ed", "fay"}, {}, set())
    assert result.adopt == {"ed": no_host, "fay": no_network}
    assert result.remove == []


def test_a_removal_that_was_cut_short_is_finished() -> None:
    half_removed = sandbox("gus", host=None, volumes=1, tombstone=True)
    result = plan([half_removed], {"gus"}, {}, set())
    assert removed(result) == {half_removed.scope.sandbox: REMOVING}


def test_forgotten_owners_lose_their_sandbox_unless_it_predates_instances() -> None:
    forgotten, legacy = sandbox("hal", volumes=1), sandbox("ivy", legacy=True)
    result = plan([forgotten, legacy], {"someone else"}, {}, set())
    assert removed(result) == {forgotten.scope.sandbox: FORGOTTEN}
    assert result.adopt == {"ivy": legacy}
    assert plan([forgotten], None, {}, set()).adopt == {"hal": forgotten}  # no store: all known


def test_sandboxes_being_created_are_left_alone() -> None:
    in_flight = sandbox("jo", host=None)
    assert removed(plan([in_flight], {"jo"}, {}, {in_flight.scope.sandbox})) == {}


def test_containers_that_never_started_unhardened_are_flagged() -> None:
    found = sandbox("kim", containers=1)
    found.unchecked = ["c" * 64]
    assert plan([found], {"kim"}, {}, set()).unchecked == [found]


# --- warm sandboxes and claim markers ---------------------------------------------------------


def _listed(kind: str, owner: str, sandbox_id: str, what: str) -> tuple[str, dict[str, Any]]:
    labels = {
        naming.INSTANCE: "t",
        naming.OWNER: owner,
        naming.SANDBOX: sandbox_id,
        naming.KIND: what,
    }
    if kind == "volume":
        return kind, {"Name": f"dc-{sandbox_id}--{what}", "Labels": labels}
    state = {"State": "running"} if kind == "container" else {}
    return kind, {"Id": f"{what}-{sandbox_id}", "Labels": labels, **state}


def _claimed_warm(sandbox_id: str, learner: str) -> list[tuple[str, dict[str, Any]]]:
    """A warm sandbox a learner claimed: the pool's network and host shell, their marker and
    one volume of their own."""
    return [
        _listed("network", naming.POOL_OWNER, sandbox_id, naming.KIND_BRIDGE),
        _listed("container", naming.POOL_OWNER, sandbox_id, naming.KIND_HOST),
        _listed("volume", learner, sandbox_id, naming.KIND_CLAIM),
        _listed("volume", learner, sandbox_id, naming.KIND_VOLUME),
    ]


def test_a_claim_marker_makes_the_sandbox_its_learners_in_any_listing_order() -> None:
    """Ownership is resolved over the whole group: every order the engine could list the
    objects in gives the learner, never the pool (the first object seen decides nothing)."""
    objects = _claimed_warm("s1", "ann")
    for order in itertools.permutations(objects):
        found = reconcile.Scan()
        reconcile._group(found, list(order), "t")
        assert found.groups["s1"].scope.owner == "ann"
        assert found.groups["s1"].claimed


def test_owner_resolution_prefers_the_claim_then_a_learner_then_the_pool() -> None:
    pool = {naming.OWNER: naming.POOL_OWNER, naming.KIND: naming.KIND_HOST}
    claim = {naming.OWNER: "ann", naming.KIND: naming.KIND_CLAIM}
    learner = {naming.OWNER: "bob", naming.KIND: naming.KIND_CONTAINER}
    assert resolve_owner([pool]) == naming.POOL_OWNER
    assert resolve_owner([pool, learner]) == "bob"
    assert resolve_owner([learner, pool, claim]) == "ann"
    assert resolve_owner([claim, learner, pool]) == "ann"


def warm(**kwargs: Any) -> Found:
    return sandbox(naming.POOL_OWNER, **kwargs)


def claimed(owner: str, **kwargs: Any) -> Found:
    found = sandbox(owner, **kwargs)
    found.volumes.append(_labels(naming.KIND_CLAIM))
    return found


def test_unclaimed_warm_sandboxes_go_back_to_the_pool_never_removed_as_forgotten() -> None:
    ready = warm()
    result = plan([ready], set(), {}, set())  # the store knows nobody
    assert result.pooled == [ready]
    assert result.remove == [] and result.adopt == {}
    assert naming.POOL_OWNER not in result.owners()


def test_half_made_or_tombstoned_warm_sandboxes_are_removed() -> None:
    network_only, never_started, tombstoned = warm(host=None), warm(host="created"), warm()
    tombstoned.volumes.append(_labels(naming.KIND_TOMBSTONE))
    result = plan([network_only, never_started, tombstoned], set(), {}, set())
    assert removed(result) == {
        network_only.scope.sandbox: HALF_MADE,
        never_started.scope.sandbox: HALF_MADE,
        tombstoned.scope.sandbox: REMOVING,
    }
    assert result.pooled == []


def test_warm_sandboxes_being_made_are_left_alone() -> None:
    making = warm(host=None)
    result = plan([making], set(), {}, {making.scope.sandbox})
    assert result.remove == [] and result.pooled == []


def test_a_claimed_warm_sandbox_is_its_learners_even_when_it_looks_half_made() -> None:
    """A claim marker counts as data: a claimed sandbox whose host shell vanished (or never
    ran) is adopted for repair, never removed as half-made nor handed back to the pool."""
    whole, no_host = claimed("ann"), claimed("bob", host=None, bridge=False)
    result = plan([whole, no_host], {"ann", "bob"}, {}, set())
    assert result.adopt == {"ann": whole, "bob": no_host}
    assert result.remove == [] and result.pooled == []
