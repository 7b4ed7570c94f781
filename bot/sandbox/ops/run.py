"""``docker run`` and ``docker create``: quotas, mounts, ports, network, hardening, and a
foreground run read as a bounded stream.

The container is created with the low-level API (which never pulls by itself), inspected,
and removed again when any of its hardening is missing. An allowed image that is not on the
worker yet is pulled first, through the same checks as ``docker pull``.
"""

from __future__ import annotations

import random
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docker.api import APIClient
from docker.types import Mount

from bot.core.errors import UserError
from bot.dockercli.model import DockerCommand
from bot.dockercli.values import (
    parse_bytes,
    parse_mount,
    parse_nano_cpus,
    parse_publish,
    parse_volume,
)
from bot.dockercli.views import ContainerView, PortView
from bot.sandbox import naming, objects
from bot.sandbox.errors import EngineNotFound, LimitsMissing, WorkerDown
from bot.sandbox.limits import host_config_kwargs, missing_limits
from bot.sandbox.ops import images as image_ops
from bot.sandbox.ops.base import (
    RUNNING_STATES,
    Ctx,
    Note,
    Output,
    captured_output,
    create_volume,
    note,
    user_labels,
    user_name,
)
from bot.sandbox.streams import Captured, read_multiplexed
from bot.sandbox.workers import engine_call, inspect_image, networking_config
from bot.settings import ContainerLimits

_ADJECTIVES = ("brave", "calm", "eager", "gentle", "happy", "keen", "lucid", "quiet", "witty")
_NOUNS = ("turing", "hopper", "lovelace", "knuth", "ritchie", "thompson", "liskov", "dijkstra")
TMPFS_BYTES = 16 * 1024 * 1024
EXIT_CODE_WAIT_SECONDS = 5


def _random_name(taken: set[str]) -> str:
    for _ in range(50):
        name = f"{random.choice(_ADJECTIVES)}_{random.choice(_NOUNS)}"
        if name not in taken:
            return name
    return f"c{random.randrange(16**8):08x}"


async def check_container_quota(ctx: Ctx) -> list[objects.Listed]:
    """The user's containers; UserError when they have as many as the quota allows."""
    listed = await objects.containers(ctx.worker, ctx.scope)
    if len(listed) >= ctx.settings.quotas.containers:
        raise UserError("sandbox.quota.containers", limit=ctx.settings.quotas.containers)
    return listed


# --------------------------------------------------------------------------------------------
# What the container gets: mounts, ports, network, limits
# --------------------------------------------------------------------------------------------


@dataclass
class _Mounts:
    mounts: list[Mount]
    to_create: list[str]  # the user's volumes that do not exist yet
    existing: int  # how many volumes the user has


async def _volume_mounts(ctx: Ctx, cmd: DockerCommand) -> _Mounts:
    """Mounts for ``-v``/``--mount`` (named volumes and tmpfs) and the volumes to create."""
    found = _Mounts([], [], 0)
    if not cmd.values("volume") and not cmd.values("mount"):
        return found
    listed = await objects.volumes(ctx.worker, ctx.scope)
    existing = {ctx.scope.user_name(v["Name"]) for v in listed}
    found.existing = len(existing)

    def use_volume(source: str, target: str, read_only: bool) -> None:
        if not source:
            found.mounts.append(Mount(target, None, type="volume", read_only=read_only))
            return
        user_name(source)
        if source not in existing and source not in found.to_create:
            found.to_create.append(source)
        real = ctx.scope.real(source)
        found.mounts.append(Mount(target, real, type="volume", read_only=read_only))

    for value in cmd.values("volume"):
        spec = parse_volume(value)
        if spec.is_path:
            raise UserError("sandbox.bind_refused", value=value[:80])
        use_volume(spec.source, spec.target, spec.read_only)
    for value in cmd.values("mount"):
        mount = parse_mount(value)
        if mount.type == "tmpfs":
            found.mounts.append(
                Mount(
                    mount.target,
                    None,
                    type="tmpfs",
                    read_only=mount.read_only,
                    tmpfs_size=TMPFS_BYTES,
                )
            )
        elif mount.type == "volume":
            use_volume(mount.source, mount.target, mount.read_only)
        else:
            raise UserError("sandbox.bind_refused", value=value[:80])
    return found


