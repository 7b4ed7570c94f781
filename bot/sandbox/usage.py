"""Measuring what a sandbox uses on its worker's disk, per sandbox (never the whole engine).

Blocking helpers, run by the watchdog on the worker's thread pool:

* **containers** (the host shell included): the engine's ``SizeRw`` — the bytes of the files
  a container changed — from the sandbox's own listing (``GET /containers/json`` with
  ``size=1``: one request lists and sizes them), or, when its stopped containers are already
  sized, from a second listing of only those that can have changed; on engines without size
  limits also the number
  of changed files (``GET /containers/{id}/changes``), since an empty file weighs nothing in
  ``SizeRw`` but still takes the worker's disk (metadata, inodes). Stopped containers cannot
  change and are measured once.
* **volumes**: a sandbox's *disk monitor* (``dc-<sandbox>--disk``, a hardened, sleeping
  container of the host image with every volume of the sandbox mounted read-only, no network,
  read-only root) runs ``du`` and counts files on demand (``docker exec``). It is created
  when a sandbox's volumes need measuring and recreated when the set of volumes changes; it
  is removed before the learner removes a volume (see the watchdog).
* **the host shell's background processes**: ``docker top``: processes that outlived the
  ``/sh`` command that started them are children of the container's init beside its main
  process; while there are some, the host shell may be writing.

Each engine walk that could take long (a container with a million files) gets its own time
limit; running out of it raises :class:`TooSlow` — the engine answered, it is just slow — so a
learner's file flood never marks a worker down.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from docker.api import APIClient
from docker.types import Mount

from bot.dockercli.values import parse_bytes
from bot.sandbox import naming
from bot.sandbox.errors import EngineConflict, EngineNotFound, SandboxError
from bot.sandbox.limits import DiskSupport, for_container
from bot.sandbox.naming import Scope
from bot.sandbox.workers import engine_call
from bot.settings import ContainerLimits

KIND_MONITOR = naming.KIND_MONITOR
MONITOR_ROOT = "/v"
KIND_HOST = naming.KIND_HOST
KIND_CONTAINER = naming.KIND_CONTAINER
KIND_VOLUME = naming.KIND_VOLUME


class TooSlow(SandboxError):
    """A measurement did not finish within its time limit (the engine is walking a great
    many files); the worker itself answered."""


@dataclass(frozen=True, slots=True)
class Part:
    """One thing that takes disk space in a sandbox: a container's writable layer (the host
    shell's too) or a volume."""

    kind: str  # KIND_HOST, KIND_CONTAINER or KIND_VOLUME
    name: str  # the learner's name for it
    ident: str  # container id, or the volume's real name
    bytes: int
    files: int = 0  # files counted (volumes; containers on engines without size limits)
    running: bool = False  # a running container (for a volume: one mounting it read-write)

    def cost(self, file_bytes: int) -> int:
        return self.bytes + self.files * file_bytes


@dataclass(frozen=True, slots=True)
class Usage:
    """A sandbox's disk use, part by part, largest first."""

    parts: tuple[Part, ...]
    file_bytes: int  # what one counted file is taken to cost

    @property
    def total(self) -> int:
        return sum(part.cost(self.file_bytes) for part in self.parts)

    def of(self, kind: str) -> int:
        return sum(p.cost(self.file_bytes) for p in self.parts if p.kind == kind)

    def biggest(self, count: int = 6) -> tuple[Part, ...]:
        ranked = sorted(self.parts, key=lambda p: p.cost(self.file_bytes), reverse=True)
        return tuple(p for p in ranked[:count] if p.cost(self.file_bytes) > 0)


