"""Reading containers: ps, logs, inspect, top, port, stats, wait, diff."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from docker.api import APIClient

from bot.core.errors import NotFound, UserError
from bot.dockercli import output
from bot.dockercli.model import DockerCommand
from bot.dockercli.parser import parse_filters
from bot.dockercli.values import parse_timestamp
from bot.dockercli.views import ContainerView, PortView, StatsSample, stats_sample
from bot.sandbox import naming, objects
from bot.sandbox.errors import EngineNotFound, TookTooLong, WorkerDown
from bot.sandbox.ops import images as image_ops
from bot.sandbox.ops import ports
from bot.sandbox.ops.base import Ctx, Output, captured_output, for_each, label_matches
from bot.sandbox.streams import Captured, read_chunks
from bot.sandbox.workers import Worker

STREAM_SLACK_SECONDS = 30
WAIT_SLACK_SECONDS = 5


def _regex(pattern: str, text: str) -> bool:
    """docker's name filter: a regular expression searched in the name."""
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return pattern in text


def _port_filter(value: str, ports_: tuple[PortView, ...], published: bool) -> bool:
    body, _, protocol = value.partition("/")
    low, _, high = body.partition("-")
    wanted = range(int(low), int(high or low) + 1)
    for port in ports_:  # the container's own port: published (publish), any (expose)
        if published and (not port.published or port.host_port is None):
            continue  # only exposed: docker's publish filter reads the port bindings
        if port.container_port in wanted and (not protocol or port.protocol == protocol):
            return True
    return False


def _ancestor(view: ContainerView, image_id: str, value: str) -> bool:
    name, _, tag = value.partition(":")
    image, _, image_tag = view.image.partition(":")
    if value.removeprefix("sha256:") and image_id.removeprefix("sha256:").startswith(
        value.removeprefix("sha256:")
    ):
        return True
    return image == name and (not tag or (image_tag or "latest") == tag)


class _PsContext:
    """What ps filters read besides the views: image ids and the learner's names."""

    def __init__(self, views: list[ContainerView], attrs: Sequence[Mapping[str, Any]]) -> None:
        self.image_ids = {str(a["Id"]): str(a.get("Image") or "") for a in attrs}
        self.network_ids = {
            name: str((net or {}).get("NetworkID") or "")
            for a in attrs
            for name, net in ((a.get("NetworkSettings") or {}).get("Networks") or {}).items()
        }
        self.views = views

    def created(self, ref: str) -> datetime | None:
        for view in self.views:
            if ref in (view.name, view.id) or (len(ref) >= 3 and view.id.startswith(ref)):
                return view.created_at
        raise EngineNotFound(f"No such container: {ref}")


def _ps_test(key: str, context: _PsContext) -> Callable[[ContainerView, str], bool]:
    tests: dict[str, Callable[[ContainerView, str], bool]] = {
        "name": lambda v, x: _regex(x.lstrip("/"), v.name),
        "status": lambda v, x: v.status == x,
        "id": lambda v, x: v.id.startswith(x),
        "ancestor": lambda v, x: _ancestor(v, context.image_ids.get(v.id, ""), x),
        "label": lambda v, x: label_matches(v.labels, x),
        "exited": lambda v, x: v.status == "exited" and str(v.exit_code or 0) == x,
        "volume": lambda v, x: any(x in (m.source, m.destination) for m in v.mounts),
        "network": lambda v, x: (
            x in v.networks or any(context.network_ids.get(n, "").startswith(x) for n in v.networks)
        ),
        "publish": lambda v, x: _port_filter(x, v.ports, published=True),
        "expose": lambda v, x: _port_filter(x, v.ports, published=False),
        "health": lambda v, x: (v.health or "none") == x,
        "isolation": lambda v, x: x in ("default", ""),
        "is-task": lambda v, x: x == "false",
    }
    if key in ("before", "since"):

        def edge(view: ContainerView, ref: str) -> bool:
            moment = context.created(ref)
            if moment is None or view.created_at is None:
                return False
            return view.created_at < moment if key == "before" else view.created_at > moment

        return edge
    return tests[key]


def _filtered(
    views: list[ContainerView],
    filters: Mapping[str, tuple[str, ...]],
    context: _PsContext,
) -> list[ContainerView]:
    """docker's rule: several values of one key are OR-ed, different keys AND-ed; labels are
    the exception, every label asked for must match."""
    for key, values in filters.items():
        test = _ps_test(key, context)
        match = all if key == "label" else any
        views = [v for v in views if match(test(v, value) for value in values)]
    return views


