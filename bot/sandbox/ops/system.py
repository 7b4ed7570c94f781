"""``docker system df``, ``docker version`` and ``docker info``, as the learner's machine.

The learner's machine is their sandbox: counts and sizes are of their own containers,
volumes and the images they can use; the engine's version, kernel and platform are the
worker's, as a real ``docker info`` would report them. Nothing about other learners or the
worker's host (its name, addresses, registries) is shown.
"""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from bot.dockercli import output
from bot.dockercli.layout import human_size, table
from bot.dockercli.model import DockerCommand, FlagValue
from bot.sandbox import naming, objects
from bot.sandbox.ops import images as image_ops
from bot.sandbox.ops import lifecycle, own_images, storage
from bot.sandbox.ops.base import Ctx, Output

CLIENT_NAME = "Docker Coach (docker CLI grammar)"


# --------------------------------------------------------------------------------------------
# system df
# --------------------------------------------------------------------------------------------


async def _sizes(ctx: Ctx) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The learner's containers with their sizes, and their volumes' sizes (by real name)."""
    filters = ctx.scope.filters(naming.KIND_CONTAINER)
    containers, usage = await asyncio.gather(
        ctx.run(lambda api: api.containers(all=True, size=True, filters=filters)),
        ctx.run(lambda api: api.df(), timeout=ctx.settings.api_timeout_seconds * 2),
    )
    volumes = {
        str(v.get("Name")): int((v.get("UsageData") or {}).get("Size") or 0)
        for v in usage.get("Volumes") or []
        if ctx.scope.owns(v.get("Labels"))
    }
    return ctx.scope.mine(containers), volumes


async def system_df(ctx: Ctx, cmd: DockerCommand) -> Output:
    (containers, volume_sizes), found, volumes = await asyncio.gather(
        _sizes(ctx), image_ops.listed_images(ctx), objects.volumes(ctx.worker, ctx.scope)
    )
    used_images = {str(c.get("ImageID")) for c in containers}
    image_size = sum(int(i.get("Size") or 0) for i in found.images.values())
    idle_images = sum(
        int(i.get("Size") or 0) for ident, i in found.images.items() if ident not in used_images
    )
    running = [c for c in containers if c.get("State") == "running"]
    container_size = sum(int(c.get("SizeRw") or 0) for c in containers)
    stopped_size = sum(int(c.get("SizeRw") or 0) for c in containers if c not in running)
    mounted = {
        str(m.get("Name")) for c in containers for m in c.get("Mounts") or [] if m.get("Name")
    }
    volume_size = sum(volume_sizes.get(str(v["Name"]), 0) for v in volumes)
    idle_volumes = sum(
        volume_sizes.get(str(v["Name"]), 0) for v in volumes if v["Name"] not in mounted
    )
    volume_names = {str(v["Name"]) for v in volumes}
    active_images = len(used_images & set(found.images))
    rows = [
        output.df_row("Images", len(found.images), active_images, image_size, idle_images),
        output.df_row("Containers", len(containers), len(running), container_size, stopped_size),
        output.df_row(
            "Local Volumes", len(volumes), len(mounted & volume_names), volume_size, idle_volumes
        ),
        output.df_row("Build Cache", 0, 0, 0, 0),
    ]
    if not cmd.has("verbose"):
        return Output(text=output.df_table(rows, cmd.text("format")), name="docker-df.txt")
    views = image_ops.image_views(found, {i: 1 for i in used_images})
    container_rows = [
        [
            str(c["Id"])[:12],
            str(c.get("Image") or ""),
            human_size(int(c.get("SizeRw") or 0)),
            str(c.get("Status") or ""),
            objects.container_name(ctx.scope, c),
        ]
        for c in containers
    ]
    links = {
        name: sum(1 for c in containers for m in c.get("Mounts") or [] if m.get("Name") == name)
        for name in volume_names
    }
    volume_rows = [
        [
            ctx.scope.user_name(str(v["Name"])),
            str(links[str(v["Name"])]),
            human_size(volume_sizes.get(str(v["Name"]), 0)),
        ]
        for v in volumes
    ]
    lines = [
        "Images space usage:",
        "",
        output.images_table(views, ctx.now),
        "",
        "Containers space usage:",
        "",
        table([["CONTAINER ID", "IMAGE", "SIZE", "STATUS", "NAMES"], *container_rows]),
        "",
        "Local Volumes space usage:",
        "",
        table([["VOLUME NAME", "LINKS", "SIZE"], *volume_rows]),
        "",
        "Build cache usage: 0B",
    ]
    return Output(text="\n".join(lines), name="docker-df.txt")


# --------------------------------------------------------------------------------------------
# version, info
# --------------------------------------------------------------------------------------------


def version_data(engine: Mapping[str, Any]) -> dict[str, Any]:
    """``docker version``'s data (``--format '{{.Server.Version}}'``)."""
    server = {
        "Platform": {"Name": "Docker Engine - Community"},
        "Version": engine.get("Version", ""),
        "ApiVersion": engine.get("ApiVersion", ""),
        "MinAPIVersion": engine.get("MinAPIVersion", ""),
        "GitCommit": engine.get("GitCommit", ""),
        "GoVersion": engine.get("GoVersion", ""),
        "Os": engine.get("Os", "linux"),
        "Arch": engine.get("Arch", "amd64"),
        "KernelVersion": engine.get("KernelVersion", ""),
        "BuildTime": engine.get("BuildTime", ""),
        "Components": [
            {"Name": c.get("Name", ""), "Version": c.get("Version", "")}
            for c in engine.get("Components") or []
        ],
    }
    client = {
        "Platform": {"Name": CLIENT_NAME},
        "Version": engine.get("Version", ""),
        "ApiVersion": engine.get("ApiVersion", ""),
        "DefaultAPIVersion": engine.get("ApiVersion", ""),
        "GitCommit": "",
        "GoVersion": "python" + platform.python_version(),
        "Os": engine.get("Os", "linux"),
        "Arch": engine.get("Arch", "amd64"),
        "BuildTime": "",
        "Context": "default",
    }
    return {"Client": client, "Server": server}


