"""Container subcommands: run/create, lifecycle, ps, logs, exec, inspect, rename, top, port,
stats, prune."""

from __future__ import annotations

import asyncio
import random
import shlex
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

from docker.api import APIClient
from docker.errors import APIError, ImageNotFound, NotFound
from docker.types import Mount

from bot.core.errors import UserError
from bot.sandbox import cli, naming, objects, render
from bot.sandbox.limits import host_config_kwargs, missing_limits
from bot.sandbox.ops import images as image_ops
from bot.sandbox.ops.base import Ctx, Output
from bot.sandbox.state import PortView
from bot.sandbox.streams import Captured, read_chunks, read_multiplexed

_ADJECTIVES = ("brave", "calm", "eager", "gentle", "happy", "keen", "lucid", "quiet", "witty")
_NOUNS = ("turing", "hopper", "lovelace", "knuth", "ritchie", "thompson", "liskov", "dijkstra")
TMPFS_BYTES = 16 * 1024 * 1024
RUNNING_STATES = frozenset({"running", "paused", "restarting"})
STOP_SECONDS = 10


def _user_name(name: str) -> str:
    if not naming.valid_user_name(name):
        raise UserError("sandbox.bad_name", name=name[:80])
    return name


def _user_labels(cmd: Any) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in cmd.values("label"):
        key, _, value = item.partition("=")
        if not key.startswith(naming.LABEL_PREFIX):
            labels[key] = value
    return labels


def _random_name(taken: set[str]) -> str:
    for _ in range(50):
        name = f"{random.choice(_ADJECTIVES)}_{random.choice(_NOUNS)}"
        if name not in taken:
            return name
    return f"c{random.randrange(16**8):08x}"


# quotas ---------------------------------------------------------------------------------
async def check_container_quota(ctx: Ctx) -> list[dict[str, Any]]:
    listed = await objects.containers(ctx.worker, ctx.scope)
    if len(listed) >= ctx.settings.quotas.containers:
        raise UserError("sandbox.quota.containers", limit=ctx.settings.quotas.containers)
    return listed


