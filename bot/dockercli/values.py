"""Values of flags and arguments, read the way the docker CLI reads them.

Sizes (``256m``), CPUs (``0.5``), Go durations (``1m30s``), booleans (``--rm=false``), port
mappings (``-p 127.0.0.1:8080:80/udp``), volumes (``-v data:/data:ro``), mounts
(``--mount type=volume,src=data,dst=/data``), image references and ``docker cp`` arguments.
Each parser raises :class:`~bot.dockercli.errors.CliError` (or ``ValueError`` for the plain
numeric ones) naming what is wrong; the ``check_*`` functions are the per-flag checks that the
command table attaches to flags.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from bot.dockercli.errors import CliError, bad_value

# A flag check gets the flag as typed (``-m``, ``--memory``) and its value; CliError if bad.
ValueCheck = Callable[[str, str], None]

TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_bool(text: str, flag: str) -> bool:
    """Go's ``strconv.ParseBool``, the way ``--rm=false`` is read."""
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise CliError("cli.bad_bool", flag=flag, value=text)


# --------------------------------------------------------------------------------------------
# Numbers: sizes, CPUs, durations
# --------------------------------------------------------------------------------------------

_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}


def parse_env_lines(text: str) -> list[str]:
    """``docker run --env-file``'s format (not compose's): ``NAME=value`` lines taken as
    written (quotes included), ``#`` comments and blank lines skipped, leading blanks dropped.
    A line with a name alone asks for the CLI's own variable: the sandbox's CLI has none, so
    it sets nothing, as docker does for a variable it does not have."""
    found: list[str] = []
    for raw in text.splitlines():
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        name, equals, _value = line.partition("=")
        if not name or any(c.isspace() for c in name):
            raise CliError("cli.bad_env_line", line=line[:80])
        if equals:
            found.append(line)
    return found


def parse_bytes(text: str) -> int:
    """A docker memory size (``256m``, ``1g``, ``512MB``, ``1048576``) in bytes; ValueError."""
    match = _SIZE_RE.match(text.strip())
    if not match:
        raise ValueError(text)
    number, unit = match.groups()
    return int(float(number) * _SIZE_UNITS[unit.lower()])


def parse_nano_cpus(text: str) -> int:
    """``--cpus 0.5`` as nano CPUs (500_000_000); ValueError when not a positive number."""
    value = float(text)
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(text)
    return round(value * 1_000_000_000)


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
}  # fmt: skip


def parse_duration(text: str) -> float:
    """Go's ``time.ParseDuration`` (``1m30s``, ``500ms``, ``2h``, ``0``) in seconds; ValueError.

    Used by flags such as ``--health-interval`` and ``--stop-timeout``-like values; negative
    durations are refused (no docker flag of the sandbox takes one).
    """
    body = text.strip().removeprefix("+")
    if body == "0":
        return 0.0
    position, total = 0, 0.0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        if match is None:
            raise ValueError(text)
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not body:
        raise ValueError(text)
    return total


_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?$"
)


def parse_timestamp(text: str, now: float) -> float:
    """A docker ``--since``/``--until`` value as Unix seconds: a Go duration before ``now``
    (``10m``, ``1h30m``), Unix seconds (``1700000000``, ``1700000000.5``) or an RFC 3339
    date/time (``2024-01-02``, ``2024-01-02T15:04:05Z``, a local time is read as UTC);
    ValueError when it is none of them."""
    body = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", body):
        return float(body)
    try:
        return now - parse_duration(body)
    except ValueError:
        pass
    if not _TIMESTAMP.match(body):
        raise ValueError(text)

    iso = body.replace(" ", "T").replace("Z", "+00:00")
    if "." in iso:
        head, _, rest = iso.partition(".")
        digits = re.match(r"\d+", rest)
        assert digits is not None
        iso = f"{head}.{digits.group(0)[:6]}{rest[digits.end() :]}"
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


# --------------------------------------------------------------------------------------------
# Ports, volumes, mounts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortSpec:
    """One ``-p`` mapping: ``[IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`` (ranges expanded)."""

    container_port: int
    protocol: str = "tcp"
    host_ip: str | None = None
    host_port: int | None = None


PORT_RANGE_MAX = 16  # ports one -p may expand to: a range is a list of mappings


