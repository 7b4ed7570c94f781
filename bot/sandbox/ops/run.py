"""``docker run`` and ``docker create``: quotas, mounts, published ports, network, health
checks, hardening, and a foreground run read as a bounded stream.

The container is created with the low-level API (which never pulls by itself), inspected,
and removed again when any of its hardening is missing. An allowed image that is not on the
worker yet is pulled first, through the same checks as ``docker pull``.
"""

from __future__ import annotations

import contextlib
import posixpath
import random
import secrets
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from docker.api import APIClient
from docker.types import Mount

from bot.core.errors import UserError
from bot.dockercli.model import DockerCommand
from bot.dockercli.values import (
    parse_bytes,
    parse_duration,
    parse_mount,
    parse_nano_cpus,
    parse_publish,
    parse_volume,
)
from bot.sandbox import anonymous, naming, objects
from bot.sandbox.errors import (
    EngineConflict,
    EngineNotFound,
    LimitsMissing,
    SandboxError,
    WorkerDown,
)
from bot.sandbox.limits import (
    DiskSupport,
    checked_shape,
    host_config_kwargs,
    missing_limits,
    storage_bytes,
    tmpfs_mount_bytes,
    tmpfs_options,
)
from bot.sandbox.ops import files, ports
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
from bot.sandbox.workers import Slot, engine_call, inspect_image
from bot.settings import ContainerLimits

_ADJECTIVES = ("brave", "calm", "eager", "gentle", "happy", "keen", "lucid", "quiet", "witty")
_NOUNS = ("turing", "hopper", "lovelace", "knuth", "ritchie", "thompson", "liskov", "dijkstra")
# The output ended, so the process is gone; the engine records the exit a moment later (an OOM
# kill's cgroup teardown can take seconds on a loaded worker): worth waiting for, it is the answer.
EXIT_CODE_WAIT_SECONDS = 20


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
    anonymous: set[str] = field(default_factory=set)  # of to_create: the anonymous ones


async def _volume_mounts(ctx: Ctx, cmd: DockerCommand, container: str) -> _Mounts:
    """Mounts for ``-v``/``--mount`` (named and anonymous volumes, tmpfs) and the volumes to
    create (an anonymous one as a volume of the sandbox, see :func:`_image_volumes`)."""
    found = _Mounts([], [], 0)
    if not cmd.values("volume") and not cmd.values("mount"):
        return found
    listed = await objects.volumes(ctx.worker, ctx.scope)
    existing = {ctx.scope.user_name(v["Name"]) for v in listed}
    found.existing = len(existing)

    def use_volume(source: str, target: str, read_only: bool) -> None:
        if not source:
            _use_anonymous(ctx, cmd, found, target, container, read_only)
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
            asked = mount.fields.get("tmpfs-size")
            size = tmpfs_mount_bytes(parse_bytes(asked) if asked else None, ctx.settings.limits)
            found.mounts.append(
                Mount(mount.target, None, type="tmpfs", read_only=mount.read_only, tmpfs_size=size)
            )
        elif mount.type == "volume":
            use_volume(mount.source, mount.target, mount.read_only)
        else:
            raise UserError("sandbox.bind_refused", value=value[:80])
    return found


async def _image_volumes(
    ctx: Ctx, cmd: DockerCommand, attrs: dict[str, Any], found: _Mounts, container: str
) -> None:
    """A volume for each ``VOLUME`` of the image that no ``-v``/``--mount``/``--tmpfs``
    covers, as Docker makes an anonymous one: here a volume of the sandbox with a 64-hex name
    (what Docker's look like), created by the engine with the container ``container``, so
    that it is counted by the quota, listed by ``volume ls``, removed by ``rm -v``, ``--rm``
    and ``volume prune``, and removed with the sandbox (see :mod:`bot.sandbox.anonymous`).
    ``attrs``: the image's inspect data."""
    wanted = list((attrs.get("Config") or {}).get("Volumes") or {})
    covered = {posixpath.normpath(m["Target"]) for m in found.mounts}
    covered |= {posixpath.normpath(v.partition(":")[0]) for v in cmd.values("tmpfs")}
    missing = [p for p in wanted if posixpath.normpath(p) not in covered]
    if not missing:
        return
    if not cmd.values("volume") and not cmd.values("mount"):
        found.existing = len(await objects.volumes(ctx.worker, ctx.scope))
    for path in missing:
        _use_anonymous(ctx, cmd, found, path, container)