# run / create ---------------------------------------------------------------------------
async def _volume_mounts(ctx: Ctx, cmd: Any) -> tuple[list[Mount], list[str], int]:
    """Mounts for ``-v``/``--mount`` (named volumes and tmpfs), volumes to create, count."""
    mounts: list[Mount] = []
    to_create: list[str] = []
    if not cmd.values("volume") and not cmd.values("mount"):
        return mounts, to_create, 0
    listed = await objects.volumes(ctx.worker, ctx.scope)
    existing = {ctx.scope.user_name(v["Name"]) for v in listed}

    def use_volume(source: str, target: str, read_only: bool) -> None:
        if not source:
            mounts.append(Mount(target, None, type="volume", read_only=read_only))
            return
        _user_name(source)
        if source not in existing and source not in to_create:
            to_create.append(source)
        mounts.append(Mount(target, ctx.scope.real(source), type="volume", read_only=read_only))

    for value in cmd.values("volume"):
        spec = cli.parse_volume(value)
        if spec.is_path:
            raise UserError("sandbox.bind_refused", value=value[:80])
        use_volume(spec.source, spec.target, spec.read_only)
    for value in cmd.values("mount"):
        mount = cli.parse_mount(value)
        if mount.type == "tmpfs":
            mounts.append(
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
    return mounts, to_create, len(existing)


async def _port_bindings(ctx: Ctx, cmd: Any, image: str) -> dict[str, tuple[str, int | None]]:
    """``-p``/``-P`` as bindings on the worker's loopback only."""
    ports: dict[str, tuple[str, int | None]] = {}
    if cmd.has("publish-all"):
        exposed = ((await ctx.call("inspect_image", image)).get("Config") or {}).get(
            "ExposedPorts"
        ) or {}
        for key in exposed:
            ports[key] = ("127.0.0.1", None)
    for value in cmd.values("publish"):
        for spec in cli.parse_publish(value):
            ports[f"{spec.container_port}/{spec.protocol}"] = ("127.0.0.1", spec.host_port)
    return ports


def _asked(key: str, host_port: int | None) -> PortView:
    number, _, protocol = key.partition("/")
    return PortView(int(number), protocol or "tcp", host_port=host_port, published=False)


def _lowered(value: int, wanted: Any, parse: Any) -> int:
    """A user's own limit (``-m``, ``--cpus``) may only lower the configured one."""
    if wanted in (None, False, ""):
        return value
    return max(1, min(value, int(parse(str(wanted)))))


async def _network_for(ctx: Ctx, cmd: Any) -> str:
    wanted = cmd.flag("network", None) or cmd.flag("net", None)
    if not wanted or wanted in ("bridge", "default"):
        return ctx.scope.bridge_name
    if wanted == "none":
        return "none"
    found = await objects.network(ctx.worker, ctx.scope, str(wanted), with_bridge=True)
    return found.real_name


def _create_blocking(api: APIClient, spec: dict[str, Any], limits: Any) -> str:
    """Create, check the limits, remove again when anything is missing; return the id."""
    created = api.create_container(**spec)
    cid = created["Id"]
    missing = missing_limits(api.inspect_container(cid), limits)
    if missing:
        api.remove_container(cid, force=True, v=True)
        raise RuntimeError(f"container lacks limits: {', '.join(missing)}")
    return cid


async def run(ctx: Ctx, cmd: Any, create_only: bool = False) -> Output:
    image = str(cmd.image or "")
    if not image:
        raise UserError("sandbox.missing_image")
    ref = image_ops.check(ctx, image)
    listed = await check_container_quota(ctx)
    detach = bool(cmd.flag("detach", False))
    running = sum(1 for c in listed if c.get("State") in RUNNING_STATES)
    if not create_only and running >= ctx.settings.quotas.running_containers:
        raise UserError("sandbox.quota.running", limit=ctx.settings.quotas.running_containers)
    taken = {objects.container_name(ctx.scope, c) for c in listed}
    name = cmd.flag("name", None)
    name = _user_name(str(name)) if name else _random_name(taken)
    network = await _network_for(ctx, cmd)
    mounts, new_volumes, volume_count = await _volume_mounts(ctx, cmd)
    if new_volumes and volume_count + len(new_volumes) > ctx.settings.quotas.volumes:
        raise UserError("sandbox.quota.volumes", limit=ctx.settings.quotas.volumes)
    notes: list[str] = []
    notes += await image_ops.ensure_present(ctx, ref, pull=cmd.flag("pull") != "never")
    for volume in new_volumes:
        await ctx.call(
            "create_volume",
            ctx.scope.real(volume),
            driver="local",
            labels=ctx.scope.labels(naming.KIND_VOLUME, volume),
        )
    engine_image = image_ops.engine_name(ref)
    ports = await _port_bindings(ctx, cmd, engine_image)
    hardening = host_config_kwargs(ctx.settings.limits)
    hardening["cap_drop"] = sorted({*hardening["cap_drop"], *cmd.values("cap-drop")})
    hardening["mem_limit"] = hardening["memswap_limit"] = _lowered(
        ctx.settings.limits.memory_bytes, cmd.flag("memory"), cli.parse_bytes
    )
    hardening["nano_cpus"] = _lowered(
        ctx.settings.limits.nano_cpus, cmd.flag("cpus"), cli.parse_nano_cpus
    )
    tmpfs = dict(_tmpfs(value) for value in cmd.values("tmpfs"))
    host_config = ctx.worker.api.create_host_config(
        network_mode=network,
        port_bindings=ports or None,
        mounts=mounts or None,
        tmpfs=tmpfs or None,
        read_only=cmd.has("read-only"),
        auto_remove=cmd.has("rm"),
        **hardening,
    )
    networking = None
    if network != "none":
        aliases = [name, *(_user_name(a) for a in cmd.values("network-alias"))]
        networking = ctx.worker.api.create_networking_config(
            {network: ctx.worker.api.create_endpoint_config(aliases=aliases)}
        )
    entrypoint = cmd.flag("entrypoint", None)
    command = list(cmd.container_command or ()) or None
    spec = {
        "image": engine_image,
        "command": command,
        "name": ctx.scope.real(name),
        "environment": list(cmd.values("env")) or None,
        "working_dir": cmd.flag("workdir", None) or None,
        "entrypoint": shlex.split(entrypoint)
        if isinstance(entrypoint, str) and entrypoint
        else ([""] if entrypoint == "" else None),
        "labels": {**_user_labels(cmd), **ctx.scope.labels(naming.KIND_CONTAINER, name)},
        "user": cmd.flag("user", None) or None,
        "stop_timeout": cmd.int_flag("stop-timeout"),
        "ports": [tuple(k.split("/")) for k in ports] or None,
        "host_config": host_config,
        "networking_config": networking,
        "hostname": cmd.flag("hostname", None) or None,
        "detach": True,
        "tty": False,
        "stdin_open": False,
    }
    try:
        cid = await ctx.run(_create_blocking, spec, ctx.settings.limits)
    except ImageNotFound as exc:
        raise ctx.engine_error(exc) from exc
    notes += unpublished_note(
        ctx, [(name, _asked(key, port)) for key, (_ip, port) in ports.items()]
    )
    if create_only:
        return Output(text=cid, notes=notes)
    if detach:
        await ctx.call("start", cid)
        return Output(text=cid, notes=notes)
    return await _foreground(ctx, cid, name, notes)


def _tmpfs(value: str) -> tuple[str, str]:
    """``--tmpfs /run:noexec,size=1g`` → ``("/run", "noexec,size=<ours>")``: the size is ours."""
    path, _, options = value.partition(":")
    kept = [o for o in options.split(",") if o and not o.startswith("size=")]
    return path, ",".join([*kept, f"size={TMPFS_BYTES}"])


def unpublished_note(ctx: Ctx, asked: list[tuple[str, PortView]]) -> list[str]:
    """The truth about ``-p`` in the sandbox, for ``(container, port)`` pairs: nothing is
    published, and how to reach the container instead."""
    if not asked:
        return []
    shown = ", ".join(f"{name} {port.asked}" for name, port in asked)
    name, first = asked[0]
    return [
        ctx.tr("sandbox.ports_not_published", ports=shown, name=name, port=first.container_port)
    ]


def _asked_ports(views: list[Any]) -> list[tuple[str, PortView]]:
    """The mappings asked for with ``-p`` that the engine did not publish."""
    return [(v.name, p) for v in views for p in v.ports if not p.published and p.host_port]


def _attach_start_read(api: APIClient, cid: str, cap: int, seconds: float) -> tuple[Captured, Any]:
    sock = api.attach_socket(cid, params={"stdout": 1, "stderr": 1, "stream": 1, "logs": 1})
    api.start(cid)
    captured = read_multiplexed(sock, cap, seconds)
    code = None
    if captured.ended:
        try:
            code = api.wait(cid, timeout=5).get("StatusCode")
        except Exception:  # removed by --rm already, or slow: the exit code is optional
            code = None
    return captured, code


async def _foreground(ctx: Ctx, cid: str, name: str, notes: list[str]) -> Output:
    seconds = ctx.settings.foreground_run_seconds
    captured, code = await ctx.worker.stream(
        _attach_start_read, cid, ctx.settings.output_bytes, seconds, timeout=seconds + 30
    )
    out = _captured_output(ctx, captured, "docker-run.txt", notes)
    if not captured.ended:
        out.notes.append(ctx.tr("sandbox.run_detached", name=name, seconds=round(seconds)))
    elif code:
        out.notes.append(ctx.tr("sandbox.exit_code", code=code))
    return out


def _captured_output(ctx: Ctx, captured: Captured, name: str, notes: list[str]) -> Output:
    out = Output(text=captured.text, name=name, notes=list(notes))
    if captured.cut:
        out.total_bytes = captured.total
        out.notes.append(ctx.tr("sandbox.stream_cut", cap=ctx.settings.output_bytes))
    return out


# lifecycle ------------------------------------------------------------------------------
Action = Callable[[objects.Found], Awaitable[None]]


async def for_each(
    ctx: Ctx, cmd: Any, action: Action, find: Callable[[str], objects.Found] | None = None
) -> Output:
    """``action`` on every object the arguments name, like the docker CLI: the names that
    worked, then the errors; when all of them failed, that is the error. ``find`` resolves a
    name (default: among the user's containers, listed once for the whole command)."""
    if not cmd.args:
        raise UserError("sandbox.missing_container")
    if find is None:
        find = partial(
            objects.find_container, ctx.scope, await objects.containers(ctx.worker, ctx.scope)
        )
    lines: list[str] = []
    errors: list[str] = []
    first_failure: APIError | None = None
    for ref in cmd.args:
        try:
            await action(find(ref))
            lines.append(ref)
        except APIError as exc:
            first_failure = first_failure or exc
            errors.append(ctx.engine_text(exc))
        except UserError as exc:
            if len(cmd.args) == 1:
                raise
            errors.append(ctx.tr(exc.key, **exc.params))
    if errors and not lines:
        hint = ctx.hint(first_failure) if first_failure is not None else ""
        raise UserError("sandbox.engine_error", message="\n".join(errors)[:1500], hint=hint)
    text = "\n".join(lines + [f"Error response from daemon: {e}" for e in errors])
    return Output(text=text, error=bool(errors))


async def for_each_started(ctx: Ctx, cmd: Any, start_one: Action) -> Output:
    """``start``/``restart``: :func:`for_each` within the running-containers quota, counted from
    one listing (a container already running does not count twice)."""
    listed = await objects.containers(ctx.worker, ctx.scope)
    running = {c["Id"] for c in listed if c.get("State") in RUNNING_STATES}
    limit = ctx.settings.quotas.running_containers

    async def action(found: objects.Found) -> None:
        if found.id not in running and len(running) >= limit:
            raise UserError("sandbox.quota.running", limit=limit)
        await start_one(found)
        running.add(found.id)

    return await for_each(ctx, cmd, action, partial(objects.find_container, ctx.scope, listed))


def _stop_seconds(cmd: Any) -> int:
    value = cmd.flag("time", None) or cmd.flag("timeout", None)
    try:
        return max(0, min(int(value), STOP_SECONDS)) if value is not None else STOP_SECONDS
    except (TypeError, ValueError):
        raise UserError("sandbox.bad_number", value=str(value)[:20]) from None


def engine_call(ctx: Ctx, verb: str, **kw: Any) -> Action:
    """An action calling ``APIClient.<verb>(id, **kw)`` on each object."""

    async def action(found: objects.Found) -> None:
        await ctx.call(verb, found.id, **kw)

    return action


def _graceful(ctx: Ctx, verb: str, seconds: int) -> Action:
    """``stop``/``restart`` after a grace period, which the engine call waits out."""

    async def action(found: objects.Found) -> None:
        await ctx.worker.run(
            lambda api: getattr(api, verb)(found.id, timeout=seconds),
            timeout=ctx.settings.api_timeout_seconds + seconds,
        )

    return action


async def start(ctx: Ctx, cmd: Any) -> Output:
    return await for_each_started(ctx, cmd, engine_call(ctx, "start"))


async def stop(ctx: Ctx, cmd: Any) -> Output:
    return await for_each(ctx, cmd, _graceful(ctx, "stop", _stop_seconds(cmd)))


async def restart(ctx: Ctx, cmd: Any) -> Output:
    return await for_each_started(ctx, cmd, _graceful(ctx, "restart", _stop_seconds(cmd)))


async def kill(ctx: Ctx, cmd: Any) -> Output:
    return await for_each(
        ctx, cmd, engine_call(ctx, "kill", signal=cmd.flag("signal", None) or "KILL")
    )


async def pause(ctx: Ctx, cmd: Any) -> Output:
    return await for_each(ctx, cmd, engine_call(ctx, "pause"))


async def unpause(ctx: Ctx, cmd: Any) -> Output:
    return await for_each(ctx, cmd, engine_call(ctx, "unpause"))


async def rm(ctx: Ctx, cmd: Any) -> Output:
    force = bool(cmd.flag("force", False))
    return await for_each(ctx, cmd, engine_call(ctx, "remove_container", force=force, v=True))


# listing and reading --------------------------------------------------------------------
def _filter_views(views: list[Any], filters: dict[str, tuple[str, ...]]) -> list[Any]:
    """``--filter`` for ps: several values of one key are OR-ed, keys are AND-ed."""
    checks = {
        "name": lambda v, value: value in v.name,
        "status": lambda v, value: v.status == value,
        "id": lambda v, value: v.id.startswith(value),
        "ancestor": lambda v, value: v.image.split(":")[0] == value.split(":")[0],
        "label": lambda v, value: _has_label(v, value),
    }
    for key, values in filters.items():
        check = checks.get(key)
        if check is not None:
            views = [v for v in views if any(check(v, value) for value in values)]
    return views


def _has_label(view: Any, wanted: str) -> bool:
    key, has_value, value = wanted.partition("=")
    labels = getattr(view, "labels", {}) or {}
    return key in labels and (not has_value or labels[key] == value)


async def ps(ctx: Ctx, cmd: Any) -> Output:
    listed = await objects.containers(ctx.worker, ctx.scope, all=True)
    attrs = await objects.inspected(ctx.worker, listed)
    labels = {a["Id"]: (a.get("Config") or {}).get("Labels") or {} for a in attrs}
    views = sorted(
        (objects.view_from_inspect(ctx.scope, a) for a in attrs),
        key=lambda v: v.created_at or ctx.now,
        reverse=True,
    )
    filters = cli.parse_filters(cmd)
    last = cmd.int_flag("last")
    if cmd.has("latest"):
        last = 1
    if not cmd.has("all") and "status" not in filters and last is None:
        views = [v for v in views if v.status in ("running", "paused", "restarting")]
    views = [v for v in _filter_views([_Labeled(v, labels.get(v.id, {})) for v in views], filters)]
    views = [v.view for v in views]
    if last is not None:
        views = views[: max(0, last)]
    text = render.ps_table(
        views,
        ctx.now,
        quiet=cmd.has("quiet"),
        no_trunc=cmd.has("no-trunc"),
        template=cmd.flag("format") if isinstance(cmd.flag("format"), str) else None,
    )
    notes = [] if cmd.has("quiet") else unpublished_note(ctx, _asked_ports(views))
    return Output(text=text, name="docker-ps.txt", notes=notes)


class _Labeled:
    """A view plus its labels, for ``--filter label=…``."""

    def __init__(self, view: Any, labels: dict[str, str]) -> None:
        self.view = view
        self.labels = naming.strip_our_labels(labels)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.view, name)


