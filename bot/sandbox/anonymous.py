"""Anonymous volumes: what Docker makes for a container's unnamed volume mounts (``-v /data``,
``--mount type=volume,target=/data``, an image's ``VOLUME``), made here as volumes of the
sandbox.

Left to the engine such a volume would carry no label (outside every quota and the disk
budget, left behind by the sandbox's removal), so the coach names it itself (64 hex digits,
as Docker's look) and labels it for the sandbox and for the container it is made for
(:data:`~bot.sandbox.naming.ANONYMOUS_FOR`). The engine creates it with the container (its
labels are in the mount), so it is never there without a container holding it.

To the engine it then has a name, so it removes it neither for ``rm -v`` nor for ``--rm``
(AutoRemove). The coach keeps Docker's rules itself:

* ``rm -v`` removes the container's anonymous volumes with it (``ops/lifecycle.py``);
  ``rm`` without ``-v`` and ``container prune`` keep them, as Docker does.
* ``--rm``: the volumes also carry :data:`~bot.sandbox.naming.AUTO_REMOVE`, and once the
  engine has removed their container they are removed too (:func:`remove_orphans`): right
  after a foreground run, a ``stop``, ``kill`` or ``rm -f`` of a container that has some
  (:func:`mounted`: the others cost no engine call for it), and at every measurement of the
  sandbox by the disk watchdog (a detached container that ends by itself).
* Named volumes always stay; ``volume prune`` removes every unused volume (Docker 20.10).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from docker.api import APIClient
from docker.types import Mount

from bot.sandbox import naming, usage
from bot.sandbox.errors import EngineConflict, EngineNotFound, SandboxError
from bot.sandbox.naming import Scope
from bot.sandbox.workers import engine_call

SETTLE_SECONDS = 5  # how long to wait for the engine to finish removing a --rm container
_NAME = re.compile("[0-9a-f]{64}")  # an anonymous volume's name (the learner's), as Docker's


def mount(
    scope: Scope, name: str, target: str, container: str, auto_remove: bool, read_only: bool = False
) -> Mount:
    """The mount of anonymous volume ``name`` (the learner's name) at ``target`` for the
    container the learner calls ``container``: the engine creates it with these labels."""
    labels = {naming.ANONYMOUS_FOR: container, **scope.labels(naming.KIND_VOLUME, name)}
    if auto_remove:
        labels[naming.AUTO_REMOVE] = "true"
    return Mount(target, scope.real(name), type="volume", read_only=read_only, labels=labels)


def mounted(scope: Scope, summary: Mapping[str, Any]) -> bool:
    """Whether a listed container mounts a volume of the sandbox named as an anonymous one
    is (64 hex digits): only then can its going leave anonymous volumes behind."""
    for item in summary.get("Mounts") or []:
        name = scope.user_name(str(item.get("Name") or ""))
        if item.get("Type") == "volume" and _NAME.fullmatch(name):
            return True
    return False


def of_container(api: APIClient, cid: str) -> list[str]:
    """Blocking: the real names of the anonymous volumes container ``cid`` mounts."""
    found: list[str] = []
    for item in api.inspect_container(cid).get("Mounts") or []:
        if item.get("Type") != "volume" or not item.get("Name"):
            continue
        labels = api.inspect_volume(item["Name"]).get("Labels") or {}
        if naming.ANONYMOUS_FOR in labels:
            found.append(str(item["Name"]))
    return found


def orphans(listing: usage.Listing) -> list[str]:
    """The ``--rm`` containers' anonymous volumes (real names) no container of the sandbox
    mounts any more, the disk monitor aside: their container is gone."""
    held = {
        str(m.get("Name"))
        for c in listing.containers
        if (c.get("Labels") or {}).get(naming.KIND) != naming.KIND_MONITOR
        for m in c.get("Mounts") or []
    }
    return [
        str(v["Name"])
        for v in listing.volumes
        if naming.AUTO_REMOVE in (v.get("Labels") or {}) and v["Name"] not in held
    ]


def settle(api: APIClient, ids: Iterable[str], seconds: float = SETTLE_SECONDS) -> None:
    """Blocking: wait (a little) until the engine has removed those of the containers ``ids``
    it removes by itself (``--rm``); the others are not waited for."""
    for cid in ids:
        try:
            attrs = engine_call(api.inspect_container, cid)
            if (attrs.get("HostConfig") or {}).get("AutoRemove"):
                engine_call(api.wait, cid, timeout=int(seconds), condition="removed")
        except SandboxError:  # gone already, or still going: the next look takes it
            continue


def remove_orphans(api: APIClient, scope: Scope, listing: usage.Listing) -> list[str]:
    """Blocking: remove the :func:`orphans` of ``listing`` (the disk monitor, when it mounts
    one, first); the real names removed. One the engine says is in use is kept."""
    gone = orphans(listing)
    monitor = listing.monitor
    if monitor is not None and {m.get("Name") for m in monitor.get("Mounts") or []} & set(gone):
        usage.remove_monitor(api, scope)
    removed: list[str] = []
    for name in gone:
        with contextlib.suppress(EngineConflict):  # in use: a container is taking it
            with contextlib.suppress(EngineNotFound):
                engine_call(api.remove_volume, name)
            removed.append(name)
    return removed


def pending(api: APIClient, scope: Scope) -> bool:
    """Blocking: whether the sandbox has any ``--rm`` container's anonymous volume (one
    filtered listing: most sandboxes have none, and nothing more is asked then)."""
    wanted = scope.filters(naming.KIND_VOLUME)
    wanted["label"].append(naming.AUTO_REMOVE)
    return bool(scope.mine(list(api.volumes(filters=wanted).get("Volumes") or [])))