def _use_anonymous(
    ctx: Ctx,
    cmd: DockerCommand,
    found: _Mounts,
    target: str,
    container: str,
    read_only: bool = False,
) -> None:
    """Mount a new anonymous volume at ``target``: named as Docker names them (64 hex digits),
    made by the engine with the container, going with it when it runs with ``--rm``."""
    name = secrets.token_hex(32)
    found.to_create.append(name)
    found.anonymous.add(name)
    mount = anonymous.mount(ctx.scope, name, target, container, cmd.has("rm"), read_only)
    found.mounts.append(mount)


async def _published(
    ctx: Ctx, cmd: DockerCommand, attrs: dict[str, Any]
) -> tuple[list[ports.Asked], list[str]]:
    """What ``-p``/``-P`` ask for, and every port the container exposes (``--expose``, the
    image's, the published ones), as ``80/tcp``."""
    exposed: list[str] = []
    for value in cmd.values("expose"):
        body, _, protocol = value.partition("/")
        low, _, high = body.partition("-")
        exposed += [f"{n}/{protocol or 'tcp'}" for n in range(int(low), int(high or low) + 1)]
    asked: list[ports.Asked] = []
    if cmd.has("publish-all"):
        image_ports = list((attrs.get("Config") or {}).get("ExposedPorts") or {})
        for key in dict.fromkeys([*image_ports, *exposed]):
            number, _, protocol = key.partition("/")
            asked.append(ports.Asked(int(number), protocol or "tcp"))
    for value in cmd.values("publish"):
        asked += ports.asked_from_specs(parse_publish(value))
    exposed += [a.key for a in asked]
    return asked, list(dict.fromkeys(exposed))


def _recorded_bindings(asked: list[ports.Asked]) -> dict[str, list[tuple[str, int | None]]]:
    """What the engine records (on 127.0.0.1 only; internal networks bind nothing): the
    learner's own mapping is the ports label, the forwarder publishes it."""
    bindings: dict[str, list[tuple[str, int | None]]] = {}
    for item in asked:
        bindings.setdefault(item.key, []).append(("127.0.0.1", item.host_port))
    return bindings


def _healthcheck(cmd: DockerCommand) -> dict[str, Any] | None:
    """``--health-*`` as the engine's healthcheck (``--no-healthcheck``: NONE)."""
    if cmd.has("no-healthcheck"):
        return {"Test": ["NONE"]}
    names = ("health-cmd", "health-interval", "health-timeout", "health-start-period",
             "health-retries")  # fmt: skip
    if not any(cmd.has(n) for n in names):
        return None
    check: dict[str, Any] = {}
    if cmd.text("health-cmd") is not None:
        check["Test"] = ["CMD-SHELL", cmd.text("health-cmd")]
    for flag, key in (
        ("health-interval", "Interval"), ("health-timeout", "Timeout"),
        ("health-start-period", "StartPeriod"),
    ):  # fmt: skip
        value = cmd.text(flag)
        if value is not None:
            check[key] = int(parse_duration(value) * 1_000_000_000)
    retries = cmd.int_flag("health-retries")
    if retries is not None:
        check["Retries"] = retries
    return check


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
    address: str | None = None  # --ip
    anonymous: list[str] = field(default_factory=list)  # real names, made with the container
    image_bytes: int = 0  # the image's size (a btrfs worker's size limit counts it)


