"""``docker compose``: a compose file of the host shell, done by the coach with the sandbox's
own operations. There is no compose engine: every service becomes the ``docker create``
command it stands for and passes the one policy (a refusal names the service's key) before
anything is made; networks, volumes and containers are then made by the same operations as
``docker network create``, ``docker volume create`` and ``docker run``, with their quotas and
hardening. Names follow compose (``PROJECT-SERVICE-1``, ``PROJECT_default``,
``PROJECT_data``) and the objects carry compose's labels, which is how ``ps``, ``down`` and
the others find a project again.
"""

from __future__ import annotations

import asyncio
import posixpath
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import yaml
from docker.api import APIClient

from bot.core.errors import Refused, UserError
from bot.dockercli.compose import (
    COMPOSE_FILES,
    NETWORK_LABEL,
    NUMBER_LABEL,
    ONEOFF_LABEL,
    PROJECT_LABEL,
    PROJECT_RE,
    SERVICE_LABEL,
    VOLUME_LABEL,
    ComposeFile,
    Service,
    ServiceCommand,
    load_compose,
    pair_dict,
    parse_env_file,
    project_name,
    run_command,
    start_order,
)
from bot.dockercli.layout import ago, table
from bot.dockercli.model import DockerCommand, FlagValue
from bot.dockercli.output import format_ports
from bot.sandbox import naming, objects, policy
from bot.sandbox.errors import EngineNotFound, TooBig
from bot.sandbox.ops import build as build_ops
from bot.sandbox.ops import execs, files, lifecycle, reading, storage
from bot.sandbox.ops import images as image_ops
from bot.sandbox.ops import run as run_ops
from bot.sandbox.ops.base import Ctx, Note, Output, create_volume, note
from bot.sandbox.provision import HOME

HEALTHY_WAIT_SECONDS = 60.0
FILE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Project:
    name: str
    folder: str  # host-shell path
    file: str
    model: ComposeFile
    env: Mapping[str, str]

    def container(self, service: str) -> str:
        wanted = self.model.services[service].container_name
        return wanted or f"{self.name}-{service}-1"

    def network(self, key: str) -> str:
        spec = self.model.networks.get(key)
        return spec.name if spec is not None and spec.name else f"{self.name}_{key}"

    def volume(self, key: str) -> str:
        spec = self.model.volumes.get(key)
        return spec.name if spec is not None and spec.name else f"{self.name}_{key}"

    def image(self, service: str) -> str:
        return self.model.services[service].image or f"{self.name}-{service}"

    def networks_used(self) -> list[str]:
        used: list[str] = []
        for service in self.model.services.values():
            if service.network_mode is None:
                used += [n for n in service.network_names() if n not in used]
        return used


# --------------------------------------------------------------------------------------------
# Reading the project
# --------------------------------------------------------------------------------------------


async def _read(ctx: Ctx, path: str) -> str | None:
    host = ctx.scope.host_name
    try:
        _archive, single = await ctx.run(lambda api: files.read_file(api, host, path, FILE_BYTES))
    except EngineNotFound:
        return None
    except TooBig as exc:
        raise UserError("sandbox.too_big", limit=exc.limit) from exc
    return None if single is None else single[1].decode(errors="replace")


async def load_project(ctx: Ctx, cmd: DockerCommand, interpolate: bool = True) -> Project:
    given = cmd.values("file")
    directory = cmd.text("project-directory")
    if given:
        path = files.host_path(given[0])
        folder = files.host_path(directory) if directory else posixpath.dirname(path)
        text = await _read(ctx, path)
        if text is None:
            raise UserError("compose.no_file", path=given[0])
    else:
        folder = files.host_path(directory or ".")
        text, path = None, ""
        for name in COMPOSE_FILES:
            path = posixpath.join(folder, name)
            text = await _read(ctx, path)
            if text is not None:
                break
        if text is None:
            raise UserError("compose.no_file", path=folder)
    env = parse_env_file(await _read(ctx, posixpath.join(folder, ".env")) or "")
    model = load_compose(text, env, interpolate)
    base = "coach" if folder == HOME else posixpath.basename(folder.rstrip("/"))
    name = project_name(cmd.text("project-name") or model.name or base)
    if not PROJECT_RE.match(name) or not naming.valid_user_name(name):
        raise UserError("compose.bad_project", name=(cmd.text("project-name") or base)[:60])
    return Project(name, folder, path, model, MappingProxyType(env))


