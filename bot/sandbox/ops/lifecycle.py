"""Container lifecycle: start, stop, restart, kill, pause, unpause, rm, rename, prune.

Starting checks and takes the container's published ports (``ops/ports.py``); whatever
stops or removes running containers hands the forwarder its new table.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from functools import partial

from docker.api import APIClient

from bot.core.errors import UserError
from bot.dockercli.model import DockerCommand
from bot.dockercli.parser import parse_filters
from bot.sandbox import anonymous, naming, objects
from bot.sandbox.errors import EngineError
from bot.sandbox.ops import ports
from bot.sandbox.ops.base import (
    RUNNING_STATES,
    Action,
    Ctx,
    Note,
    Output,
    engine_action,
    for_each,
    note,
    prune_each,
    prune_selects,
    user_name,
)
from bot.sandbox.ops.run import start_publishing
from bot.sandbox.workers import Slot, engine_call

STOP_SECONDS = 10
STOPPED_STATES = frozenset({"exited", "created", "dead"})


async def for_each_started(ctx: Ctx, cmd: DockerCommand, start_one: Action) -> Output:
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


def _stop_seconds(cmd: DockerCommand) -> int:
    """``-t`` (checked by the parser, bounded by the policy), at most the sandbox's wait."""
    seconds = cmd.int_flag("time")
    return STOP_SECONDS if seconds is None else max(0, min(seconds, STOP_SECONDS))


def _slot(verb: str) -> Slot | None:
    """A restart starts the container again: it waits for a start slot (a stop does not)."""
    return Slot.START if verb == "restart" else None


def _graceful(ctx: Ctx, verb: str, seconds: int) -> Action:
    """``stop``/``restart`` after a grace period, which the engine call waits out."""

    def call(api: APIClient, ident: str) -> None:
        if verb == "stop":
            api.stop(ident, timeout=seconds)
        else:
            api.restart(ident, timeout=seconds)

    async def action(found: objects.Found) -> None:
        timeout = ctx.settings.api_timeout_seconds + seconds
        await ctx.run(lambda api: call(api, found.id), timeout=timeout, heavy=_slot(verb))

    return action


@dataclass
class _Touched:
    """The containers a ``stop``/``kill``/``rm -f`` was given (before it acted on each) and
    those it was done to."""

    given: list[objects.Found] = field(default_factory=list)
    done: list[objects.Found] = field(default_factory=list)

    def noting(self, action: Action) -> Action:
        """``action``, remembering each container it is given and each it was done to."""

        async def noted(found: objects.Found) -> None:
            self.given.append(found)
            await action(found)
            self.done.append(found)

        return noted


async def _then_sync(ctx: Ctx, out: Output, touched: _Touched) -> Output:
    """After containers stopped or went: their published ports are free again (the
    forwarder's table is left alone when none of them held any), and those run with ``--rm``
    are gone with their anonymous volumes, as with Docker (not asked about when none of them
    mounts one)."""
    if any(ports.holds_ports(found.raw) for found in touched.given):
        await ports.sync(ctx)
    settled = [found.id for found in touched.done if anonymous.mounted(ctx.scope, found.raw)]
    if settled:
        await ctx.disk.auto_removed(ctx.sandbox, settled)
    return out


async def start(ctx: Ctx, cmd: DockerCommand) -> Output:
    notes: list[Note] = []

    async def action(found: objects.Found) -> None:
        notes.extend(await start_publishing(ctx, found.id, found.name))

    out = await for_each_started(ctx, cmd, action)
    out.notes.extend(notes)
    return out


async def stop(ctx: Ctx, cmd: DockerCommand) -> Output:
    touched = _Touched()
    stop_one = touched.noting(_graceful(ctx, "stop", _stop_seconds(cmd)))
    return await _then_sync(ctx, await for_each(ctx, cmd, stop_one), touched)


async def restart(ctx: Ctx, cmd: DockerCommand) -> Output:
    graceful = _graceful(ctx, "restart", _stop_seconds(cmd))
    notes: list[Note] = []

    async def action(found: objects.Found) -> None:
        await graceful(found)
        notes.extend(await ports.publish_started(ctx, found.id, found.name))

    out = await for_each_started(ctx, cmd, action)
    out.notes.extend(notes)
    return out


async def kill(ctx: Ctx, cmd: DockerCommand) -> Output:
    signal = cmd.text("signal") or "KILL"
    touched = _Touched()
    kill_one = touched.noting(engine_action(ctx, lambda api, i: api.kill(i, signal=signal)))
    return await _then_sync(ctx, await for_each(ctx, cmd, kill_one), touched)