def _create_blocking(
    api: APIClient,
    creation: _Creation,
    limits: ContainerLimits,
    support: DiskSupport | None,
    kept: frozenset[frozenset[str]] = frozenset(),
) -> tuple[str, frozenset[str] | None]:
    """Create (its writable layer capped where the engine can) and check the limits: in the
    request first (nothing is made when one is missing), then in what the engine recorded,
    unless ``kept`` holds the request's shape (this engine was seen keeping every limit of
    a creation sending the same limit fields, :func:`checked_shape`) and the engine said
    nothing about it (no warning: the engine warns of each limit it drops). A container
    the engine did not keep fully hardened is removed again. The id, and the shape when
    the engine's record was checked."""
    host = dict(creation.host)
    storage = storage_bytes(limits, support, creation.image_bytes)
    if storage:
        host["storage_opt"] = {"size": str(storage)}
    host_config = api.create_host_config(network_mode=creation.network, **host)
    missing = missing_limits({"HostConfig": host_config}, limits, storage)
    if missing:
        raise LimitsMissing(missing)
    spec = dict(creation.spec)
    spec["labels"] = {**(spec.get("labels") or {}), **naming.writable_cap_label(storage)}
    networking = None
    if creation.network != "none":
        endpoint = api.create_endpoint_config(
            aliases=creation.aliases, ipv4_address=creation.address
        )
        networking = api.create_networking_config({creation.network: endpoint})  # type: ignore[arg-type]
    try:
        created = api.create_container(
            **spec, host_config=host_config, networking_config=networking
        )
    except Exception:
        _remove_volumes(api, creation.anonymous)  # if the engine made them before it failed
        raise
    cid = str(created["Id"])
    shape = checked_shape(host_config)
    if shape in kept and not created.get("Warnings"):
        return cid, None
    missing = missing_limits(api.inspect_container(cid), limits, storage)
    if missing:
        api.remove_container(cid, force=True, v=True)
        _remove_volumes(api, creation.anonymous)
        raise LimitsMissing(missing)
    return cid, shape


async def _create(ctx: Ctx, creation: _Creation) -> str:
    """:func:`_create_blocking` on the worker; the engine's record is read back until one
    creation of the same shape (a sandbox's host shell's included) was seen fully hardened
    since the coach last found the engine reachable."""
    limits, worker = ctx.settings.limits, ctx.worker
    support = await ctx.disk.support(worker)
    epoch, kept = worker.epoch, worker.kept_limits()
    cid, checked = await ctx.run(
        lambda api: _create_blocking(api, creation, limits, support, kept), heavy=Slot.CREATE
    )
    if checked is not None:
        worker.limits_kept(checked, epoch)
    return cid


def _remove_volumes(api: APIClient, names: list[str]) -> None:
    """Blocking: remove the anonymous volumes of a container that was not made (or was
    removed at once); one that is not there is no matter."""
    for name in names:
        with contextlib.suppress(SandboxError):
            engine_call(api.remove_volume, name)


