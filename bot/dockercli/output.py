"""Output that looks like the docker CLI's: ``ps``, ``images``, ``volume ls``, ``network ls``,
``search``, ``port``, ``top``, ``stats``, ``history``, ``system df`` and ``inspect``.

Pure functions over :mod:`bot.dockercli.views`; ``now`` is always a parameter, so output is
reproducible in tests. Each listing's ``--format`` language (its fields, headers and default
table, :class:`~bot.dockercli.templates.RowFormat`) is defined here and attached to its
subcommand in the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.dockercli.errors import CliError
from bot.dockercli.gotemplate import Struct
from bot.dockercli.layout import ago, binary_size, ellipsis, human_duration, human_size, table
from bot.dockercli.templates import OBJECT_FORMAT, RowFormat
from bot.dockercli.views import (
    ContainerView,
    HistoryRow,
    ImageView,
    NetworkView,
    PortView,
    SearchResult,
    StatsSample,
    VolumeView,
)

GO_TIME = "%Y-%m-%d %H:%M:%S +0000 UTC"


def go_time(moment: datetime | None) -> str:
    """A time as Go prints a ``time.Time`` (``2026-01-01 12:00:00 +0000 UTC``)."""
    return moment.strftime(GO_TIME) if moment else ""


def labels_text(labels: Mapping[str, str]) -> str:
    """``.Labels`` of a row: ``k=v,k2=v2``."""
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


# --------------------------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------------------------


def format_port(port: PortView) -> str:
    """``0.0.0.0:8080->80/tcp`` for a published port, ``80/tcp`` for an exposed one."""
    inner = f"{port.container_port}/{port.protocol}"
    if port.host_port is None or not port.published:
        return inner
    host_ip = port.host_ip or "0.0.0.0"
    host = f"[{host_ip}]" if ":" in host_ip else host_ip
    return f"{host}:{port.host_port}->{inner}"


def format_ports(ports: Iterable[PortView]) -> str:
    """The PORTS column: published mappings, then exposed ports; a port asked for with
    ``-p`` that is not published right now (the container is not running) is not shown."""
    shown = [p for p in ports if p.published or p.host_port is None]
    ordered = sorted(
        shown, key=lambda p: (p.host_port is None, p.host_ip or "", p.container_port, p.protocol)
    )
    seen: list[str] = []
    for port in ordered:
        text = format_port(port)
        if text not in seen:
            seen.append(text)
    return ", ".join(seen)


def container_status(view: ContainerView, now: datetime) -> str:
    """``Up 3 minutes (healthy)``, ``Exited (0) 2 minutes ago``, ``Created``,
    ``Up 5 seconds (Paused)``. Uses ``started_at``/``finished_at`` when known."""
    started = view.started_at or view.created_at
    finished = view.finished_at or started
    since = human_duration(max(0.0, (now - started).total_seconds())) if started else ""
    status = view.status
    if status == "running":
        text = f"Up {since}".strip()
        if view.health == "starting":
            return f"{text} (health: starting)"
        return f"{text} ({view.health})" if view.health else text
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


def _size_text(view: ContainerView) -> str:
    if view.size_rw is None:
        return "0B"
    virtual = f" (virtual {human_size(view.size_root_fs)})" if view.size_root_fs else ""
    return human_size(view.size_rw) + virtual


PS_HEADERS: dict[str, str] = {
    "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
    "Size": "SIZE", "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS",
    "Networks": "NETWORKS", "LocalVolumes": "LOCAL VOLUMES", "HealthStatus": "HEALTH STATUS",
    "IPAddresses": "IP ADDRESSES",
}  # fmt: skip
PS_DEFAULT = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
)
PS_FORMAT = RowFormat(PS_HEADERS, PS_DEFAULT, "*formatter.ContainerContext", ("Label",))


def ps_row(view: ContainerView, now: datetime, *, trunc: bool = True) -> Struct:
    """The ``--format`` context of one container (``.ID``, ``.Names``, ``.Label "k"``…)."""
    running = view.status in ("running", "paused", "restarting")
    volumes = [m for m in view.mounts if m.type == "volume"]
    fields: dict[str, Any] = {
        "ID": view.short_id if trunc else view.id,
        "Image": view.image,
        "Command": _command_text(view, trunc),
        "CreatedAt": go_time(view.created_at),
        "RunningFor": ago(view.created_at, now),
        "Ports": format_ports(view.ports) if running else "",
        "State": view.status,
        "Status": container_status(view, now),
        "Size": _size_text(view),
        "Names": view.name,
        "Labels": labels_text(view.labels),
        "Mounts": ",".join(
            ellipsis(m.source, 15) if trunc else m.source for m in volumes if m.source
        ),
        "Networks": ",".join(view.networks),
        "LocalVolumes": str(len(volumes)),
        "HealthStatus": view.health or "",
        "IPAddresses": list(view.addresses) if running else [],
    }
    return PS_FORMAT.row(fields, view.labels)


def ps_fields(view: ContainerView, now: datetime, *, trunc: bool = True) -> dict[str, str]:
    """The ``--format`` fields of one container as text (``.ID``, ``.Names``…)."""
    row = ps_row(view, now, trunc=trunc)
    return {name: str(row.get(name)) for name in row.fields}


def ps_table(
    containers: Sequence[ContainerView],
    now: datetime,
    *,
    quiet: bool = False,
    no_trunc: bool = False,
    size: bool = False,
    template: str | None = None,
) -> str:
    """``docker ps`` output (the caller filters and orders: newest first, like docker)."""
    if quiet:
        return "\n".join(c.id if no_trunc else c.short_id for c in containers)
    rows = [ps_row(c, now, trunc=not no_trunc) for c in containers]
    if template is None and size:
        template = PS_DEFAULT + "\t{{.Size}}"
    return PS_FORMAT.render(template, rows)


# --------------------------------------------------------------------------------------------
# Images, history
# --------------------------------------------------------------------------------------------

IMAGE_HEADERS: dict[str, str] = {
    "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
    "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
    "Containers": "CONTAINERS", "VirtualSize": "SIZE", "SharedSize": "SHARED SIZE",
    "UniqueSize": "UNIQUE SIZE",
}  # fmt: skip
IMAGES_DEFAULT = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGES_DIGESTS = (
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
)
IMAGES_FORMAT = RowFormat(IMAGE_HEADERS, IMAGES_DEFAULT, "*formatter.ImageContext")


def image_row(image: ImageView, now: datetime, *, trunc: bool = True) -> Struct:
    return IMAGES_FORMAT.row(
        {
            "ID": image.short_id if trunc else image.id,
            "Repository": image.repository,
            "Tag": image.tag,
            "Digest": image.digest,
            "CreatedSince": ago(image.created_at, now) or "N/A",
            "CreatedAt": go_time(image.created_at),
            "Size": human_size(image.size),
            "Containers": str(image.containers),
            "VirtualSize": human_size(image.size),
            "SharedSize": "N/A",
            "UniqueSize": "N/A",
        }
    )


def images_table(
    images: Sequence[ImageView],
    now: datetime,
    *,
    quiet: bool = False,
    no_trunc: bool = False,
    digests: bool = False,
    template: str | None = None,
) -> str:
    """``docker images``: REPOSITORY TAG [DIGEST] IMAGE ID CREATED SIZE."""
    if quiet:
        ids = [i.id if no_trunc else i.short_id for i in images]
        return "\n".join(dict.fromkeys(ids))
    if template is None and digests:
        template = IMAGES_DIGESTS
    return IMAGES_FORMAT.render(template, [image_row(i, now, trunc=not no_trunc) for i in images])


HISTORY_HEADERS = {
    "ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
    "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT",
}  # fmt: skip
HISTORY_DEFAULT = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HISTORY_FORMAT = RowFormat(HISTORY_HEADERS, HISTORY_DEFAULT, "*formatter.historyContext")


def history_table(
    rows: Sequence[HistoryRow],
    now: datetime,
    *,
    quiet: bool = False,
    no_trunc: bool = False,
    human: bool = True,
    template: str | None = None,
) -> str:
    """``docker history IMAGE``: one line per layer, newest first."""

    def short(ident: str) -> str:
        return ident if no_trunc or ident == "<missing>" else ident.removeprefix("sha256:")[:12]

    if quiet:
        return "\n".join(short(r.id) for r in rows)
    contexts = []
    for row in rows:
        created_by = row.created_by if no_trunc else ellipsis(row.created_by, 45)
        contexts.append(
            HISTORY_FORMAT.row(
                {
                    "ID": short(row.id),
                    "CreatedSince": ago(row.created_at, now) if human else go_time(row.created_at),
                    "CreatedAt": go_time(row.created_at),
                    "CreatedBy": created_by,
                    "Size": human_size(row.size) if human else str(row.size),
                    "Comment": row.comment,
                }
            )
        )
    return HISTORY_FORMAT.render(template, contexts)


# --------------------------------------------------------------------------------------------
# Volumes, networks, search
# --------------------------------------------------------------------------------------------

VOLUME_HEADERS = {
    "Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
    "Labels": "LABELS", "Links": "LINKS", "Size": "SIZE",
}  # fmt: skip
VOLUMES_FORMAT = RowFormat(
    VOLUME_HEADERS, "table {{.Driver}}\t{{.Name}}", "*formatter.volumeContext", ("Label",)
)


def volume_row(volume: VolumeView) -> Struct:
    return VOLUMES_FORMAT.row(
        {
            "Name": volume.name,
            "Driver": volume.driver,
            "Scope": volume.scope,
            "Mountpoint": volume.mountpoint,
            "Labels": labels_text(volume.labels),
            "Links": str(volume.links),
            "Size": "N/A" if volume.size is None else human_size(volume.size),
        },
        volume.labels,
    )


def volumes_table(
    volumes: Sequence[VolumeView], *, quiet: bool = False, template: str | None = None
) -> str:
    """``docker volume ls``: DRIVER VOLUME NAME."""
    if quiet:
        return "\n".join(v.name for v in volumes)
    return VOLUMES_FORMAT.render(template, [volume_row(v) for v in volumes])


NETWORK_HEADERS = {
    "ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv6": "IPV6",
    "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED",
}  # fmt: skip
NETWORKS_FORMAT = RowFormat(
    NETWORK_HEADERS,
    "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
    "*formatter.networkContext",
    ("Label",),
)


def network_row(network: NetworkView, *, trunc: bool = True) -> Struct:
    return NETWORKS_FORMAT.row(
        {
            "ID": network.short_id if trunc else network.id,
            "Name": network.name,
            "Driver": network.driver,
            "Scope": network.scope,
            "IPv6": "true" if network.ipv6 else "false",
            "Internal": "true" if network.internal else "false",
            "Labels": labels_text(network.labels),
            "CreatedAt": go_time(network.created_at),
        },
        network.labels,
    )


def networks_table(
    networks: Sequence[NetworkView],
    *,
    quiet: bool = False,
    no_trunc: bool = False,
    template: str | None = None,
) -> str:
    """``docker network ls``: NETWORK ID NAME DRIVER SCOPE."""
    if quiet:
        return "\n".join(n.id if no_trunc else n.short_id for n in networks)
    rows = [network_row(n, trunc=not no_trunc) for n in networks]
    return NETWORKS_FORMAT.render(template, rows)


SEARCH_HEADERS = {
    "Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS", "IsOfficial": "OFFICIAL",
    "IsAutomated": "AUTOMATED",
}  # fmt: skip
SEARCH_DEFAULT = "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"
SEARCH_FORMAT = RowFormat(SEARCH_HEADERS, SEARCH_DEFAULT, "*formatter.searchContext")


def search_fields(result: SearchResult, *, trunc: bool = True) -> dict[str, str]:
    description = " ".join(result.description.split())
    return {
        "Name": result.name,
        "Description": ellipsis(description, 45) if trunc else description,
        "StarCount": str(result.stars),
        "IsOfficial": "[OK]" if result.official else "",
        "IsAutomated": "",
    }


def search_table(
    results: Sequence[SearchResult], *, no_trunc: bool = False, template: str | None = None
) -> str:
    """``docker search``: NAME DESCRIPTION STARS OFFICIAL."""
    rows = [SEARCH_FORMAT.row(search_fields(r, trunc=not no_trunc)) for r in results]
    return SEARCH_FORMAT.render(template, rows)


# --------------------------------------------------------------------------------------------
# port, top, stats, system df, inspect
# --------------------------------------------------------------------------------------------


def port_text(view: ContainerView, private: str | None = None) -> str:
    """``docker port web`` (``80/tcp -> 0.0.0.0:8080``) or ``docker port web 80``."""
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


STATS_HEADERS = {
    "Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
    "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
}  # fmt: skip
STATS_DEFAULT = (
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}"
    "\t{{.BlockIO}}\t{{.PIDs}}"
)
STATS_FORMAT = RowFormat(STATS_HEADERS, STATS_DEFAULT, "*formatter.statsContext")


def stats_row(sample: StatsSample, *, trunc: bool = True, container: str = "") -> Struct:
    ident = sample.id if not trunc else sample.id[:12]
    running = sample.running
    return STATS_FORMAT.row(
        {
            "Container": container or ident,
            "ID": ident,
            "Name": sample.name,
            "CPUPerc": f"{sample.cpu_percent:.2f}%" if running else "0.00%",
            "MemUsage": f"{binary_size(sample.memory_usage)} / {binary_size(sample.memory_limit)}",
            "MemPerc": f"{sample.memory_percent:.2f}%",
            "NetIO": f"{human_size(sample.net_rx)} / {human_size(sample.net_tx)}",
            "BlockIO": f"{human_size(sample.block_read)} / {human_size(sample.block_write)}",
            "PIDs": str(sample.pids),
        }
    )


def stats_table(
    samples: Sequence[StatsSample],
    *,
    no_trunc: bool = False,
    template: str | None = None,
    named: Sequence[str] = (),
) -> str:
    """``docker stats --no-stream``; ``named``: how the learner named each container (the
    ``.Container`` field), in order."""
    rows = [
        stats_row(s, trunc=not no_trunc, container=named[i] if i < len(named) else "")
        for i, s in enumerate(samples)
    ]
    return STATS_FORMAT.render(template, rows)


DF_HEADERS = {
    "Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
    "Reclaimable": "RECLAIMABLE",
}  # fmt: skip
DF_FORMAT = RowFormat(
    DF_HEADERS,
    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
    "*formatter.diskUsageImagesContext",
)


def df_row(kind: str, total: int, active: int, size: int, reclaimable: int) -> Struct:
    """One line of ``docker system df``."""
    percent = f" ({100 * reclaimable // size}%)" if size else ""
    return DF_FORMAT.row(
        {
            "Type": kind,
            "TotalCount": str(total),
            "Active": str(active),
            "Size": human_size(size),
            "Reclaimable": human_size(reclaimable) + percent,
        }
    )


def df_table(rows: Sequence[Struct], template: str | None = None) -> str:
    return DF_FORMAT.render(template, rows)


def inspect_json(objects: Sequence[Mapping[str, Any]]) -> str:
    """``docker inspect`` without ``--format``: a JSON array indented by 4."""
    return json.dumps(list(objects), indent=4, ensure_ascii=False)


def inspect_text(template: str | None, objects: Sequence[Any]) -> str:
    """``docker inspect`` output: the JSON array, or each object through ``--format``."""
    if template is None:
        return inspect_json(objects)
    return "\n".join(OBJECT_FORMAT.render(template, item) for item in objects)