async def _environment(ctx: Ctx, project: Project, service: Service) -> dict[str, str]:
    env: dict[str, str] = {}
    env_files = service.env_file
    for item in [env_files] if isinstance(env_files, str) else env_files or []:
        path = posixpath.normpath(posixpath.join(project.folder, item))
        text = await _read(ctx, path)
        if text is None:
            raise UserError("compose.no_env_file", path=item)
        env.update(parse_env_file(text))
    for key, value in pair_dict(service.environment).items():
        env[key] = value if value or key not in project.env else project.env[key]
    return env


def _labels(project: Project, service_name: str, service: Service) -> dict[str, str]:
    return {
        PROJECT_LABEL: project.name,
        SERVICE_LABEL: service_name,
        NUMBER_LABEL: "1",
        ONEOFF_LABEL: "False",
        "com.docker.compose.project.working_dir": project.folder,
        "com.docker.compose.project.config_files": project.file,
    }


async def _service_commands(ctx: Ctx, project: Project) -> dict[str, ServiceCommand]:
    """Every service as ``docker create``, each checked by the policy (with the learner's own
    images known) before anything is made."""
    found = await image_ops.listed_images(ctx)
    own = image_ops.own_names(found)
    built = {project.image(n) for n, s in project.model.services.items() if s.build is not None}
    config = replace(ctx.policy, own_images=own | {_full(n) for n in built})
    volume_names = {key: project.volume(key) for key in project.model.volumes}
    commands: dict[str, ServiceCommand] = {}
    for name, service in project.model.services.items():
        networks = service.network_names()
        first = next(iter(networks), "default")
        command = run_command(
            name, service, project.image(name), await _environment(ctx, project, service),
            _labels(project, name, service), project.container(name),
            project.network(first) if service.network_mode is None else None, volume_names,
        )  # fmt: skip
        aliases = (*command.command.values("network-alias"), name, *(networks[first].aliases or []))
        flags = dict(command.command.flags)
        flags["network-alias"] = tuple(dict.fromkeys(aliases))
        if service.restart == "no":
            flags.pop("restart", None)
        command = ServiceCommand(replace(command.command, flags=MappingProxyType(flags)),
                                 command.keys)  # fmt: skip
        policy.check_service(command, config)
        commands[name] = command
    return commands


def _full(name: str) -> str:
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _checked(cmd: DockerCommand, keys: Mapping[str, str], ctx: Ctx) -> DockerCommand:
    """A network or volume of the file as its ``docker … create`` command, through the policy."""
    policy.check_service(ServiceCommand(cmd, keys), ctx.policy)
    return cmd


def _network_command(project: Project, key: str) -> DockerCommand:
    spec = project.model.networks.get(key)
    flags: dict[str, FlagValue] = {
        "label": (f"{PROJECT_LABEL}={project.name}", f"{NETWORK_LABEL}={key}"),
        "internal": True,
    }
    if spec is not None:
        if spec.driver:
            flags["driver"] = spec.driver
        if spec.driver_opts:
            flags["opt"] = tuple(f"{k}={v}" for k, v in spec.driver_opts.items())
        if spec.enable_ipv6:
            flags["ipv6"] = True
        subnets = [c.get("subnet") for c in (spec.ipam or {}).get("config") or []]
        if any(subnets):
            flags["subnet"] = tuple(str(s) for s in subnets if s)
        if spec.attachable:
            flags["attachable"] = True
    return DockerCommand(("network", "create"), MappingProxyType(flags), (project.network(key),))


_NETWORK_KEYS = {"driver": "driver", "opt": "driver_opts", "ipv6": "enable_ipv6",
                 "subnet": "ipam.config", "label": "labels"}  # fmt: skip


def _volume_command(project: Project, key: str) -> DockerCommand:
    spec = project.model.volumes.get(key)
    flags: dict[str, FlagValue] = {}
    if spec is not None and spec.driver:
        flags["driver"] = spec.driver
    if spec is not None and spec.driver_opts:
        flags["opt"] = tuple(f"{k}={v}" for k, v in spec.driver_opts.items())
    return DockerCommand(("volume", "create"), MappingProxyType(flags), (project.volume(key),))