def version_text(data: Mapping[str, Any]) -> str:
    client, server = data["Client"], data["Server"]
    lines = [
        f"Client: {client['Platform']['Name']}",
        f" Version:           {client['Version']}",
        f" API version:       {client['ApiVersion']}",
        f" Go version:        {client['GoVersion']}",
        f" OS/Arch:           {client['Os']}/{client['Arch']}",
        f" Context:           {client['Context']}",
        "",
        f"Server: {server['Platform']['Name']}",
        " Engine:",
        f"  Version:          {server['Version']}",
        f"  API version:      {server['ApiVersion']} (minimum version {server['MinAPIVersion']})",
        f"  Go version:       {server['GoVersion']}",
        f"  Git commit:       {server['GitCommit']}",
        f"  Built:            {server['BuildTime']}",
        f"  OS/Arch:          {server['Os']}/{server['Arch']}",
        "  Experimental:     false",
    ]
    for component in server["Components"]:
        if component["Name"] != "Engine":
            lines += [f" {component['Name']}:", f"  Version:          {component['Version']}"]
    return "\n".join(lines)


async def version(ctx: Ctx, cmd: DockerCommand) -> Output:
    engine: dict[str, Any] = await ctx.run(lambda api: api.version())
    data = version_data(engine)
    template = cmd.text("format")
    text = output.inspect_text(template, [data]) if template else version_text(data)
    return Output(text=text, name="docker-version.txt")


