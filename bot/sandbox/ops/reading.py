"""Reading containers: ps, logs, inspect, top, port, stats."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from docker.api import APIClient

from bot.core.errors import NotFound, UserError
from bot.dockercli import output
from bot.dockercli.errors import CliError
from bot.dockercli.model import DockerCommand
from bot.dockercli.parser import parse_filters
from bot.dockercli.views import ContainerView, StatsSample, stats_sample
from bot.sandbox import naming, objects
from bot.sandbox.ops import images as image_ops
from bot.sandbox.ops.base import Ctx, Output, captured_output, label_matches
from bot.sandbox.ops.run import asked_ports, unpublished_note
from bot.sandbox.streams import Captured, read_chunks
from bot.sandbox.workers import Worker

STREAM_SLACK_SECONDS = 30

# ``--filter`` for ps: several values of one key are OR-ed, keys are AND-ed.
_PS_FILTERS: dict[str, Callable[[ContainerView, str], bool]] = {
    "name": lambda view, value: value in view.name,
    "status": lambda view, value: view.status == value,
    "id": lambda view, value: view.id.startswith(value),
    "ancestor": lambda view, value: view.image.split(":")[0] == value.split(":")[0],
    "label": lambda view, value: label_matches(view.labels, value),
}


def _filtered(
    views: list[ContainerView], filters: Mapping[str, tuple[str, ...]]
) -> list[ContainerView]:
    for key, values in filters.items():
        test = _PS_FILTERS[key]
        views = [v for v in views if any(test(v, value) for value in values)]
    return views


async def ps(ctx: Ctx, cmd: DockerCommand) -> Output:
    listed = await objects.containers(ctx.worker, ctx.scope, all=True)
    attrs = await objects.inspected(ctx.worker, listed)
    views = sorted(
        (objects.view_from_inspect(ctx.scope, a) for a in attrs),
        key=lambda v: v.created_at or ctx.now,
        reverse=True,
    )
    filters = parse_filters(cmd)
    last = 1 if cmd.has("latest") else cmd.int_flag("last")
    if not cmd.has("all") and "status" not in filters and last is None:
        views = [v for v in views if v.status in ("running", "paused", "restarting")]
    views = _filtered(views, filters)
    if last is not None:
        views = views[: max(0, last)]
    text = output.ps_table(
        views,
        ctx.now,
        quiet=cmd.has("quiet"),
        no_trunc=cmd.has("no-trunc"),
        template=cmd.text("format"),
    )
    notes = [] if cmd.has("quiet") else unpublished_note(asked_ports(views))
    return Output(text=text, name="docker-ps.txt", notes=notes)


def _read_logs(
    api: APIClient, cid: str, tail: int | Literal["all"], cap: int, seconds: float
) -> Captured:
    stream = api.logs(cid, stream=True, follow=False, tail=tail)
    return read_chunks(stream, cap, seconds)


async def logs(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_container")
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    lines = cmd.int_flag("tail")
    tail: int | Literal["all"] = "all" if lines is None else max(0, lines)
    seconds, cap = ctx.settings.exec_timeout_seconds, ctx.settings.output_bytes
    captured = await ctx.worker.stream(
        lambda api: _read_logs(api, found.id, tail, cap, seconds),
        timeout=seconds + STREAM_SLACK_SECONDS,
    )
    return captured_output(ctx, captured, "docker-logs.txt", [])


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
    """Inspect data of the user's container, volume or network ``ref``, in the user's names."""
    find, call = _INSPECTORS[kind]
    found = await find(ctx.worker, ctx.scope, ref)
    return clean_json(ctx.scope, await ctx.run(lambda api: call(api, found.id)))


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
            return await image_ops.inspect(ctx, image_ops.check(ctx, ref))
        except UserError:
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
    view = objects.view_from_inspect(
        ctx.scope, await objects.inspect_container(ctx.worker, found.id)
    )
    private = cmd.args[1] if len(cmd.args) > 1 else None
    notes = unpublished_note(asked_ports([view]))
    try:
        text = output.port_text(view, private)
    except CliError:
        if not notes:
            raise
        text = ""  # "no public port" — the note says why, and what to do instead
    return Output(text=text, name="docker-port.txt", notes=notes)


async def stats(ctx: Ctx, cmd: DockerCommand) -> Output:
    listed = await objects.containers(ctx.worker, ctx.scope, all=cmd.has("all") or bool(cmd.args))
    if cmd.args:  # in the order named, each once
        wanted = [objects.find_container(ctx.scope, listed, ref) for ref in cmd.args]
        listed = list({found.id: dict(found.raw) for found in wanted}.values())

    async def sample(summary: objects.Listed) -> StatsSample:
        name, ident = objects.container_name(ctx.scope, summary), str(summary["Id"])
        if summary.get("State") != "running":
            return StatsSample(id=ident, name=name)
        data = await ctx.run(lambda api: api.stats(ident, stream=False, one_shot=True))
        return stats_sample(name, {**data, "id": ident})

    samples = await asyncio.gather(*(sample(s) for s in listed))
    return Output(
        text=output.stats_table(samples, no_trunc=cmd.has("no-trunc")), name="docker-stats.txt"
    )
