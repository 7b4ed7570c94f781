"""Exclusive instances: one running coach at a time acts on an instance's sandboxes on a
worker.

Two coaches acting on the same instance would each adopt, sweep and reap sandboxes the other
one serves — and with different databases, each would remove the other's learners' sandboxes
as those of unknown users. So before a coach touches its instance on a worker it takes the
instance's **lease** there: a labelled container named ``docker-coach-lease-<instance>``
(created, never started: it costs no memory) holding one file, ``/lease.json``: who holds it
(a random token per process, the host name and pid, the database id) and when it was last
renewed. The engine makes the claim atomic: two coaches creating the same name, one wins.

* The holder renews the file every ``lease_heartbeat_seconds``.
* Another coach finds the lease **live** (renewed within ``lease_ttl_seconds``) and is
  refused: the worker stays unavailable to it, and it says who holds the instance.
* A lease not renewed in time, released at a clean shutdown, or held by a process on this
  same host that no longer exists (a coach killed with ``kill -9`` and started again) is
  **free**: the next coach takes it over (removing the old lease by id, then creating its own
  by name — two coaches taking over at once still end with one holder).
* A free lease still names the database its instance belongs to. A coach with *another*
  database is refused while the instance has sandboxes on the worker: it would not know
  their learners and would remove their sandboxes. (The operator either starts the coach with
  the right database, or gives it another instance; ``docker rm -f docker-coach-lease-<instance>``
  hands the instance over, and the new database removes sandboxes of learners it does not
  know.)

The functions here are blocking (they run on the worker's thread pool).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import socket
import tarfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from docker.api import APIClient

from bot.sandbox import naming
from bot.sandbox.errors import EngineConflict, EngineNotFound
from bot.sandbox.objects import engine_time
from bot.sandbox.workers import engine_call

LEASE_FILE = "lease.json"
KIND_LEASE = "lease"
DATABASE = naming.LABEL_PREFIX + "database"
CLAIM_ATTEMPTS = 3
# Tokens of the leases this process holds (a process may run several coaches in tests).
_LIVE_TOKENS: set[str] = set()


def lease_name(instance: str) -> str:
    return f"docker-coach-lease-{instance}"


@dataclass(frozen=True, slots=True)
class Holder:
    """A coach process as its lease describes it."""

    token: str
    host: str
    pid: int
    database: str  # "" when the coach has no database
    started: str
    renewed: str = ""
    released: bool = False

    @classmethod
    def me(cls, database: str) -> Holder:
        """A new holder for this process (its token counts as live until :func:`forget`)."""
        now = datetime.now(UTC).isoformat()
        holder = cls(secrets.token_hex(8), socket.gethostname(), os.getpid(), database, now, now)
        _LIVE_TOKENS.add(holder.token)
        return holder

    def forget(self) -> None:
        """This holder's coach has closed."""
        _LIVE_TOKENS.discard(self.token)

    def describe(self) -> str:
        """For people: ``pid 123 on host, since 2026-01-01 12:00 UTC``."""
        since = (engine_time(self.started) or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
        return f"pid {self.pid} on {self.host}, since {since}"

    def is_gone(self) -> bool:
        """Whether this holder is a process on this host that no longer runs. A holder with
        our pid and a token this process never made is an earlier process that had our pid
        (a coach restarted in the same container)."""
        if self.host != socket.gethostname():
            return False
        if self.pid == os.getpid():
            return self.token not in _LIVE_TOKENS
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claiming: ours, or refused with the holder and why."""

    ours: bool
    holder: Holder | None = None
    reason: str = ""  # "live" or "database"


def _archive(holder: Holder) -> bytes:
    data = json.dumps(asdict(holder)).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(LEASE_FILE)
        info.size = len(data)
        info.mtime = int(datetime.now(UTC).timestamp())
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _write(api: APIClient, ident: str, holder: Holder) -> None:
    engine_call(api.put_archive, ident, "/", _archive(holder))


def _read(api: APIClient, ident: str) -> Holder | None:
    """The holder written into the lease (None: not written yet, or unreadable)."""
    try:
        chunks, _stat = engine_call(api.get_archive, ident, "/" + LEASE_FILE)
    except EngineNotFound:
        return None
    raw = b"".join(chunks)
    try:
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            member = tar.next()
            extracted = tar.extractfile(member) if member is not None else None
            data = json.loads(extracted.read()) if extracted is not None else None
        return Holder(**data) if isinstance(data, dict) else None
    except (tarfile.TarError, ValueError, TypeError):
        return None


def _create(api: APIClient, instance: str, image: str, database: str) -> str:
    labels = {naming.INSTANCE: instance, naming.KIND: KIND_LEASE, DATABASE: database}
    created = engine_call(
        api.create_container,
        image,
        command=["true"],
        name=lease_name(instance),
        labels=labels,
        network_disabled=True,
        host_config=api.create_host_config(network_mode="none"),
    )
    return str(created["Id"])


def _has_sandboxes(api: APIClient, instance: str) -> bool:
    wanted = [naming.OWNER, f"{naming.INSTANCE}={instance}"]
    if instance == naming.DEFAULT_INSTANCE:
        wanted = [naming.OWNER]
    for container in api.containers(all=True, filters={"label": wanted}):
        if naming.instance_of(container.get("Labels")) == instance:
            return True
    return False


def _free(holder: Holder | None, created: str | None, ttl: timedelta, now: datetime) -> bool:
    if holder is None:  # being written by its creator right now, or never was
        moment = engine_time(created)
        return moment is None or now - moment > ttl
    if holder.released or holder.is_gone():
        return True
    renewed = engine_time(holder.renewed) or engine_time(holder.started)
    return renewed is None or now - renewed > ttl


def claim(
    api: APIClient, instance: str, image: str, me: Holder, ttl: timedelta, now: datetime
) -> Claim:
    """Blocking: take the instance's lease on this engine for ``me``, or say who has it."""
    for _attempt in range(CLAIM_ATTEMPTS):
        try:
            ident = _create(api, instance, image, me.database)
        except EngineConflict:  # a lease exists: whose, and is it live?
            try:
                attrs = engine_call(api.inspect_container, lease_name(instance))
            except EngineNotFound:
                continue  # removed meanwhile: try to create it again
            ident = str(attrs["Id"])
            holder = _read(api, ident)
            if holder is not None and holder.token == me.token:
                _write(api, ident, _renewed(me))
                return Claim(True)
            if not _free(holder, attrs.get("Created"), ttl, now):
                return Claim(False, holder, "live")
            bound = (attrs.get("Config", {}).get("Labels") or {}).get(DATABASE, "")
            if bound and me.database and bound != me.database and _has_sandboxes(api, instance):
                return Claim(False, holder, "database")
            with contextlib.suppress(EngineNotFound):  # another coach took it over first
                engine_call(api.remove_container, ident, force=True)
            continue
        _write(api, ident, _renewed(me))
        return Claim(True)
    return Claim(False, None, "live")


def _renewed(me: Holder) -> Holder:
    return Holder(me.token, me.host, me.pid, me.database, me.started, datetime.now(UTC).isoformat())


def renew(api: APIClient, instance: str, me: Holder) -> bool:
    """Blocking: renew our lease; False when it is no longer ours (removed, or taken over
    after we failed to renew it in time)."""
    try:
        holder = _read(api, lease_name(instance))
        if holder is None or holder.token != me.token:
            return False
        _write(api, lease_name(instance), _renewed(me))
    except EngineNotFound:
        return False
    return True


def release(api: APIClient, instance: str, me: Holder) -> None:
    """Blocking: mark our lease released (the next coach need not wait for it to expire;
    the lease keeps naming the database the instance belongs to)."""
    holder = _read(api, lease_name(instance))
    if holder is not None and holder.token == me.token:
        released = Holder(me.token, me.host, me.pid, me.database, me.started, "", True)
        _write(api, lease_name(instance), released)
