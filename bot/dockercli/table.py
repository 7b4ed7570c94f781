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
from typing import Any

from bot.dockercli.model import Flag, Path, SubcommandSpec
from bot.dockercli.output import PS_FORMAT, SEARCH_FORMAT
from bot.dockercli.templates import OBJECT_FORMAT
from bot.dockercli.values import (
    PS_STATUSES,
    FilterValue,
    ValueCheck,
    any_value,
    boolean_value,
    check_absolute,
    check_count,
    check_cpus,
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
    check_volume,
    digits_value,
    one_of,
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

# Flags of ``run`` and ``create``. Supported ones first, then the ones the policy refuses by
# name (they must parse so that the refusal can name them).
RUN_FLAGS: tuple[Flag, ...] = (
    _f("d|detach"),
    _f("name="),
    _f("e|env=*"),
    _f("env-file=*"),
    _f("v|volume=*", check_volume),
    _f("mount=*", check_mount),
    _f("p|publish=*", check_publish),
    _f("P|publish-all"),
    _f("network=", aliases=("net",)),
    _f("network-alias=*", aliases=("net-alias",)),
    _f("rm"),
    _f("w|workdir="),
    _f("entrypoint="),
    _f("i|interactive", note=_INTERACTIVE),
    _f("t|tty", note=_INTERACTIVE),
    _f("l|label=*", check_label),
    _f("h|hostname="),
    _f("u|user="),
    _f("restart=", check_restart),
    _f("init"),
    _f("m|memory=", check_size),
    _f("cpus=", check_cpus),
    _f("read-only"),
    _f("tmpfs=*", check_absolute),
    _f("stop-timeout=", check_count),
    # refused or limited by the policy
    _f("privileged"),
    _f("cap-add=*"),
    _f("cap-drop=*"),
    _f("device=*"),
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
    _f("oom-kill-disable"),
    _f("volumes-from=*"),
    _f("volume-driver="),
    _f("add-host=*"),
    _f("dns=*"),
    _f("link=*"),
    _f("shm-size=", check_size),
    _f("ulimit=*"),
    _f("memory-swap="),
    _f("pids-limit="),
    _f("log-driver="),
    _f("log-opt=*"),
    _f("platform="),
    _f("pull=", check_pull),
)

# Real ``docker run`` flags the sandbox does not offer: named precisely instead of "unknown".
RUN_UNSUPPORTED: tuple[str, ...] = (
    "a|attach", "annotation", "blkio-weight", "blkio-weight-device", "cgroup-rw", "cidfile",
    "c|cpu-shares", "cpu-period", "cpu-quota", "cpu-rt-period", "cpu-rt-runtime",
    "cpuset-cpus", "cpuset-mems", "detach-keys", "device-cgroup-rule", "device-read-bps",
    "device-read-iops", "device-write-bps", "device-write-iops", "disable-content-trust",
    "dns-option", "dns-opt", "dns-search", "domainname", "expose", "group-add", "health-cmd",
    "health-interval", "health-retries", "health-start-interval", "health-start-period",
    "health-timeout", "ip", "ip6", "isolation", "kernel-memory", "label-file", "link-local-ip",
    "mac-address", "memory-reservation", "memory-swappiness", "no-healthcheck",
    "oom-score-adj", "q|quiet", "sig-proxy", "stop-signal", "storage-opt", "use-api-socket",
)  # fmt: skip

_FILTER = _f("f|filter=*")
_QUIET = _f("q|quiet")
_FORCE = _f("f|force")

_LABEL_FILTERS: Mapping[str, FilterValue] = {"label": any_value, "label!": any_value}

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
            _f("privileged"),
        ),
        interspersed=False, min_args=2, usage="CONTAINER COMMAND [ARG...]",
        unsupported=("detach-keys", "env-file"),
    ),
    ("ps",): SubcommandSpec(
        (
            _f("a|all"), _QUIET, _FILTER, _f("n|last=", check_count), _f("l|latest"),
            _f("no-trunc"), _f("s|size"), _f("format="),
        ),
        max_args=0,
        filters={
            "name": any_value, "status": one_of(*PS_STATUSES), "ancestor": any_value,
            "id": any_value, "label": any_value,
        },
        format=PS_FORMAT,
    ),
    ("images",): SubcommandSpec(
        (_QUIET, _f("a|all"), _f("no-trunc")), max_args=1, usage="[REPOSITORY[:TAG]]",
        unsupported=("digests", "f|filter", "format", "tree"),
    ),
    ("start",): SubcommandSpec(
        (_f("a|attach", note="cli.note_attach"), _f("i|interactive", note=_INTERACTIVE)),
        min_args=1, usage="CONTAINER [CONTAINER...]",
        unsupported=("detach-keys", "checkpoint", "checkpoint-dir"),
    ),
    ("stop",): SubcommandSpec(
        (_f("t|time=", check_count), _f("s|signal=", check_signal)),
        min_args=1, usage="CONTAINER [CONTAINER...]",
    ),
    ("restart",): SubcommandSpec(
        (_f("t|time=", check_count), _f("s|signal=", check_signal)),
        min_args=1, usage="CONTAINER [CONTAINER...]",
    ),
    ("pause",): SubcommandSpec(min_args=1, usage="CONTAINER [CONTAINER...]"),
    ("unpause",): SubcommandSpec(min_args=1, usage="CONTAINER [CONTAINER...]"),
    ("kill",): SubcommandSpec(
        (_f("s|signal=", check_signal),), min_args=1, usage="CONTAINER [CONTAINER...]"
    ),
    ("rm",): SubcommandSpec(
        (_f("f|force"), _f("v|volumes")), min_args=1, usage="CONTAINER [CONTAINER...]",
        unsupported=("l|link",),
    ),
    ("logs",): SubcommandSpec(
        (
            _f("n|tail=", check_tail), _f("t|timestamps"),
            _f("f|follow", note="cli.note_follow"),
        ),
        min_args=1, max_args=1, usage="CONTAINER",
        unsupported=("details", "since", "until"),
    ),
    ("cp",): SubcommandSpec(
        (_f("a|archive"), _f("L|follow-link")),
        min_args=2, max_args=2, usage="SRC DEST (one of them CONTAINER:PATH)",
        unsupported=("q|quiet",),
    ),
    ("inspect",): SubcommandSpec(
        (_f("f|format="), _f("type=", check_object_type), _f("s|size")),
        min_args=1, usage="NAME|ID [NAME|ID...]", format=OBJECT_FORMAT,
    ),
    ("rename",): SubcommandSpec(min_args=2, max_args=2, usage="CONTAINER NEW_NAME"),
    ("top",): SubcommandSpec(interspersed=False, min_args=1, usage="CONTAINER [ps OPTIONS]"),
    ("port",): SubcommandSpec(min_args=1, max_args=2, usage="CONTAINER [PRIVATE_PORT[/PROTO]]"),
    ("stats",): SubcommandSpec(
        (_f("no-stream"), _f("a|all"), _f("no-trunc")), usage="[CONTAINER...]",
        unsupported=("format",),
    ),
    ("search",): SubcommandSpec(
        (_f("limit=", check_limit), _FILTER, _f("no-trunc"), _f("format=")),
        min_args=1, max_args=1, usage="TERM",
        filters={"is-official": boolean_value, "stars": digits_value}, format=SEARCH_FORMAT,
    ),
    ("pull",): SubcommandSpec(
        (_QUIET, _f("a|all-tags"), _f("platform=")),
        min_args=1, max_args=1, usage="NAME[:TAG]",
        unsupported=("disable-content-trust",),
    ),
    ("container", "prune"): SubcommandSpec(
        (_FORCE, _f("filter=*")), max_args=0, filters=_LABEL_FILTERS
    ),
    ("volume", "create"): SubcommandSpec(
        (_f("d|driver="), _f("o|opt=*", check_option), _f("label=*", check_label)), max_args=1,
        usage="[VOLUME]",
    ),
    ("volume", "ls"): SubcommandSpec(
        (_QUIET, _FILTER), max_args=0, unsupported=("format",),
        filters={"name": any_value, "label": any_value, "dangling": boolean_value},
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
            _f("attachable"), _f("ipv6"),
        ),
        min_args=1, max_args=1, usage="NETWORK",
    ),
    ("network", "ls"): SubcommandSpec(
        (_QUIET, _FILTER, _f("no-trunc")), max_args=0, unsupported=("format",),
        filters={"name": any_value, "label": any_value, "driver": any_value, "id": any_value},
    ),
    ("network", "inspect"): SubcommandSpec(
        (_f("f|format="),), min_args=1, usage="NETWORK [NETWORK...]", format=OBJECT_FORMAT
    ),
    ("network", "rm"): SubcommandSpec((_FORCE,), min_args=1, usage="NETWORK [NETWORK...]"),
    ("network", "connect"): SubcommandSpec(
        (_f("alias=*"), _f("ip=")), min_args=2, max_args=2, usage="NETWORK CONTAINER",
        unsupported=("driver-opt", "ip6", "link", "link-local-ip"),
    ),
    ("network", "disconnect"): SubcommandSpec(
        (_FORCE,), min_args=2, max_args=2, usage="NETWORK CONTAINER"
    ),
    ("network", "prune"): SubcommandSpec(
        (_FORCE, _f("filter=*")), max_args=0, filters=_LABEL_FILTERS
    ),
}  # fmt: skip

