"""The sandbox's one safety policy: a table of rules over parsed docker commands.

Pure: no Docker, no I/O. :data:`RULES` lists every rule with the command(s) it applies to,
the flag it reads, a predicate, and a refused example with an allowed counterpart (the tests
iterate over the table; the docs print it with :func:`rules_markdown`). A refusal is a
:class:`~bot.core.errors.Refused` whose key is ``policy.<rule>``; its parameters name the flag
(``flag``) and the value typed (``value``) so the message can say what and why.

:data:`DECISIONS` says, for every subcommand of the grammar, which of its flags the sandbox
takes as typed or bounds itself; every other flag of it has a rule. A test checks that every
subcommand and every flag has a decision, so a flag added to the grammar cannot slip through
undecided; at run time a command or flag without one is refused (``policy.undecided``).

Decisions (see the rule descriptions too):
- ``--volumes-from`` is refused entirely: sharing another container's volumes is exactly how
  another user's data would leak, and named volumes (``-v data:/data``) teach the same thing.
- anonymous volumes (``-v /data``, ``--mount type=volume,target=/data``) are allowed: the
  coach makes each as a volume of the sandbox (``bot/sandbox/anonymous.py``), counted by the
  volume quota and the disk budget and removed as Docker removes them (``rm -v``, ``--rm``).
- ``exec -u 0`` and ``run -u root`` are allowed: every container is unprivileged, keeps
  ``no-new-privileges`` and drops dangerous capabilities, so root inside is the normal case.
- ``cp -L`` is allowed: it follows symlinks inside the sandbox's own containers only.
- ``--pull`` is allowed only as ``missing``/``never``: pulls go through the image checks.
- ``search`` terms naming a registry host are refused: the engine would contact that host.
- a tmpfs (``--tmpfs``, ``--mount type=tmpfs``) always has a size: the one asked for, up to
  ``limits.tmpfs_max_bytes`` (a bigger or non-byte size is refused), else
  ``limits.tmpfs_bytes``. Its pages count against the container's memory limit as well.
"""

from __future__ import annotations

import ipaddress
import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.core.errors import Refused
from bot.dockercli import hub
from bot.dockercli.compose import ServiceCommand
from bot.dockercli.dockerfile import Dockerfile, Instruction
from bot.dockercli.errors import CliError
from bot.dockercli.model import DockerCommand, FlagValue, Path
from bot.dockercli.values import (
    ImageRef,
    VolumeSpec,
    is_registry,
    parse_bytes,
    parse_duration,
    parse_image_reference,
    parse_mount,
    parse_nano_cpus,
    parse_publish,
    parse_volume,
)
from bot.settings import SandboxSettings


@dataclass(frozen=True)
class PolicyConfig:
    """What the policy needs from the settings."""

    image_allowlist: tuple[str, ...]
    max_memory_bytes: int
    max_nano_cpus: int
    label_prefix: str = "org.docker-coach."
    max_stop_seconds: int = 30
    max_tmpfs_bytes: int = 64 * 1024 * 1024
    subnet_pool: str = "172.28.0.0/14"  # where learners' own --subnet values must lie
    subnet_min_prefix: int = 24  # and how big one may be at most
    min_health_interval_seconds: float = 1.0
    # the learner's own images (``mysite:v1``); None: not known yet, so the allowlist rule
    # for run/create is left to the operation, which knows them (image_ops.resolve)
    own_images: frozenset[str] | None = frozenset()

    @classmethod
    def from_settings(cls, settings: SandboxSettings) -> PolicyConfig:
        return cls(
            image_allowlist=tuple(settings.image_allowlist),
            max_memory_bytes=settings.limits.memory_bytes,
            max_nano_cpus=settings.limits.nano_cpus,
            max_tmpfs_bytes=settings.limits.tmpfs_max_bytes,
            subnet_pool=settings.user_subnet_pool,
            subnet_min_prefix=settings.user_subnet_min_prefix,
        )


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    refusal: Refused | None = None
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Image references
# --------------------------------------------------------------------------------------------


def _allowed_repository(repository: str, allowlist: Iterable[str]) -> bool:
    for entry in allowlist:
        if entry.endswith("/*") and repository.startswith(entry[:-1]):
            return True
        try:
            if parse_image_reference(entry).repository == repository:
                return True
        except CliError:
            continue
    return False


def check_image_reference(ref: str, config: PolicyConfig) -> ImageRef:
    """Parse ``ref`` and refuse other registries and repositories outside the allowlist."""
    image = parse_image_reference(ref)
    if image.registry is not None:
        raise Refused("policy.registry", flag="IMAGE", value=ref, registry=image.registry)
    if not _allowed_repository(image.repository, config.image_allowlist):
        raise Refused(
            "policy.image_not_allowed",
            flag="IMAGE",
            value=ref,
            allowed=", ".join(config.image_allowlist),
        )
    return image


def image_allowed(ref: str, config: PolicyConfig) -> bool:
    """Whether ``ref`` is a well-formed reference the sandbox may use."""
    try:
        check_image_reference(ref, config)
    except (CliError, Refused):
        return False
    return True


# --------------------------------------------------------------------------------------------
# Rule predicates: each returns None (fine) or the message parameters (refused)
# --------------------------------------------------------------------------------------------

Params = dict[str, Any] | None
Test = Callable[[Any, DockerCommand, PolicyConfig], Params]


