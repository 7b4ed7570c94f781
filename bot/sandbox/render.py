"""Text that looks like the docker CLI's: tables, human times and sizes, ``--format`` templates.

Pure functions over the sandbox's views (:mod:`bot.sandbox.state`) and a few small views
defined here (images, volumes, networks, search results, stats samples). Tables are laid out
like the docker CLI's tabwriter (minimum cell width 10, padding 3); ``now`` is always a
parameter, so output is reproducible in tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.sandbox.cli import CliError
from bot.sandbox.state import ContainerView, PortView

# --------------------------------------------------------------------------------------------
# Tables, times and sizes
# --------------------------------------------------------------------------------------------


def table(rows: Sequence[Sequence[str]], *, min_width: int = 10, padding: int = 3) -> str:
    """Lay ``rows`` out in columns like Go's tabwriter (the last column is not padded)."""
    if not rows:
        return ""
    columns = max(len(row) for row in rows)
    widths = [0] * columns
    for row in rows:
        for index, cell in enumerate(row[:-1]):
            widths[index] = max(widths[index], len(cell) + padding, min_width)
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append(("".join(cells) + (row[-1] if row else "")).rstrip())
    return "\n".join(lines)


def human_duration(seconds: float) -> str:
    """go-units ``HumanDuration``: "5 seconds", "About a minute", "2 hours", "3 weeks"."""
    if seconds < 1:
        return "Less than a second"
    if int(seconds) == 1:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600 / 24 / 365)} years"


def ago(moment: datetime | None, now: datetime) -> str:
    """``2 minutes ago`` (empty when the moment is unknown)."""
    if moment is None:
        return ""
    return human_duration(max(0.0, (now - moment).total_seconds())) + " ago"


_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def _scaled(size: float, base: float, units: tuple[str, ...]) -> tuple[float, str]:
    index = 0
    while size >= base and index < len(units) - 1:
        size /= base
        index += 1
    return size, units[index]


def _go_g(value: float, precision: int) -> str:
    return f"{value:.{precision}g}"


def human_size(size: float, precision: int = 3) -> str:
    """Decimal units like ``docker images``: "4.26MB", "187MB", "0B"."""
    value, unit = _scaled(float(size), 1000.0, _DECIMAL)
    return _go_g(value, precision) + unit


def binary_size(size: float) -> str:
    """Binary units like ``docker stats``: "1.523MiB", "128MiB"."""
    value, unit = _scaled(float(size), 1024.0, _BINARY)
    return _go_g(value, 4) + unit


def ellipsis(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters, the last one an ellipsis (like the docker CLI)."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


# --------------------------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------------------------


def format_port(port: PortView) -> str:
    """``127.0.0.1:8080->80/tcp`` for a published port, ``80/tcp`` for an exposed one (and
    for one asked for with ``-p`` but not published, as Docker itself shows it)."""
    inner = f"{port.container_port}/{port.protocol}"
    if port.host_port is None or not port.published:
        return inner
    host_ip = port.host_ip or "0.0.0.0"
    host = f"[{host_ip}]" if ":" in host_ip else host_ip
    return f"{host}:{port.host_port}->{inner}"


def format_ports(ports: Iterable[PortView]) -> str:
    ordered = sorted(
        ports, key=lambda p: (p.host_port is None, p.host_ip or "", p.container_port, p.protocol)
    )
    seen: list[str] = []
    for port in ordered:
        text = format_port(port)
        if text not in seen:
            seen.append(text)
    return ", ".join(seen)


def container_status(view: ContainerView, now: datetime) -> str:
    """``Up 3 minutes``, ``Exited (0) 2 minutes ago``, ``Created``, ``Up 5 seconds (Paused)``.

    Uses ``started_at``/``finished_at`` when known, else ``created_at``.
    """
    started = view.started_at or view.created_at
    finished = view.finished_at or started
    since = human_duration(max(0.0, (now - started).total_seconds())) if started else ""
    status = view.status
    if status == "running":
        return f"Up {since}".strip()
    if status == "paused":
        return f"Up {since} (Paused)".replace("  ", " ")
    if status == "restarting":
        return f"Restarting ({view.exit_code or 0}) {ago(finished, now)}".strip()
    if status == "exited":
        return f"Exited ({view.exit_code or 0}) {ago(finished, now)}".strip()
    if status == "removing":
        return "Removal In Progress"
    if status == "dead":
        return "Dead"
    return "Created"


def _command_text(view: ContainerView, trunc: bool) -> str:
    command = " ".join(view.command)
    if trunc:
        command = ellipsis(command, 20)
    return json.dumps(command, ensure_ascii=False)


def ps_fields(view: ContainerView, now: datetime, *, trunc: bool = True) -> dict[str, str]:
    """The ``--format`` fields of one container (``.ID``, ``.Names``…)."""
    return {
        "ID": view.short_id if trunc else view.id,
        "Image": view.image,
        "Command": _command_text(view, trunc),
        "CreatedAt": view.created_at.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")
        if view.created_at
        else "",
        "RunningFor": ago(view.created_at, now),
        "Ports": format_ports(view.ports),
        "State": view.status,
        "Status": container_status(view, now),
        "Names": view.name,
        "Networks": ",".join(view.networks),
        "Mounts": ",".join(m.source for m in view.mounts if m.source),
    }


PS_HEADERS: dict[str, str] = {
    "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
    "Names": "NAMES", "Networks": "NETWORKS", "Mounts": "MOUNTS",
}  # fmt: skip
PS_DEFAULT = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
)


