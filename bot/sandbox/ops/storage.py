"""Volume and network subcommands.

The host shell is the learner's machine: it joins every network the learner creates, so that
``wget http://web`` works from it whatever network ``web`` is on. Creating a network therefore
connects the host shell too (and undoes the network when that fails); removing one
disconnects it first (and reconnects it when the removal fails).
"""

from __future__ import annotations

import logging
import re
from functools import partial

from docker.types import IPAMConfig, IPAMPool

from bot.core.errors import UserError
from bot.dockercli import output
from bot.dockercli.model import DockerCommand
from bot.dockercli.parser import parse_filters
from bot.dockercli.views import NetworkView, VolumeView
from bot.sandbox import naming, objects
from bot.sandbox.errors import EngineConflict, EngineError, EngineNotFound
from bot.sandbox.ops import ports
from bot.sandbox.ops.base import (
    Ctx,
    Output,
    create_volume,
    engine_action,
    for_each,
    label_matches,
    note,
    prune_each,
    prune_selects,
    user_labels,
    user_name,
)
from bot.sandbox.ops.reading import inspect_each

log = logging.getLogger("bot.sandbox.storage")


# volumes --------------------------------------------------------------------------------
async def volume_create(ctx: Ctx, cmd: DockerCommand) -> Output:
    existing = await objects.volumes(ctx.worker, ctx.scope)
    names = {ctx.scope.user_name(v["Name"]) for v in existing}
    given = cmd.args[0] if cmd.args else cmd.text("name")  # --name: docker's older spelling
    name = user_name(given) if given else _free_name("vol", names)
    if name in names:
        return Output(text=name)  # docker answers with the name when it exists already
    if len(existing) >= ctx.settings.quotas.volumes:
        raise UserError("sandbox.quota.volumes", limit=ctx.settings.quotas.volumes)
    await create_volume(ctx, name, user_labels(cmd))
    return Output(text=name)


def _free_name(stem: str, taken: set[str]) -> str:
    """``vol1``, ``vol2``…: the first not taken (an unnamed volume is a new one)."""
    number = 1
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"


async def volume_ls(ctx: Ctx, cmd: DockerCommand) -> Output:
    listed = await objects.volumes(ctx.worker, ctx.scope)
    filters = parse_filters(cmd)
    used = await _volume_users(ctx)
    views = []
    for volume in sorted(listed, key=lambda v: str(v["Name"])):
        name = ctx.scope.user_name(volume["Name"])
        labels = naming.strip_our_labels(volume.get("Labels"))
        if "name" in filters and not any(value in name for value in filters["name"]):
            continue
        if "label" in filters and not all(label_matches(labels, v) for v in filters["label"]):
            continue
        if "driver" in filters and str(volume.get("Driver") or "local") not in filters["driver"]:
            continue
        dangling = not used.get(volume["Name"])
        if any((v == "true") != dangling for v in filters.get("dangling", ())):
            continue
        views.append(
            VolumeView(
                name, str(volume.get("Driver") or "local"), str(volume.get("Scope") or "local"),
                ctx.scope.rewrite(str(volume.get("Mountpoint") or "")), labels,
                used.get(volume["Name"], 0),
            )
        )  # fmt: skip
    text = output.volumes_table(views, quiet=cmd.has("quiet"), template=cmd.text("format"))
    return Output(text=text, name="docker-volume-ls.txt")


async def volume_inspect(ctx: Ctx, cmd: DockerCommand) -> Output:
    return await inspect_each(ctx, cmd, "volume")