def _always(_value: Any, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
    return {}


def _host_or_container(value: str, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
    return {} if value == "host" or value.startswith("container:") else None


def _equals(*refused: str) -> Test:
    def test(value: str, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
        return {} if value in refused else None

    return test


def _not_in(*allowed: str) -> Test:
    def test(value: str, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
        return None if value in allowed else {}

    return test


def _memory(value: str, _cmd: DockerCommand, config: PolicyConfig) -> Params:
    if parse_bytes(value) <= config.max_memory_bytes:
        return None
    return {"limit": f"{config.max_memory_bytes // (1024 * 1024)}m"}


def _cpus(value: str, _cmd: DockerCommand, config: PolicyConfig) -> Params:
    if parse_nano_cpus(value) <= config.max_nano_cpus:
        return None
    return {"limit": f"{config.max_nano_cpus / 1_000_000_000:g}"}


def _tmpfs_limit(config: PolicyConfig) -> dict[str, Any]:
    return {"limit": f"{config.max_tmpfs_bytes // (1024 * 1024)}m"}


def _size_above(text: str | None, config: PolicyConfig) -> Params:
    """A tmpfs size that is not a number of bytes, or above the sandbox's cap."""
    if text is None:
        return None
    try:
        size = parse_bytes(text)
    except ValueError:
        return _tmpfs_limit(config)
    return _tmpfs_limit(config) if size > config.max_tmpfs_bytes else None


def _tmpfs_size(value: str, _cmd: DockerCommand, config: PolicyConfig) -> Params:
    _path, _, options = value.partition(":")
    sizes = [o.strip()[5:] for o in options.split(",") if o.strip().startswith("size=")]
    return _size_above(sizes[-1] if sizes else None, config)


def _mount_tmpfs_size(value: str, _cmd: DockerCommand, config: PolicyConfig) -> Params:
    spec = parse_mount(value)
    return _size_above(spec.fields.get("tmpfs-size"), config) if spec.type == "tmpfs" else None


def _stop_seconds(value: str, _cmd: DockerCommand, config: PolicyConfig) -> Params:
    return None if int(value) <= config.max_stop_seconds else {"limit": config.max_stop_seconds}


def _own_label(value: str, _cmd: DockerCommand, config: PolicyConfig) -> Params:
    key = value.split("=", 1)[0].strip().lower()
    return {"prefix": config.label_prefix} if key.startswith(config.label_prefix.lower()) else None


def _docker_socket(value: str, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
    return {} if "docker.sock" in parse_volume(value).source else None


def _bind_volume(value: str, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
    return {} if parse_volume(value).is_path else None


_MOUNT_TYPES = frozenset({"volume", "tmpfs"})


def _mount_type(value: str, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
    mount_type = parse_mount(value).type
    return None if mount_type in _MOUNT_TYPES else {"type": mount_type}


def _mount_path(value: str, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
    spec = parse_mount(value)
    source = VolumeSpec(spec.source, spec.target)
    return {} if spec.type == "volume" and spec.source and source.is_path else None


def _mount_options(value: str, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
    fields = parse_mount(value).fields
    risky = [k for k in fields if k.startswith(("volume-opt", "volume-driver", "bind-"))]
    return {"option": risky[0]} if risky else None


def _under_proc(value: str, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
    path = posixpath.normpath("/" + value.lstrip("/"))
    return {} if path == "/proc" or path.startswith("/proc/") else None


PUBLISH_ADDRESSES = frozenset({"0.0.0.0", "127.0.0.1", "localhost"})


def _publish_ip(value: str, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
    for port in parse_publish(value):
        if port.host_ip not in (None, *PUBLISH_ADDRESSES):
            return {"ip": port.host_ip}
    return None


def _below_seconds(limit_of: Callable[[PolicyConfig], float]) -> Test:
    def test(value: str, _cmd: DockerCommand, config: PolicyConfig) -> Params:
        seconds = parse_duration(value)
        limit = limit_of(config)
        return {"limit": f"{limit:g}s"} if 0 < seconds < limit else None

    return test


def _negative(value: str, _cmd: DockerCommand, _config: PolicyConfig) -> Params:
    return {} if value.strip().startswith("-") else None


def _subnet(value: str, _cmd: DockerCommand, config: PolicyConfig) -> Params:
    pool = ipaddress.ip_network(config.subnet_pool)
    params = {"pool": config.subnet_pool, "prefix": config.subnet_min_prefix}
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return params
    if network.version != 4 or not network.subnet_of(pool):  # type: ignore[arg-type]
        return params
    return params if network.prefixlen < config.subnet_min_prefix else None


_COMMIT_INSTRUCTIONS = frozenset(
    {"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER", "WORKDIR", "STOPSIGNAL",
     "HEALTHCHECK"}
)  # fmt: skip


def _commit_change(value: str, _cmd: DockerCommand, config: PolicyConfig) -> Params:
    instruction, _, rest = value.strip().partition(" ")
    word = instruction.upper()
    if word not in _COMMIT_INSTRUCTIONS or (
        word == "LABEL" and config.label_prefix.lower() in rest.lower()
    ):
        return {"instruction": word}
    return None


def _tag_registry(value: None, cmd: DockerCommand, _config: PolicyConfig) -> Params:
    target = cmd.args[-1] if len(cmd.args) >= 2 else ""
    first = target.split("/", 1)[0]
    return {"registry": first} if "/" in target and is_registry(first) else None


def _commit_registry(value: None, cmd: DockerCommand, config: PolicyConfig) -> Params:
    return _tag_registry(value, cmd, config) if len(cmd.args) == 2 else None


def _image(value: None, cmd: DockerCommand, config: PolicyConfig) -> Params:
    if cmd.path != ("pull",):
        if config.own_images is None:
            return None  # decided where the learner's own images are known
        try:
            if parse_image_reference(cmd.image).name in config.own_images:
                return None
        except CliError:
            pass
    elif not _could_exist(cmd.image):
        return None  # nothing a pull could find: the operation answers as docker does
    return _image_problem(cmd.image, config, "policy.image_not_allowed")


def _could_exist(ref: str) -> bool:
    try:
        return hub.could_exist(parse_image_reference(ref))
    except CliError:
        return True  # malformed: the policy refuses it


def _registry(value: None, cmd: DockerCommand, config: PolicyConfig) -> Params:
    return _image_problem(cmd.image, config, "policy.registry")


def _image_problem(ref: str, config: PolicyConfig, key: str) -> Params:
    try:
        check_image_reference(ref, config)
    except CliError:  # malformed (the parser refuses these first): never allowed
        if key == "policy.image_not_allowed":
            return {"allowed": ", ".join(config.image_allowlist)}
    except Refused as refusal:
        if refusal.key == key:
            return {k: v for k, v in refusal.params.items() if k not in ("flag", "value")}
    return None


def _search_registry(value: None, cmd: DockerCommand, _config: PolicyConfig) -> Params:
    term = cmd.args[0]
    first = term.split("/", 1)[0]
    return {"registry": first} if "/" in term and is_registry(first) else None


def _reserved_network(value: None, cmd: DockerCommand, _config: PolicyConfig) -> Params:
    name = cmd.args[0]
    return {"network": name} if name == "host" or name.startswith("container:") else None


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------

RUN: tuple[Path, ...] = (("run",), ("create",))
BUILD: tuple[Path, ...] = (("build",),)
RUN_BUILD: tuple[Path, ...] = (*RUN, *BUILD)
RUN_EXEC: tuple[Path, ...] = (*RUN, ("exec",))


@dataclass(frozen=True)
class Rule:
    """One rule: ``flag`` of ``commands`` is refused when ``test`` returns parameters."""

    name: str
    commands: tuple[Path, ...]
    flag: str | None  # canonical flag name; None: the rule reads the positionals
    test: Test
    refused: str  # an example the rule refuses
    allowed: str | None = None  # a close example it allows
    key: str = ""  # message key; defaults to policy.<name>
    label: str = ""  # how the refusal names what it refuses when flag is None

    @property
    def message_key(self) -> str:
        return self.key or f"policy.{self.name}"


def _rule(
    name: str, commands: tuple[Path, ...], flag: str | None, test: Test, refused: str,
    allowed: str | None = None, key: str = "", label: str = "",
) -> Rule:  # fmt: skip
    return Rule(name, commands, flag, test, refused, allowed, key, label)


NS_HOST = "policy.namespace_host"

RULES: tuple[Rule, ...] = (
    _rule("privileged", RUN, "privileged", _always,
          "run --privileged busybox", "run --privileged=false busybox"),
    _rule("exec_privileged", (("exec",), ("compose", "exec")), "privileged", _always,
          "exec --privileged web sh", "exec web sh", key="policy.privileged"),
    _rule("cap_add", RUN, "cap-add", _always,
          "run --cap-add NET_ADMIN busybox", "run --cap-drop NET_ADMIN busybox"),
    _rule("device", RUN, "device", _always, "run --device /dev/sda busybox"),
    _rule("gpus", RUN, "gpus", _always, "run --gpus all busybox"),
    _rule("pid_host", RUN, "pid", _host_or_container, "run --pid host busybox",
          key=NS_HOST),
    _rule("ipc_host", RUN, "ipc", _host_or_container, "run --ipc host busybox",
          "run --ipc private busybox", key=NS_HOST),
    _rule("uts_host", RUN, "uts", _host_or_container, "run --uts host busybox", key=NS_HOST),
    _rule("userns_host", RUN, "userns", _host_or_container, "run --userns host busybox",
          key=NS_HOST),
    _rule("cgroupns_host", RUN, "cgroupns", _host_or_container,
          "run --cgroupns host busybox", "run --cgroupns private busybox", key=NS_HOST),
    _rule("network_host", RUN, "network", _host_or_container, "run --network host busybox",
          "run --network none busybox"),
    _rule("build_network", BUILD, "network", _not_in("default", "none"),
          "build --network host .", "build --network none ."),
    _rule("network_connect_host", (("network", "connect"),), None, _reserved_network,
          "network connect host web", "network connect backend web",
          key="policy.network_host", label="network connect"),
    _rule("security_opt", RUN_BUILD, "security-opt", _always,
          "run --security-opt seccomp=unconfined busybox"),
    _rule("sysctl", RUN, "sysctl", _always, "run --sysctl net.ipv4.ip_forward=1 busybox"),
    _rule("cgroup_parent", RUN_BUILD, "cgroup-parent", _always, "run --cgroup-parent / busybox"),
    _rule("runtime", RUN, "runtime", _always, "run --runtime runc busybox"),
    _rule("oom_kill_disable", RUN, "oom-kill-disable", _always,
          "run --oom-kill-disable busybox"),
    _rule("volumes_from", RUN, "volumes-from", _always, "run --volumes-from web busybox",
          "run -v data:/data busybox"),
    _rule("volume_driver", RUN, "volume-driver", _always,
          "run --volume-driver local -v data:/data busybox", "run -v data:/data busybox"),
    _rule("link", RUN, "link", _always, "run --link web busybox",
          "run --network backend busybox"),
    _rule("add_host", RUN_BUILD, "add-host", _always, "run --add-host db:10.0.0.1 busybox"),
    _rule("dns", RUN, "dns", _always, "run --dns 8.8.8.8 busybox"),
    _rule("dns_search", RUN, "dns-search", _always, "run --dns-search example.com busybox",
          key="policy.dns"),
    _rule("dns_option", RUN, "dns-option", _always, "run --dns-option ndots:2 busybox",
          key="policy.dns"),
    _rule("run_ip6", RUN, "ip6", _always, "run --ip6 2001:db8::33 busybox",
          key="policy.network_addresses"),
    _rule("run_link_local_ip", RUN, "link-local-ip", _always,
          "run --link-local-ip 169.254.0.9 busybox", key="policy.network_addresses"),
    _rule("device_cgroup_rule", RUN, "device-cgroup-rule", _always,
          "run --device-cgroup-rule 'c 42:* rmw' busybox", key="policy.device"),
    _rule("isolation", RUN_BUILD, "isolation", _not_in("default"), "run --isolation hyperv busybox",
          "run --isolation default busybox"),
    _rule("oom_score_adj", RUN, "oom-score-adj", _negative, "run --oom-score-adj -500 busybox",
          "run --oom-score-adj 500 busybox"),
    _rule("kernel_memory", RUN, "kernel-memory", _always, "run --kernel-memory 50m busybox",
          "run -m 50m busybox"),
    _rule("cpu_period", RUN, "cpu-period", _always, "run --cpu-period 50000 busybox",
          "run --cpus 0.25 busybox", key="policy.cpu_tuning"),
    _rule("cpu_quota", RUN, "cpu-quota", _always, "run --cpu-quota 25000 busybox",
          key="policy.cpu_tuning"),
    _rule("cpu_rt_period", RUN, "cpu-rt-period", _always, "run --cpu-rt-period 1000 busybox",
          key="policy.cpu_tuning"),
    _rule("cpu_rt_runtime", RUN, "cpu-rt-runtime", _always,
          "run --cpu-rt-runtime 950 busybox", key="policy.cpu_tuning"),
    _rule("cpu_count", RUN, "cpu-count", _always, "run --cpu-count 2 busybox",
          key="policy.windows_only"),
    _rule("cpu_percent", RUN, "cpu-percent", _always, "run --cpu-percent 50 busybox",
          key="policy.windows_only"),
    _rule("io_maxbandwidth", RUN, "io-maxbandwidth", _always,
          "run --io-maxbandwidth 10m busybox", key="policy.windows_only"),
    _rule("io_maxiops", RUN, "io-maxiops", _always, "run --io-maxiops 100 busybox",
          key="policy.windows_only"),
    _rule("blkio_weight", RUN, "blkio-weight", _always, "run --blkio-weight 300 busybox",
          key="policy.block_io"),
    _rule("blkio_weight_device", RUN, "blkio-weight-device", _always,
          "run --blkio-weight-device /dev/sda:200 busybox", key="policy.block_io"),
    _rule("device_read_bps", RUN, "device-read-bps", _always,
          "run --device-read-bps /dev/sda:1mb busybox", key="policy.block_io"),
    _rule("device_read_iops", RUN, "device-read-iops", _always,
          "run --device-read-iops /dev/sda:1000 busybox", key="policy.block_io"),
    _rule("device_write_bps", RUN, "device-write-bps", _always,
          "run --device-write-bps /dev/sda:1mb busybox", key="policy.block_io"),
    _rule("device_write_iops", RUN, "device-write-iops", _always,
          "run --device-write-iops /dev/sda:1000 busybox", key="policy.block_io"),
    _rule("storage_opt", RUN, "storage-opt", _always, "run --storage-opt size=120G busybox"),
    _rule("label_file", RUN, "label-file", _always, "run --label-file labels.txt busybox",
          "run -l app=shop busybox", key="policy.env_file"),
    _rule("health_interval", RUN, "health-interval",
          _below_seconds(lambda c: c.min_health_interval_seconds),
          "run --health-cmd true --health-interval 100ms busybox",
          "run --health-cmd true --health-interval 1s busybox"),
    _rule("health_start_interval", RUN, "health-start-interval", _always,
          "run --health-start-interval 1s busybox", key="policy.engine_too_old"),
    _rule("annotation", RUN, "annotation", _always, "run --annotation a=b busybox",
          key="policy.engine_too_old"),
    _rule("use_api_socket", RUN, "use-api-socket", _always, "run --use-api-socket busybox",
          key="policy.docker_socket"),
    _rule("rm_link", (("rm",),), "link", _always, "rm --link web/db", "rm web",
          key="policy.link"),
    _rule("commit_change", (("commit",),), "change", _commit_change,
          "commit --change 'VOLUME /data' web site:v1",
          "commit --change 'CMD [\"httpd\", \"-f\"]' web site:v1"),
    _rule("tag_registry", (("tag",),), None, _tag_registry, "tag nginx example.com/web:v1",
          "tag nginx web:v1", key="policy.push_registry", label="TARGET_IMAGE"),
    _rule("commit_registry", (("commit",),), None, _commit_registry,
          "commit web example.com/web:v1", "commit web web:v1", key="policy.push_registry",
          label="REPOSITORY"),
    _rule("log_driver", RUN, "log-driver", _always, "run --log-driver none busybox",
          key="policy.logging"),
    _rule("log_opt", RUN, "log-opt", _always, "run --log-opt max-size=1g busybox",
          key="policy.logging"),
    _rule("memory_swap", RUN, "memory-swap", _always, "run --memory-swap -1 busybox",
          "run -m 64m busybox"),
    _rule("pids_limit", RUN, "pids-limit", _always, "run --pids-limit 0 busybox"),
    _rule("ulimit", RUN_BUILD, "ulimit", _always, "run --ulimit nofile=100000 busybox"),
    _rule("shm_size", RUN_BUILD, "shm-size", _always, "run --shm-size 1g busybox"),
    _rule("platform", (*RUN_BUILD, ("pull",)), "platform", _always,
          "pull --platform linux/arm64 alpine", "pull alpine"),
    _rule("pull_always", RUN, "pull", _not_in("missing", "never"),
          "run --pull always busybox", "run --pull missing busybox"),
    _rule("pull_all_tags", (("pull",),), "all-tags", _always, "pull --all-tags alpine",
          "pull alpine:3.20"),
    _rule("restart", RUN, "restart", _not_in("no"), "run -d --restart always nginx",
          "run -d --restart no nginx"),
    _rule("memory_limit", RUN_BUILD, "memory", _memory, "run -m 4g busybox", "run -m 64m busybox"),
    _rule("cpus_limit", RUN_BUILD, "cpus", _cpus, "run --cpus 4 busybox",
          "run --cpus 0.25 busybox"),
    _rule("tmpfs_size", RUN, "tmpfs", _tmpfs_size, "run --tmpfs /cache:size=2g busybox",
          "run --tmpfs /cache:size=32m busybox"),
    _rule("mount_tmpfs_size", RUN, "mount", _mount_tmpfs_size,
          "run --mount type=tmpfs,target=/cache,tmpfs-size=2g busybox",
          "run --mount type=tmpfs,target=/cache,tmpfs-size=32m busybox",
          key="policy.tmpfs_size"),
    _rule("stop_timeout", RUN, "stop-timeout", _stop_seconds,
          "run --stop-timeout 600 busybox", "run --stop-timeout 5 busybox"),
    _rule("compose_stop_time", (("compose", "stop"), ("compose", "restart"), ("compose", "down")),
          "timeout", _stop_seconds, "compose stop -t 600", "compose stop -t 5",
          key="policy.stop_time"),
    _rule("stop_time", (("stop",), ("restart",)), "time", _stop_seconds,
          "stop -t 600 web", "stop -t 5 web"),
    _rule("label_prefix", (*RUN_BUILD, ("volume", "create"), ("network", "create")), "label",
          _own_label, "run -l org.docker-coach.owner=bob busybox",
          "run -l app=shop busybox"),
    _rule("docker_socket", RUN, "volume", _docker_socket,
          "run -v /var/run/docker.sock:/var/run/docker.sock busybox"),
    _rule("bind_mount", RUN, "volume", _bind_volume, "run -v /:/host busybox",
          "run -v data:/host busybox"),
    _rule("mount_type", RUN, "mount", _mount_type,
          "run --mount type=bind,source=/etc,target=/etc busybox",
          "run --mount type=volume,source=data,target=/data busybox"),
    _rule("mount_path", RUN, "mount", _mount_path,
          "run --mount source=/etc,target=/etc busybox",
          "run --mount source=etc,target=/etc busybox", key="policy.bind_mount"),
    _rule("mount_options", RUN, "mount", _mount_options,
          "run --mount type=volume,source=x,target=/x,volume-opt=device=/etc busybox",
          "run --mount type=tmpfs,target=/cache busybox"),
    _rule("volume_create_driver", (("volume", "create"),), "driver", _not_in("local"),
          "volume create -d nfs data", "volume create -d local data"),
    _rule("volume_create_opt", (("volume", "create"),), "opt", _always,
          "volume create -o type=none -o o=bind -o device=/etc x", "volume create x"),
    _rule("network_driver", (("network", "create"),), "driver", _not_in("bridge"),
          "network create -d macvlan backend", "network create -d bridge backend"),
    _rule("network_opt", (("network", "create"),), "opt", _always,
          "network create -o com.docker.network.bridge.name=eth9 backend",
          "network create backend"),
    _rule("network_subnet", (("network", "create"),), "subnet", _subnet,
          "network create --subnet 10.9.0.0/16 backend",
          "network create --subnet 172.28.5.0/24 backend"),
    _rule("network_ipv6", (("network", "create"),), "ipv6", _always,
          "network create --ipv6 backend", key="policy.network_addresses"),
    _rule("network_ipam_driver", (("network", "create"),), "ipam-driver", _not_in("default"),
          "network create --ipam-driver dhcp backend", key="policy.network_driver"),
    _rule("network_ipam_opt", (("network", "create"),), "ipam-opt", _always,
          "network create --ipam-opt foo=bar backend", key="policy.network_opt"),
    _rule("network_scope", (("network", "create"),), "scope", _not_in("local"),
          "network create --scope swarm backend", "network create --scope local backend",
          key="policy.network_driver"),
    _rule("network_ip6", (("network", "connect"),), "ip6", _always,
          "network connect --ip6 2001:db8::33 backend web", key="policy.network_addresses"),
    _rule("network_link_local", (("network", "connect"),), "link-local-ip", _always,
          "network connect --link-local-ip 169.254.0.9 backend web",
          key="policy.network_addresses"),
    _rule("network_connect_link", (("network", "connect"),), "link", _always,
          "network connect --link db:db backend web", key="policy.link"),
    _rule("network_driver_opt", (("network", "connect"),), "driver-opt", _always,
          "network connect --driver-opt com.docker.network.endpoint.sysctls=x backend web",
          key="policy.network_opt"),
    _rule("workdir_proc", RUN_EXEC, "workdir", _under_proc, "run -w /proc/self/fd/8 busybox",
          "run -w /app busybox"),
    _rule("publish_ip", RUN, "publish", _publish_ip, "run -p 192.168.1.5:8080:80 nginx",
          "run -p 127.0.0.1:8080:80 nginx"),
    _rule("registry", (*RUN, ("pull",)), None, _registry, "pull quay.io/nginx/nginx",
          "pull docker.io/library/nginx", label="IMAGE"),
    _rule("image_not_allowed", (*RUN, ("pull",)), None, _image, "run ubuntu",
          "run busybox:1.36", label="IMAGE"),
    _rule("search_registry", (("search",),), None, _search_registry,
          "search 127.0.0.1:5000/nginx", "search nginx", label="TERM"),
)  # fmt: skip

_BY_COMMAND: dict[Path, tuple[Rule, ...]] = {}
for _r in RULES:
    for _path in _r.commands:
        _BY_COMMAND[_path] = (*_BY_COMMAND.get(_path, ()), _r)


def rules_for(path: Path) -> tuple[Rule, ...]:
    """The rules that apply to the subcommand at ``path``."""
    return _BY_COMMAND.get(path, ())


def ruled_flags(path: Path) -> frozenset[str]:
    """The flags of ``path`` that some rule reads."""
    return frozenset(rule.flag for rule in rules_for(path) if rule.flag is not None)


# --------------------------------------------------------------------------------------------
# Decisions: every subcommand, every flag
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What the policy decided about one subcommand: the flags it takes as typed
    (``allowed``) and those the sandbox bounds itself where the command runs (``bounded``:
    flag → how). Every other flag of the subcommand has a rule in :data:`RULES`."""

    allowed: frozenset[str] = frozenset()
    bounded: Mapping[str, str] = field(default_factory=dict)

    @property
    def decided(self) -> frozenset[str]:
        return self.allowed | frozenset(self.bounded)


def _decide(allowed: str = "", bounded: Mapping[str, str] | None = None) -> Decision:
    return Decision(frozenset(allowed.split()), MappingProxyType(dict(bounded or {})))


_RUN_DECISION = _decide(
    "detach name env publish-all rm entrypoint interactive tty hostname user init read-only "
    "expose attach domainname mac-address group-add memory-reservation memory-swappiness "
    "cpu-shares cpuset-mems stop-signal health-cmd health-timeout health-start-period "
    "health-retries no-healthcheck quiet sig-proxy detach-keys disable-content-trust",
    {
        "cap-drop": "added to the capabilities the sandbox always drops",
        "network-alias": "a name on the learner's own networks, checked like container names",
        "cpuset-cpus": "the engine refuses CPUs the worker does not have",
        "ip": "only on the learner's own networks with a subnet (the engine checks it)",
        "cidfile": "written in the learner's host shell, like a file on their machine",
        "env-file": "read from the learner's host shell, like a file on their machine (64 KiB)",
    },
)
_NO_FLAGS = _decide()
_OWN_IMAGES = "only the learner's own images (commit, tag); shared images stay"

DECISIONS: dict[Path, Decision] = {
    ("run",): _RUN_DECISION,
    ("create",): _RUN_DECISION,
    ("exec",): _decide(
        "env user interactive tty detach-keys",
        {
            "detach": "the process runs under the sandbox's time limit for detached ones (1 h)",
            "env-file": "read from the learner's host shell, like a file on their machine (64 KiB)",
        },
    ),
    ("ps",): _decide("all quiet filter last latest no-trunc size format"),
    ("images",): _decide("quiet all no-trunc digests filter format"),
    ("start",): _decide("attach interactive detach-keys"),
    ("stop",): _decide("signal"),
    ("restart",): _decide("signal"),
    ("pause",): _NO_FLAGS,
    ("unpause",): _NO_FLAGS,
    ("kill",): _decide("signal"),
    ("wait",): _NO_FLAGS,
    ("rm",): _decide("force volumes"),
    ("logs",): _decide(
        "timestamps follow since until details",
        {"tail": "read up to the sandbox's output limit"},
    ),
    ("cp",): _decide(
        "archive follow-link quiet",
        {},
    ),
    ("inspect",): _decide("format type size"),
    ("rename",): _NO_FLAGS,
    ("top",): _NO_FLAGS,
    ("port",): _NO_FLAGS,
    ("stats",): _decide(
        "no-trunc format",
        {
            "no-stream": "always one reading (two samples)",
            "all": "the learner's own containers only",
        },
    ),
    ("diff",): _NO_FLAGS,
    ("commit",): _decide("author message pause"),
    ("search",): _decide("filter no-trunc format", {"limit": "at most 100 results"}),
    ("pull",): _decide("quiet disable-content-trust"),
    ("tag",): _NO_FLAGS,
    ("rmi",): _decide("no-prune", {"force": _OWN_IMAGES}),
    ("history",): _decide("human quiet no-trunc format"),
    ("image", "inspect"): _decide("format"),
    ("image", "prune"): _decide("force filter", {"all": _OWN_IMAGES}),
    ("container", "prune"): _decide("force filter"),
    ("volume", "create"): _decide("name"),
    ("volume", "ls"): _decide("quiet filter format"),
    ("volume", "inspect"): _decide("format"),
    ("volume", "rm"): _decide("force"),
    ("volume", "prune"): _decide("force filter all"),
    ("network", "create"): _decide(
        "attachable aux-address",
        {
            "internal": "every sandbox network is internal, asked for or not",
            "gateway": "inside the network's own subnet (the engine checks it)",
            "ip-range": "inside the network's own subnet (the engine checks it)",
        },
    ),
    ("network", "ls"): _decide("quiet filter no-trunc format"),
    ("network", "inspect"): _decide("format verbose"),
    ("network", "rm"): _decide("force"),
    ("network", "connect"): _decide(
        "",
        {
            "alias": "a name on the learner's own networks, checked like container names",
            "ip": "only on the learner's own networks with a subnet (the engine checks it)",
        },
    ),
    ("network", "disconnect"): _decide("force"),
    ("network", "prune"): _decide("force filter"),
    ("system", "df"): _decide("verbose format"),
    ("system", "prune"): _decide("all force volumes filter"),
    ("build",): _decide(
        "tag file build-arg no-cache target quiet pull rm force-rm iidfile progress"
    ),
    ("compose", "up"): _decide(
        "file project-name project-directory detach build no-build force-recreate no-recreate "
        "remove-orphans no-start wait no-deps quiet-pull no-color"
    ),
    ("compose", "down"): _decide("file project-name project-directory volumes remove-orphans rmi"),
    ("compose", "ps"): _decide("file project-name project-directory all quiet services"),
    ("compose", "logs"): _decide(
        "file project-name project-directory timestamps no-color no-log-prefix follow",
        {"tail": "read up to the sandbox's output limit"},
    ),
    ("compose", "exec"): _decide(
        "file project-name project-directory env user workdir no-TTY interactive tty index",
        {"detach": "the process runs under the sandbox's time limit for detached ones (1 h)"},
    ),
    ("compose", "stop"): _decide("file project-name project-directory"),
    ("compose", "start"): _decide("file project-name project-directory"),
    ("compose", "restart"): _decide("file project-name project-directory"),
    ("compose", "config"): _decide(
        "file project-name project-directory quiet services volumes no-interpolate"
    ),
    ("compose", "build"): _decide(
        "file project-name project-directory no-cache build-arg quiet pull"
    ),
    ("version",): _decide("format"),
    ("info",): _decide("format"),
}


def _values(cmd: DockerCommand, flag: str) -> tuple[FlagValue, ...]:
    value = cmd.flag(flag)
    if value is None or value is False:
        return ()
    if isinstance(value, tuple):
        return value
    return (value,)


def _refusal(rule: Rule, cmd: DockerCommand, config: PolicyConfig) -> Refused | None:
    if rule.flag is None:
        params = rule.test(None, cmd, config)
        if params is None:
            return None
        typed = cmd.args[0] if cmd.args else ""
        return Refused(rule.message_key, **{"flag": rule.label, "value": typed, **params})
    for value in _values(cmd, rule.flag):
        params = rule.test(value, cmd, config)
        if params is not None:
            shown = "" if value is True else str(value)
            return Refused(rule.message_key, **{"flag": "--" + rule.flag, "value": shown, **params})
    return None


def _undecided(cmd: DockerCommand) -> Refused | None:
    decision = DECISIONS.get(cmd.path)
    if decision is None:
        return Refused("policy.undecided", flag=cmd.command_name, value="")
    known = decision.decided | ruled_flags(cmd.path)
    for name, value in cmd.flags.items():
        if name not in known:
            shown = "" if isinstance(value, bool) else " ".join(cmd.values(name))
            return Refused("policy.undecided", flag="--" + name, value=shown)
    return None


def check(cmd: DockerCommand, config: PolicyConfig) -> Verdict:
    """The policy's verdict on ``cmd``; the first matching rule refuses, then any command or
    flag the policy has not decided about. Never raises."""
    for rule in rules_for(cmd.path):
        refusal = _refusal(rule, cmd, config)
        if refusal is not None:
            return Verdict(False, refusal, ())
    undecided = _undecided(cmd)
    if undecided is not None:
        return Verdict(False, undecided, ())
    return Verdict(True, None, ())  # what -p really does is told by the run itself


def enforce(cmd: DockerCommand, config: PolicyConfig) -> tuple[str, ...]:
    """Raise :class:`Refused` when the policy refuses ``cmd``; else every note to show
    (the parser's notes, then the policy's)."""
    verdict = check(cmd, config)
    if verdict.refusal is not None:
        raise verdict.refusal
    return tuple(dict.fromkeys(cmd.notes + verdict.notes))


def rules_markdown() -> str:
    """The rule table as Markdown, for the docs."""
    lines = ["| rule | commands | flag | refused | allowed |", "|---|---|---|---|---|"]
    for rule in RULES:
        commands = ", ".join(" ".join(p) for p in rule.commands)
        flag = f"--{rule.flag}" if rule.flag else rule.label
        allowed = f"`docker {rule.allowed}`" if rule.allowed else "—"
        lines.append(f"| {rule.name} | {commands} | {flag} | `docker {rule.refused}` | {allowed} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Dockerfiles and compose services: the same rules, named in their own words
# --------------------------------------------------------------------------------------------

# What each RUN/HEALTHCHECK/WORKDIR/USER flag of a Dockerfile is as a ``docker run`` flag: a
# build step is a container the coach creates, so it passes the rules ``docker run`` does.
_RUN_STEP_FLAGS: dict[str, str] = {"network": "network"}
_COPY_FLAGS = frozenset({"from", "chown", "chmod", "link"})
_ADD_FLAGS = frozenset({"chown", "chmod", "link"})
_HEALTH_FLAGS = {"interval": "health-interval", "timeout": "health-timeout",
                 "start-period": "health-start-period", "retries": "health-retries",
                 "start-interval": "health-start-interval"}  # fmt: skip


def _where(item: Instruction) -> str:
    return f"Dockerfile:{item.line} {item.keyword}"


def _as_run(item: Instruction, flags: dict[str, FlagValue], config: PolicyConfig) -> None:
    """Check ``flags`` as the ``docker run`` flags they stand for; a refusal names the
    instruction (``Dockerfile:3 RUN --network``) instead of the run flag."""
    cmd = DockerCommand(("run",), MappingProxyType(flags), ("busybox",))
    for rule in rules_for(("run",)):
        if rule.flag is None:
            continue
        refusal = _refusal(rule, cmd, config)
        if refusal is not None:
            back = {v: k for k, v in {**_RUN_STEP_FLAGS, **_HEALTH_FLAGS}.items()}
            shown = back.get(rule.flag, rule.flag)
            params = {**refusal.params, "flag": f"{_where(item)} --{shown}"}
            if rule.flag == "privileged":
                params["flag"] = f"{_where(item)} --security=insecure"
            if rule.flag == "workdir":
                params["flag"] = _where(item)
            raise Refused(refusal.key, **params)


def _run_step(item: Instruction, config: PolicyConfig) -> None:
    flags: dict[str, FlagValue] = {}
    for name, value in item.flags.items():
        if name == "mount":
            raise Refused("policy.build_mount", flag=f"{_where(item)} --mount", value=value)
        if name == "security":
            if value == "insecure":
                flags["privileged"] = True
            continue  # sandbox is the default
        if name == "network":
            if value == "default":
                raise Refused("policy.build_network", flag=f"{_where(item)} --network", value=value)
            flags["network"] = value
            continue
        raise Refused("policy.undecided", flag=f"{_where(item)} --{name}", value=value)
    _as_run(item, flags, config)


def _copy_step(item: Instruction, stages: Dockerfile, before: int, config: PolicyConfig) -> None:
    allowed = _COPY_FLAGS if item.keyword == "COPY" else _ADD_FLAGS
    for name, value in item.flags.items():
        if name not in allowed:
            raise Refused("policy.undecided", flag=f"{_where(item)} --{name}", value=value)
    source = item.flags.get("from")
    if source is not None:
        index = stages.stage_index(source)
        if index is None or index >= before:
            raise Refused("policy.copy_from", flag=f"{_where(item)} --from", value=source)
    if item.keyword == "ADD":
        for arg in item.args[:-1]:
            if "://" in arg or arg.startswith("git@"):
                raise Refused("policy.add_url", flag=_where(item), value=arg)


def _label_step(item: Instruction, config: PolicyConfig) -> None:
    for key in item.args[::2]:
        if key.strip("\"'").lower().startswith(config.label_prefix.lower()):
            raise Refused(
                "policy.label_prefix", flag=_where(item), value=key, prefix=config.label_prefix
            )


def _health_step(item: Instruction, config: PolicyConfig) -> None:
    flags: dict[str, FlagValue] = {}
    for name, value in item.flags.items():
        flag = _HEALTH_FLAGS.get(name)
        if flag is None:
            raise Refused("policy.undecided", flag=f"{_where(item)} --{name}", value=value)
        flags[flag] = value
    _as_run(item, flags, config)


def check_base_image(item: Instruction, ref: str, config: PolicyConfig) -> None:
    """A stage's ``FROM`` image: the learner's own, or one the allowlist allows."""
    if config.own_images is not None:
        try:
            if parse_image_reference(ref).name in config.own_images:
                return
        except CliError:
            pass
    for name, value in item.flags.items():
        if name == "platform":
            raise Refused("policy.platform", flag=f"{_where(item)} --platform", value=value)
        raise Refused("policy.undecided", flag=f"{_where(item)} --{name}", value=value)
    try:
        check_image_reference(ref, config)
    except Refused as refusal:
        raise Refused(refusal.key, **{**refusal.params, "flag": _where(item)}) from None


def check_dockerfile(dockerfile: Dockerfile, config: PolicyConfig) -> None:
    """Raise :class:`Refused` for the first instruction the sandbox does not allow (base
    images are checked where they are resolved, :func:`check_base_image`)."""
    for stage in dockerfile.stages:
        for item in stage.steps:
            if item.keyword == "RUN":
                _run_step(item, config)
            elif item.keyword in ("COPY", "ADD"):
                _copy_step(item, dockerfile, stage.index, config)
            elif item.keyword == "LABEL":
                _label_step(item, config)
            elif item.keyword == "HEALTHCHECK":
                _health_step(item, config)
            elif item.keyword == "ONBUILD":
                raise Refused("policy.onbuild", flag=_where(item), value="")
            elif item.keyword == "WORKDIR":
                _as_run(item, {"workdir": " ".join(item.args)}, config)
            elif item.flags:
                name, value = next(iter(item.flags.items()))
                raise Refused("policy.undecided", flag=f"{_where(item)} --{name}", value=value)


def check_service(service: ServiceCommand, config: PolicyConfig) -> None:
    """A compose service through the rules of ``docker create``, the refusal naming the
    service's key (``services.web.privileged``) instead of the run flag."""
    verdict = check(service.command, config)
    if verdict.refusal is None:
        return
    refusal = verdict.refusal
    flag = str(refusal.params.get("flag", "")).removeprefix("--")
    key = service.keys.get(flag)
    params = dict(refusal.params)
    if key:
        params["flag"] = key
    elif refusal.key in ("policy.image_not_allowed", "policy.registry"):
        params["flag"] = service.keys.get("image", "image")
    elif refusal.key == "policy.undecided":
        params["flag"] = service.keys.get(flag, params.get("flag", ""))
    raise Refused(refusal.key, **params)