async def run(ctx: Ctx, cmd: DockerCommand, create_only: bool = False) -> Output:
    if not cmd.image:
        raise UserError("sandbox.missing_image")
    resolved = await image_ops.resolve(ctx, cmd.image, pulls=True)
    listed = await check_container_quota(ctx)
    running = sum(1 for c in listed if c.get("State") in RUNNING_STATES)
    if not create_only and running >= ctx.settings.quotas.running_containers:
        raise UserError("sandbox.quota.running", limit=ctx.settings.quotas.running_containers)
    taken = {objects.container_name(ctx.scope, c) for c in listed}
    wanted = cmd.text("name")
    name = user_name(wanted) if wanted else _random_name(taken)
    network = await _network_for(ctx, cmd)
    mounts = await _volume_mounts(ctx, cmd, name)
    # read once for the whole command: its VOLUMEs, -P's ports, its size (the pull check,
    # a btrfs worker's size limit)
    resolved, image, notes = await _image(ctx, cmd, resolved)
    await _image_volumes(ctx, cmd, image, mounts, name)
    if mounts.to_create and mounts.existing + len(mounts.to_create) > ctx.settings.quotas.volumes:
        raise UserError("sandbox.quota.volumes", limit=ctx.settings.quotas.volumes)
    cidfile = await _cidfile_free(ctx, cmd)
    if resolved.ref is not None:
        pulled = await image_ops.ensure_present(
            ctx, resolved.ref, pull=cmd.text("pull") != "never", size=_size(image)
        )
        notes += [] if cmd.has("quiet") else pulled
    for volume in mounts.to_create:
        if volume not in mounts.anonymous:  # those the engine creates with the container
            await create_volume(ctx, volume)
    asked, exposed = await _published(ctx, cmd, image)
    environment = await files.environment(ctx, cmd)
    labels = {
        **user_labels(cmd),
        **ctx.scope.labels(naming.KIND_CONTAINER, name),
        ports.PORTS_LABEL: ports.encode(asked),
    }
    creation = _Creation(
        spec={
            "image": resolved.engine,
            "command": list(cmd.container_command) or None,
            "name": ctx.scope.real(name),
            "environment": environment or None,
            "working_dir": cmd.text("workdir") or None,
            "entrypoint": _entrypoint(cmd),
            "labels": labels,
            "user": cmd.text("user") or None,
            "stop_timeout": cmd.int_flag("stop-timeout"),
            "stop_signal": cmd.text("stop-signal"),
            "ports": [tuple(k.split("/")) for k in exposed] or None,
            "hostname": cmd.text("hostname") or None,
            "domainname": cmd.text("domainname") or None,
            "mac_address": cmd.text("mac-address") or None,
            "healthcheck": _healthcheck(cmd),
            "detach": True,
            "tty": False,
            "stdin_open": False,
        },
        host={
            "port_bindings": _recorded_bindings(asked) or None,
            "mounts": mounts.mounts or None,
            "tmpfs": dict(tmpfs_options(v, ctx.settings.limits) for v in cmd.values("tmpfs"))
            or None,
            "read_only": cmd.has("read-only"),
            "auto_remove": cmd.has("rm"),
            "group_add": list(cmd.values("group-add")) or None,
            "cpuset_cpus": cmd.text("cpuset-cpus"),
            "cpuset_mems": cmd.text("cpuset-mems"),
            "cpu_shares": cmd.int_flag("cpu-shares"),
            "mem_reservation": cmd.text("memory-reservation"),
            "mem_swappiness": cmd.int_flag("memory-swappiness"),
            "oom_score_adj": cmd.int_flag("oom-score-adj"),
            **_hardening(ctx, cmd),
        },
        network=network,
        aliases=[name, *(user_name(a) for a in cmd.values("network-alias"))],
        address=cmd.text("ip"),
        anonymous=[ctx.scope.real(v) for v in mounts.to_create if v in mounts.anonymous],
        image_bytes=_size(image),
    )
    cid = await _create(ctx, creation)
    if cidfile is not None:
        await _write_cidfile(ctx, cidfile, cid)
    if create_only:
        return Output(text=cid, notes=notes)
    if cmd.has("detach"):
        notes += await start_publishing(ctx, cid, name, asked)
        return Output(text=cid, notes=notes)
    await ports.check_free(ctx, cid, name, asked)
    return await _foreground(
        ctx, cid, name, notes, _streams(cmd), asked, cmd.has("rm"), bool(mounts.anonymous)
    )


async def _image(
    ctx: Ctx, cmd: DockerCommand, resolved: image_ops.Resolved
) -> tuple[image_ops.Resolved, dict[str, Any], list[Note]]:
    """The image's inspect data (and what the reference resolved to: an own name kept from
    an earlier listing whose image is gone is resolved again); a shared image the worker
    does not have yet is pulled first (as docker does, unless ``--pull never``)."""
    try:
        resolved, image = await image_ops.inspect_resolved_image(
            ctx, cmd.image, resolved, pulls=True
        )
        return resolved, image, []
    except EngineNotFound as exc:
        if resolved.known:  # a kept own name was gone: now a shared image, maybe to pull
            resolved = await image_ops.resolve(ctx, cmd.image, pulls=True)
        if resolved.ref is None or cmd.text("pull") == "never":
            raise EngineNotFound(f"No such image: {resolved.shown}") from exc
    pulled = await image_ops.ensure_present(ctx, resolved.ref)
    engine = resolved.engine
    image = await ctx.run(lambda api: inspect_image(api, engine))
    return resolved, image, [] if cmd.has("quiet") else pulled


def _size(image: dict[str, Any]) -> int:
    return int(image.get("Size") or 0)


async def start_publishing(
    ctx: Ctx, cid: str, name: str, asked: list[ports.Asked] | None = None
) -> list[Note]:
    """Start a created or stopped container the way Docker does with published ports: a
    host port another running container holds refuses the start (the container stays as
    it was); otherwise it starts and the host shell's forwarder takes its ports
    (``asked``: what it asks for, when the caller just wrote its ports label)."""
    asked = await ports.check_free(ctx, cid, name, asked)
    await ctx.run(lambda api: api.start(cid), heavy=Slot.START)
    return await ports.publish_started(ctx, cid, name, asked)


