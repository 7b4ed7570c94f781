"""Compose files: the Compose Specification's keys a learner meets, as typed models, and each
service as the ``docker create`` command it stands for.

Pure: no Docker, no I/O. Validation is strict like ``docker compose``: an unknown key is
reported with its path (``services.web.imgae``), a wrong type with what was expected. Keys
the sandbox never allows (``privileged``, ``cap_add``, ``network_mode``…) are part of the
model so that the one policy can refuse them by name: :meth:`Service.run_command` turns a
service into ``docker create`` flags and says which key each flag came from.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.dockercli.dockerfile import substitute
from bot.dockercli.errors import CliError
from bot.dockercli.model import DockerCommand, FlagValue
from bot.dockercli.values import parse_duration

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
MAX_COMPOSE_BYTES = 128 * 1024
PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
ONEOFF_LABEL = "com.docker.compose.oneoff"
NETWORK_LABEL = "com.docker.compose.network"
VOLUME_LABEL = "com.docker.compose.volume"

StrList = str | list[str]
Pairs = dict[str, str | int | float | bool | None] | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class BuildSpec(_Strict):
    context: str = "."
    dockerfile: str | None = None
    args: Pairs | None = None
    target: str | None = None
    labels: Pairs | None = None
    no_cache: bool = False
    # refused by the policy, named
    network: str | None = None
    extra_hosts: list[str] | None = None
    privileged: bool | None = None


class HealthcheckSpec(_Strict):
    test: StrList | None = None
    interval: str | None = None
    timeout: str | None = None
    retries: int | None = None
    start_period: str | None = None
    start_interval: str | None = None
    disable: bool = False


class DependsOn(_Strict):
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"] = (
        "service_started"
    )
    restart: bool = False
    required: bool = True


class ServiceNetwork(_Strict):
    aliases: list[str] | None = None
    ipv4_address: str | None = None


class PortSpec(_Strict):
    target: int
    published: str | int | None = None
    protocol: str = "tcp"
    host_ip: str | None = None
    mode: str | None = None


class VolumeMount(_Strict):
    type: str = "volume"
    source: str | None = None
    target: str
    read_only: bool = False


class Service(_Strict):
    image: str | None = None
    build: str | BuildSpec | None = None
    command: StrList | None = None
    entrypoint: StrList | None = None
    environment: Pairs | None = None
    env_file: StrList | None = None
    ports: list[str | int | PortSpec] | None = None
    expose: list[str | int] | None = None
    volumes: list[str | VolumeMount] | None = None
    networks: list[str] | dict[str, ServiceNetwork | None] | None = None
    depends_on: list[str] | dict[str, DependsOn] | None = None
    healthcheck: HealthcheckSpec | None = None
    restart: str | None = None
    working_dir: str | None = None
    user: str | None = None
    labels: Pairs | None = None
    container_name: str | None = None
    hostname: str | None = None
    init: bool | None = None
    read_only: bool | None = None
    stop_signal: str | None = None
    stop_grace_period: str | None = None
    mem_limit: str | int | None = None
    cpus: str | float | None = None
    tmpfs: StrList | None = None
    cap_drop: list[str] | None = None
    # refused by the policy, named
    privileged: bool | None = None
    cap_add: list[str] | None = None
    devices: list[str] | None = None
    network_mode: str | None = None
    pid: str | None = None
    ipc: str | None = None
    uts: str | None = None
    userns_mode: str | None = None
    cgroup_parent: str | None = None
    security_opt: list[str] | None = None
    sysctls: Pairs | None = None
    ulimits: dict[str, Any] | None = None
    volumes_from: list[str] | None = None
    dns: StrList | None = None
    dns_search: StrList | None = None
    extra_hosts: list[str] | dict[str, str] | None = None
    links: list[str] | None = None
    external_links: list[str] | None = None
    runtime: str | None = None
    shm_size: str | int | None = None
    pids_limit: int | None = None
    logging: dict[str, Any] | None = None
    platform: str | None = None
    pull_policy: str | None = None
    oom_kill_disable: bool | None = None
    memswap_limit: str | int | None = None
    gpus: Any = None

    @field_validator("restart")
    @classmethod
    def _restart_word(cls, value: str | None) -> str | None:
        words = ("no", "always", "on-failure", "unless-stopped")
        if value is not None and value not in words and not value.startswith("on-failure:"):
            raise ValueError("must be no, always, on-failure or unless-stopped")
        return value

    def dependencies(self) -> dict[str, DependsOn]:
        if self.depends_on is None:
            return {}
        if isinstance(self.depends_on, list):
            return {name: DependsOn() for name in self.depends_on}
        return dict(self.depends_on)

    def network_names(self) -> dict[str, ServiceNetwork]:
        if self.networks is None:
            return {"default": ServiceNetwork()}
        if isinstance(self.networks, list):
            return {name: ServiceNetwork() for name in self.networks}
        return {name: spec or ServiceNetwork() for name, spec in self.networks.items()}

    def build_spec(self) -> BuildSpec | None:
        if self.build is None:
            return None
        return BuildSpec(context=self.build) if isinstance(self.build, str) else self.build


class VolumeSpec(_Strict):
    name: str | None = None
    driver: str | None = None
    driver_opts: dict[str, str] | None = None
    labels: Pairs | None = None
    external: bool = False


class NetworkSpec(_Strict):
    name: str | None = None
    driver: str | None = None
    driver_opts: dict[str, str] | None = None
    internal: bool = False
    attachable: bool = False
    labels: Pairs | None = None
    external: bool = False
    enable_ipv6: bool = False
    ipam: dict[str, Any] | None = None


class ComposeFile(_Strict):
    version: str | None = None  # obsolete, ignored (compose says so too)
    name: str | None = None
    services: dict[str, Service] = Field(default_factory=dict)
    volumes: dict[str, VolumeSpec | None] = Field(default_factory=dict)
    networks: dict[str, NetworkSpec | None] = Field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _without_extensions(value: Any) -> Any:
    """``x-…`` keys are the file's own (YAML anchors live there): compose ignores them."""
    if isinstance(value, dict):
        return {
            k: _without_extensions(v)
            for k, v in value.items()
            if not (isinstance(k, str) and k.startswith("x-"))
        }
    if isinstance(value, list):
        return [_without_extensions(v) for v in value]
    return value


