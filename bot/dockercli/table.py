"""The command table: every docker subcommand the sandbox knows, as data.

:data:`COMMANDS` maps each canonical path (``("run",)``, ``("volume", "create")``) to its
:class:`~bot.dockercli.model.SubcommandSpec`: flags (long name, short letter, whether it takes a
value, whether it repeats, how its value is checked), whether options may follow positionals,
how many positionals it takes, its ``--filter`` keys and its ``--format`` language.
:data:`ROUTES` maps the words a learner may type (``container ls``, ``image pull``) to those
paths; :data:`NOT_IN_SANDBOX` names the real docker commands the sandbox does not run, so that
they get a clear answer instead of "unknown".

Adding a subcommand: an entry here, an operation in ``bot/sandbox/ops`` and a policy decision
in ``bot/sandbox/policy.py`` (a test checks that the three tables agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.dockercli.model import Flag, Path, SubcommandSpec
from bot.dockercli.output import (
    DF_FORMAT,
    HISTORY_FORMAT,
    IMAGES_FORMAT,
    NETWORKS_FORMAT,
    PS_FORMAT,
    SEARCH_FORMAT,
    STATS_FORMAT,
    VOLUMES_FORMAT,
)
from bot.dockercli.templates import OBJECT_FORMAT
from bot.dockercli.values import (
    PS_STATUSES,
    FilterValue,
    ValueCheck,
    any_value,
    boolean_value,
    check_absolute,
    check_attach,
    check_count,
    check_cpus,
    check_cpuset,
    check_duration,
    check_expose,
    check_image,
    check_ip,
    check_label,
    check_limit,
    check_mount,
    check_object_type,
    check_option,
    check_publish,
    check_pull,
    check_restart,
    check_signal,
    check_size,
    check_tail,
    check_timestamp,
    check_volume,
    digits_value,
    health_value,
    one_of,
    port_value,
    timestamp_value,
)


def _f(spec: str, check: ValueCheck | None = None, note: str | None = None, **extra: Any) -> Flag:
    """A compact way to write a flag: ``"d|detach"``, ``"name="``, ``"e|env=*"``."""
    repeat = spec.endswith("*")
    spec = spec.rstrip("*")
    value = spec.endswith("=")
    spec = spec.rstrip("=")
    short, _, name = spec.rpartition("|")
    return Flag(name, short or None, value, repeat, check, note=note, **extra)


_INTERACTIVE = "cli.note_interactive"

# Flags of ``run`` and ``create``. Supported ones first, then the ones the policy bounds or
# refuses by name (they must parse so that the refusal can name them).
RUN_FLAGS: tuple[Flag, ...] = (
    _f("d|detach"),
    _f("name="),
    _f("e|env=*"),
    _f("env-file=*"),
    _f("v|volume=*", check_volume),
    _f("mount=*", check_mount),
    _f("p|publish=*", check_publish),
    _f("P|publish-all"),
    _f("expose=*", check_expose),
    _f("network=", aliases=("net",)),
    _f("network-alias=*", aliases=("net-alias",)),
    _f("ip=", check_ip),
    _f("rm"),
    _f("w|workdir="),
    _f("entrypoint="),
    _f("i|interactive", note=_INTERACTIVE),
    _f("t|tty", note=_INTERACTIVE),
    _f("a|attach=*", check_attach),
    _f("l|label=*", check_label),
    _f("h|hostname="),
    _f("domainname="),
    _f("mac-address="),
    _f("u|user="),
    _f("group-add=*"),
    _f("restart=", check_restart),
    _f("init"),
    _f("m|memory=", check_size),
    _f("memory-reservation=", check_size),
    _f("memory-swappiness=", check_count),
    _f("cpus=", check_cpus),
    _f("c|cpu-shares=", check_count),
    _f("cpuset-cpus=", check_cpuset),
    _f("cpuset-mems=", check_cpuset),
    _f("read-only"),
    _f("tmpfs=*", check_absolute),
    _f("stop-timeout=", check_count),
    _f("stop-signal=", check_signal),
    _f("health-cmd="),
    _f("health-interval=", check_duration),
    _f("health-timeout=", check_duration),
    _f("health-start-period=", check_duration),
    _f("health-retries=", check_count),
    _f("no-healthcheck"),
    _f("cidfile="),
    _f("q|quiet"),
    _f("sig-proxy"),
    _f("detach-keys="),
    _f("disable-content-trust"),
    # refused or limited by the policy
    _f("privileged"),
    _f("cap-add=*"),
    _f("cap-drop=*"),
    _f("device=*"),
    _f("device-cgroup-rule=*"),
    _f("gpus="),
    _f("pid="),
    _f("ipc="),
    _f("uts="),
    _f("userns="),
    _f("cgroupns="),
    _f("security-opt=*"),
    _f("sysctl=*"),
    _f("cgroup-parent="),
    _f("runtime="),
    _f("isolation="),
    _f("oom-kill-disable"),
    _f("oom-score-adj="),
    _f("volumes-from=*"),
    _f("volume-driver="),
    _f("add-host=*"),
    _f("dns=*"),
    _f("dns-search=*"),
    _f("dns-option=*", aliases=("dns-opt",)),
    _f("link=*"),
    _f("ip6="),
    _f("link-local-ip=*"),
    _f("shm-size=", check_size),
    _f("ulimit=*"),
    _f("memory-swap="),
    _f("kernel-memory="),
    _f("pids-limit="),
    _f("cpu-period="),
    _f("cpu-quota="),
    _f("cpu-rt-period="),
    _f("cpu-rt-runtime="),
    _f("cpu-count="),
    _f("cpu-percent="),
    _f("blkio-weight="),
    _f("blkio-weight-device=*"),
    _f("device-read-bps=*"),
    _f("device-read-iops=*"),
    _f("device-write-bps=*"),
    _f("device-write-iops=*"),
    _f("io-maxbandwidth="),
    _f("io-maxiops="),
    _f("log-driver="),
    _f("log-opt=*"),
    _f("storage-opt=*"),
    _f("label-file=*"),
    _f("platform="),
    _f("pull=", check_pull),
    _f("health-start-interval=", check_duration),
    _f("annotation=*"),
    _f("use-api-socket"),
)

# Real ``docker run`` flags the sandbox does not offer: named precisely instead of "unknown".
RUN_UNSUPPORTED: tuple[str, ...] = ("cgroup-rw",)

_FILTER = _f("f|filter=*")
_QUIET = _f("q|quiet")
_FORCE = _f("f|force")
_FORMAT = _f("format=")

# ``docker build`` (the classic builder's flags; the refused ones parse so the refusal names them)
BUILD_FLAGS: tuple[Flag, ...] = (
    _f("t|tag=*", check_image), _f("f|file="), _f("build-arg=*"), _f("no-cache"),
    _f("target="), _f("q|quiet"), _f("pull"), _f("rm"), _f("force-rm"),
    _f("label=*", check_label), _f("iidfile="), _f("progress="),
    # refused or limited by the policy
    _f("network="), _f("add-host=*"), _f("security-opt=*"), _f("platform="),
    _f("m|memory=", check_size), _f("shm-size=", check_size), _f("ulimit=*"),
    _f("cgroup-parent="), _f("isolation="), _f("cpus=", check_cpus),
)  # fmt: skip
BUILD_UNSUPPORTED: tuple[str, ...] = (
    "secret", "ssh", "o|output", "allow", "builder", "push", "load", "cache-to", "cache-from",
    "sbom", "provenance", "attest", "squash", "compress", "memory-swap", "cpu-shares",
)  # fmt: skip

# ``docker compose``: the options every compose subcommand takes (typed before or after it)
COMPOSE_GLOBAL_FLAGS: tuple[Flag, ...] = (
    _f("f|file=*"),
    _f("p|project-name="),
    _f("project-directory="),
)
COMPOSE_GLOBAL_VALUED = frozenset({"-f", "--file", "-p", "--project-name", "--project-directory"})
_SERVICES = "[SERVICE...]"


def _compose(*flags: Flag, **extra: Any) -> SubcommandSpec:
    """A compose subcommand: its flags and compose's own options (whose letter it may take
    for itself, as ``logs -f`` does: ``-f FILE`` then goes before the subcommand)."""
    letters = {flag.short for flag in flags if flag.short}
    shared = tuple(
        replace(f, short=None) if f.short in letters else f for f in COMPOSE_GLOBAL_FLAGS
    )
    return SubcommandSpec((*shared, *flags), **extra)


COMPOSE_COMMANDS: dict[Path, SubcommandSpec] = {
    ("compose", "up"): _compose(
        _f("d|detach"), _f("build"), _f("no-build"), _f("force-recreate"),
        _f("no-recreate"), _f("remove-orphans"), _f("no-start"), _f("wait"),
        _f("no-deps"), _f("quiet-pull"), _f("no-color"), usage=_SERVICES,
        unsupported=("abort-on-container-exit", "scale", "attach", "watch", "y|yes"),
    ),
    ("compose", "down"): _compose(
        _f("v|volumes"), _f("remove-orphans"), _f("t|timeout=", check_count),
        _f("rmi="), max_args=0,
    ),
    ("compose", "ps"): _compose(
        _f("a|all"), _QUIET, _f("services"), usage=_SERVICES, unsupported=("format", "filter"),
    ),
    ("compose", "logs"): _compose(
        _f("t|timestamps"), _f("n|tail=", check_tail), _f("no-color"), _f("no-log-prefix"),
        _f("f|follow", note="cli.note_follow"), usage=_SERVICES,
    ),
    ("compose", "exec"): _compose(
        _f("d|detach"), _f("e|env=*"), _f("u|user="), _f("w|workdir="), _f("T|no-TTY"),
        _f("i|interactive", note=_INTERACTIVE), _f("t|tty", note=_INTERACTIVE),
        _f("index=", check_count), _f("privileged"),
        interspersed=False, min_args=2, usage="SERVICE COMMAND [ARGS...]",
    ),
    ("compose", "stop"): _compose(_f("t|timeout=", check_count), usage=_SERVICES),
    ("compose", "start"): _compose(usage=_SERVICES),
    ("compose", "restart"): _compose(_f("t|timeout=", check_count), usage=_SERVICES),
    ("compose", "config"): _compose(
        _QUIET, _f("services"), _f("volumes"), _f("no-interpolate"), max_args=0,
    ),
    ("compose", "build"): _compose(
        _f("no-cache"), _f("build-arg=*"), _QUIET, _f("pull"), usage=_SERVICES,
    ),
}  # fmt: skip
COMPOSE_VERBS = tuple(path[1] for path in COMPOSE_COMMANDS)

_LABEL_FILTERS: Mapping[str, FilterValue] = {"label": any_value, "label!": any_value}
_PRUNE_FILTERS: Mapping[str, FilterValue] = {**_LABEL_FILTERS, "until": timestamp_value}
PS_FILTERS: Mapping[str, FilterValue] = {
    "name": any_value, "status": one_of(*PS_STATUSES), "ancestor": any_value, "id": any_value,
    "label": any_value, "exited": digits_value, "before": any_value, "since": any_value,
    "volume": any_value, "network": any_value, "publish": port_value, "expose": port_value,
    "health": health_value, "isolation": any_value, "is-task": boolean_value,
}  # fmt: skip
IMAGE_FILTERS: Mapping[str, FilterValue] = {
    "dangling": boolean_value, "label": any_value, "before": any_value, "since": any_value,
    "reference": any_value, "until": timestamp_value,
}  # fmt: skip
_CONTAINER_ARGS = "CONTAINER [CONTAINER...]"

COMMANDS: dict[Path, SubcommandSpec] = {
    ("run",): SubcommandSpec(
        RUN_FLAGS, interspersed=False, min_args=1, usage="IMAGE [COMMAND] [ARG...]",
        unsupported=RUN_UNSUPPORTED,
    ),
    ("create",): SubcommandSpec(
        RUN_FLAGS, interspersed=False, min_args=1, usage="IMAGE [COMMAND] [ARG...]",
        unsupported=RUN_UNSUPPORTED,
    ),
    ("exec",): SubcommandSpec(
        (
            _f("d|detach"), _f("e|env=*"), _f("w|workdir="), _f("u|user="),
            _f("i|interactive", note=_INTERACTIVE), _f("t|tty", note=_INTERACTIVE),
            _f("privileged"), _f("detach-keys="), _f("env-file=*"),
        ),
        interspersed=False, min_args=2, usage="CONTAINER COMMAND [ARG...]",
    ),
    ("ps",): SubcommandSpec(
        (
            _f("a|all"), _QUIET, _FILTER, _f("n|last=", check_count), _f("l|latest"),
            _f("no-trunc"), _f("s|size"), _FORMAT,
        ),
        max_args=0, filters=PS_FILTERS, format=PS_FORMAT,
    ),
    ("images",): SubcommandSpec(
        (_QUIET, _f("a|all"), _f("no-trunc"), _f("digests"), _FILTER, _FORMAT),
        max_args=1, usage="[REPOSITORY[:TAG]]", filters=IMAGE_FILTERS, format=IMAGES_FORMAT,
        unsupported=("tree",),
    ),
    ("start",): SubcommandSpec(
        (
            _f("a|attach", note="cli.note_attach"), _f("i|interactive", note=_INTERACTIVE),
            _f("detach-keys="),
        ),
        min_args=1, usage=_CONTAINER_ARGS, unsupported=("checkpoint", "checkpoint-dir"),
    ),
    ("stop",): SubcommandSpec(
        (_f("t|time=", check_count), _f("s|signal=", check_signal)),
        min_args=1, usage=_CONTAINER_ARGS,
    ),
    ("restart",): SubcommandSpec(
        (_f("t|time=", check_count), _f("s|signal=", check_signal)),
        min_args=1, usage=_CONTAINER_ARGS,
    ),
    ("pause",): SubcommandSpec(min_args=1, usage=_CONTAINER_ARGS),
    ("unpause",): SubcommandSpec(min_args=1, usage=_CONTAINER_ARGS),
    ("kill",): SubcommandSpec((_f("s|signal=", check_signal),), min_args=1, usage=_CONTAINER_ARGS),
    ("wait",): SubcommandSpec(min_args=1, usage=_CONTAINER_ARGS),
    ("rm",): SubcommandSpec(
        (_f("f|force"), _f("v|volumes"), _f("l|link")), min_args=1, usage=_CONTAINER_ARGS,
    ),
    ("logs",): SubcommandSpec(
        (
            _f("n|tail=", check_tail), _f("t|timestamps"),
            _f("f|follow", note="cli.note_follow"), _f("since=", check_timestamp),
            _f("until=", check_timestamp), _f("details"),
        ),
        min_args=1, max_args=1, usage="CONTAINER",
    ),
    ("cp",): SubcommandSpec(
        (_f("a|archive"), _f("L|follow-link"), _f("q|quiet")),
        min_args=2, max_args=2, usage="SRC DEST (one of them CONTAINER:PATH)",
    ),
    ("inspect",): SubcommandSpec(
        (_f("f|format="), _f("type=", check_object_type), _f("s|size")),
        min_args=1, usage="NAME|ID [NAME|ID...]", format=OBJECT_FORMAT,
    ),
    ("rename",): SubcommandSpec(min_args=2, max_args=2, usage="CONTAINER NEW_NAME"),
    ("top",): SubcommandSpec(interspersed=False, min_args=1, usage="CONTAINER [ps OPTIONS]"),
    ("port",): SubcommandSpec(min_args=1, max_args=2, usage="CONTAINER [PRIVATE_PORT[/PROTO]]"),
    ("stats",): SubcommandSpec(
        (_f("no-stream"), _f("a|all"), _f("no-trunc"), _FORMAT), usage="[CONTAINER...]",
        format=STATS_FORMAT,
    ),
    ("diff",): SubcommandSpec(min_args=1, max_args=1, usage="CONTAINER"),
    ("commit",): SubcommandSpec(
        (_f("a|author="), _f("m|message="), _f("c|change=*"), _f("p|pause")),
        min_args=1, max_args=2, usage="CONTAINER [REPOSITORY[:TAG]]",
    ),
    ("search",): SubcommandSpec(
        (_f("limit=", check_limit), _FILTER, _f("no-trunc"), _FORMAT),
        min_args=1, max_args=1, usage="TERM",
        filters={
            "is-official": boolean_value, "stars": digits_value, "is-automated": boolean_value,
        },
        format=SEARCH_FORMAT,
    ),
    ("pull",): SubcommandSpec(
        (_QUIET, _f("a|all-tags"), _f("platform="), _f("disable-content-trust")),
        min_args=1, max_args=1, usage="NAME[:TAG]",
    ),
    ("tag",): SubcommandSpec(min_args=2, max_args=2, usage="SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"),
    ("rmi",): SubcommandSpec(
        (_FORCE, _f("no-prune")), min_args=1, usage="IMAGE [IMAGE...]",
    ),
    ("history",): SubcommandSpec(
        (_f("H|human"), _QUIET, _f("no-trunc"), _FORMAT),
        min_args=1, max_args=1, usage="IMAGE", format=HISTORY_FORMAT,
    ),
    ("image", "inspect"): SubcommandSpec(
        (_f("f|format="),), min_args=1, usage="IMAGE [IMAGE...]", format=OBJECT_FORMAT
    ),
    ("image", "prune"): SubcommandSpec(
        (_FORCE, _f("a|all"), _f("filter=*")), max_args=0, filters=_PRUNE_FILTERS,
    ),
    ("container", "prune"): SubcommandSpec(
        (_FORCE, _f("filter=*")), max_args=0, filters=_PRUNE_FILTERS
    ),
    ("volume", "create"): SubcommandSpec(
        (
            _f("d|driver="), _f("o|opt=*", check_option), _f("label=*", check_label),
            _f("name="),
        ),
        max_args=1, usage="[VOLUME]",
    ),
    ("volume", "ls"): SubcommandSpec(
        (_QUIET, _FILTER, _FORMAT), max_args=0, format=VOLUMES_FORMAT,
        filters={
            "name": any_value, "label": any_value, "dangling": boolean_value, "driver": any_value,
        },
    ),
    ("volume", "inspect"): SubcommandSpec(
        (_f("f|format="),), min_args=1, usage="VOLUME [VOLUME...]", format=OBJECT_FORMAT
    ),
    ("volume", "rm"): SubcommandSpec((_FORCE,), min_args=1, usage="VOLUME [VOLUME...]"),
    ("volume", "prune"): SubcommandSpec(
        (_FORCE, _f("filter=*"), _f("a|all")), max_args=0, filters=_LABEL_FILTERS
    ),
    ("network", "create"): SubcommandSpec(
        (
            _f("d|driver="), _f("internal"), _f("subnet=*"), _f("gateway=*"),
            _f("ip-range=*"), _f("label=*", check_label), _f("o|opt=*", check_option),
            _f("attachable"), _f("ipv6"), _f("scope="), _f("ipam-driver="),
            _f("aux-address=*"), _f("ipam-opt=*"),
        ),
        min_args=1, max_args=1, usage="NETWORK",
    ),
    ("network", "ls"): SubcommandSpec(
        (_QUIET, _FILTER, _f("no-trunc"), _FORMAT), max_args=0, format=NETWORKS_FORMAT,
        filters={
            "name": any_value, "label": any_value, "driver": any_value, "id": any_value,
            "type": one_of("custom", "builtin"), "dangling": boolean_value,
            "scope": one_of("local", "swarm", "global"),
        },
    ),
    ("network", "inspect"): SubcommandSpec(
        (_f("f|format="), _f("v|verbose")), min_args=1, usage="NETWORK [NETWORK...]",
        format=OBJECT_FORMAT,
    ),
    ("network", "rm"): SubcommandSpec((_FORCE,), min_args=1, usage="NETWORK [NETWORK...]"),
    ("network", "connect"): SubcommandSpec(
        (_f("alias=*"), _f("ip=", check_ip), _f("ip6="), _f("link=*"), _f("link-local-ip=*"),
         _f("driver-opt=*")),
        min_args=2, max_args=2, usage="NETWORK CONTAINER",
    ),
    ("network", "disconnect"): SubcommandSpec(
        (_FORCE,), min_args=2, max_args=2, usage="NETWORK CONTAINER"
    ),
    ("network", "prune"): SubcommandSpec(
        (_FORCE, _f("filter=*")), max_args=0, filters=_PRUNE_FILTERS
    ),
    ("system", "df"): SubcommandSpec(
        (_f("v|verbose"), _FORMAT), max_args=0, format=DF_FORMAT,
    ),
    ("system", "prune"): SubcommandSpec(
        (_f("a|all"), _FORCE, _f("volumes"), _f("filter=*")), max_args=0, filters=_PRUNE_FILTERS,
    ),
    ("build",): SubcommandSpec(
        BUILD_FLAGS, min_args=1, max_args=1, usage="PATH", unsupported=BUILD_UNSUPPORTED,
    ),
    **COMPOSE_COMMANDS,
    ("version",): SubcommandSpec((_f("f|format="),), max_args=0, format=OBJECT_FORMAT),
    ("info",): SubcommandSpec((_f("f|format="),), max_args=0, format=OBJECT_FORMAT),
}  # fmt: skip

# Words that reach a canonical path: the short forms and the management-command forms.
_CONTAINER_VERBS = (
    "run", "create", "start", "stop", "restart", "pause", "unpause", "kill", "rm", "logs",
    "exec", "cp", "inspect", "rename", "top", "port", "stats", "wait", "diff", "commit",
)  # fmt: skip
_TOP_LEVEL = (
    *_CONTAINER_VERBS, "ps", "images", "search", "pull", "tag", "rmi", "history", "version",
    "info", "build",
)  # fmt: skip
ROUTES: dict[Path, Path] = {
    **{(verb,): (verb,) for verb in _TOP_LEVEL},
    **{("container", verb): (verb,) for verb in _CONTAINER_VERBS},
    ("container", "ls"): ("ps",),
    ("container", "list"): ("ps",),
    ("container", "ps"): ("ps",),
    ("container", "remove"): ("rm",),
    ("container", "prune"): ("container", "prune"),
    ("image", "ls"): ("images",),
    ("image", "list"): ("images",),
    ("image", "pull"): ("pull",),
    ("image", "tag"): ("tag",),
    ("image", "rm"): ("rmi",),
    ("image", "remove"): ("rmi",),
    ("image", "history"): ("history",),
    ("image", "inspect"): ("image", "inspect"),
    ("image", "prune"): ("image", "prune"),
    ("image", "build"): ("build",),
    ("buildx", "build"): ("build",),
    **{path: path for path in COMPOSE_COMMANDS},
    **{("volume", verb): ("volume", verb) for verb in ("create", "ls", "inspect", "rm", "prune")},
    ("volume", "list"): ("volume", "ls"),
    ("volume", "remove"): ("volume", "rm"),
    **{
        ("network", verb): ("network", verb)
        for verb in ("create", "ls", "inspect", "rm", "connect", "disconnect", "prune")
    },
    ("network", "list"): ("network", "ls"),
    ("network", "remove"): ("network", "rm"),
    ("system", "df"): ("system", "df"),
    ("system", "prune"): ("system", "prune"),
    ("system", "info"): ("info",),
}
GROUPS = ("container", "image", "volume", "network", "system", "compose", "buildx")

# Real docker commands the sandbox does not run (a clear message instead of "unknown").
NOT_IN_SANDBOX: frozenset[str] = frozenset(
    {
        "attach", "builder", "checkpoint", "config",
        "context", "debug", "events", "export", "help", "import", "init", "load", "login",
        "logout", "manifest", "node", "plugin", "push", "save", "scout", "secret", "service",
        "stack", "swarm", "trust", "update",
        "container attach", "container export", "container update",
        "image import", "image load", "image push", "image save",
        "volume update", "system events", "system dial-stdio", "buildx bake", "buildx ls",
        "compose run", "compose create", "compose rm", "compose pull", "compose push",
        "compose kill", "compose pause", "compose unpause", "compose top", "compose images",
        "compose port", "compose cp", "compose events", "compose ls", "compose watch",
        "compose scale", "compose wait", "compose attach", "compose stats", "compose version",
    }
)  # fmt: skip