def ps_table(
    containers: Sequence[ContainerView],
    now: datetime,
    *,
    quiet: bool = False,
    no_trunc: bool = False,
    template: str | None = None,
) -> str:
    """``docker ps`` output (the caller filters and orders: newest first, like docker)."""
    if quiet:
        return "\n".join(c.id if no_trunc else c.short_id for c in containers)
    rows = [ps_fields(c, now, trunc=not no_trunc) for c in containers]
    return format_rows(template or PS_DEFAULT, rows, PS_HEADERS)


# --------------------------------------------------------------------------------------------
# Images, volumes, networks, search, port, top, stats
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageView:
    repository: str
    tag: str
    id: str  # "sha256:…" or bare hex
    size: int
    created_at: datetime | None = None

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


def images_table(
    images: Sequence[ImageView], now: datetime, *, quiet: bool = False, no_trunc: bool = False
) -> str:
    """``docker images``: REPOSITORY TAG IMAGE ID CREATED SIZE."""
    if quiet:
        return "\n".join(i.id if no_trunc else i.short_id for i in images)
    rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]]
    for image in images:
        rows.append(
            [
                image.repository,
                image.tag,
                image.id if no_trunc else image.short_id,
                ago(image.created_at, now) or "N/A",
                human_size(image.size),
            ]
        )
    return table(rows)


def volumes_table(names: Sequence[str], *, quiet: bool = False, driver: str = "local") -> str:
    """``docker volume ls``: DRIVER VOLUME NAME."""
    if quiet:
        return "\n".join(names)
    return table([["DRIVER", "VOLUME NAME"], *([driver, name] for name in names)])


@dataclass(frozen=True, slots=True)
class NetworkView:
    name: str
    id: str
    driver: str = "bridge"
    scope: str = "local"

    @property
    def short_id(self) -> str:
        return self.id[:12]


def networks_table(
    networks: Sequence[NetworkView], *, quiet: bool = False, no_trunc: bool = False
) -> str:
    """``docker network ls``: NETWORK ID NAME DRIVER SCOPE."""
    if quiet:
        return "\n".join(n.id if no_trunc else n.short_id for n in networks)
    rows = [["NETWORK ID", "NAME", "DRIVER", "SCOPE"]]
    rows += [[n.id if no_trunc else n.short_id, n.name, n.driver, n.scope] for n in networks]
    return table(rows)


@dataclass(frozen=True, slots=True)
class SearchResult:
    name: str
    description: str = ""
    stars: int = 0
    official: bool = False


def search_fields(result: SearchResult, *, trunc: bool = True) -> dict[str, str]:
    description = " ".join(result.description.split())
    return {
        "Name": result.name,
        "Description": ellipsis(description, 45) if trunc else description,
        "StarCount": str(result.stars),
        "IsOfficial": "[OK]" if result.official else "",
    }


SEARCH_HEADERS = {
    "Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS", "IsOfficial": "OFFICIAL",
}  # fmt: skip
SEARCH_DEFAULT = "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"


