"""Published ports: ``-p``/``-P`` reach the learner's host shell, as Docker's reach the host.

Sandbox networks are internal, so the engine publishes nothing. The coach keeps Docker's
rules itself and a forwarder in the host shell's own network namespace does the listening
(``coach-portd``, in the host image): nothing ever listens on the worker.

- What a container asked for is recorded at creation in the label ``org.docker-coach.ports``
  (``0.0.0.0:8080:80/tcp``, an empty host port for an ephemeral one); labels are the truth.
- Ports are *allocated* to running (and paused) containers only, in the order they started;
  a fixed host port another running container holds is Docker's "port is already allocated"
  for the one starting; an ephemeral port is the lowest free one from 32768, and stays the
  same while its container runs (the forwarder's table, kept in the host shell, remembers it).
- After every command that starts, stops or removes containers the table is computed from the
  engine's state and handed to the forwarder (:func:`sync`): forwarding stops when a container
  stops and comes back when it starts. Two learners' 8080s never meet: each forwarder lives in
  its own host shell.
"""

from __future__ import annotations

import io
import logging
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from docker.api import APIClient

from bot.dockercli.values import PortSpec
from bot.dockercli.views import PortView
from bot.sandbox import naming, objects
from bot.sandbox.errors import EngineConflict, EngineError, EngineNotFound
from bot.sandbox.ops.base import Ctx, Note, note
from bot.sandbox.provision import ensure_host_running

log = logging.getLogger("bot.sandbox.ports")

PORTS_LABEL = objects.PORTS_LABEL
FORWARDER = naming.HOST_FORWARDER
TABLE_PATH = "/var/lib/coach-portd/table"
EPHEMERAL_FIRST, EPHEMERAL_LAST = 32768, 60999  # Linux's ip_local_port_range, as Docker uses
ANY = "0.0.0.0"
RUNNING = frozenset({"running", "paused", "restarting"})


Asked = objects.AskedPort
decode = objects.decode_ports
asked_of = objects.asked_ports


def _host_ip(ip: str | None) -> str:
    if not ip:
        return ANY
    return "127.0.0.1" if ip == "localhost" else ip


def asked_from_specs(specs: Iterable[PortSpec]) -> list[Asked]:
    return [Asked(s.container_port, s.protocol, _host_ip(s.host_ip), s.host_port) for s in specs]


def encode(asked: Sequence[Asked]) -> str:
    """The label's value: ``0.0.0.0:8080:80/tcp,127.0.0.1::443/tcp``."""
    return ",".join(f"{a.host_ip}:{a.host_port or ''}:{a.key}" for a in asked)


# --------------------------------------------------------------------------------------------
# Allocation (pure)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Binding:
    """A published port: ``host_ip:host_port`` in the host shell → ``target:container_port``."""

    container: str  # container id
    container_port: int
    protocol: str
    host_ip: str
    host_port: int
    target: str | None  # the container's address (None: not reachable, e.g. --network none)

    def entry(self) -> str | None:
        """The forwarder's table line (None when there is nothing to forward to)."""
        if self.target is None:
            return None
        return (
            f"{self.protocol}:{self.host_ip}:{self.host_port}:{self.target}:{self.container_port}"
        )

    def view(self) -> PortView:
        return PortView(self.container_port, self.protocol, self.host_ip, self.host_port)


@dataclass(frozen=True, slots=True)
class Publisher:
    """A running container as allocation sees it."""

    id: str
    name: str
    started: datetime | None
    asked: tuple[Asked, ...]
    target: str | None


@dataclass
class Plan:
    bindings: list[Binding] = field(default_factory=list)
    conflicts: dict[str, Asked] = field(default_factory=dict)  # container id → its first clash

    def of(self, container: str) -> list[Binding]:
        return [b for b in self.bindings if b.container == container]


def _clash(ip: str, other_ip: str) -> bool:
    return ip == other_ip or ANY in (ip, other_ip)