def _read_logs(api: APIClient, cid: str, tail: Any, cap: int, seconds: float) -> Captured:
    stream = api.logs(cid, stream=True, follow=False, tail=tail)
    return read_chunks(stream, cap, seconds)


async def logs(ctx: Ctx, cmd: Any) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_container")
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    tail = cmd.flag("tail", None)
    if tail in (None, "all"):
        tail = "all"
    else:
        try:
            tail = max(0, int(tail))
        except (TypeError, ValueError):
            raise UserError("sandbox.bad_number", value=str(tail)[:20]) from None
    seconds = ctx.settings.exec_timeout_seconds
    captured = await ctx.worker.stream(
        _read_logs, found.id, tail, ctx.settings.output_bytes, seconds, timeout=seconds + 30
    )
    return _captured_output(ctx, captured, "docker-logs.txt", [])


def exec_wrapper(command: list[str], seconds: float) -> list[str]:
    """Run ``command`` under ``timeout -s KILL`` so that it ends for sure (every allowlisted
    image has ``timeout``; :func:`run_exec` runs the bare command when one does not)."""
    return ["timeout", "-s", "KILL", str(int(seconds) + 1), *command]


def _no_timeout_program(captured: Captured, code: int | None) -> bool:
    return code in (126, 127) and b'exec: "timeout"' in captured.data[:1000]