# --------------------------------------------------------------------------------------------
# What exists of a project
# --------------------------------------------------------------------------------------------


async def _containers(ctx: Ctx, project: str) -> list[objects.Listed]:
    listed = await objects.containers(ctx.worker, ctx.scope)
    return [c for c in listed if (c.get("Labels") or {}).get(PROJECT_LABEL) == project]


def _service_of(item: Mapping[str, Any]) -> str:
    return str((item.get("Labels") or {}).get(SERVICE_LABEL, ""))


def _progress(lines: list[str]) -> str:
    if not lines:
        return ""
    width = max(len(line.rsplit("  ", 1)[0]) for line in lines)
    rows = [f" ✔ {a.ljust(width)}  {b}" for a, _, b in (line.rpartition("  ") for line in lines)]
    return "\n".join([f"[+] Running {len(lines)}/{len(lines)}", *rows])


# --------------------------------------------------------------------------------------------
# up
# --------------------------------------------------------------------------------------------


async def _build_services(
    ctx: Ctx, project: Project, only: list[str], no_cache: bool, args: tuple[str, ...] = (),
    missing_only: bool = False,
) -> list[str]:  # fmt: skip
    lines: list[str] = []
    found = await image_ops.listed_images(ctx) if missing_only else None
    for name in only:
        service = project.model.services[name]
        spec = service.build_spec()
        if spec is None:
            continue
        image = _full(project.image(name))
        if found is not None and image in found.own:
            continue
        if spec.network or spec.extra_hosts or spec.privileged:
            key = "network" if spec.network else "extra_hosts" if spec.extra_hosts else "privileged"
            cmd_flags: dict[str, FlagValue] = {}
            if spec.network:
                cmd_flags["network"] = spec.network
            if spec.extra_hosts:
                cmd_flags["add-host"] = tuple(spec.extra_hosts)
            verdict = policy.check(
                DockerCommand(("build",), MappingProxyType(cmd_flags), (".",)), ctx.policy
            )
            refusal = verdict.refusal or Refused("policy.privileged", flag="", value="")
            params = {**refusal.params, "flag": f"services.{name}.build.{key}"}
            raise type(refusal)(refusal.key, **params)
        context = posixpath.normpath(posixpath.join(project.folder, spec.context))
        dockerfile = posixpath.join(context, spec.dockerfile) if spec.dockerfile else None
        build_args = tuple(f"{k}={v}" for k, v in pair_dict(spec.args).items()) + args
        lines.append(f"[+] Building {name}")
        _image, built = await build_ops.build_image(
            ctx, context, dockerfile_name=dockerfile, build_args=build_args,
            no_cache=no_cache or spec.no_cache, target=spec.target, tags=(image,),
            labels=pair_dict(spec.labels) or None,
        )  # fmt: skip
        lines += built
    return lines


async def _ensure_networks(ctx: Ctx, project: Project, done: list[str]) -> None:
    existing = {
        ctx.scope.user_name(n["Name"]) for n in await objects.networks(ctx.worker, ctx.scope)
    }
    for key in project.networks_used():
        spec = project.model.networks.get(key)
        name = project.network(key)
        if name in existing:
            continue
        if spec is not None and spec.external:
            raise UserError("compose.external_missing", kind="network", name=name)
        keys = {flag: f"networks.{key}.{k}" for flag, k in _NETWORK_KEYS.items()}
        cmd = _checked(_network_command(project, key), keys, ctx)
        await storage.network_create(ctx, cmd)
        done.append(f"Network {name}  Created")


async def _ensure_volumes(ctx: Ctx, project: Project, done: list[str]) -> None:
    existing = {
        ctx.scope.user_name(v["Name"]) for v in await objects.volumes(ctx.worker, ctx.scope)
    }
    missing = [k for k in project.model.volumes if project.volume(k) not in existing]
    if missing and len(existing) + len(missing) > ctx.settings.quotas.volumes:
        raise UserError("sandbox.quota.volumes", limit=ctx.settings.quotas.volumes)
    for key in missing:
        spec = project.model.volumes.get(key)
        name = project.volume(key)
        if spec is not None and spec.external:
            raise UserError("compose.external_missing", kind="volume", name=name)
        cmd = _checked(_volume_command(project, key), {"driver": f"volumes.{key}.driver",
                                                        "opt": f"volumes.{key}.driver_opts"},
                       ctx)  # fmt: skip
        labels = {PROJECT_LABEL: project.name, VOLUME_LABEL: key,
                  **pair_dict(spec.labels if spec else None)}  # fmt: skip
        await create_volume(ctx, naming_checked(cmd.args[0]), labels)
        done.append(f'Volume "{name}"  Created')