@dataclass
class Listing:
    """One cheap listing of a sandbox: its containers (the host shell and monitor included)
    and its volumes, with which running containers mount which volumes read-write."""

    containers: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    sizes: dict[str, int] | None = None  # each container's SizeRw, when listed with sizes

    def unknown_volumes(self) -> bool:
        """Whether a container mounts a volume of the sandbox that is not in
        :attr:`volumes` (the volumes were listed before it was made)."""
        known = set(self.volume_names)
        return any(
            m.get("Type") == "volume" and m.get("Name") not in known
            for c in self.of_kind(KIND_HOST, KIND_CONTAINER)
            for m in c.get("Mounts") or []
        )

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [c for c in self.containers if (c.get("Labels") or {}).get(naming.KIND) in kinds]

    @property
    def host(self) -> dict[str, Any] | None:
        found = self.of_kind(KIND_HOST)
        return found[0] if found else None

    @property
    def monitor(self) -> dict[str, Any] | None:
        found = self.of_kind(KIND_MONITOR)
        return found[0] if found else None

    @property
    def running_containers(self) -> list[dict[str, Any]]:
        return [c for c in self.of_kind(KIND_CONTAINER) if c.get("State") == "running"]

    def writers_of(self, volume: str) -> list[dict[str, Any]]:
        """The learner's running containers that mount ``volume`` (real name) read-write."""
        return [
            c
            for c in self.running_containers
            if any(m.get("Name") == volume and m.get("RW", True) for m in c.get("Mounts") or [])
        ]

    @property
    def volume_names(self) -> list[str]:
        return sorted(str(v["Name"]) for v in self.volumes)


# The coach's own marker volumes (a warm sandbox's claim, a removal's tombstone): empty, and
# no container can mount them (their names are no learner's), so they take no disk to measure.
MARKERS = frozenset({naming.KIND_CLAIM, naming.KIND_TOMBSTONE})


def list_sandbox(
    api: APIClient,
    scope: Scope,
    volumes: list[dict[str, Any]] | None = None,
    sized_within: float | None = None,
) -> Listing:
    """Blocking: every container and volume of the sandbox (the coach's marker volumes left
    out: measuring them would start a disk monitor for nothing). ``volumes``: the volumes as
    known, when they cannot have changed (not listed again). ``sized_within``: the containers
    listed with their ``SizeRw`` (:attr:`Listing.sizes`), the engine given that many seconds
    to size them — one request where a listing and a sizing would be two."""
    filters = scope.filters()
    if sized_within is None:
        containers = scope.mine(api.containers(all=True, filters=filters))
        sizes = None
    else:
        params = {"all": 1, "size": 1, "filters": json.dumps(filters)}
        containers = scope.mine(list(_get_json(api, "/containers/json", params, sized_within)))
        sizes = {str(c["Id"]): _size_rw(c) for c in containers}
    if volumes is None:
        volumes = [
            v
            for v in scope.mine(list(api.volumes(filters=filters).get("Volumes") or []))
            if (v.get("Labels") or {}).get(naming.KIND) not in MARKERS
        ]
    return Listing(containers, list(volumes), sizes)


def list_running(
    api: APIClient,
    scope: Scope,
    others: list[dict[str, Any]],
    volumes: list[dict[str, Any]],
    sized_within: float,
) -> Listing:
    """Blocking: the sandbox's running containers listed with their ``SizeRw`` (one
    request), beside ``others`` — its other containers as last listed, when none of them
    can have changed — and its ``volumes`` as known. The caller checks that every container
    running at the last look still is (one that stopped or went meanwhile: list them all)."""
    filters = {**scope.filters(), "status": ["running"]}
    params = {"all": 1, "size": 1, "filters": json.dumps(filters)}
    running = scope.mine(list(_get_json(api, "/containers/json", params, sized_within)))
    sizes = {str(c["Id"]): _size_rw(c) for c in running}
    return Listing([*running, *others], list(volumes), sizes)


def _size_rw(summary: Mapping[str, Any]) -> int:
    """A listed container's ``SizeRw``; -1 when the engine could not size it (as btrfs does
    now and then)."""
    size = int(summary.get("SizeRw") or 0)
    return size if size >= 0 else -1


