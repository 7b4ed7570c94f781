"""Finding a user's objects: listing by labels, resolving names, ids and id prefixes.

Only objects that carry the sandbox's labels are ever considered, so a name, full id or id
prefix of another user's object resolves to "no such object" exactly like a missing one.
Lists and inspects use the worker's short read timeout (a learner is waiting).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core.errors import NotFound, UserError
from bot.dockercli.views import ContainerView, MountView, PortView
from bot.sandbox import naming
from bot.sandbox.errors import EngineNotFound
from bot.sandbox.naming import Scope
from bot.sandbox.workers import Worker

Listed = dict[str, Any]  # one object as the engine lists or inspects it


@dataclass(frozen=True, slots=True)
class Found:
    """A resolved object: its real id, real name and the user's name for it."""

    id: str
    real_name: str
    name: str
    raw: Mapping[str, Any]


async def containers(worker: Worker, scope: Scope, all: bool = True) -> list[Listed]:
    """The user's containers (not the host shell), as the engine lists them."""
    filters = scope.filters(naming.KIND_CONTAINER)
    listed: list[Listed] = await worker.read(lambda api: api.containers(all=all, filters=filters))
    return scope.mine(listed)


def container_name(scope: Scope, summary: Mapping[str, Any]) -> str:
    names = summary.get("Names") or [summary.get("Name") or ""]
    return scope.user_name(str(names[0]))


Candidate = tuple[str, str, Listed]  # id, the user's name, the listed object


def _match(ref: str, items: list[Candidate], kind: str) -> Candidate:
    """Docker's order: exact name, full id, then a unique id prefix."""
    for item in items:
        if item[1] == ref:
            return item
    for item in items:
        if item[0] == ref:
            return item
    if ref and all(c in "0123456789abcdef" for c in ref):
        prefixed = [item for item in items if item[0].startswith(ref)]
        if len(prefixed) == 1:
            return prefixed[0]
        if len(prefixed) > 1:
            raise UserError("sandbox.ambiguous", kind=kind, ref=ref)
    raise NotFound(f"sandbox.no_such_{kind}", ref=ref)


def find_container(scope: Scope, listed: list[Listed], ref: str) -> Found:
    """``ref`` (name, id or id prefix) among the user's ``listed`` containers."""
    items = [(c["Id"], container_name(scope, c), c) for c in listed]
    found = _match(ref.lstrip("/"), items, "container")
    return Found(found[0], scope.real(found[1]), found[1], found[2])


async def container(worker: Worker, scope: Scope, ref: str) -> Found:
    return find_container(scope, await containers(worker, scope), ref)


async def inspect_container(worker: Worker, ident: str) -> Listed:
    attrs: Listed = await worker.read(lambda api: api.inspect_container(ident))
    return attrs


async def inspected(worker: Worker, listed: list[Listed]) -> list[Listed]:
    """Inspect data of each listed container (concurrently); vanished ones are skipped."""

    async def one(summary: Listed) -> Listed | None:
        try:
            return await inspect_container(worker, summary["Id"])
        except EngineNotFound:  # removed since it was listed: it is not there any more
            return None

    found = await asyncio.gather(*(one(s) for s in listed))
    return [attrs for attrs in found if attrs is not None]


async def volumes(worker: Worker, scope: Scope) -> list[Listed]:
    filters = scope.filters(naming.KIND_VOLUME)
    result = await worker.read(lambda api: api.volumes(filters=filters))
    return scope.mine(list(result.get("Volumes") or []))


def volume_name(scope: Scope, summary: Mapping[str, Any]) -> str:
    return scope.user_name(str(summary["Name"]))


def find_volume(scope: Scope, listed: list[Listed], ref: str) -> Found:
    """The volume the user calls ``ref`` among their ``listed`` volumes (volumes have no ids)."""
    for item in listed:
        name = scope.user_name(item["Name"])
        if name == ref:
            return Found(item["Name"], item["Name"], name, item)
    raise NotFound("sandbox.no_such_volume", ref=ref)


