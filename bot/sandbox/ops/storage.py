"""Volume and network subcommands."""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Any

from docker.errors import APIError, NotFound

from bot.core.errors import UserError
from bot.sandbox import cli, naming, objects, render
from bot.sandbox.ops.base import Ctx, Output
from bot.sandbox.ops.containers import _user_name, engine_call, for_each, inspect_each


# volumes --------------------------------------------------------------------------------
async def volume_create(ctx: Ctx, cmd: Any) -> Output:
    existing = await objects.volumes(ctx.worker, ctx.scope)
    names = {ctx.scope.user_name(v["Name"]) for v in existing}
    name = _user_name(cmd.args[0]) if cmd.args else _free_name("vol", names)
    if name in names:
        return Output(text=name)  # docker answers with the name when it exists already
    if len(existing) >= ctx.settings.quotas.volumes:
        raise UserError("sandbox.quota.volumes", limit=ctx.settings.quotas.volumes)
    await ctx.call(
        "create_volume",
        ctx.scope.real(name),
        driver="local",
        labels=ctx.scope.labels(naming.KIND_VOLUME, name),
    )
    return Output(text=name)


def _free_name(stem: str, taken: set[str]) -> str:
    """``vol1``, ``vol2``…: the first not taken (an unnamed volume is a new one)."""
    number = 1
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"


async def volume_ls(ctx: Ctx, cmd: Any) -> Output:
    listed = await objects.volumes(ctx.worker, ctx.scope)
    filters = cli.parse_filters(cmd)
    used = await _in_use_volumes(ctx) if "dangling" in filters else set()
    names = []
    for volume in sorted(listed, key=lambda v: v["Name"]):
        name = ctx.scope.user_name(volume["Name"])
        labels = naming.strip_our_labels(volume.get("Labels"))
        if not all(any(value in name for value in vs) for k, vs in filters.items() if k == "name"):
            continue
        if not all(
            any(_label_match(labels, v) for v in vs) for k, vs in filters.items() if k == "label"
        ):
            continue
        dangling = volume["Name"] not in used
        if any((v == "true") != dangling for v in filters.get("dangling", ())):
            continue
        names.append(name)
    return Output(
        text=render.volumes_table(names, quiet=cmd.has("quiet")), name="docker-volume-ls.txt"
    )


def _label_match(labels: dict[str, str], wanted: str) -> bool:
    key, has_value, value = wanted.partition("=")
    return key in labels and (not has_value or labels[key] == value)


async def volume_inspect(ctx: Ctx, cmd: Any) -> Output:
    return await inspect_each(ctx, cmd, "volume")


async def volume_rm(ctx: Ctx, cmd: Any) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_object")
    remove = engine_call(ctx, "remove_volume", force=bool(cmd.flag("force", False)))
    listed = await objects.volumes(ctx.worker, ctx.scope)
    return await for_each(ctx, cmd, remove, partial(objects.find_volume, ctx.scope, listed))


async def _in_use_volumes(ctx: Ctx) -> set[str]:
    used: set[str] = set()
    for summary in await objects.containers(ctx.worker, ctx.scope, all=True):
        for mount in summary.get("Mounts") or []:
            if mount.get("Name"):
                used.add(mount["Name"])
    return used


async def volume_prune(ctx: Ctx, cmd: Any) -> Output:
    used = await _in_use_volumes(ctx)
    removed: list[str] = []
    for volume in await objects.volumes(ctx.worker, ctx.scope):
        if volume["Name"] in used:
            continue
        try:
            await ctx.call("remove_volume", volume["Name"])
            removed.append(ctx.scope.user_name(volume["Name"]))
        except (APIError, NotFound):
            continue
    lines = (["Deleted Volumes:", *removed, ""] if removed else []) + ["Total reclaimed space: 0B"]
    return Output(text="\n".join(lines))


# networks -------------------------------------------------------------------------------
async def network_create(ctx: Ctx, cmd: Any) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_object")
    name = _user_name(cmd.args[0])
    if name in naming.RESERVED_NETWORKS:
        raise UserError("sandbox.reserved_network", name=name)
    driver = cmd.flag("driver", None) or "bridge"
    if driver != "bridge":
        raise UserError("sandbox.network_driver", driver=str(driver)[:40])
    existing = await objects.networks(ctx.worker, ctx.scope)
    if any(ctx.scope.user_name(n["Name"]) == name for n in existing):
        raise UserError(
            "sandbox.engine_error",
            message=f"network with name {name} already exists",
            hint=ctx.tr("sandbox.hint.name_in_use"),
        )
    if len(existing) >= ctx.settings.quotas.networks:
        raise UserError("sandbox.quota.networks", limit=ctx.settings.quotas.networks)
    created = await ctx.call(
        "create_network",
        ctx.scope.real(name),
        driver="bridge",
        internal=True,
        check_duplicate=True,
        labels=ctx.scope.labels(naming.KIND_NETWORK, name),
    )
    # The host shell is the user's machine: it reaches every network of the sandbox.
    with contextlib.suppress(APIError):
        await ctx.call("connect_container_to_network", ctx.scope.host_name, created["Id"])
    notes = []
    if not cmd.flag("internal", False):
        notes.append(ctx.tr("sandbox.network_internal"))
    return Output(text=created["Id"], notes=notes)