def _exec_read(
    api: APIClient, exec_id: str, cap: int, seconds: float
) -> tuple[Captured, int | None]:
    sock = api.exec_start(exec_id, socket=True)
    captured = read_multiplexed(sock, cap, seconds)
    code = None
    if captured.ended:
        code = api.exec_inspect(exec_id).get("ExitCode")
    return captured, code


async def run_exec(
    ctx: Ctx,
    cid: str,
    command: list[str],
    workdir: str | None = None,
    env: list[str] | None = None,
    user: str = "",
    wrap: bool = True,
) -> tuple[Captured, int | None]:
    seconds = ctx.settings.exec_timeout_seconds
    created = await ctx.call(
        "exec_create",
        cid,
        exec_wrapper(command, seconds) if wrap else command,
        environment=env or None,
        workdir=workdir or None,
        user=user or "",
        privileged=False,
    )
    captured, code = await ctx.worker.stream(
        _exec_read, created["Id"], ctx.settings.output_bytes, seconds, timeout=seconds + 30
    )
    if wrap and _no_timeout_program(captured, code):
        return await run_exec(ctx, cid, command, workdir, env, user, wrap=False)
    return captured, code


async def exec_(ctx: Ctx, cmd: Any) -> Output:
    args = list(cmd.args)
    if not args:
        raise UserError("sandbox.missing_container")
    command = list(cmd.container_command or args[1:])
    if not command:
        raise UserError("sandbox.missing_command")
    found = await objects.container(ctx.worker, ctx.scope, args[0])
    if found.raw.get("State") != "running":
        raise UserError(
            "sandbox.engine_error",
            message=f"container {found.name} is not running",
            hint=ctx.tr("sandbox.hint.not_running"),
        )
    env = list(cmd.values("env"))
    workdir = cmd.flag("workdir", None)
    user = cmd.flag("user", None) or ""
    if cmd.flag("detach", False):
        created = await ctx.call(
            "exec_create",
            found.id,
            exec_wrapper(command, 3600),
            environment=env or None,
            workdir=workdir or None,
            user=user,
        )
        await ctx.call("exec_start", created["Id"], detach=True)
        return Output(text="")
    captured, code = await run_exec(ctx, found.id, command, workdir, env, user)
    out = _captured_output(ctx, captured, "docker-exec.txt", [])
    if not captured.ended:
        out.notes.append(
            ctx.tr("sandbox.exec_stopped", seconds=round(ctx.settings.exec_timeout_seconds))
        )
    elif code:
        out.notes.append(ctx.tr("sandbox.exit_code", code=code))
    return out