def plan(publishers: Sequence[Publisher], remembered: Mapping[tuple[str, int, str], int]) -> Plan:
    """Allocate host ports to ``publishers`` in the order they started. ``remembered``:
    (container, container port, protocol) → the ephemeral port it holds now."""
    result = Plan()
    taken: list[tuple[str, int, str]] = []  # (protocol, host port, host ip)

    def free(protocol: str, port: int, ip: str) -> bool:
        return not any(p == protocol and h == port and _clash(ip, i) for p, h, i in taken)

    ordered = sorted(
        publishers, key=lambda p: (p.started is None, p.started.timestamp() if p.started else 0.0)
    )
    for publisher in ordered:
        mine: list[Binding] = []
        for asked in publisher.asked:
            port = asked.host_port
            if port is None:
                held = remembered.get((publisher.id, asked.container_port, asked.protocol))
                if held is not None and free(asked.protocol, held, asked.host_ip):
                    port = held
                else:
                    port = next(
                        (
                            candidate
                            for candidate in range(EPHEMERAL_FIRST, EPHEMERAL_LAST + 1)
                            if free(asked.protocol, candidate, asked.host_ip)
                        ),
                        None,
                    )
                    if port is None:
                        result.conflicts.setdefault(publisher.id, asked)
                        continue
            elif not free(asked.protocol, port, asked.host_ip):
                result.conflicts.setdefault(publisher.id, asked)
                continue
            taken.append((asked.protocol, port, asked.host_ip))
            mine.append(
                Binding(
                    publisher.id, asked.container_port, asked.protocol, asked.host_ip, port,
                    publisher.target,
                )
            )  # fmt: skip
        result.bindings.extend(mine)
    return result


def allocated_error(name: str, ident: str, asked: Asked) -> EngineError:
    """Docker's words when a host port is taken."""
    return EngineError(
        f"driver failed programming external connectivity on endpoint {name} ({ident}): "
        f"Bind for {asked.host_ip}:{asked.host_port} failed: port is already allocated",
        500,
    )


# --------------------------------------------------------------------------------------------
# Reading the engine and the forwarder
# --------------------------------------------------------------------------------------------


def target_address(scope: naming.Scope, attrs: Mapping[str, object]) -> str | None:
    """The container's address on a network the host shell is on (the sandbox's own network
    first; the host shell joins every network of the learner)."""
    settings = attrs.get("NetworkSettings") or {}
    assert isinstance(settings, Mapping)
    networks: Mapping[str, Mapping[str, object]] = settings.get("Networks") or {}
    names = sorted(networks, key=lambda n: (n != scope.bridge_name, n))
    for name in names:
        if name in ("none", "host"):
            continue
        address = str((networks[name] or {}).get("IPAddress") or "")
        if address:
            return address
    return None


def holds_ports(summary: Mapping[str, object]) -> bool:
    """Whether a listed container may hold published ports now: running, and asking for
    some in its ports label (one made before the label existed counts as asking)."""
    labels = summary.get("Labels") or {}
    assert isinstance(labels, Mapping)
    if summary.get("State") not in RUNNING:
        return False
    return PORTS_LABEL not in labels or bool(decode(str(labels[PORTS_LABEL])))


def publisher(scope: naming.Scope, attrs: Mapping[str, object]) -> Publisher | None:
    """The container as a :class:`Publisher` (None when it is not running or asks nothing)."""
    state = attrs.get("State") or {}
    assert isinstance(state, Mapping)
    asked = asked_of(attrs)
    if state.get("Status") not in RUNNING or not asked:
        return None
    return Publisher(
        str(attrs["Id"]),
        scope.user_name(str(attrs.get("Name", ""))),
        objects.engine_time(state.get("StartedAt")),
        tuple(asked),
        target_address(scope, attrs),
    )


def _read_table(api: APIClient, host: str) -> dict[tuple[str, int, str], int] | None:
    """The forwarder's table as ``(target ip, container port, protocol) → host port``, from
    the host shell's file (works on a stopped host shell); None when there is none."""
    try:
        chunks, _stat = api.get_archive(host, TABLE_PATH)
        data = b"".join(chunks)
    except Exception:
        return None
    table: dict[tuple[str, int, str], int] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            member = next((m for m in archive if m.isfile()), None)
            handle = archive.extractfile(member) if member else None
            text = handle.read(65536).decode("ascii", "replace") if handle else ""
    except tarfile.TarError:
        return None
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) != 5 or not parts[2].isdigit() or not parts[4].isdigit():
            continue
        table[(parts[3], int(parts[4]), parts[0])] = int(parts[2])
    return table