def search_table(
    results: Sequence[SearchResult], *, no_trunc: bool = False, template: str | None = None
) -> str:
    """``docker search``: NAME DESCRIPTION STARS OFFICIAL."""
    rows = [search_fields(r, trunc=not no_trunc) for r in results]
    return format_rows(template or SEARCH_DEFAULT, rows, SEARCH_HEADERS)


def port_text(view: ContainerView, private: str | None = None) -> str:
    """``docker port web`` (``80/tcp -> 127.0.0.1:8080``) or ``docker port web 80``."""
    published = [p for p in view.ports if p.host_port is not None and p.published]
    if private is None:
        return "\n".join(
            f"{p.container_port}/{p.protocol} -> {format_port(p).split('->')[0]}"
            for p in sorted(published, key=lambda p: (p.container_port, p.protocol))
        )
    number, _, protocol = private.partition("/")
    protocol = protocol or "tcp"
    matches = [p for p in published if str(p.container_port) == number and p.protocol == protocol]
    if not matches:
        raise CliError("cli.no_public_port", port=f"{number}/{protocol}", container=view.name)
    return "\n".join(format_port(p).split("->")[0] for p in matches)


def top_table(titles: Sequence[str], processes: Sequence[Sequence[str]]) -> str:
    """``docker top``: the engine's titles and rows, laid out like the CLI (min width 20)."""
    return table([list(titles), *[list(p) for p in processes]], min_width=20)


@dataclass(frozen=True, slots=True)
class StatsSample:
    id: str
    name: str
    cpu_percent: float = 0.0
    memory_usage: int = 0
    memory_limit: int = 0
    net_rx: int = 0
    net_tx: int = 0
    block_read: int = 0
    block_write: int = 0
    pids: int = 0

    @property
    def memory_percent(self) -> float:
        return 100.0 * self.memory_usage / self.memory_limit if self.memory_limit else 0.0


def _sum_blkio(stats: Mapping[str, Any], op: str) -> int:
    entries = (stats.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    return sum(int(e.get("value", 0)) for e in entries if str(e.get("op", "")).lower() == op)


def stats_sample(name: str, stats: Mapping[str, Any]) -> StatsSample:
    """A :class:`StatsSample` from the engine's stats JSON (``stream=False``)."""
    cpu = stats.get("cpu_stats") or {}
    pre = stats.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (
        pre.get("cpu_usage") or {}
    ).get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or [1])
    percent = 100.0 * cpu_delta / system_delta * online if cpu_delta > 0 and system_delta > 0 else 0
    memory = stats.get("memory_stats") or {}
    details = memory.get("stats") or {}
    cache = details.get("total_inactive_file", details.get("inactive_file", 0))
    usage = max(0, int(memory.get("usage", 0)) - int(cache))
    networks = (stats.get("networks") or {}).values()
    return StatsSample(
        id=str(stats.get("id", "")),
        name=name,
        cpu_percent=percent,
        memory_usage=usage,
        memory_limit=int(memory.get("limit", 0)),
        net_rx=sum(int(n.get("rx_bytes", 0)) for n in networks),
        net_tx=sum(int(n.get("tx_bytes", 0)) for n in networks),
        block_read=_sum_blkio(stats, "read"),
        block_write=_sum_blkio(stats, "write"),
        pids=int((stats.get("pids_stats") or {}).get("current", 0)),
    )


STATS_HEADERS = [
    "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS",
]  # fmt: skip


def stats_table(samples: Sequence[StatsSample], *, no_trunc: bool = False) -> str:
    """``docker stats --no-stream``."""
    rows = [STATS_HEADERS]
    for s in samples:
        rows.append(
            [
                s.id if no_trunc else s.id[:12],
                s.name,
                f"{s.cpu_percent:.2f}%",
                f"{binary_size(s.memory_usage)} / {binary_size(s.memory_limit)}",
                f"{s.memory_percent:.2f}%",
                f"{human_size(s.net_rx)} / {human_size(s.net_tx)}",
                f"{human_size(s.block_read)} / {human_size(s.block_write)}",
                str(s.pids),
            ]
        )
    return table(rows)