def clean_json(scope: naming.Scope, value: Any) -> Any:
    """Inspect data in the user's names, without the coach's labels."""
    if isinstance(value, str):
        return scope.rewrite(value)
    if isinstance(value, list):
        return [clean_json(scope, item) for item in value]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "Labels" and isinstance(item, Mapping):
                out[key] = naming.strip_our_labels(item)
                continue
            out[scope.rewrite(str(key))] = clean_json(scope, item)
        return out
    return value


async def inspect(ctx: Ctx, cmd: Any) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_object")
    kind = cmd.flag("type", None)
    results: list[Any] = []
    for ref in cmd.args:
        results.append(await _inspect_one(ctx, ref, kind))
    return inspect_output(cmd, results)


def inspect_output(cmd: Any, results: list[Any]) -> Output:
    template = cmd.flag("format")
    if isinstance(template, str):
        text = "\n".join(render.format_inspect(template, item) for item in results)
        return Output(text=text, name="inspect.txt")
    return Output(text=render.inspect_json(results), name="inspect.json")


_INSPECTORS = {
    "container": (objects.container, "inspect_container"),
    "volume": (objects.volume, "inspect_volume"),
    "network": (objects.network, "inspect_network"),
}


async def inspect_object(ctx: Ctx, kind: str, ref: str) -> Any:
    """Inspect data of the user's container, volume or network ``ref``, in the user's names."""
    find, call = _INSPECTORS[kind]
    found = await find(ctx.worker, ctx.scope, ref)
    return clean_json(ctx.scope, await ctx.call(call, found.id))