async def info(ctx: Ctx, cmd: DockerCommand) -> Output:
    engine: dict[str, Any]
    engine, containers, found, volumes = await asyncio.gather(
        ctx.run(lambda api: api.info()),
        objects.containers(ctx.worker, ctx.scope, all=True),
        image_ops.listed_images(ctx),
        objects.volumes(ctx.worker, ctx.scope),
    )
    states = [str(c.get("State")) for c in containers]
    data = {
        "ID": ctx.scope.sandbox,
        "Containers": len(containers),
        "ContainersRunning": states.count("running"),
        "ContainersPaused": states.count("paused"),
        "ContainersStopped": len(states) - states.count("running") - states.count("paused"),
        "Images": len(found.images),
        "Volumes": len(volumes),
        "Driver": engine.get("Driver", ""),
        "LoggingDriver": "json-file",
        "CgroupDriver": engine.get("CgroupDriver", ""),
        "CgroupVersion": engine.get("CgroupVersion", ""),
        "KernelVersion": engine.get("KernelVersion", ""),
        "OperatingSystem": engine.get("OperatingSystem", ""),
        "OSType": engine.get("OSType", "linux"),
        "Architecture": engine.get("Architecture", ""),
        "NCPU": engine.get("NCPU", 0),
        "MemTotal": ctx.settings.limits.memory_bytes,
        "Name": naming.HOST_NAME,
        "ServerVersion": engine.get("ServerVersion", ""),
        "DockerRootDir": "/var/lib/docker",
        "Runtimes": {"runc": {"path": "runc"}},
        "DefaultRuntime": "runc",
        "Swarm": {"LocalNodeState": "inactive"},
        "SecurityOptions": ["name=seccomp,profile=default", "name=no-new-privileges"],
        "Isolation": "",
        "InitBinary": "docker-init",
        "Labels": [],
        "ExperimentalBuild": False,
        "LiveRestoreEnabled": bool(engine.get("LiveRestoreEnabled")),
    }
    template = cmd.text("format")
    if template:
        return Output(text=output.inspect_text(template, [data]), name="docker-info.txt")
    lines = [
        "Client:",
        " Context:    default",
        " Debug Mode: false",
        "",
        "Server:",
        f" Containers: {data['Containers']}",
        f"  Running: {data['ContainersRunning']}",
        f"  Paused: {data['ContainersPaused']}",
        f"  Stopped: {data['ContainersStopped']}",
        f" Images: {data['Images']}",
        f" Server Version: {data['ServerVersion']}",
        f" Storage Driver: {data['Driver']}",
        f" Logging Driver: {data['LoggingDriver']}",
        f" Cgroup Driver: {data['CgroupDriver']}",
        f" Cgroup Version: {data['CgroupVersion']}",
        " Swarm: inactive",
        " Runtimes: runc",
        " Default Runtime: runc",
        " Init Binary: docker-init",
        " Security Options:",
        "  seccomp",
        "   Profile: default",
        "  no-new-privileges",
        f" Kernel Version: {data['KernelVersion']}",
        f" Operating System: {data['OperatingSystem']}",
        f" OSType: {data['OSType']}",
        f" Architecture: {data['Architecture']}",
        f" CPUs: {data['NCPU']}",
        f" Total Memory: {human_size(int(data['MemTotal']))} (your sandbox's limit per container)",
        f" Name: {data['Name']}",
        f" ID: {data['ID']}",
        f" Docker Root Dir: {data['DockerRootDir']}",
        " Debug Mode: false",
        " Experimental: false",
        f" Live Restore Enabled: {str(data['LiveRestoreEnabled']).lower()}",
    ]
    return Output(text="\n".join(lines), name="docker-info.txt")


# --------------------------------------------------------------------------------------------
# system prune
# --------------------------------------------------------------------------------------------


def _part(cmd: DockerCommand, path: tuple[str, ...], **flags: FlagValue) -> DockerCommand:
    """``system prune``'s filters and flags for one of the prunes it runs."""
    kept: dict[str, FlagValue] = {"filter": cmd.values("filter"), "force": True, **flags}
    return DockerCommand(path, MappingProxyType(kept), ())


async def system_prune(ctx: Ctx, cmd: DockerCommand) -> Output:
    """Stopped containers, unused networks, the learner's dangling images (``-a``: every
    image of theirs no container uses) and, with ``--volumes``, unused volumes."""
    parts = [
        await lifecycle.prune(ctx, _part(cmd, ("container", "prune"))),
        await storage.network_prune(ctx, _part(cmd, ("network", "prune"))),
    ]
    if cmd.has("volumes"):
        parts.append(await storage.volume_prune(ctx, _part(cmd, ("volume", "prune"))))
    images = await own_images.image_prune(ctx, _part(cmd, ("image", "prune"), all=cmd.has("all")))
    lines: list[str] = []
    for part in [*parts, images]:
        lines += [line for line in part.text.splitlines() if not line.startswith("Total reclaimed")]
    total = next(
        (line for line in images.text.splitlines() if line.startswith("Total reclaimed")),
        "Total reclaimed space: 0B",
    )
    return Output(text="\n".join([*lines, total]), error=any(p.error for p in parts))