def _get_json(api: APIClient, path: str, params: Mapping[str, Any], timeout: float) -> Any:
    """A GET on the engine with its own time limit (the client's default is for quick calls)."""
    url = f"{api.base_url}/v{api.api_version}{path}"
    try:
        response = api.get(url, params=dict(params), timeout=timeout)
    except requests.Timeout as exc:
        raise TooSlow(f"{path}: no answer within {timeout:g} s") from exc
    response.raise_for_status()  # requests.HTTPError: mapped at the worker boundary
    return response.json()


def containers_bytes(api: APIClient, cids: list[str], timeout: float) -> dict[str, int]:
    """Blocking: each container's ``SizeRw`` by id, from one listing filtered to exactly
    those containers (one gone is not listed; -1 when the engine could not size one, as btrfs
    does now and then)."""
    found = _get_json(
        api,
        "/containers/json",
        {"all": 1, "size": 1, "filters": json.dumps({"id": cids})},
        timeout,
    )
    return {str(item.get("Id")): _size_rw(item) for item in found or []}


def container_files(api: APIClient, cid: str, timeout: float) -> int:
    """Blocking: how many files and directories the container added or changed."""
    try:
        changes = _get_json(api, f"/containers/{quote(cid, safe='')}/changes", {}, timeout)
    except requests.HTTPError as exc:
        if exc.response is not None and exc.response.status_code == 404:
            return 0
        raise
    return sum(1 for change in changes or [] if change.get("Kind") in (0, 1))


def labelled_cap(summary: Mapping[str, Any]) -> int | None:
    """A listed container's writable-layer cap from the label the coach gave it at creation
    (None: made before the coach labelled caps, or not by the coach)."""
    value = (summary.get("Labels") or {}).get(naming.WRITABLE_CAP)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def writable_cap(api: APIClient, cid: str) -> int:
    """Blocking: the size the engine holds the container's writable layer to (its
    ``storage_opt`` size, in bytes); 0 when it holds it to none, or the container is gone."""
    try:
        attrs = engine_call(api.inspect_container, cid)
    except EngineNotFound:
        return 0
    size = ((attrs.get("HostConfig") or {}).get("StorageOpt") or {}).get("size")
    try:
        return parse_bytes(str(size)) if size else 0
    except ValueError:
        return 0


def user_name(scope: Scope, summary: Mapping[str, Any]) -> str:
    names = summary.get("Names") or [summary.get("Name") or ""]
    return scope.user_name(str(names[0]))


# --------------------------------------------------------------------------------------------
# The host shell's background processes
# --------------------------------------------------------------------------------------------


def background_processes(processes: Iterable[Iterable[str]], titles: Iterable[str]) -> int:
    """How many processes of a container (``docker top`` rows) run beside its main process:
    children of its init (the oldest process without a parent inside) other than its first
    child (the main process) and the host shell's port forwarder (the coach's own daemon).
    Processes of a running ``exec`` have no parent inside and are not counted: their command
    is still running."""
    columns = list(titles)
    try:
        pid_at, ppid_at = columns.index("PID"), columns.index("PPID")
    except ValueError:
        return 0
    command_at = next((columns.index(t) for t in ("CMD", "COMMAND") if t in columns), None)
    rows = [list(p) for p in processes]
    pids = {int(row[pid_at]) for row in rows}
    roots = sorted(int(row[pid_at]) for row in rows if int(row[ppid_at]) not in pids)
    if not roots:
        return 0
    init = roots[0]
    children = [
        row
        for row in rows
        if int(row[ppid_at]) == init
        and not (command_at is not None and _is_forwarder(row[command_at]))
    ]
    return max(0, len(children) - 1)


def _is_forwarder(command: str) -> bool:
    words = command.split()
    return bool(words) and words[0] == naming.HOST_FORWARDER


def host_background(api: APIClient, host: str) -> int:
    """Blocking: background processes in the host shell (0 when it is not running)."""
    try:
        top = engine_call(api.top, host)
    except (EngineNotFound, EngineConflict):
        return 0
    return background_processes(top.get("Processes") or [], top.get("Titles") or [])