def inspect_json(objects: Sequence[Mapping[str, Any]]) -> str:
    """``docker inspect`` without ``--format``: a JSON array indented by 4."""
    return json.dumps(list(objects), indent=4, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# --format templates
# --------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_FIELD = re.compile(r"^\.([A-Za-z]+)$")
_INSPECT = re.compile(r"^(?:(json)\s+)?(\.|(?:\.[A-Za-z0-9_]+)+)$")

# The fields each command's --format accepts (the parser validates against these).
FORMAT_FIELDS: dict[tuple[str, ...], frozenset[str]] = {
    ("ps",): frozenset(PS_HEADERS),
    ("search",): frozenset(SEARCH_HEADERS),
}


def _unescape(template: str) -> str:
    return template.replace("\\t", "\t").replace("\\n", "\n")


def _split_table(template: str) -> tuple[bool, str]:
    stripped = template.strip()
    if stripped == "table" or stripped.startswith(("table ", "table\t")):
        return True, _unescape(stripped[5:].strip())
    return False, _unescape(template)


def check_template(template: str, fields: Iterable[str]) -> None:
    """Raise ``cli.bad_format`` unless ``template`` only uses ``{{.Field}}`` of ``fields``."""
    allowed = set(fields)
    _table, body = _split_table(template)
    problems = [
        match.group(0)
        for match in _PLACEHOLDER.finditer(body)
        if not (_FIELD.match(match.group(1)) and _FIELD.match(match.group(1)).group(1) in allowed)
    ]
    leftover = _PLACEHOLDER.sub("", body)
    if "{{" in leftover or "}}" in leftover:
        problems.append(leftover)
    if problems:
        raise CliError(
            "cli.bad_format",
            part=problems[0],
            fields=" ".join("{{." + name + "}}" for name in sorted(allowed)),
        )


def format_template(template: str, mapping: Mapping[str, str]) -> str:
    """Fill ``{{.Field}}`` placeholders of one (already checked) template from ``mapping``."""
    _table, body = _split_table(template)
    return _fill(body, mapping)


def _fill(body: str, mapping: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        field = _FIELD.match(match.group(1))
        return str(mapping.get(field.group(1), "")) if field else ""

    return _PLACEHOLDER.sub(value, body)


def format_rows(
    template: str, rows: Sequence[Mapping[str, str]], headers: Mapping[str, str]
) -> str:
    """Render ``rows`` with a ``--format`` template; a ``table`` template gets a header row
    and tabwriter columns (cells separated by tabs)."""
    is_table, body = _split_table(template)
    if not is_table:
        return "\n".join(_fill(body, row) for row in rows)
    header_values = {key: headers.get(key, key.upper()) for key in headers}
    lines = [_fill(body, header_values), *(_fill(body, row) for row in rows)]
    return table([line.split("\t") for line in lines])


def check_inspect_template(template: str) -> None:
    """Raise ``cli.bad_inspect_format`` unless placeholders are ``{{.A.B}}``/``{{json .A}}``."""
    body = _unescape(template)
    problems = [m.group(0) for m in _PLACEHOLDER.finditer(body) if not _INSPECT.match(m.group(1))]
    leftover = _PLACEHOLDER.sub("", body)
    if "{{" in leftover or "}}" in leftover:
        problems.append(leftover)
    if problems:
        raise CliError("cli.bad_inspect_format", part=problems[0])


def _go_text(value: Any) -> str:
    """How Go's text/template prints a decoded JSON value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        inner = " ".join(f"{k}:{_go_text(v)}" for k, v in sorted(value.items()))
        return f"map[{inner}]"
    if isinstance(value, list):
        return "[" + " ".join(_go_text(v) for v in value) + "]"
    return str(value)


_MISSING = object()


def _lookup(data: Any, path: str) -> Any:
    current = data
    for part in path.split(".")[1:]:
        if not part:
            continue
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def format_inspect(template: str, data: Mapping[str, Any]) -> str:
    """Fill an inspect template (``{{.State.Status}}``, ``{{json .Config.Env}}``)."""

    def value(match: re.Match[str]) -> str:
        found = _INSPECT.match(match.group(1))
        if not found:
            return ""
        as_json, path = found.groups()
        result = _lookup(data, path)
        if result is _MISSING:
            return "null" if as_json else "<no value>"
        if as_json:
            return json.dumps(result, separators=(",", ":"), ensure_ascii=False)
        return _go_text(result)

    return _PLACEHOLDER.sub(value, _unescape(template))