async def container_views(
    ctx: Ctx, all: bool = True, size: bool = False
) -> tuple[list[ContainerView], list[objects.Listed], ports.Plan]:
    """The learner's containers as views (newest first), with their published ports, their
    inspect data (in real names) and the port allocation."""
    listed = await objects.containers(ctx.worker, ctx.scope, all=all)
    sizes: dict[str, tuple[int, int]] = {}
    if size:
        filters = ctx.scope.filters(naming.KIND_CONTAINER)
        summaries = await ctx.run(lambda api: api.containers(all=all, size=True, filters=filters))
        sizes = {
            str(c["Id"]): (int(c.get("SizeRw") or 0), int(c.get("SizeRootFs") or 0))
            for c in summaries
        }
    attrs = await objects.inspected(ctx.worker, listed)
    planned = await ports.current(ctx, attrs)
    views = []
    for item in attrs:
        view = objects.view_from_inspect(ctx.scope, item)
        if view.status in ports.RUNNING:
            exposed = list((item.get("Config") or {}).get("ExposedPorts") or {})
            view = replace(view, ports=ports.port_views(planned, view.id, exposed))
        if view.id in sizes:
            view = replace(view, size_rw=sizes[view.id][0], size_root_fs=sizes[view.id][1])
        views.append(view)
    views.sort(key=lambda v: v.created_at or ctx.now, reverse=True)
    return views, attrs, planned


async def ps(ctx: Ctx, cmd: DockerCommand) -> Output:
    template = cmd.text("format")
    # docker asks the engine for sizes when -s is given or the template uses .Size
    sized = cmd.has("size") or (template is not None and ".Size" in template)
    views, attrs, _planned = await container_views(ctx, size=sized)
    filters = parse_filters(cmd)
    last = 1 if cmd.has("latest") else cmd.int_flag("last")
    if not _lists_stopped(cmd, filters, last):
        views = [v for v in views if v.status in ports.RUNNING]
    views = _filtered(views, filters, _PsContext(views, attrs))
    if last is not None:
        views = views[: max(0, last)]
    text = output.ps_table(
        views,
        ctx.now,
        quiet=cmd.has("quiet"),
        no_trunc=cmd.has("no-trunc"),
        size=cmd.has("size"),
        template=template,
    )
    return Output(text=text, name="docker-ps.txt")


def _lists_stopped(
    cmd: DockerCommand, filters: Mapping[str, tuple[str, ...]], last: int | None
) -> bool:
    """Whether ``ps`` lists stopped containers: the engine's rule (``-a``, a ``status``
    filter, ``-n``/``-l``, or a ``before``/``since`` filter)."""
    if cmd.has("all") or last is not None:
        return True
    return any(key in filters for key in ("status", "before", "since"))


def _read_logs(
    api: APIClient,
    cid: str,
    options: Mapping[str, Any],
    cap: int,
    seconds: float,
) -> Captured:
    stream = api.logs(cid, stream=True, follow=False, **options)
    return read_chunks(stream, cap, seconds)


