"""Labels and names: how the coach marks what it owns on a worker and keeps users apart.

Every object the coach creates carries ``org.docker-coach.*`` labels (instance, owner, sandbox,
kind, the user's own name). The *instance* names one coach deployment (production, staging, a
test run): coaches sharing an engine each see only their own instance's objects. Objects made
before instances existed have no instance label and belong to ``"default"``.

Real Docker names are the user's names behind a per-sandbox prefix (``dc-<sandbox>-web``), so
two users can each have a ``web``. The sandbox's own objects use a double dash
(``dc-<sandbox>--host``), which no user name can produce.

A sandbox of the warm pool is made before anyone asks for it: its network and host shell
carry the owner :data:`POOL_OWNER`. Labels cannot change after creation, so when a learner
claims it a *claim marker* — a volume ``dc-<sandbox>--claim`` of kind :data:`KIND_CLAIM` —
records the learner as its owner. The sandbox id, not the owner, is what identifies a
sandbox's objects: :meth:`Scope.filters` selects by sandbox (and instance), and
:meth:`Scope.owns` accepts the pool's owner on the sandbox's own objects.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LABEL_PREFIX = "org.docker-coach."
INSTANCE = LABEL_PREFIX + "instance"
OWNER = LABEL_PREFIX + "owner"
SANDBOX = LABEL_PREFIX + "sandbox"
KIND = LABEL_PREFIX + "kind"
NAME = LABEL_PREFIX + "name"
CREATED = LABEL_PREFIX + "created"
# a container's writable-layer cap as the coach asked the engine for it (bytes; "0": none)
WRITABLE_CAP = LABEL_PREFIX + "writable-cap"
BUILD_CACHE = LABEL_PREFIX + "build-cache"  # a build step's image: the key of its cache entry
# A volume made for a VOLUME of the image (Docker's anonymous volume, here under the sandbox's
# labels so that quotas, listings and removal see it): the name of the container it was made for.
ANONYMOUS_FOR = LABEL_PREFIX + "anonymous-for"
# On such a volume: its container was run with --rm, so it goes when the container does.
AUTO_REMOVE = LABEL_PREFIX + "auto-remove"

KIND_HOST = "host"  # the user's host shell container
KIND_BRIDGE = "bridge"  # the sandbox's own internal network (the user's "bridge")
KIND_CONTAINER = "container"
KIND_VOLUME = "volume"
KIND_NETWORK = "network"
KIND_MONITOR = "disk-monitor"  # the sandbox's disk monitor (bot/sandbox/usage.py)
KIND_CLAIM = "claim"  # the volume that names the learner who claimed a warm sandbox
POOL_OWNER = "~pool"  # the owner of a warm sandbox nobody has claimed (no user id has a "~")
KIND_IMAGE = "image"  # an image the learner made (commit); their tags carry image_prefix
KIND_TOMBSTONE = "removing"  # a volume saying the sandbox is being removed (provision.py)

USER_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$")
RESERVED_NETWORKS = frozenset({"bridge", "host", "none", "default"})
HOST_NAME = "host"  # what the user sees for their host shell
# The port forwarder in every host shell (deploy/worker/host/coach-portd.c): the coach's, not the
# learner's, so never one of the learner's background processes.
HOST_FORWARDER = "/usr/local/bin/coach-portd"
DEFAULT_INSTANCE = "default"  # also the instance of objects without an instance label


def new_sandbox_id() -> str:
    return secrets.token_hex(4)


def writable_cap_label(storage: int) -> dict[str, str]:
    """The label that records a new container's writable-layer cap (``storage`` bytes)."""
    return {WRITABLE_CAP: str(storage)}


def instance_of(labels: Mapping[str, str] | None) -> str:
    """The instance an object belongs to (``"default"`` when it has no instance label)."""
    return (labels or {}).get(INSTANCE) or DEFAULT_INSTANCE