def _port_range(text: str, flag_value: str) -> list[int]:
    low, _, high = text.partition("-")
    try:
        first = int(low)
        last = int(high) if high else first
    except ValueError:
        raise CliError("cli.bad_publish", value=flag_value) from None
    if not (1 <= first <= last <= 65535) or last - first >= PORT_RANGE_MAX:
        raise CliError("cli.bad_publish", value=flag_value)
    return list(range(first, last + 1))


def parse_publish(value: str) -> list[PortSpec]:
    """``-p`` value → one :class:`PortSpec` per container port; CliError when malformed."""
    body, _, protocol = value.partition("/")
    protocol = protocol or "tcp"
    if protocol not in ("tcp", "udp", "sctp") or not body:
        raise CliError("cli.bad_publish", value=value)
    host_ip: str | None = None
    if body.startswith("["):  # [::1]:8080:80
        end = body.find("]")
        if end < 0 or body[end + 1 : end + 2] != ":":
            raise CliError("cli.bad_publish", value=value)
        host_ip, body = body[1:end], body[end + 2 :]
    parts = body.split(":")
    if host_ip is None and len(parts) == 3:
        host_ip = parts.pop(0) or None
    if len(parts) > 2 or (host_ip is not None and len(parts) != 2):
        raise CliError("cli.bad_publish", value=value)
    container_ports = _port_range(parts[-1], value)
    host_ports: list[int | None] = [None] * len(container_ports)
    if len(parts) == 2 and parts[0]:
        host_ports = list(_port_range(parts[0], value))
        if len(host_ports) != len(container_ports):
            raise CliError("cli.bad_publish", value=value)
    return [
        PortSpec(port, protocol, host_ip, host)
        for port, host in zip(container_ports, host_ports, strict=True)
    ]


@dataclass(frozen=True)
class VolumeSpec:
    """One ``-v`` value: ``[SOURCE:]TARGET[:OPTIONS]``; ``source`` empty for anonymous."""

    source: str
    target: str
    read_only: bool = False
    options: tuple[str, ...] = ()

    @property
    def is_path(self) -> bool:
        """Whether the source is a path on the machine (a bind mount), not a volume name."""
        src = self.source
        return src.startswith(("/", ".", "~")) or "/" in src or "\\" in src


_VOLUME_OPTIONS = frozenset({"ro", "rw", "nocopy", "z", "Z"})


def parse_volume(value: str) -> VolumeSpec:
    """``-v`` value → :class:`VolumeSpec`; CliError when malformed."""
    parts = value.split(":")
    if len(parts) == 1:
        source, target, options = "", parts[0], ""
    elif len(parts) == 2:
        if parts[1] in _VOLUME_OPTIONS or "," in parts[1]:
            source, target, options = "", parts[0], parts[1]
        else:
            source, target, options = parts[0], parts[1], ""
    elif len(parts) == 3:
        source, target, options = parts
    else:
        raise CliError("cli.bad_volume", value=value)
    opts = tuple(o for o in options.split(",") if o)
    if not target.startswith("/") or any(o not in _VOLUME_OPTIONS for o in opts):
        raise CliError("cli.bad_volume", value=value)
    if len(parts) >= 2 and not source and parts[0] == "":
        raise CliError("cli.bad_volume", value=value)
    return VolumeSpec(source, target, "ro" in opts, opts)


@dataclass(frozen=True)
class MountSpec:
    """One ``--mount`` value, as key=value fields."""

    type: str
    source: str
    target: str
    read_only: bool
    fields: Mapping[str, str]


_MOUNT_KEYS = {
    "src": "source", "source": "source", "dst": "target", "destination": "target",
    "target": "target", "ro": "readonly", "readonly": "readonly",
}  # fmt: skip


