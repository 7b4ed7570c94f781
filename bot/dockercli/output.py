"""Output that looks like the docker CLI's: ``ps``, ``images``, ``volume ls``, ``network ls``,
``search``, ``port``, ``top``, ``stats`` and ``inspect``.

Pure functions over :mod:`bot.dockercli.views`; ``now`` is always a parameter, so output is
reproducible in tests. The ``--format`` languages of ``ps`` and ``search`` are defined here
(:data:`PS_FORMAT`, :data:`SEARCH_FORMAT`) and attached to those subcommands in the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.dockercli.errors import CliError
from bot.dockercli.layout import ago, binary_size, ellipsis, human_duration, human_size, table
from bot.dockercli.templates import OBJECT_FORMAT, RowFormat
from bot.dockercli.views import (
    ContainerView,
    ImageView,
    NetworkView,
    PortView,
    SearchResult,
    StatsSample,
)

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
PS_FORMAT = RowFormat(PS_HEADERS, PS_DEFAULT)


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
    return PS_FORMAT.render(template, rows)


# --------------------------------------------------------------------------------------------
# Images, volumes, networks, search
# --------------------------------------------------------------------------------------------


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


def networks_table(
    networks: Sequence[NetworkView], *, quiet: bool = False, no_trunc: bool = False
) -> str:
    """``docker network ls``: NETWORK ID NAME DRIVER SCOPE."""
    if quiet:
        return "\n".join(n.id if no_trunc else n.short_id for n in networks)
    rows = [["NETWORK ID", "NAME", "DRIVER", "SCOPE"]]
    rows += [[n.id if no_trunc else n.short_id, n.name, n.driver, n.scope] for n in networks]
    return table(rows)


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
SEARCH_FORMAT = RowFormat(SEARCH_HEADERS, SEARCH_DEFAULT)


def search_table(
    results: Sequence[SearchResult], *, no_trunc: bool = False, template: str | None = None
) -> str:
    """``docker search``: NAME DESCRIPTION STARS OFFICIAL."""
    rows = [search_fields(r, trunc=not no_trunc) for r in results]
    return SEARCH_FORMAT.render(template, rows)


# --------------------------------------------------------------------------------------------
# port, top, stats, inspect
# --------------------------------------------------------------------------------------------


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


def inspect_text(template: str | None, objects: Sequence[Mapping[str, Any]]) -> str:
    """``docker inspect`` output: the JSON array, or each object through ``--format``."""
    if template is None:
        return inspect_json(objects)
    return "\n".join(OBJECT_FORMAT.render(template, item) for item in objects)