async def _port_bindings(
    ctx: Ctx, cmd: DockerCommand, image: str
) -> dict[str, tuple[str, int | None]]:
    """``-p``/``-P`` as bindings on the worker's loopback only (recorded: sandbox networks
    are internal, so the engine publishes nothing)."""
    ports: dict[str, tuple[str, int | None]] = {}
    if cmd.has("publish-all"):
        attrs = await ctx.run(lambda api: inspect_image(api, image))
        for key in (attrs.get("Config") or {}).get("ExposedPorts") or {}:
            ports[key] = ("127.0.0.1", None)
    for value in cmd.values("publish"):
        for spec in parse_publish(value):
            ports[f"{spec.container_port}/{spec.protocol}"] = ("127.0.0.1", spec.host_port)
    return ports


def _asked(key: str, host_port: int | None) -> PortView:
    number, _, protocol = key.partition("/")
    return PortView(int(number), protocol or "tcp", host_port=host_port, published=False)


def _lowered(value: int, wanted: str | None, parse: Callable[[str], int]) -> int:
    """A user's own limit (``-m``, ``--cpus``) may only lower the configured one."""
    if not wanted:
        return value
    return max(1, min(value, parse(wanted)))


async def _network_for(ctx: Ctx, cmd: DockerCommand) -> str:
    wanted = cmd.text("network")
    if not wanted or wanted in ("bridge", "default"):
        return ctx.scope.bridge_name
    if wanted == "none":
        return "none"
    found = await objects.network(ctx.worker, ctx.scope, wanted, with_bridge=True)
    return found.real_name


def _hardening(ctx: Ctx, cmd: DockerCommand) -> dict[str, Any]:
    """The coach's limits, the user's ``--cap-drop``, ``-m`` and ``--cpus`` (lower only)."""
    limits = ctx.settings.limits
    hardening = host_config_kwargs(limits)
    hardening["cap_drop"] = sorted({*hardening["cap_drop"], *cmd.values("cap-drop")})
    memory = _lowered(limits.memory_bytes, cmd.text("memory"), parse_bytes)
    hardening["mem_limit"] = hardening["memswap_limit"] = memory
    hardening["nano_cpus"] = _lowered(limits.nano_cpus, cmd.text("cpus"), parse_nano_cpus)
    return hardening


def _tmpfs(value: str) -> tuple[str, str]:
    """``--tmpfs /run:noexec,size=1g`` → ``("/run", "noexec,size=<ours>")``: the size is ours."""
    path, _, options = value.partition(":")
    kept = [o for o in options.split(",") if o and not o.startswith("size=")]
    return path, ",".join([*kept, f"size={TMPFS_BYTES}"])


def _entrypoint(cmd: DockerCommand) -> list[str] | None:
    entrypoint = cmd.text("entrypoint")
    if entrypoint is None:
        return None
    return shlex.split(entrypoint) if entrypoint else [""]


@dataclass
class _Creation:
    """Everything ``create_container`` gets, built into API objects on the worker's thread."""

    spec: dict[str, Any]
    host: dict[str, Any]
    network: str
    aliases: list[str]


def _create_blocking(api: APIClient, creation: _Creation, limits: ContainerLimits) -> str:
    """Create, check the limits, remove again when anything is missing; return the id."""
    host_config = api.create_host_config(network_mode=creation.network, **creation.host)
    networking = None
    if creation.network != "none":
        networking = networking_config(api, creation.network, creation.aliases)
    created = api.create_container(
        **creation.spec, host_config=host_config, networking_config=networking
    )
    cid = str(created["Id"])
    missing = missing_limits(api.inspect_container(cid), limits)
    if missing:
        api.remove_container(cid, force=True, v=True)
        raise LimitsMissing(missing)
    return cid