async def volume(worker: Worker, scope: Scope, ref: str) -> Found:
    return find_volume(scope, await volumes(worker, scope), ref)


async def networks(worker: Worker, scope: Scope, with_bridge: bool = False) -> list[Listed]:
    filters = scope.filters()
    listed: list[Listed] = scope.mine(await worker.read(lambda api: api.networks(filters=filters)))
    kinds = {naming.KIND_NETWORK} | ({naming.KIND_BRIDGE} if with_bridge else set())
    return [n for n in listed if (n.get("Labels") or {}).get(naming.KIND) in kinds]


async def network(worker: Worker, scope: Scope, ref: str, with_bridge: bool = True) -> Found:
    listed = await networks(worker, scope, with_bridge=with_bridge)
    items = [(n["Id"], scope.user_name(n["Name"]), n) for n in listed]
    found = _match(ref, items, "network")
    return Found(found[0], found[2]["Name"], found[1], found[2])


async def listing(worker: Worker, scope: Scope) -> tuple[list[Listed], list[Listed], list[Listed]]:
    """The sandbox's containers, volumes and networks as the engine lists them (at once)."""
    containers_, volumes_, networks_ = await asyncio.gather(
        containers(worker, scope), volumes(worker, scope), networks(worker, scope)
    )
    return containers_, volumes_, networks_


def user_names(scope: Scope, listed: list[Listed]) -> tuple[str, ...]:
    """The user's names of engine-listed volumes or networks, sorted."""
    return tuple(sorted(scope.user_name(str(item["Name"])) for item in listed))