async def network_ls(ctx: Ctx, cmd: Any) -> Output:
    listed = await objects.networks(ctx.worker, ctx.scope, with_bridge=True)
    views = sorted(
        (
            render.NetworkView(ctx.scope.user_name(n["Name"]), n["Id"], n.get("Driver", "bridge"))
            for n in listed
        ),
        key=lambda v: v.name,
    )
    labels = {n["Id"]: naming.strip_our_labels(n.get("Labels")) for n in listed}
    for key, values in cli.parse_filters(cmd).items():
        if key == "name":
            views = [v for v in views if any(x in v.name for x in values)]
        elif key == "id":
            views = [v for v in views if any(v.id.startswith(x) for x in values)]
        elif key == "driver":
            views = [v for v in views if v.driver in values]
        elif key == "label":
            views = [v for v in views if any(_label_match(labels[v.id], x) for x in values)]
    return Output(
        text=render.networks_table(views, quiet=cmd.has("quiet"), no_trunc=cmd.has("no-trunc")),
        name="docker-network-ls.txt",
    )


async def network_inspect(ctx: Ctx, cmd: Any) -> Output:
    return await inspect_each(ctx, cmd, "network")


async def network_rm(ctx: Ctx, cmd: Any) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_object")
    lines: list[str] = []
    for ref in cmd.args:
        if ref == "bridge":
            raise UserError("sandbox.reserved_network", name=ref)
        found = await objects.network(ctx.worker, ctx.scope, ref, with_bridge=False)
        with contextlib.suppress(APIError):
            await ctx.call("disconnect_container_from_network", ctx.scope.host_name, found.id)
        try:
            await ctx.call("remove_network", found.id)
        except APIError as exc:
            await _reconnect_host(ctx, found.id)
            raise ctx.engine_error(exc) from exc
        lines.append(ref)
    return Output(text="\n".join(lines))


async def _reconnect_host(ctx: Ctx, network_id: str) -> None:
    with contextlib.suppress(APIError):
        await ctx.call("connect_container_to_network", ctx.scope.host_name, network_id)


async def _network_and_container(ctx: Ctx, cmd: Any) -> tuple[objects.Found, objects.Found]:
    if len(cmd.args) < 2:
        raise UserError("sandbox.network_connect_usage")
    net = await objects.network(ctx.worker, ctx.scope, cmd.args[0], with_bridge=True)
    container = await objects.container(ctx.worker, ctx.scope, cmd.args[1])
    return net, container


async def network_connect(ctx: Ctx, cmd: Any) -> Output:
    net, container = await _network_and_container(ctx, cmd)
    aliases = [container.name]
    for alias in _aliases(cmd):
        aliases.append(_user_name(alias))
    await ctx.call("connect_container_to_network", container.id, net.id, aliases=aliases)
    return Output(text="")


def _aliases(cmd: Any) -> tuple[str, ...]:
    value = cmd.flag("alias", ())
    if isinstance(value, str):
        return (value,)
    return tuple(value or ())


async def network_disconnect(ctx: Ctx, cmd: Any) -> Output:
    net, container = await _network_and_container(ctx, cmd)
    await ctx.call(
        "disconnect_container_from_network",
        container.id,
        net.id,
        force=bool(cmd.flag("force", False)),
    )
    return Output(text="")


async def network_prune(ctx: Ctx, cmd: Any) -> Output:
    removed: list[str] = []
    for network in await objects.networks(ctx.worker, ctx.scope):
        user_containers = [
            c for c in (await ctx.call("inspect_network", network["Id"])).get("Containers") or {}
        ]
        if len(user_containers) > 1:
            continue
        with contextlib.suppress(APIError):
            await ctx.call("disconnect_container_from_network", ctx.scope.host_name, network["Id"])
        try:
            await ctx.call("remove_network", network["Id"])
            removed.append(ctx.scope.user_name(network["Name"]))
        except APIError:
            await _reconnect_host(ctx, network["Id"])
    lines = ["Deleted Networks:", *removed] if removed else []
    return Output(text="\n".join(lines))