def parse_mount(value: str) -> MountSpec:
    """``--mount type=volume,source=data,target=/data,readonly`` → :class:`MountSpec`."""
    fields: dict[str, str] = {}
    for item in value.split(","):
        if not item:
            continue
        key, has_value, val = item.partition("=")
        key = _MOUNT_KEYS.get(key.strip(), key.strip())
        if not has_value:
            if key != "readonly":
                raise CliError("cli.bad_mount", value=value, field=item)
            val = "true"
        fields[key] = val
    mount_type = fields.get("type", "volume")
    target = fields.get("target", "")
    if not target.startswith("/"):
        raise CliError("cli.bad_mount", value=value, field="target")
    read_only = fields.get("readonly", "false")
    if read_only not in TRUE | FALSE:
        raise CliError("cli.bad_mount", value=value, field="readonly")
    return MountSpec(
        mount_type, fields.get("source", ""), target, read_only in TRUE,
        MappingProxyType(fields),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Image references
# --------------------------------------------------------------------------------------------

DEFAULT_REGISTRIES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


@dataclass(frozen=True)
class ImageRef:
    """A normalized image reference: ``repository`` without ``docker.io/`` or ``library/``."""

    repository: str
    tag: str = "latest"
    digest: str | None = None
    registry: str | None = None  # None: Docker Hub

    @property
    def name(self) -> str:
        """``nginx:latest`` or ``nginx@sha256:…``: how the sandbox names and pulls it."""
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"


def is_registry(component: str) -> bool:
    """Whether the first part of a name is a registry host (``quay.io``, ``localhost:5000``)."""
    return "." in component or ":" in component or component == "localhost"


def parse_image_reference(ref: str) -> ImageRef:
    """``NAME[:TAG][@DIGEST]`` → :class:`ImageRef`; CliError ``cli.bad_image`` when malformed."""
    rest, _, digest = ref.partition("@")
    if "@" in ref and not _DIGEST.match(digest):
        raise CliError("cli.bad_image", image=ref)
    slash = rest.rfind("/")
    name, tag = rest, ""
    colon = rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.match(tag):
            raise CliError("cli.bad_image", image=ref)
    parts = name.split("/")
    registry: str | None = None
    if len(parts) > 1 and is_registry(parts[0]):
        registry = parts.pop(0).lower()
        if registry in DEFAULT_REGISTRIES:
            registry = None
    if not parts or not all(_COMPONENT.match(p) for p in parts) or len(name) > 255:
        raise CliError("cli.bad_image", image=ref)
    if registry is None and len(parts) == 2 and parts[0] == "library":
        parts.pop(0)
    return ImageRef("/".join(parts), tag or "latest", digest or None, registry)


# --------------------------------------------------------------------------------------------
# docker cp arguments
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopySpec:
    """``docker cp``: which side is the container, and the paths on each side."""

    container: str
    container_path: str
    local_path: str  # in the user's host shell (their own machine in the sandbox)
    to_container: bool  # True: host shell → container


def _split_cp(arg: str) -> tuple[str, str] | None:
    """``web:/tmp`` → ("web", "/tmp"); a local path → None (like the docker CLI)."""
    if arg.startswith(("/", ".")) or ":" not in arg:
        return None
    container, _, path = arg.partition(":")
    return (container, path) if container else None


def parse_copy_args(source: str, dest: str) -> CopySpec:
    """The two ``cp`` arguments as a :class:`CopySpec`; CliError when not exactly one side
    names a container. ``-`` stands for a tar stream: an attached tar as the source, a tar
    sent back as an attachment as the destination (``local_path`` is then ``-``)."""
    if source == "-" and dest == "-":
        raise CliError("cli.cp_no_container", source=source, dest=dest)
    src, dst = _split_cp(source), _split_cp(dest)
    if src and dst:
        raise CliError("cli.cp_two_containers", source=source, dest=dest)
    if dst:
        return CopySpec(dst[0], dst[1] or "/", source, to_container=True)
    if src:
        return CopySpec(src[0], src[1] or "/", dest, to_container=False)
    raise CliError("cli.cp_no_container", source=source, dest=dest)


# --------------------------------------------------------------------------------------------
# Per-flag checks (the command table attaches these)
# --------------------------------------------------------------------------------------------

_SIGNAL_RE = re.compile(r"^(?:\d{1,2}|(?:SIG)?[A-Z][A-Z0-9+-]{1,10})$", re.IGNORECASE)
_RESTART_RE = re.compile(r"^(?:no|always|unless-stopped|on-failure(?::\d+)?)$")


def check_count(flag: str, value: str) -> None:
    if not value.isdigit():
        raise bad_value(flag, value, "count")


def check_tail(flag: str, value: str) -> None:
    if value != "all" and not value.isdigit():
        raise bad_value(flag, value, "tail")


def check_size(flag: str, value: str) -> None:
    try:
        parse_bytes(value)
    except ValueError:
        raise bad_value(flag, value, "size") from None


def check_cpus(flag: str, value: str) -> None:
    try:
        parse_nano_cpus(value)
    except ValueError:
        raise bad_value(flag, value, "cpus") from None


def check_duration(flag: str, value: str) -> None:
    try:
        parse_duration(value)
    except ValueError:
        raise bad_value(flag, value, "duration") from None


def check_signal(flag: str, value: str) -> None:
    if not _SIGNAL_RE.match(value):
        raise bad_value(flag, value, "signal")


def check_restart(flag: str, value: str) -> None:
    if not _RESTART_RE.match(value):
        raise bad_value(flag, value, "restart")


def check_pull(flag: str, value: str) -> None:
    if value not in ("always", "missing", "never"):
        raise bad_value(flag, value, "pull")


def check_limit(flag: str, value: str) -> None:
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise bad_value(flag, value, "limit")


def check_label(flag: str, value: str) -> None:
    if not value.split("=", 1)[0].strip():
        raise bad_value(flag, value, "label")


def check_option(flag: str, value: str) -> None:
    if "=" not in value or not value.split("=", 1)[0]:
        raise bad_value(flag, value, "option")


def check_absolute(flag: str, value: str) -> None:
    if not value.split(":", 1)[0].startswith("/"):
        raise bad_value(flag, value, "path")


def check_object_type(flag: str, value: str) -> None:
    if value not in ("container", "volume", "network", "image"):
        raise bad_value(flag, value, "type")


def check_timestamp(flag: str, value: str) -> None:
    try:
        parse_timestamp(value, 0.0)
    except ValueError:
        raise bad_value(flag, value, "timestamp") from None


def check_attach(flag: str, value: str) -> None:
    if value.lower() not in ("stdin", "stdout", "stderr"):
        raise bad_value(flag, value, "attach")


def parse_cpuset(text: str) -> list[int]:
    """``0-2,4`` → [0, 1, 2, 4]; ValueError when malformed."""
    found: list[int] = []
    for part in text.split(","):
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise ValueError(text)
        first, last = int(low), int(high) if dash else int(low)
        if last < first or last > 1023:
            raise ValueError(text)
        found.extend(range(first, last + 1))
    return found


def check_cpuset(flag: str, value: str) -> None:
    try:
        parse_cpuset(value)
    except ValueError:
        raise bad_value(flag, value, "cpuset") from None


def check_expose(flag: str, value: str) -> None:
    body, _, protocol = value.partition("/")
    low, _, high = body.partition("-")
    if protocol not in ("", "tcp", "udp", "sctp") or not low.isdigit():
        raise bad_value(flag, value, "expose")
    if high and (not high.isdigit() or not 0 < int(low) <= int(high) <= 65535):
        raise bad_value(flag, value, "expose")
    if not 0 < int(low) <= 65535:
        raise bad_value(flag, value, "expose")


def check_ip(flag: str, value: str) -> None:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise bad_value(flag, value, "ip") from None


def check_publish(_flag: str, value: str) -> None:
    parse_publish(value)


def check_image(_flag: str, value: str) -> None:
    parse_image_reference(value)


def check_volume(_flag: str, value: str) -> None:
    parse_volume(value)


def check_mount(_flag: str, value: str) -> None:
    parse_mount(value)


# --------------------------------------------------------------------------------------------
# Filter values (``--filter key=value``): which values one key accepts
# --------------------------------------------------------------------------------------------

FilterValue = Callable[[str], bool]

PS_STATUSES = frozenset(
    {"created", "restarting", "running", "removing", "paused", "exited", "dead"}
)


def any_value(_value: str) -> bool:
    return True


def boolean_value(value: str) -> bool:
    return value in ("true", "false")


def digits_value(value: str) -> bool:
    return value.isdigit()


def timestamp_value(value: str) -> bool:
    try:
        parse_timestamp(value, 0.0)
    except ValueError:
        return False
    return True


def health_value(value: str) -> bool:
    return value in ("starting", "healthy", "unhealthy", "none")


def port_value(value: str) -> bool:
    """``80``, ``80/tcp``, ``8000-8080/udp``: a ``publish``/``expose`` filter value."""
    body, _, protocol = value.partition("/")
    low, _, high = body.partition("-")
    return protocol in ("", "tcp", "udp", "sctp") and low.isdigit() and (not high or high.isdigit())


def one_of(*allowed: str) -> FilterValue:
    choices = frozenset(allowed)

    def test(value: str) -> bool:
        return value in choices

    return test