async def create(ctx: Ctx, cmd: DockerCommand) -> Output:
    return await run(ctx, cmd, create_only=True)


async def _cidfile_free(ctx: Ctx, cmd: DockerCommand) -> str | None:
    """``--cidfile PATH`` in the host shell, which must not exist yet (Docker's rule)."""
    path = cmd.text("cidfile")
    if not path:
        return None
    real, host = files.host_path(path), ctx.scope.host_name
    if await ctx.run(lambda api: files.stat_path(api, host, real)) is not None:
        raise EngineConflict(
            f"Container ID file found, make sure the other container isn't running or delete {path}"
        )
    return real


async def _write_cidfile(ctx: Ctx, path: str, cid: str) -> None:
    directory, name = posixpath.split(path)
    host = ctx.scope.host_name
    await ctx.run(lambda api: files.put_file(api, host, directory or "/", name, cid.encode()))


# --------------------------------------------------------------------------------------------
# A run in the foreground
# --------------------------------------------------------------------------------------------


def _streams(cmd: DockerCommand) -> tuple[bool, bool]:
    """Which of stdout and stderr a foreground run shows (``-a``; both by default)."""
    attach = {value.lower() for value in cmd.values("attach")}
    if not attach - {"stdin"}:
        return True, True
    return "stdout" in attach, "stderr" in attach


def _attach_start_read(
    api: APIClient,
    cid: str,
    cap: int,
    seconds: float,
    streams: tuple[bool, bool],
    removed: bool = False,
) -> tuple[Captured, int | None]:
    """Attach first (so that no output of a short-lived container is missed), start, read;
    with ``removed`` (``--rm``) wait until the engine has removed it, as the docker CLI does,
    so that the next command (``rmi`` of its image) does not find it still there."""
    stdout, stderr = streams
    params = {"stdout": int(stdout), "stderr": int(stderr), "stream": 1, "logs": 1}
    sock = api.attach_socket(cid, params=params)
    api.start(cid)
    captured = read_multiplexed(sock, cap, seconds)
    code: int | None = None
    if captured.ended:
        try:
            condition: Literal["removed", "not-running"] = "removed" if removed else "not-running"
            result = engine_call(api.wait, cid, timeout=EXIT_CODE_WAIT_SECONDS, condition=condition)
            code = result.get("StatusCode")
        except (EngineNotFound, WorkerDown):
            # removed by --rm already, or not exited within the wait: the output is what
            # matters and it is complete; the exit code is only shown when known
            code = None
    return captured, code


async def _foreground(
    ctx: Ctx,
    cid: str,
    name: str,
    notes: list[Note],
    streams: tuple[bool, bool],
    asked: list[ports.Asked],
    auto_remove: bool = False,
    anonymous_volumes: bool = False,
) -> Output:
    """Run the started container in the foreground for a while; ``auto_remove`` (``--rm``):
    answered once the engine removed it, and its anonymous volumes removed with it (asked
    about only when it has some, ``anonymous_volumes``: most runs cost no call for it)."""
    seconds = ctx.settings.foreground_run_seconds
    cap = ctx.settings.output_bytes
    captured, code = await ctx.worker.stream(
        lambda api: _attach_start_read(api, cid, cap, seconds, streams, auto_remove),
        timeout=seconds + EXIT_CODE_WAIT_SECONDS + 30,
    )
    out = captured_output(ctx, captured, "docker-run.txt", notes)
    if not captured.ended:  # it goes on in the background: its ports are published now
        out.notes.extend(await ports.publish_started(ctx, cid, name, asked))
        out.notes.append(note("sandbox.run_detached", name=name, seconds=round(seconds)))
        return out
    if auto_remove and anonymous_volumes:  # removed as it ended: its anonymous volumes too
        await ctx.disk.auto_removed(ctx.sandbox, [cid])
    if code:
        out.notes.append(note("sandbox.exit_code", code=code))
    return out