@dataclass(frozen=True, slots=True)
class Scope:
    """One sandbox: which coach instance and user own it and how its real names are made."""

    owner: str
    sandbox: str
    instance: str = DEFAULT_INSTANCE

    @property
    def prefix(self) -> str:
        return f"dc-{self.sandbox}-"

    def real(self, user_name: str) -> str:
        return self.prefix + user_name

    @property
    def image_prefix(self) -> str:
        """The repository prefix of the learner's own image names (``dc-<sandbox>/``)."""
        return f"dc-{self.sandbox}/"

    def image_real(self, reference: str) -> str:
        """The engine's name of the learner's image ``reference`` (``mysite:v1``)."""
        return self.image_prefix + reference

    @property
    def host_name(self) -> str:
        return self.prefix + "-host"

    @property
    def bridge_name(self) -> str:
        return self.prefix + "-net"

    @property
    def claim_name(self) -> str:
        return self.prefix + "-claim"

    @property
    def pooled(self) -> bool:
        """A warm sandbox nobody has claimed yet."""
        return self.owner == POOL_OWNER

    @property
    def tombstone_name(self) -> str:
        return self.prefix + "-removing"

    def labels(self, kind: str, name: str, created: str = "") -> dict[str, str]:
        labels = {
            INSTANCE: self.instance,
            OWNER: self.owner,
            SANDBOX: self.sandbox,
            KIND: kind,
            NAME: name,
        }
        if created:
            labels[CREATED] = created
        return labels

    def filters(self, kind: str | None = None) -> dict[str, list[str]]:
        """Engine list filters for this sandbox's objects (of one kind).

        The sandbox id selects (a claimed warm sandbox's own objects carry the pool's owner);
        the default instance cannot filter on its label (older objects lack it), so lists
        are narrowed further with :meth:`mine`.
        """
        wanted = [f"{SANDBOX}={self.sandbox}"]
        if self.instance != DEFAULT_INSTANCE:
            wanted.append(f"{INSTANCE}={self.instance}")
        if kind:
            wanted.append(f"{KIND}={kind}")
        return {"label": wanted}

    def owns(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return (
            labels.get(OWNER) in (self.owner, POOL_OWNER)
            and labels.get(SANDBOX) == self.sandbox
            and instance_of(labels) == self.instance
        )

    def mine(self, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The engine-listed objects (containers, networks, volumes) that this scope owns."""
        return [item for item in listed if self.owns(item.get("Labels"))]

    def user_name(self, real_name: str) -> str:
        """The name the user knows for a real (prefixed) name."""
        real_name = real_name.lstrip("/")
        if real_name == self.bridge_name:
            return "bridge"
        if real_name == self.host_name:
            return HOST_NAME
        if real_name.startswith(self.prefix):
            return real_name[len(self.prefix) :]
        return real_name

    def rewrite(self, text: str) -> str:
        """Replace every real name of this sandbox in ``text`` by the user's name."""
        text = text.replace(self.bridge_name, "bridge").replace(self.host_name, HOST_NAME)
        return text.replace(self.prefix, "").replace(self.image_prefix, "")


# Any sandbox's real names (``dc-1a2b3c4d--host``, ``dc-1a2b3c4d-web``) and full object ids.
_REAL_NAME = re.compile(r"dc-[0-9a-f]{8}(?:-(-host|-net|-removing|(?=[a-zA-Z0-9]))|/)")
_FULL_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
_OWN = {"-host": HOST_NAME, "-net": "bridge"}
# Where the worker keeps its engine's data and state (its own layout is nobody's business):
# shown as the standard ``/var/lib/docker/…``.
_ENGINE_PATH = re.compile(
    r"/(?:var/lib/docker[\w.-]*|var/lib/containerd|var/run/docker[\w.-]*|run/docker[\w.-]*"
    r"|run/containerd)(?:/[^\s\"'`,;:)]*)?"
)
_OUR_LABEL = re.compile(re.escape(LABEL_PREFIX) + r"[\w.-]*(?:=[^\s\"',;)]*)?")


def has_full_id(text: str) -> bool:
    """Whether ``text`` quotes a full 64-hex object id."""
    return _FULL_ID.search(text) is not None


def for_user(text: str, scope: Scope, names: Mapping[str, str] | None = None) -> str:
    """Engine text (an error message) in the learner's names: the sandbox's real names become
    the user's (any other sandbox prefix is dropped too), a full 64-hex id becomes the user's
    name for that object when ``names`` (id → name) knows it, else its 12-character short id;
    paths of the worker's engine data read ``/var/lib/docker/…``, the coach's own labels are
    left out.
    """
    text = _REAL_NAME.sub(lambda m: _OWN.get(m.group(1) or "", ""), scope.rewrite(text))
    text = _ENGINE_PATH.sub("/var/lib/docker/…", text)
    text = _OUR_LABEL.sub("…", text)
    known = names or {}
    return _FULL_ID.sub(lambda m: known.get(m.group(0)) or m.group(0)[:12], text)


def valid_user_name(name: str) -> bool:
    return bool(USER_NAME_RE.match(name))


def strip_our_labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    return {k: v for k, v in (labels or {}).items() if not k.startswith(LABEL_PREFIX)}