def naming_checked(name: str) -> str:
    if not naming.valid_user_name(name):
        raise UserError("sandbox.bad_name", name=name[:80])
    return name


async def _wait_for(ctx: Ctx, project: Project, service: str, condition: str) -> None:
    """Wait until ``service`` is healthy / has completed, as ``depends_on`` asks."""
    if condition == "service_started":
        return
    name = project.container(service)
    deadline = time.monotonic() + HEALTHY_WAIT_SECONDS
    while True:
        found = await objects.container(ctx.worker, ctx.scope, name)
        attrs = await objects.inspect_container(ctx.worker, found.id)
        state = attrs.get("State") or {}
        if condition == "service_healthy":
            health = (state.get("Health") or {}).get("Status")
            if health is None:
                raise UserError("compose.no_healthcheck", service=service)
            if health == "healthy":
                return
            if health == "unhealthy" or not state.get("Running"):
                raise UserError("compose.unhealthy", service=service)
        else:
            if not state.get("Running"):
                if state.get("ExitCode") == 0:
                    return
                raise UserError("compose.failed", service=service, code=state.get("ExitCode"))
        if time.monotonic() > deadline:
            raise UserError("compose.wait_too_long", service=service,
                            seconds=round(HEALTHY_WAIT_SECONDS))  # fmt: skip
        await asyncio.sleep(0.5)


async def up(ctx: Ctx, cmd: DockerCommand) -> Output:
    project = await load_project(ctx, cmd)
    services = _selected(project, cmd.args, with_dependencies=not cmd.has("no-deps"))
    if len(project.model.services) > ctx.settings.quotas.compose_services:
        raise UserError("compose.too_many", limit=ctx.settings.quotas.compose_services)
    commands = await _service_commands(ctx, project)  # the policy, before anything is made
    lines: list[str] = []
    if not cmd.has("no-build"):
        lines += await _build_services(ctx, project, services, False,
                                       missing_only=not cmd.has("build"))  # fmt: skip
    done: list[str] = []
    notes: list[Note] = []
    await _ensure_networks(ctx, project, done)
    await _ensure_volumes(ctx, project, done)
    existing = {
        objects.container_name(ctx.scope, c): c for c in await _containers(ctx, project.name)
    }
    for name in services:
        container = project.container(name)
        item = existing.get(container)
        if item is not None and cmd.has("force-recreate"):
            await ctx.run(_remover(str(item["Id"])))
            item = None
        if item is None:
            out = await run_ops.run(ctx, commands[name].command, create_only=True)
            notes += out.notes
            cid = out.text.strip()
            await _connect_more(ctx, project, name, cid)
            done.append(f"Container {container}  Created")
        else:
            cid = str(item["Id"])
        if cmd.has("no-start"):
            continue
        for dependency, spec in project.model.services[name].dependencies().items():
            if dependency in services:
                await _wait_for(ctx, project, dependency, spec.condition)
        if item is None or item.get("State") != "running":
            notes += await run_ops.start_publishing(ctx, cid, container)
            done.append(f"Container {container}  Started")
        else:
            done.append(f"Container {container}  Running")
    if not cmd.has("detach") and not cmd.has("no-start"):
        notes.append(note("compose.note_detached", project=project.name))
    text = "\n".join([*lines, _progress(done)]).strip("\n")
    return Output(text=text, name="docker-compose.txt", notes=notes)


async def _connect_more(ctx: Ctx, project: Project, name: str, cid: str) -> None:
    service = project.model.services[name]
    if service.network_mode is not None:
        return
    networks = service.network_names()
    for key in list(networks)[1:]:
        real = ctx.scope.real(project.network(key))
        aliases = [name, *(networks[key].aliases or [])]
        await ctx.run(_connector(cid, real, aliases))


def _remover(cid: str) -> Callable[[APIClient], None]:
    return lambda api: api.remove_container(cid, force=True, v=False)


def _connector(cid: str, network: str, aliases: list[str]) -> Callable[[APIClient], None]:
    return lambda api: api.connect_container_to_network(cid, network, aliases=aliases)