def engine_time(value: Any) -> datetime | None:
    """A time the engine reports (RFC 3339 with nanoseconds, or a Unix timestamp) in UTC;
    None for Go's zero time or anything unreadable."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str) or value.startswith("0001-"):
        return None
    text = value.rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None


def _mounts(scope: Scope, data: Mapping[str, Any]) -> tuple[MountView, ...]:
    """Mounts of inspect or list data (both have ``Mounts`` of the same form)."""
    return tuple(
        MountView(
            type=m.get("Type", "volume"),
            source=scope.user_name(m.get("Name") or "") if m.get("Type") == "volume" else "",
            destination=m.get("Destination", ""),
            read_only=not m.get("RW", True),
        )
        for m in data.get("Mounts") or []
    )


def _networks(scope: Scope, data: Mapping[str, Any]) -> tuple[str, ...]:
    networks = (data.get("NetworkSettings") or {}).get("Networks") or {}
    return tuple(scope.user_name(name) for name in networks)


PORTS_LABEL = naming.LABEL_PREFIX + "ports"  # the -p/-P mappings asked at creation


@dataclass(frozen=True, slots=True)
class AskedPort:
    """One mapping a container asked for (``-p``, or ``-P`` for an exposed port)."""

    container_port: int
    protocol: str = "tcp"
    host_ip: str = "0.0.0.0"
    host_port: int | None = None  # None: an ephemeral port

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.protocol}"


def decode_ports(text: str) -> list[AskedPort]:
    """The ports label's value (``0.0.0.0:8080:80/tcp,127.0.0.1::443/tcp``); malformed parts
    are skipped."""
    found: list[AskedPort] = []
    for part in text.split(","):
        try:
            ip, host, inner = part.split(":")
            number, _, protocol = inner.partition("/")
            port = int(host) if host else None
            found.append(AskedPort(int(number), protocol or "tcp", ip or "0.0.0.0", port))
        except ValueError:
            continue
    return found


def asked_ports(attrs: Mapping[str, Any]) -> list[AskedPort]:
    """What a container asked for, from its inspect data: the ports label; for containers
    made before the label existed, the bindings the engine recorded."""
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    if PORTS_LABEL in labels:
        return decode_ports(str(labels[PORTS_LABEL]))
    asked: list[AskedPort] = []
    for key, bindings in ((attrs.get("HostConfig") or {}).get("PortBindings") or {}).items():
        number, _, protocol = str(key).partition("/")
        for binding in bindings or [{}]:
            port = str((binding or {}).get("HostPort") or "")
            asked.append(
                AskedPort(int(number), protocol or "tcp", host_port=int(port) if port else None)
            )
    return asked


def view_from_inspect(scope: Scope, attrs: Mapping[str, Any]) -> ContainerView:
    """A :class:`ContainerView` in the user's names from ``inspect_container`` data."""
    config = attrs.get("Config") or {}
    state = attrs.get("State") or {}
    env: dict[str, str] = {}
    for item in config.get("Env") or []:
        key, _, value = item.partition("=")
        env[key] = value
    mounts, nets = _mounts(scope, attrs), _networks(scope, attrs)
    # What was asked with -p/-P (published by the host shell's forwarder while the container
    # runs: ops/ports.py puts the published ports in place of these), then exposed ports.
    ports: list[PortView] = [
        PortView(a.container_port, a.protocol, a.host_ip, a.host_port, published=False)
        for a in asked_ports(attrs)
    ]
    asked_keys = {(p.container_port, p.protocol) for p in ports}
    for key in config.get("ExposedPorts") or {}:
        number, _, proto = str(key).partition("/")
        if (int(number), proto or "tcp") not in asked_keys:
            ports.append(PortView(int(number), proto or "tcp", published=False))
    command = tuple(config.get("Entrypoint") or ()) + tuple(config.get("Cmd") or ())
    if attrs.get("Path"):
        command = (attrs["Path"], *(attrs.get("Args") or ()))
    running = state.get("Status") in ("running", "paused", "restarting")
    health = (state.get("Health") or {}).get("Status") or None
    networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    addresses = tuple(
        f"{scope.user_name(name)}/{(net or {}).get('IPAddress')}"
        for name, net in sorted(networks.items())
        if (net or {}).get("IPAddress")
    )
    return ContainerView(
        health=health,
        addresses=addresses,
        labels=naming.strip_our_labels(config.get("Labels")),
        name=scope.user_name(attrs.get("Name", "")),
        id=attrs["Id"],
        image=str(config.get("Image") or "").removeprefix(scope.image_prefix),
        status=state.get("Status", "created"),
        command=command,
        env=env,
        mounts=mounts,
        networks=nets,
        ports=tuple(ports),
        exit_code=None if running else state.get("ExitCode"),
        created_at=engine_time(attrs.get("Created")),
        started_at=engine_time(state.get("StartedAt")),
        finished_at=engine_time(state.get("FinishedAt")),
    )


def view_from_summary(scope: Scope, summary: Mapping[str, Any]) -> ContainerView:
    """A lighter view from the engine's container list (no environment)."""
    mounts, nets = _mounts(scope, summary), _networks(scope, summary)
    ports = tuple(
        PortView(
            int(p.get("PrivatePort", 0)),
            p.get("Type", "tcp"),
            p.get("IP"),
            int(p["PublicPort"]) if p.get("PublicPort") else None,
        )
        for p in summary.get("Ports") or []
    )
    status = summary.get("State", "created")
    exit_code = None
    text = summary.get("Status") or ""
    if status == "exited" and "(" in text:
        try:
            exit_code = int(text.split("(", 1)[1].split(")", 1)[0])
        except ValueError:
            exit_code = None
    return ContainerView(
        name=container_name(scope, summary),
        id=summary["Id"],
        image=summary.get("Image", ""),
        status=status,
        command=tuple((summary.get("Command") or "").split()),
        mounts=mounts,
        networks=nets,
        ports=ports,
        exit_code=exit_code,
        created_at=engine_time(summary.get("Created")),
        labels=naming.strip_our_labels(summary.get("Labels")),
    )