async def inspect_each(ctx: Ctx, cmd: Any, kind: str) -> Output:
    """``docker volume inspect`` / ``docker network inspect``: every named object of a kind."""
    if not cmd.args:
        raise UserError("sandbox.missing_object")
    return inspect_output(cmd, [await inspect_object(ctx, kind, ref) for ref in cmd.args])


async def _inspect_one(ctx: Ctx, ref: str, kind: str | None) -> Any:
    """Docker's order without ``--type``: container, volume, network, then image."""
    from bot.core.errors import NotFound as UserNotFound

    for candidate in _INSPECTORS:
        if kind in (None, candidate):
            try:
                return await inspect_object(ctx, candidate, ref)
            except UserNotFound:
                if kind:
                    raise
    if kind in (None, "image"):
        try:
            ref_ok = image_ops.check(ctx, ref)
            return await image_ops.inspect(ctx, ref_ok)
        except UserError:
            if kind:
                raise
    raise UserNotFound("sandbox.no_such_object", ref=ref)


async def rename(ctx: Ctx, cmd: Any) -> Output:
    if len(cmd.args) != 2:
        raise UserError("sandbox.rename_usage")
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    new = _user_name(cmd.args[1])
    await ctx.call("rename", found.id, ctx.scope.real(new))
    await _realias(ctx, found, new)
    return Output(text="")