async def remembered(ctx: Ctx, publishers: Sequence[Publisher]) -> dict[tuple[str, int, str], int]:
    """The ephemeral ports the running containers hold now (from the forwarder's table; not
    read when none of them asks for an ephemeral port)."""
    if not any(a.host_port is None and p.target is not None for p in publishers for a in p.asked):
        return {}
    host = ctx.scope.host_name
    table = await ctx.run(lambda api: _read_table(api, host)) or {}
    held: dict[tuple[str, int, str], int] = {}
    for item in publishers:
        for asked in item.asked:
            if asked.host_port is None and item.target is not None:
                port = table.get((item.target, asked.container_port, asked.protocol))
                if port is not None:
                    held[(item.id, asked.container_port, asked.protocol)] = port
    return held


async def current(ctx: Ctx, inspected: Sequence[Mapping[str, object]] | None = None) -> Plan:
    """The allocation right now, for the sandbox's running containers (``inspected``: their
    inspect data when the caller has it already)."""
    if inspected is None:
        listed = await objects.containers(ctx.worker, ctx.scope, all=False)
        inspected = await objects.inspected(ctx.worker, listed)
    publishers = [p for p in (publisher(ctx.scope, a) for a in inspected) if p is not None]
    return plan(publishers, await remembered(ctx, publishers))


# --------------------------------------------------------------------------------------------
# Handing the table to the forwarder
# --------------------------------------------------------------------------------------------


@dataclass
class Synced:
    """What the forwarder made of a table."""

    plan: Plan
    available: bool = True  # False: this host shell has no forwarder (an older host image)
    failed: dict[str, str] = field(default_factory=dict)  # container id → the bind error


def _apply(api: APIClient, host: str, entries: list[str]) -> tuple[int | None, str]:
    created = api.exec_create(host, [FORWARDER, "apply", *entries], user="root")
    output = api.exec_start(created["Id"])
    code = api.exec_inspect(created["Id"]).get("ExitCode")
    return code, output.decode("utf-8", "replace") if isinstance(output, bytes) else str(output)


async def _apply_waking(ctx: Ctx, host: str, entries: list[str]) -> tuple[int | None, str]:
    """:func:`_apply`; a host shell found not running (stopped since it was last seen
    running) is started, as before any command, and the table handed over once more."""
    try:
        return await ctx.run(lambda api: _apply(api, host, entries))
    except EngineConflict:
        await ensure_host_running(ctx.sandbox, ctx.settings.api_timeout_seconds)
    return await ctx.run(lambda api: _apply(api, host, entries))


async def sync(ctx: Ctx, planned: Plan | None = None) -> Synced:
    """Compute the allocation (unless given) and hand it to the host shell's forwarder."""
    planned = planned or await current(ctx)
    entries = [e for e in (b.entry() for b in planned.bindings) if e]
    host = ctx.scope.host_name
    try:
        code, text = await _apply_waking(ctx, host, entries)
    except EngineError as exc:  # the host shell is not running: nothing to forward into
        log.info("ports not synced", extra={"sandbox": ctx.scope.sandbox, "error": exc.explanation})
        return Synced(planned, available=not isinstance(exc, EngineNotFound))
    if code in (126, 127) or "no such file" in text.lower():
        return Synced(planned, available=False)
    failed: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("ERR "):
            continue
        _err, entry, *why = line.split(" ")
        for binding in planned.bindings:
            if binding.entry() == entry:
                failed.setdefault(binding.container, " ".join(why))
    return Synced(planned, True, failed)