def _selected(
    project: Project, wanted: tuple[str, ...], with_dependencies: bool = True
) -> list[str]:
    order = start_order(project.model)
    if not wanted:
        return order
    for name in wanted:
        if name not in project.model.services:
            raise UserError("compose.no_service", service=name)
    chosen = set(wanted)
    if with_dependencies:
        stack = list(wanted)
        while stack:
            for dependency in project.model.services[stack.pop()].dependencies():
                if dependency not in chosen:
                    chosen.add(dependency)
                    stack.append(dependency)
    return [name for name in order if name in chosen]


# --------------------------------------------------------------------------------------------
# down, ps, logs, exec, stop/start/restart, config, build
# --------------------------------------------------------------------------------------------


async def down(ctx: Ctx, cmd: DockerCommand) -> Output:
    project = await load_project(ctx, cmd)
    done: list[str] = []
    containers = await _containers(ctx, project.name)
    order = start_order(project.model)
    containers.sort(key=lambda c: -order.index(_service_of(c)) if _service_of(c) in order else 0)
    names = [objects.container_name(ctx.scope, c) for c in containers]
    if names:
        flags: dict[str, FlagValue] = {"force": True}
        if cmd.has("volumes"):  # the containers' anonymous volumes too, as compose does
            flags["volumes"] = True
        rm = DockerCommand(("rm",), MappingProxyType(flags), tuple(names))
        policy.enforce(rm, ctx.policy)
        await lifecycle.rm(ctx, rm)
        done += [f"Container {n}  Removed" for n in names]
    networks = await objects.networks(ctx.worker, ctx.scope)
    for item in networks:
        if (item.get("Labels") or {}).get(PROJECT_LABEL) == project.name:
            name = ctx.scope.user_name(str(item["Name"]))
            await _docker(ctx, storage.network_rm, ("network", "rm"), name)
            done.append(f"Network {name}  Removed")
    if cmd.has("volumes"):
        for item in await objects.volumes(ctx.worker, ctx.scope):
            if (item.get("Labels") or {}).get(PROJECT_LABEL) == project.name:
                name = ctx.scope.user_name(str(item["Name"]))
                await _docker(ctx, storage.volume_rm, ("volume", "rm"), name)
                done.append(f"Volume {name}  Removed")
    return Output(text=_progress(done), name="docker-compose.txt")


async def _docker(
    ctx: Ctx, op: Callable[[Ctx, DockerCommand], Awaitable[Output]], path: tuple[str, ...],
    *args: str, **flags: FlagValue,
) -> Output:  # fmt: skip
    """One docker command made by compose, through the policy and its operation."""
    cmd = DockerCommand(path, MappingProxyType(dict(flags)), args)
    policy.enforce(cmd, ctx.policy)
    return await op(ctx, cmd)


def _status(item: Mapping[str, Any]) -> str:
    return str(item.get("Status") or item.get("State") or "")


async def ps(ctx: Ctx, cmd: DockerCommand) -> Output:
    project = await load_project(ctx, cmd)
    listed = await _containers(ctx, project.name)
    if not cmd.has("all"):
        listed = [c for c in listed if c.get("State") in ("running", "paused", "restarting")]
    if cmd.args:
        listed = [c for c in listed if _service_of(c) in cmd.args]
    listed.sort(key=lambda c: objects.container_name(ctx.scope, c))
    if cmd.has("services"):
        return Output(text="\n".join(dict.fromkeys(_service_of(c) for c in listed)))
    if cmd.has("quiet"):
        return Output(text="\n".join(str(c["Id"]) for c in listed))
    rows = [["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"]]
    for item in listed:
        view = objects.view_from_summary(ctx.scope, item)
        command = str(item.get("Command") or "")
        command = f'"{command[:19]}…"' if len(command) > 20 else f'"{command}"'
        rows.append([
            view.name, ctx.scope.rewrite(str(item.get("Image") or "")), command,
            _service_of(item), ago(view.created_at, ctx.now), _status(item),
            format_ports(view.ports),
        ])  # fmt: skip
    return Output(text=table(rows), name="docker-compose-ps.txt")