async def _realias(ctx: Ctx, found: objects.Found, new: str) -> None:
    """Make the new name resolve on the container's networks (aliases are fixed at connect)."""
    nets = (found.raw.get("NetworkSettings") or {}).get("Networks") or {}
    for net in nets:
        if net in ("none", "host"):
            continue
        try:
            await ctx.call("disconnect_container_from_network", found.id, net)
            await ctx.call("connect_container_to_network", found.id, net, aliases=[new])
        except (APIError, NotFound):
            continue


async def top(ctx: Ctx, cmd: Any) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_container")
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    result = await ctx.call("top", found.id)
    titles = result.get("Titles") or []
    rows = [[str(c) for c in row] for row in result.get("Processes") or []]
    return Output(text=render.top_table(titles, rows), name="docker-top.txt")


async def port(ctx: Ctx, cmd: Any) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_container")
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    view = objects.view_from_inspect(ctx.scope, await ctx.call("inspect_container", found.id))
    private = cmd.args[1] if len(cmd.args) > 1 else None
    notes = unpublished_note(ctx, _asked_ports([view]))
    try:
        text = render.port_text(view, private)
    except cli.CliError:
        if not notes:
            raise
        text = ""  # "no public port" — the note says why, and what to do instead
    return Output(text=text, name="docker-port.txt", notes=notes)


async def stats(ctx: Ctx, cmd: Any) -> Output:
    listed = await objects.containers(ctx.worker, ctx.scope, all=cmd.has("all") or bool(cmd.args))
    if cmd.args:  # in the order named, each once
        wanted = [objects.find_container(ctx.scope, listed, ref) for ref in cmd.args]
        listed = list({found.id: dict(found.raw) for found in wanted}.values())

    async def sample(summary: dict[str, Any]) -> render.StatsSample:
        name = objects.container_name(ctx.scope, summary)
        if summary.get("State") != "running":
            return render.StatsSample(id=summary["Id"], name=name)
        data = await ctx.call("stats", summary["Id"], stream=False, one_shot=True)
        return render.stats_sample(name, {**data, "id": summary["Id"]})

    samples = await asyncio.gather(*(sample(s) for s in listed))
    return Output(
        text=render.stats_table(samples, no_trunc=cmd.has("no-trunc")), name="docker-stats.txt"
    )


async def prune(ctx: Ctx, cmd: Any) -> Output:
    listed = await objects.containers(ctx.worker, ctx.scope, all=True)
    removed: list[str] = []
    for summary in listed:
        if summary.get("State") in ("exited", "created", "dead"):
            try:
                await ctx.call("remove_container", summary["Id"], v=True)
                removed.append(summary["Id"])
            except (APIError, NotFound):
                continue
    lines = (
        ["Deleted Containers:", *removed, "", "Total reclaimed space: 0B"]
        if removed
        else ["Total reclaimed space: 0B"]
    )
    return Output(text="\n".join(lines))