async def logs(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_container")
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    lines = cmd.int_flag("tail")
    now = ctx.now.timestamp()
    options: dict[str, Any] = {
        "tail": "all" if lines is None else max(0, lines),
        "timestamps": cmd.has("timestamps"),
    }
    for flag in ("since", "until"):
        value = cmd.text(flag)
        if value is not None:
            options[flag] = parse_timestamp(value, now)
    seconds, cap = ctx.settings.exec_timeout_seconds, ctx.settings.output_bytes
    captured = await ctx.worker.stream(
        lambda api: _read_logs(api, found.id, options, cap, seconds),
        timeout=seconds + STREAM_SLACK_SECONDS,
    )
    return captured_output(ctx, captured, "docker-logs.txt", [])


async def wait(ctx: Ctx, cmd: DockerCommand) -> Output:
    """``docker wait``: each container's exit code once it stops (within the sandbox's time
    limit for one command)."""
    seconds = ctx.settings.exec_timeout_seconds
    codes: list[str] = []

    async def action(found: objects.Found) -> None:
        try:
            result = await ctx.run(
                lambda api: api.wait(found.id, timeout=int(seconds)),
                timeout=seconds + WAIT_SLACK_SECONDS,
            )
        except (TookTooLong, WorkerDown) as exc:
            raise UserError(
                "sandbox.wait_too_long", name=found.name, seconds=round(seconds)
            ) from exc
        codes.append(str(result.get("StatusCode", "")))

    out = await for_each(ctx, cmd, action)
    errors = [line for line in out.text.splitlines() if line.startswith("Error response")]
    return Output(text="\n".join(codes + errors), notes=out.notes, error=out.error)


_CHANGE_KINDS = {0: "C", 1: "A", 2: "D"}


async def diff(ctx: Ctx, cmd: DockerCommand) -> Output:
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    changes = await ctx.run(lambda api: api.diff(found.id)) or []
    lines = [
        f"{_CHANGE_KINDS.get(int(c.get('Kind', 0)), '?')} {c.get('Path', '')}" for c in changes
    ]
    return Output(text="\n".join(lines), name="docker-diff.txt")


# --------------------------------------------------------------------------------------------
# inspect
# --------------------------------------------------------------------------------------------


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


Finder = Callable[[Worker, naming.Scope, str], Awaitable[objects.Found]]
Inspector = Callable[[APIClient, str], Any]
_INSPECTORS: dict[str, tuple[Finder, Inspector]] = {
    "container": (objects.container, lambda api, ident: api.inspect_container(ident)),
    "volume": (objects.volume, lambda api, ident: api.inspect_volume(ident)),
    "network": (objects.network, lambda api, ident: api.inspect_network(ident)),
}


async def inspect_object(ctx: Ctx, kind: str, ref: str) -> Any:
    """Inspect data of the user's container, volume or network ``ref``, in the user's names
    (a container's ports as Docker shows published ones)."""
    find, call = _INSPECTORS[kind]
    found = await find(ctx.worker, ctx.scope, ref)
    attrs = await ctx.run(lambda api: call(api, found.id))
    if kind == "container":
        live, recorded = ports.inspect_ports(await ports.current(ctx), attrs)
        attrs["NetworkSettings"] = {**(attrs.get("NetworkSettings") or {}), "Ports": live}
        attrs["HostConfig"] = {**(attrs.get("HostConfig") or {}), "PortBindings": recorded}
    return clean_json(ctx.scope, attrs)


def inspect_output(cmd: DockerCommand, results: list[Any]) -> Output:
    template = cmd.text("format")
    text = output.inspect_text(template, results)
    return Output(text=text, name="inspect.txt" if template is not None else "inspect.json")


async def inspect_each(ctx: Ctx, cmd: DockerCommand, kind: str) -> Output:
    """``docker volume inspect`` / ``docker network inspect``: every named object of a kind."""
    if not cmd.args:
        raise UserError("sandbox.missing_object")
    return inspect_output(cmd, [await inspect_object(ctx, kind, ref) for ref in cmd.args])


async def _inspect_one(ctx: Ctx, ref: str, kind: str | None) -> Any:
    """Docker's order without ``--type``: container, volume, network, then image."""
    for candidate in _INSPECTORS:
        if kind in (None, candidate):
            try:
                return await inspect_object(ctx, candidate, ref)
            except NotFound:
                if kind:
                    raise
    if kind in (None, "image"):
        try:
            return await image_ops.inspect_resolved(ctx, ref)
        except (UserError, EngineNotFound):
            if kind:
                raise
    raise NotFound("sandbox.no_such_object", ref=ref)


async def inspect(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_object")
    kind = cmd.text("type")
    return inspect_output(cmd, [await _inspect_one(ctx, ref, kind) for ref in cmd.args])


# --------------------------------------------------------------------------------------------
# top, port, stats
# --------------------------------------------------------------------------------------------


async def top(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_container")
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    result = await ctx.run(lambda api: api.top(found.id))
    titles = [str(t) for t in result.get("Titles") or []]
    rows = [[str(c) for c in row] for row in result.get("Processes") or []]
    return Output(text=output.top_table(titles, rows), name="docker-top.txt")


async def port(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_container")
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    attrs = await objects.inspect_container(ctx.worker, found.id)
    view = objects.view_from_inspect(ctx.scope, attrs)
    planned = await ports.current(ctx)
    view = replace(view, ports=ports.port_views(planned, view.id, []))
    private = cmd.args[1] if len(cmd.args) > 1 else None
    return Output(text=output.port_text(view, private), name="docker-port.txt")


def _stats_blocking(api: APIClient, ident: str) -> dict[str, Any]:
    """One reading like ``docker stats --no-stream``: the engine takes two samples a second
    apart (``precpu_stats``), so the CPU % is real."""
    data: dict[str, Any] = api.stats(ident, stream=False, one_shot=False)
    return data


async def stats(ctx: Ctx, cmd: DockerCommand) -> Output:
    listed = await objects.containers(ctx.worker, ctx.scope, all=cmd.has("all") or bool(cmd.args))
    named: list[str] = []
    if cmd.args:  # in the order named, each once
        wanted = [objects.find_container(ctx.scope, listed, ref) for ref in cmd.args]
        unique = {found.id: (found, ref) for found, ref in zip(wanted, cmd.args, strict=True)}
        listed = [dict(found.raw) for found, _ref in unique.values()]
        named = [ref for _found, ref in unique.values()]

    async def sample(summary: objects.Listed) -> StatsSample:
        name, ident = objects.container_name(ctx.scope, summary), str(summary["Id"])
        if summary.get("State") != "running":
            return StatsSample(id=ident, name=name, running=False)
        seconds = ctx.settings.api_timeout_seconds + 5
        data = await ctx.run(lambda api: _stats_blocking(api, ident), timeout=seconds)
        return stats_sample(name, {**data, "id": ident})

    samples = await asyncio.gather(*(sample(s) for s in listed))
    text = output.stats_table(
        samples, no_trunc=cmd.has("no-trunc"), template=cmd.text("format"), named=named
    )
    return Output(text=text, name="docker-stats.txt")