def _interpolated(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return substitute(value.replace("$$", "\\$"), env)
    if isinstance(value, dict):
        return {k: _interpolated(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolated(v, env) for v in value]
    return value


def _path(location: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part in ("str", "int", "float", "bool", "list[str]") or "[" in part or "-" in part:
            continue  # pydantic's name of a union member, not a key of the file
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts) or "(top level)"


def _first_problem(exc: ValidationError) -> CliError:
    errors = exc.errors()
    extra = [e for e in errors if e["type"] == "extra_forbidden"]
    error = extra[0] if extra else errors[0]
    path = _path(tuple(error["loc"]))
    if error["type"] == "extra_forbidden":
        return CliError("compose.unknown_key", path=path)
    return CliError("compose.bad_value", path=path, reason=error["msg"])


def load_compose(text: str, env: Mapping[str, str], interpolate: bool = True) -> ComposeFile:
    """Read and validate a compose file; CliError naming the key at fault."""
    if len(text.encode()) > MAX_COMPOSE_BYTES:
        raise CliError("compose.too_big", limit=MAX_COMPOSE_BYTES)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError("compose.yaml_error", reason=str(exc).splitlines()[0]) from None
    if not isinstance(data, dict):
        raise CliError("compose.not_a_mapping")
    data = _without_extensions(data)
    if interpolate:
        data = _interpolated(data, env)
    try:
        model = ComposeFile.model_validate(data)
    except ValidationError as exc:
        raise _first_problem(exc) from None
    _cross_check(model)
    return model


def _cross_check(model: ComposeFile) -> None:
    if not model.services:
        raise CliError("compose.no_services")
    for name, service in model.services.items():
        if not PROJECT_RE.match(name.lower()) or not re.fullmatch(r"[a-zA-Z0-9._-]+", name):
            raise CliError("compose.bad_value", path=f"services.{name}", reason="invalid name")
        if service.image is None and service.build is None:
            raise CliError("compose.no_image", service=name)
        for dependency in service.dependencies():
            if dependency not in model.services:
                raise CliError(
                    "compose.unknown_reference", path=f"services.{name}.depends_on",
                    name=dependency,
                )  # fmt: skip
        for network in service.network_names():
            if network != "default" and network not in model.networks:
                raise CliError(
                    "compose.unknown_reference", path=f"services.{name}.networks", name=network
                )
        for index, volume in enumerate(service.volumes or []):
            source = _volume_source(volume)
            if source and not source.startswith((".", "/", "~")) and source not in model.volumes:
                raise CliError(
                    "compose.unknown_reference", path=f"services.{name}.volumes[{index}]",
                    name=source,
                )  # fmt: skip
    start_order(model)


def _volume_source(volume: str | VolumeMount) -> str:
    if isinstance(volume, VolumeMount):
        return volume.source or ""
    parts = volume.split(":")
    return parts[0] if len(parts) > 1 else ""


def start_order(model: ComposeFile) -> list[str]:
    """Services in an order that starts each after what it depends on; CliError on a cycle."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise CliError("compose.cycle", services=" -> ".join((*trail, name)))
        state[name] = 1
        for dependency in model.services[name].dependencies():
            visit(dependency, (*trail, name))
        state[name] = 2
        order.append(name)

    for name in model.services:
        visit(name, ())
    return order


def project_name(text: str) -> str:
    """A folder's or ``-p``'s name as compose makes a project name of it."""
    name = re.sub(r"[^a-z0-9_-]", "", text.lower())
    return name.lstrip("_-")


def pair_dict(values: Pairs | None) -> dict[str, str]:
    """``environment``/``labels``/``args`` in either form as a dict (a list item without
    ``=`` keeps an empty value; compose would look it up in the environment)."""
    if values is None:
        return {}
    if isinstance(values, list):
        found: dict[str, str] = {}
        for item in values:
            key, _, value = item.partition("=")
            found[key] = value
        return found
    return {k: _scalar(v) for k, v in values.items()}


def _scalar(value: str | int | float | bool | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_env_file(text: str) -> dict[str, str]:
    """A ``.env``/``env_file`` file: ``KEY=VALUE`` lines, ``#`` comments, optional quotes."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[key.strip()] = value
    return found


# --------------------------------------------------------------------------------------------
# A service as ``docker create``
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceCommand:
    """A service as the ``docker create`` command the sandbox runs for it: the command, and
    for each of its flags the compose key it came from (how a refusal names it)."""

    command: DockerCommand
    keys: Mapping[str, str]


def _words(value: StrList | None) -> list[str]:
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else list(value)


def _port(value: str | int | PortSpec) -> str:
    if isinstance(value, PortSpec):
        host = f"{value.host_ip}:" if value.host_ip else ""
        published = f"{value.published}:" if value.published is not None else ""
        return f"{host}{published}{value.target}/{value.protocol}"
    return str(value)


def _volume(value: str | VolumeMount) -> tuple[str, str]:
    """A volume entry as a run flag: ``("volume", "data:/data")`` or ``("mount", …)``."""
    if isinstance(value, str):
        return "volume", value
    if value.type == "volume" and value.source:
        return "volume", f"{value.source}:{value.target}{':ro' if value.read_only else ''}"
    fields = [f"type={value.type}", f"target={value.target}"]
    if value.source:
        fields.insert(1, f"source={value.source}")
    if value.read_only:
        fields.append("readonly")
    return "mount", ",".join(fields)


# compose key → the run flag it becomes (one value or several)
_SAME: dict[str, str] = {
    "working_dir": "workdir", "user": "user", "hostname": "hostname", "restart": "restart",
    "stop_signal": "stop-signal", "network_mode": "network", "pid": "pid", "ipc": "ipc",
    "uts": "uts", "userns_mode": "userns", "cgroup_parent": "cgroup-parent",
    "runtime": "runtime", "platform": "platform", "shm_size": "shm-size",
    "mem_limit": "memory", "cpus": "cpus", "memswap_limit": "memory-swap",
    "pids_limit": "pids-limit",
}  # fmt: skip
_MANY: dict[str, str] = {
    "cap_add": "cap-add", "cap_drop": "cap-drop", "devices": "device",
    "security_opt": "security-opt", "volumes_from": "volumes-from", "dns": "dns",
    "dns_search": "dns-search", "links": "link", "external_links": "link", "tmpfs": "tmpfs",
    "expose": "expose",
}  # fmt: skip
_TRUE: dict[str, str] = {
    "privileged": "privileged", "init": "init", "read_only": "read-only",
    "oom_kill_disable": "oom-kill-disable",
}  # fmt: skip


class _Flags:
    def __init__(self, service: str) -> None:
        self.prefix = f"services.{service}."
        self.flags: dict[str, FlagValue] = {}
        self.keys: dict[str, str] = {}

    def one(self, flag: str, value: str, key: str) -> None:
        self.flags[flag] = value
        self.keys[flag] = self.prefix + key

    def many(self, flag: str, values: list[str], key: str) -> None:
        if values:
            previous = self.flags.get(flag, ())
            assert isinstance(previous, tuple)
            self.flags[flag] = (*previous, *values)
            self.keys.setdefault(flag, self.prefix + key)

    def true(self, flag: str, key: str) -> None:
        self.flags[flag] = True
        self.keys[flag] = self.prefix + key


def _simple_keys(service: Service, out: _Flags) -> None:
    for key, flag in _SAME.items():
        value = getattr(service, key)
        if value is not None:
            out.one(flag, str(value), key)
    for key, flag in _MANY.items():
        value = getattr(service, key)
        if value is not None:
            out.many(flag, [str(v) for v in ([value] if isinstance(value, str) else value)], key)
    for key, flag in _TRUE.items():
        if getattr(service, key):
            out.true(flag, key)


def _refused_only(service: Service, out: _Flags) -> None:
    """Keys with no place in the sandbox: flags the policy refuses by name."""
    if service.sysctls:
        out.many("sysctl", [f"{k}={v}" for k, v in pair_dict(service.sysctls).items()], "sysctls")
    if service.ulimits:
        out.many("ulimit", [f"{k}={v}" for k, v in service.ulimits.items()], "ulimits")
    if service.extra_hosts:
        hosts = service.extra_hosts
        items = [f"{k}:{v}" for k, v in hosts.items()] if isinstance(hosts, dict) else hosts
        out.many("add-host", items, "extra_hosts")
    if service.logging:
        out.one("log-driver", str(service.logging.get("driver", "json-file")), "logging")
    if service.gpus is not None:
        out.one("gpus", "all", "gpus")
    if service.pull_policy is not None and service.pull_policy not in ("missing", "never"):
        out.one("pull", service.pull_policy, "pull_policy")


def _healthcheck(check: HealthcheckSpec, out: _Flags) -> None:
    if check.disable or check.test in (["NONE"], "NONE"):
        out.true("no-healthcheck", "healthcheck.disable")
        return
    if check.test is not None:
        test = check.test
        if isinstance(test, list):
            if test[:1] == ["CMD-SHELL"]:
                text = " ".join(test[1:])
            else:
                text = shlex.join(test[1:] if test[:1] == ["CMD"] else test)
        else:
            text = test
        out.one("health-cmd", text, "healthcheck.test")
    for key, flag in (("interval", "health-interval"), ("timeout", "health-timeout"),
                      ("start_period", "health-start-period"),
                      ("start_interval", "health-start-interval")):  # fmt: skip
        value = getattr(check, key)
        if value is not None:
            out.one(flag, value, f"healthcheck.{key}")
    if check.retries is not None:
        out.one("health-retries", str(check.retries), "healthcheck.retries")


def run_command(
    name: str,
    service: Service,
    image: str,
    env: Mapping[str, str],
    labels: Mapping[str, str],
    container: str,
    network: str | None,
    volume_names: Mapping[str, str],
) -> ServiceCommand:
    """``service`` as ``docker create`` (image ``image``, named ``container``, on
    ``network``; named volumes renamed by ``volume_names``), each flag traced to its key."""
    out = _Flags(name)
    out.one("name", container, "container_name" if service.container_name else "")
    if network is not None and service.network_mode is None:
        out.one("network", network, "networks")
    _simple_keys(service, out)
    _refused_only(service, out)
    out.many("env", [f"{k}={v}" for k, v in env.items()], "environment")
    all_labels = {**pair_dict(service.labels), **labels}
    out.many("label", [f"{k}={v}" for k, v in all_labels.items()], "labels")
    out.many("publish", [_port(p) for p in service.ports or []], "ports")
    for index, item in enumerate(service.volumes or []):
        flag, value = _volume(item)
        if flag == "volume":
            source, sep, rest = value.partition(":")
            value = f"{volume_names.get(source, source)}{sep}{rest}" if sep else value
        out.many(flag, [value], f"volumes[{index}]")
    if service.entrypoint is not None:
        words = _words(service.entrypoint)
        out.one("entrypoint", shlex.join(words), "entrypoint")
    if service.healthcheck is not None:
        _healthcheck(service.healthcheck, out)
    if service.stop_grace_period is not None:
        out.one("stop-timeout", str(int(parse_duration(service.stop_grace_period))),
                "stop_grace_period")  # fmt: skip
    out.true("detach", "")
    out.keys["image"] = out.prefix + ("build" if service.image is None else "image")
    command = DockerCommand(
        path=("create",),
        flags=MappingProxyType(out.flags),
        args=(image, *_words(service.command)),
    )
    return ServiceCommand(command, MappingProxyType(out.keys))