# Words that reach a canonical path: the short forms and the management-command forms.
_CONTAINER_VERBS = (
    "run", "create", "start", "stop", "restart", "pause", "unpause", "kill", "rm", "logs",
    "exec", "cp", "inspect", "rename", "top", "port", "stats",
)  # fmt: skip
ROUTES: dict[Path, Path] = {
    **{(verb,): (verb,) for verb in (*_CONTAINER_VERBS, "ps", "images", "search", "pull")},
    **{("container", verb): (verb,) for verb in _CONTAINER_VERBS},
    ("container", "ls"): ("ps",),
    ("container", "list"): ("ps",),
    ("container", "ps"): ("ps",),
    ("container", "remove"): ("rm",),
    ("container", "prune"): ("container", "prune"),
    ("image", "ls"): ("images",),
    ("image", "list"): ("images",),
    ("image", "pull"): ("pull",),
    **{("volume", verb): ("volume", verb) for verb in ("create", "ls", "inspect", "rm", "prune")},
    ("volume", "list"): ("volume", "ls"),
    ("volume", "remove"): ("volume", "rm"),
    **{
        ("network", verb): ("network", verb)
        for verb in ("create", "ls", "inspect", "rm", "connect", "disconnect", "prune")
    },
    ("network", "list"): ("network", "ls"),
    ("network", "remove"): ("network", "rm"),
}
GROUPS = ("container", "image", "volume", "network")

# Real docker commands the sandbox does not run (a clear message instead of "unknown").
NOT_IN_SANDBOX: frozenset[str] = frozenset(
    {
        "attach", "build", "builder", "buildx", "checkpoint", "commit", "compose", "config",
        "context", "debug", "diff", "events", "export", "help", "history", "import", "info",
        "init", "load", "login", "logout", "manifest", "node", "plugin", "push", "rmi", "save",
        "scout", "secret", "service", "stack", "swarm", "system", "tag", "trust", "update",
        "version", "wait",
        "container attach", "container commit", "container diff", "container export",
        "container update", "container wait",
        "image build", "image history", "image import", "image inspect", "image load",
        "image prune", "image push", "image rm", "image remove", "image save", "image tag",
        "volume update",
    }
)  # fmt: skip