async def pause(ctx: Ctx, cmd: DockerCommand) -> Output:
    return await for_each(ctx, cmd, engine_action(ctx, lambda api, i: api.pause(i)))


async def unpause(ctx: Ctx, cmd: DockerCommand) -> Output:
    return await for_each(ctx, cmd, engine_action(ctx, lambda api, i: api.unpause(i)))


def _remove(api: APIClient, cid: str, force: bool, volumes: bool) -> None:
    """``rm``: the container, and with ``-v`` its anonymous volumes, as docker removes them
    (named volumes always stay)."""
    made_for_it = anonymous.of_container(api, cid) if volumes else []
    api.remove_container(cid, force=force, v=True)
    for name in made_for_it:
        with contextlib.suppress(EngineError):
            engine_call(api.remove_volume, name)


async def rm(ctx: Ctx, cmd: DockerCommand) -> Output:
    force, volumes = cmd.has("force"), cmd.has("volumes")
    touched = _Touched()
    remove = touched.noting(engine_action(ctx, lambda api, i: _remove(api, i, force, volumes)))
    if volumes:  # the disk monitor lets go of the volumes first, or they stay "in use"
        async with ctx.disk.volumes_released(ctx.sandbox):
            out = await for_each(ctx, cmd, remove)
    else:
        out = await for_each(ctx, cmd, remove)
    return await _then_sync(ctx, out, touched) if force else out


# --------------------------------------------------------------------------------------------
# rename: the new name must resolve on every network the container is on
# --------------------------------------------------------------------------------------------


async def rename(ctx: Ctx, cmd: DockerCommand) -> Output:
    if len(cmd.args) != 2:
        raise UserError("sandbox.rename_usage")
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    new = user_name(cmd.args[1])
    real = ctx.scope.real(new)
    await ctx.run(lambda api: api.rename(found.id, real))
    return Output(text="", notes=await _realias(ctx, found, new))


async def _realias(ctx: Ctx, found: objects.Found, new: str) -> list[Note]:
    """Make the new name resolve on the container's networks: aliases are fixed when a
    container joins a network, so it leaves and joins again with the old name's alias
    replaced (its other aliases kept). A network where that fails is named in a note."""
    attrs = await objects.inspect_container(ctx.worker, found.id)
    networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    notes: list[Note] = []
    for network, endpoint in networks.items():
        if network in ("none", "host"):
            continue
        old = [a for a in (endpoint or {}).get("Aliases") or [] if a != found.id[:12]]
        aliases = [new, *(a for a in old if a not in (found.name, new))]
        try:
            await _rejoin(ctx, found.id, network, aliases, old)
        except EngineError as exc:
            text = naming.for_user(exc.explanation, ctx.scope, {found.id: new})
            notes.append(
                note(
                    "sandbox.rename_alias_failed", network=ctx.scope.user_name(network), error=text
                )
            )
    return notes


async def _rejoin(ctx: Ctx, cid: str, network: str, aliases: list[str], old: list[str]) -> None:
    """Leave ``network`` and join it again with ``aliases``; when joining fails, join with
    the ``old`` aliases instead (the container must not end up off the network) and raise
    the first failure."""
    await ctx.run(lambda api: api.disconnect_container_from_network(cid, network))
    try:
        await ctx.run(lambda api: api.connect_container_to_network(cid, network, aliases=aliases))
    except EngineError:
        await ctx.run(lambda api: api.connect_container_to_network(cid, network, aliases=old))
        raise


# --------------------------------------------------------------------------------------------
# container prune
# --------------------------------------------------------------------------------------------


async def prune(ctx: Ctx, cmd: DockerCommand) -> Output:
    """Remove the user's stopped containers (those ``--filter label=…`` selects)."""
    filters = parse_filters(cmd)
    listed = await objects.containers(ctx.worker, ctx.scope, all=True)
    candidates = [
        (str(c["Id"]), str(c["Id"]))
        for c in listed
        if c.get("State") in STOPPED_STATES
        and prune_selects(
            naming.strip_our_labels(c.get("Labels")), filters,
            objects.engine_time(c.get("Created")), ctx.now,
        )
    ]  # fmt: skip

    async def remove(ident: str) -> None:
        await ctx.run(lambda api: api.remove_container(ident, v=True))

    removed, errors = await prune_each(ctx, candidates, remove)
    lines = ["Deleted Containers:", *removed, ""] if removed else []
    lines.append("Total reclaimed space: 0B")
    lines += [f"Error response from daemon: {e}" for e in errors]
    return Output(text="\n".join(lines), error=bool(errors))