def bind_error(name: str, ident: str, binding: Binding, why: str) -> EngineError:
    """Docker's words when the host side cannot listen (something in the host shell holds
    the port already)."""
    reason = why.removeprefix("bind: ").lower()
    return EngineError(
        f"driver failed programming external connectivity on endpoint {name} ({ident}): "
        f"Error starting userland proxy: listen {binding.protocol}4 "
        f"{binding.host_ip}:{binding.host_port}: bind: {reason}",
        500,
    )


# --------------------------------------------------------------------------------------------
# Starting a container that publishes ports
# --------------------------------------------------------------------------------------------


async def check_free(
    ctx: Ctx, cid: str, name: str, asked: Sequence[Asked] | None = None
) -> list[Asked]:
    """Docker's "port is already allocated" before ``cid`` starts, when a fixed host port
    it asks for is held by another running container of the sandbox. What it asks for
    (``asked``: known already, from the ports label the caller just wrote; else read from
    the engine)."""
    if asked is None:
        asked = asked_of(await objects.inspect_container(ctx.worker, cid))
    asked = list(asked)
    if not asked:
        return asked
    listed = await objects.containers(ctx.worker, ctx.scope, all=False)
    others = await objects.inspected(ctx.worker, [c for c in listed if c["Id"] != cid])
    publishers = [p for p in (publisher(ctx.scope, a) for a in others) if p is not None]
    candidate = Publisher(cid, name, None, tuple(asked), None)  # it starts last
    planned = plan([*publishers, candidate], await remembered(ctx, publishers))
    clash = planned.conflicts.get(cid)
    if clash is not None:
        raise allocated_error(name, cid[:12], clash)
    return asked


async def publish_started(
    ctx: Ctx, cid: str, name: str, asked: Sequence[Asked] | None = None
) -> list[Note]:
    """After ``cid`` started: hand the new table to the forwarder. When its host port cannot
    be listened on in the host shell (a learner's own server holds it), the container is
    stopped again and the error is Docker's. ``asked``: what it asks for, when known — a
    container that publishes nothing changes no allocation, and the table is left as it is."""
    if asked is not None and not asked:
        return []
    synced = await sync(ctx)
    mine = synced.plan.of(cid)
    if not mine:
        return []
    if not synced.available:
        return [note("sandbox.ports_need_reset", name=name)]
    why = synced.failed.get(cid)
    if why is None:
        return []
    await ctx.run(lambda api: api.kill(cid))
    await sync(ctx)
    raise bind_error(name, cid[:12], mine[0], why)


def port_views(planned: Plan, cid: str, exposed: Iterable[str]) -> tuple[PortView, ...]:
    """A running container's PORTS: its published ports, then exposed ones not published."""
    bound = planned.of(cid)
    views = [b.view() for b in bound]
    published = {(b.container_port, b.protocol) for b in bound}
    for key in exposed:
        number, _, protocol = key.partition("/")
        if (int(number), protocol or "tcp") not in published:
            views.append(PortView(int(number), protocol or "tcp"))
    return tuple(views)


def inspect_ports(
    planned: Plan, attrs: Mapping[str, object]
) -> tuple[dict[str, object], dict[str, object]]:
    """``NetworkSettings.Ports`` and ``HostConfig.PortBindings`` as Docker shows them."""
    cid = str(attrs["Id"])
    state = attrs.get("State") or {}
    config = attrs.get("Config") or {}
    assert isinstance(state, Mapping) and isinstance(config, Mapping)
    asked = asked_of(attrs)
    recorded: dict[str, object] = {}
    for item in asked:
        host_ip = "" if item.host_ip == ANY else item.host_ip
        entries = recorded.setdefault(item.key, [])
        assert isinstance(entries, list)
        entries.append({"HostIp": host_ip, "HostPort": str(item.host_port or "")})
    live: dict[str, object] = {}
    if state.get("Status") in RUNNING:
        live = {key: None for key in (config.get("ExposedPorts") or {})}
        for binding in planned.of(cid):
            key = f"{binding.container_port}/{binding.protocol}"
            entries = live.get(key) or []
            assert isinstance(entries, list)
            entries.append({"HostIp": binding.host_ip, "HostPort": str(binding.host_port)})
            live[key] = entries
    return live, recorded