async def run(ctx: Ctx, cmd: DockerCommand, create_only: bool = False) -> Output:
    image = cmd.image
    if not image:
        raise UserError("sandbox.missing_image")
    ref = image_ops.check(ctx, image)
    listed = await check_container_quota(ctx)
    running = sum(1 for c in listed if c.get("State") in RUNNING_STATES)
    if not create_only and running >= ctx.settings.quotas.running_containers:
        raise UserError("sandbox.quota.running", limit=ctx.settings.quotas.running_containers)
    taken = {objects.container_name(ctx.scope, c) for c in listed}
    wanted = cmd.text("name")
    name = user_name(wanted) if wanted else _random_name(taken)
    network = await _network_for(ctx, cmd)
    mounts = await _volume_mounts(ctx, cmd)
    if mounts.to_create and mounts.existing + len(mounts.to_create) > ctx.settings.quotas.volumes:
        raise UserError("sandbox.quota.volumes", limit=ctx.settings.quotas.volumes)
    notes: list[Note] = []
    notes += await image_ops.ensure_present(ctx, ref, pull=cmd.text("pull") != "never")
    for volume in mounts.to_create:
        await create_volume(ctx, volume)
    engine_image = image_ops.engine_name(ref)
    ports = await _port_bindings(ctx, cmd, engine_image)
    creation = _Creation(
        spec={
            "image": engine_image,
            "command": list(cmd.container_command) or None,
            "name": ctx.scope.real(name),
            "environment": list(cmd.values("env")) or None,
            "working_dir": cmd.text("workdir") or None,
            "entrypoint": _entrypoint(cmd),
            "labels": {**user_labels(cmd), **ctx.scope.labels(naming.KIND_CONTAINER, name)},
            "user": cmd.text("user") or None,
            "stop_timeout": cmd.int_flag("stop-timeout"),
            "ports": [tuple(k.split("/")) for k in ports] or None,
            "hostname": cmd.text("hostname") or None,
            "detach": True,
            "tty": False,
            "stdin_open": False,
        },
        host={
            "port_bindings": ports or None,
            "mounts": mounts.mounts or None,
            "tmpfs": dict(_tmpfs(value) for value in cmd.values("tmpfs")) or None,
            "read_only": cmd.has("read-only"),
            "auto_remove": cmd.has("rm"),
            **_hardening(ctx, cmd),
        },
        network=network,
        aliases=[name, *(user_name(a) for a in cmd.values("network-alias"))],
    )
    limits = ctx.settings.limits
    cid = await ctx.run(lambda api: _create_blocking(api, creation, limits), heavy=True)
    notes += unpublished_note([(name, _asked(key, port)) for key, (_ip, port) in ports.items()])
    if create_only:
        return Output(text=cid, notes=notes)
    if cmd.has("detach"):
        await ctx.run(lambda api: api.start(cid), heavy=True)
        return Output(text=cid, notes=notes)
    return await _foreground(ctx, cid, name, notes)


async def create(ctx: Ctx, cmd: DockerCommand) -> Output:
    return await run(ctx, cmd, create_only=True)


# --------------------------------------------------------------------------------------------
# The truth about -p, and a run in the foreground
# --------------------------------------------------------------------------------------------


def unpublished_note(asked: list[tuple[str, PortView]]) -> list[Note]:
    """The truth about ``-p`` in the sandbox, for ``(container, port)`` pairs: nothing is
    published, and how to reach the container instead."""
    if not asked:
        return []
    shown = ", ".join(f"{name} {port.asked}" for name, port in asked)
    name, first = asked[0]
    return [note("sandbox.ports_not_published", ports=shown, name=name, port=first.container_port)]


def asked_ports(views: list[ContainerView]) -> list[tuple[str, PortView]]:
    """The mappings asked for with ``-p`` that the engine did not publish."""
    return [(v.name, p) for v in views for p in v.ports if not p.published and p.host_port]


def _attach_start_read(
    api: APIClient, cid: str, cap: int, seconds: float
) -> tuple[Captured, int | None]:
    sock = api.attach_socket(cid, params={"stdout": 1, "stderr": 1, "stream": 1, "logs": 1})
    api.start(cid)
    captured = read_multiplexed(sock, cap, seconds)
    code: int | None = None
    if captured.ended:
        try:
            result = engine_call(api.wait, cid, timeout=EXIT_CODE_WAIT_SECONDS)
            code = result.get("StatusCode")
        except (EngineNotFound, WorkerDown):
            # removed by --rm already, or not exited within the wait: the output is what
            # matters and it is complete; the exit code is only shown when known
            code = None
    return captured, code


async def _foreground(ctx: Ctx, cid: str, name: str, notes: list[Note]) -> Output:
    seconds = ctx.settings.foreground_run_seconds
    cap = ctx.settings.output_bytes
    captured, code = await ctx.worker.stream(
        lambda api: _attach_start_read(api, cid, cap, seconds), timeout=seconds + 30
    )
    out = captured_output(ctx, captured, "docker-run.txt", notes)
    if not captured.ended:
        out.notes.append(note("sandbox.run_detached", name=name, seconds=round(seconds)))
    elif code:
        out.notes.append(note("sandbox.exit_code", code=code))
    return out