# --------------------------------------------------------------------------------------------
# Volumes: the disk monitor
# --------------------------------------------------------------------------------------------


def monitor_name(scope: Scope) -> str:
    return scope.prefix + "-disk"


def _monitored(attrs: Mapping[str, Any]) -> list[str]:
    return sorted(
        str(m.get("Name")) for m in attrs.get("Mounts") or [] if m.get("Type") == "volume"
    )


def remove_monitor(api: APIClient, scope: Scope) -> None:
    """Blocking: remove the sandbox's disk monitor (its volumes are free to go then)."""
    with contextlib.suppress(EngineNotFound):
        engine_call(api.remove_container, monitor_name(scope), force=True)


def ensure_monitor(
    api: APIClient,
    scope: Scope,
    volumes: list[str],
    image: str,
    limits: ContainerLimits,
    support: DiskSupport | None,
) -> str:
    """Blocking: the running disk monitor of the sandbox, mounting exactly ``volumes``."""
    name = monitor_name(scope)
    try:
        attrs = engine_call(api.inspect_container, name)
    except EngineNotFound:
        attrs = None
    if attrs is not None and _monitored(attrs) != sorted(volumes):
        remove_monitor(api, scope)
        attrs = None
    if attrs is None:
        host = for_container(api, limits, support, image)
        host.update(cap_drop=["ALL"], read_only=True)
        mounts = [Mount(f"{MONITOR_ROOT}/{v}", v, type="volume", read_only=True) for v in volumes]
        config = api.create_host_config(network_mode="none", mounts=mounts, **host)
        created = api.create_container(
            image,
            None,
            entrypoint=["sleep", "2147483647"],
            name=name,
            labels=scope.labels(KIND_MONITOR, "disk-monitor"),
            host_config=config,
            network_disabled=True,
        )
        api.start(created["Id"])
        return str(created["Id"])
    if not (attrs.get("State") or {}).get("Running"):
        api.start(attrs["Id"])
    return str(attrs["Id"])


# Prints "<real name> <KiB allocated> <files> <apparent bytes>" for every mounted volume; a
# volume whose walk did not finish in time prints nothing (the caller keeps what it knew).
# Both sizes, because each can lag the other: data still in the page cache has no blocks yet
# (btrfs allocates late), and a sparse file has fewer blocks than bytes.
_MEASURE = (
    "for d in " + MONITOR_ROOT + '/*; do [ -d "$d" ] || continue; '
    'k=$(du -sk "$d" | cut -f1); b=$(du -sb "$d" | cut -f1); f=$(find "$d" | wc -l); '
    'echo "${d#' + MONITOR_ROOT + '/} $k $f $b"; done'
)


def parse_measure(output: str) -> dict[str, tuple[int, int]]:
    """The monitor's lines → ``{volume: (bytes, files)}``: the larger of the allocated and the
    apparent size (when given), and the files (the volume's root is not one)."""
    found: dict[str, tuple[int, int]] = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) in (3, 4) and all(f.isdigit() for f in fields[1:]):
            size = max(int(fields[1]) * 1024, int(fields[3]) if len(fields) == 4 else 0)
            found[fields[0]] = (size, max(0, int(fields[2]) - 1))
    return found


def measure_volumes(
    api: APIClient,
    scope: Scope,
    volumes: list[str],
    image: str,
    limits: ContainerLimits,
    support: DiskSupport | None,
    seconds: float,
) -> dict[str, tuple[int, int]]:
    """Blocking: ``{volume: (bytes, files)}`` for the sandbox's ``volumes`` (real names)."""
    if not volumes:
        remove_monitor(api, scope)
        return {}
    monitor = ensure_monitor(api, scope, volumes, image, limits, support)
    command = ["timeout", "-s", "KILL", str(max(1, int(seconds))), "sh", "-c", _MEASURE]
    created = api.exec_create(monitor, command, stdout=True, stderr=False)
    output = api.exec_start(created["Id"], stream=False, demux=False)
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else str(output)
    return parse_measure(text)