async def logs(ctx: Ctx, cmd: DockerCommand) -> Output:
    project = await load_project(ctx, cmd)
    listed = await _containers(ctx, project.name)
    if cmd.args:
        listed = [c for c in listed if _service_of(c) in cmd.args]
    listed.sort(key=lambda c: objects.container_name(ctx.scope, c))
    names = [objects.container_name(ctx.scope, c) for c in listed]
    width = max((len(n.removeprefix(project.name + "-")) for n in names), default=0)
    lines: list[str] = []
    flags: dict[str, FlagValue] = {}
    for flag in ("tail", "timestamps"):
        value = cmd.flag(flag)
        if value is not None:
            flags[flag] = value
    for name in names:
        out = await _docker(ctx, reading.logs, ("logs",), name, **flags)
        prefix = (
            ""
            if cmd.has("no-log-prefix")
            else f"{name.removeprefix(project.name + '-').ljust(width)}  | "
        )
        lines += [prefix + line for line in out.text.splitlines()]
    return Output(text="\n".join(lines), name="docker-compose-logs.txt")


async def exec_(ctx: Ctx, cmd: DockerCommand) -> Output:
    project = await load_project(ctx, cmd)
    service = cmd.args[0]
    if service not in project.model.services:
        raise UserError("compose.no_service", service=service)
    flags: dict[str, FlagValue] = {}
    for flag in ("env", "user", "workdir", "detach"):
        value = cmd.flag(flag)
        if value is not None:
            flags[flag] = value
    running = [c for c in await _containers(ctx, project.name) if _service_of(c) == service]
    if not running:
        raise UserError("compose.not_running", service=service)
    name = objects.container_name(ctx.scope, running[0])
    return await _docker(ctx, execs.exec_, ("exec",), name, *cmd.args[1:], **flags)


async def _each(ctx: Ctx, cmd: DockerCommand, verb: str) -> Output:
    project = await load_project(ctx, cmd)
    listed = await _containers(ctx, project.name)
    if cmd.args:
        listed = [c for c in listed if _service_of(c) in cmd.args]
    order = start_order(project.model)
    listed.sort(key=lambda c: order.index(_service_of(c)) if _service_of(c) in order else 0)
    if verb != "start":
        listed.reverse()
    names = [objects.container_name(ctx.scope, c) for c in listed]
    if not names:
        return Output(text="")
    ops = {"stop": (lifecycle.stop, ("stop",)), "start": (lifecycle.start, ("start",)),
           "restart": (lifecycle.restart, ("restart",))}  # fmt: skip
    op, path = ops[verb]
    flags: dict[str, FlagValue] = {}
    timeout = cmd.text("timeout")
    if timeout is not None:
        flags["time"] = timeout
    out = await _docker(ctx, op, path, *names, **flags)
    shown = {"stop": "Stopped", "start": "Started", "restart": "Started"}[verb]
    return Output(text=_progress([f"Container {n}  {shown}" for n in names]), notes=out.notes)


async def stop(ctx: Ctx, cmd: DockerCommand) -> Output:
    return await _each(ctx, cmd, "stop")


async def start(ctx: Ctx, cmd: DockerCommand) -> Output:
    return await _each(ctx, cmd, "start")


async def restart(ctx: Ctx, cmd: DockerCommand) -> Output:
    return await _each(ctx, cmd, "restart")


async def config(ctx: Ctx, cmd: DockerCommand) -> Output:
    project = await load_project(ctx, cmd, interpolate=not cmd.has("no-interpolate"))
    if cmd.has("quiet"):
        return Output(text="")
    if cmd.has("services"):
        return Output(text="\n".join(project.model.services))
    if cmd.has("volumes"):
        return Output(text="\n".join(project.model.volumes))
    data = project.model.model_dump(exclude_none=True, exclude_defaults=True)
    data = {"name": project.name, **{k: v for k, v in data.items() if k not in ("name", "version")}}
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return Output(text=text.rstrip("\n"), name="compose.yaml")


async def build(ctx: Ctx, cmd: DockerCommand) -> Output:
    project = await load_project(ctx, cmd)
    await _service_commands(ctx, project)
    services = _selected(project, cmd.args, with_dependencies=False)
    lines = await _build_services(ctx, project, services, cmd.has("no-cache"),
                                  cmd.values("build-arg"))  # fmt: skip
    if cmd.has("quiet"):
        return Output(text="")
    return Output(text="\n".join(lines), name="docker-compose-build.txt")