async def volume_rm(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_object")
    force = cmd.has("force")
    remove = engine_action(ctx, lambda api, ident: api.remove_volume(ident, force=force))
    listed = await objects.volumes(ctx.worker, ctx.scope)
    return await for_each(ctx, cmd, remove, partial(objects.find_volume, ctx.scope, listed))


async def _volume_users(ctx: Ctx) -> dict[str, int]:
    """How many of the learner's containers use each volume (by real name)."""
    used: dict[str, int] = {}
    for summary in await objects.containers(ctx.worker, ctx.scope, all=True):
        for mount in summary.get("Mounts") or []:
            if mount.get("Name"):
                used[mount["Name"]] = used.get(mount["Name"], 0) + 1
    return used


async def _in_use_volumes(ctx: Ctx) -> set[str]:
    return set(await _volume_users(ctx))


async def volume_prune(ctx: Ctx, cmd: DockerCommand) -> Output:
    """Remove the user's volumes no container uses (those ``--filter label=…`` selects)."""
    filters = parse_filters(cmd)
    used = await _in_use_volumes(ctx)
    candidates = [
        (str(v["Name"]), ctx.scope.user_name(str(v["Name"])))
        for v in await objects.volumes(ctx.worker, ctx.scope)
        if v["Name"] not in used
        and prune_selects(naming.strip_our_labels(v.get("Labels")), filters)
    ]

    async def remove(real: str) -> None:
        await ctx.run(lambda api: api.remove_volume(real))

    removed, errors = await prune_each(ctx, candidates, remove)
    lines = (["Deleted Volumes:", *removed, ""] if removed else []) + ["Total reclaimed space: 0B"]
    lines += [f"Error response from daemon: {e}" for e in errors]
    return Output(text="\n".join(lines), error=bool(errors))


# networks -------------------------------------------------------------------------------
async def network_create(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_object")
    name = user_name(cmd.args[0])
    if name in naming.RESERVED_NETWORKS:
        raise UserError("sandbox.reserved_network", name=name)
    driver = cmd.text("driver") or "bridge"
    if driver != "bridge":
        raise UserError("sandbox.network_driver", driver=driver[:40])
    existing = await objects.networks(ctx.worker, ctx.scope)
    if any(ctx.scope.user_name(n["Name"]) == name for n in existing):
        raise EngineConflict(f"network with name {name} already exists")
    if len(existing) >= ctx.settings.quotas.networks:
        raise UserError("sandbox.quota.networks", limit=ctx.settings.quotas.networks)
    real = ctx.scope.real(name)
    labels = {**user_labels(cmd), **ctx.scope.labels(naming.KIND_NETWORK, name)}
    ipam = _ipam(cmd)
    attachable = cmd.has("attachable")
    created = await ctx.run(
        lambda api: api.create_network(
            real, driver="bridge", internal=True, check_duplicate=True, labels=labels,
            ipam=ipam, attachable=attachable or None,
        )
    )  # fmt: skip
    network_id = str(created["Id"])
    try:
        await _connect_host(ctx, network_id)
    except EngineError:
        # a network the host shell cannot reach is of no use to the learner: undo it
        await ctx.run(lambda api: api.remove_network(network_id))
        raise
    notes = [] if cmd.has("internal") else [note("sandbox.network_internal")]
    return Output(text=network_id, notes=notes)


def _ipam(cmd: DockerCommand) -> IPAMConfig | None:
    """``--subnet``/``--gateway``/``--ip-range``/``--aux-address`` as the engine's IPAM (the
    policy keeps subnets inside the learners' pool; the engine checks the rest)."""
    subnets = cmd.values("subnet")
    if not subnets:
        return None
    gateways, ranges = cmd.values("gateway"), cmd.values("ip-range")
    aux: dict[str, str] = {}
    for item in cmd.values("aux-address"):
        key, _, address = item.partition("=")
        aux[key] = address
    pools = [
        IPAMPool(
            subnet=subnet,
            gateway=gateways[index] if index < len(gateways) else None,
            iprange=ranges[index] if index < len(ranges) else None,
            aux_addresses=aux or None,
        )
        for index, subnet in enumerate(subnets)
    ]
    return IPAMConfig(pool_configs=pools)


async def _connect_host(ctx: Ctx, network_id: str) -> None:
    host = ctx.scope.host_name
    await ctx.run(lambda api: api.connect_container_to_network(host, network_id))


async def network_ls(ctx: Ctx, cmd: DockerCommand) -> Output:
    listed = await objects.networks(ctx.worker, ctx.scope, with_bridge=True)
    views: list[NetworkView] = []
    kinds: dict[str, str] = {}
    for n in listed:
        labels = n.get("Labels") or {}
        kinds[n["Id"]] = str(labels.get(naming.KIND))
        views.append(
            NetworkView(
                ctx.scope.user_name(n["Name"]), n["Id"], n.get("Driver", "bridge"),
                n.get("Scope", "local"), bool(n.get("Internal")), bool(n.get("EnableIPv6")),
                naming.strip_our_labels(labels), objects.engine_time(n.get("Created")),
            )
        )  # fmt: skip
    views.sort(key=lambda v: v.name)
    filters = parse_filters(cmd)
    if "dangling" in filters:
        unused = {v.id for v in views if await _unused(ctx, v.id)}
    for key, values in filters.items():
        if key == "name":
            views = [v for v in views if any(_regex(x, v.name) for x in values)]
        elif key == "id":
            views = [v for v in views if any(v.id.startswith(x) for x in values)]
        elif key == "driver":
            views = [v for v in views if v.driver in values]
        elif key == "scope":
            views = [v for v in views if v.scope in values]
        elif key == "label":
            views = [v for v in views if all(label_matches(v.labels, x) for x in values)]
        elif key == "type":
            builtin = {v.id for v in views if kinds[v.id] == naming.KIND_BRIDGE}
            views = [v for v in views if ("builtin" if v.id in builtin else "custom") in values]
        elif key == "dangling":
            want = values[-1] == "true"
            views = [
                v for v in views
                if (v.id in unused and kinds[v.id] != naming.KIND_BRIDGE) == want
            ]  # fmt: skip
    text = output.networks_table(
        views, quiet=cmd.has("quiet"), no_trunc=cmd.has("no-trunc"), template=cmd.text("format")
    )
    return Output(text=text, name="docker-network-ls.txt")


def _regex(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return pattern in text


async def network_inspect(ctx: Ctx, cmd: DockerCommand) -> Output:
    return await inspect_each(ctx, cmd, "network")


async def _remove_network(ctx: Ctx, network_id: str) -> None:
    """Disconnect the host shell, remove the network; reconnect the host shell when the
    engine refuses the removal (the network stays as it was), then raise."""
    host = ctx.scope.host_name
    try:
        await ctx.run(lambda api: api.disconnect_container_from_network(host, network_id))
    except EngineError as exc:
        if not _not_connected(exc):
            raise
    try:
        await ctx.run(lambda api: api.remove_network(network_id))
    except EngineError:
        try:
            await _connect_host(ctx, network_id)
        except EngineError as exc:
            log.warning(
                "host shell not reconnected",
                extra={"network": network_id, "error": exc.explanation},
            )
        raise


def _not_connected(exc: EngineError) -> bool:
    """The engine's answer when the host shell is not on the network (nothing to undo)."""
    return isinstance(exc, EngineNotFound) or "is not connected" in exc.explanation


async def network_rm(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_object")
    lines: list[str] = []
    for ref in cmd.args:
        if ref == "bridge":
            raise UserError("sandbox.reserved_network", name=ref)
        found = await objects.network(ctx.worker, ctx.scope, ref, with_bridge=False)
        await _remove_network(ctx, found.id)
        lines.append(ref)
    return Output(text="\n".join(lines))


async def _network_and_container(
    ctx: Ctx, cmd: DockerCommand
) -> tuple[objects.Found, objects.Found]:
    if len(cmd.args) < 2:
        raise UserError("sandbox.network_connect_usage")
    net = await objects.network(ctx.worker, ctx.scope, cmd.args[0], with_bridge=True)
    container = await objects.container(ctx.worker, ctx.scope, cmd.args[1])
    return net, container


async def network_connect(ctx: Ctx, cmd: DockerCommand) -> Output:
    net, container = await _network_and_container(ctx, cmd)
    aliases = [container.name, *(user_name(alias) for alias in cmd.values("alias"))]
    address = cmd.text("ip")
    await ctx.run(
        lambda api: api.connect_container_to_network(
            container.id, net.id, aliases=aliases, ipv4_address=address
        )
    )
    await ports.sync(ctx)  # its address may be new to the forwarder
    return Output(text="")


async def network_disconnect(ctx: Ctx, cmd: DockerCommand) -> Output:
    net, container = await _network_and_container(ctx, cmd)
    force = cmd.has("force")
    await ctx.run(
        lambda api: api.disconnect_container_from_network(container.id, net.id, force=force)
    )
    await ports.sync(ctx)
    return Output(text="")


async def network_prune(ctx: Ctx, cmd: DockerCommand) -> Output:
    """Remove the user's networks no container of theirs is on (the host shell aside)."""
    filters = parse_filters(cmd)
    selected = [
        (str(n["Id"]), ctx.scope.user_name(str(n["Name"])))
        for n in await objects.networks(ctx.worker, ctx.scope)
        if prune_selects(
            naming.strip_our_labels(n.get("Labels")), filters,
            objects.engine_time(n.get("Created")), ctx.now,
        )
    ]  # fmt: skip
    candidates = [(ident, name) for ident, name in selected if await _unused(ctx, ident)]
    removed, errors = await prune_each(ctx, candidates, partial(_remove_network, ctx))
    lines = ["Deleted Networks:", *removed] if removed else []
    lines += [f"Error response from daemon: {e}" for e in errors]
    return Output(text="\n".join(lines), error=bool(errors))


async def _unused(ctx: Ctx, network_id: str) -> bool:
    """Whether no container but the host shell is on the network."""
    attrs = await ctx.run(lambda api: api.inspect_network(network_id))
    return len(attrs.get("Containers") or {}) <= 1
