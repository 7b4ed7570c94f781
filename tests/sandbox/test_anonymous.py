"""Which anonymous volumes go with their ``--rm`` container (``anonymous.orphans``), and the
labels the engine creates them with (``anonymous.mount``)."""

from __future__ import annotations

from typing import Any

from bot.sandbox import anonymous, naming
from bot.sandbox.naming import Scope
from bot.sandbox.usage import Listing

SCOPE = Scope("u1", "ab12cd34")


def _volume(name: str, auto_remove: bool = True, anonymous_for: str = "c") -> dict[str, Any]:
    labels = {**SCOPE.labels(naming.KIND_VOLUME, name)}
    if anonymous_for:
        labels[naming.ANONYMOUS_FOR] = anonymous_for
    if auto_remove:
        labels[naming.AUTO_REMOVE] = "true"
    return {"Name": SCOPE.real(name), "Labels": labels}


def _container(kind: str, *volumes: str) -> dict[str, Any]:
    return {
        "Labels": {naming.KIND: kind},
        "Mounts": [{"Type": "volume", "Name": SCOPE.real(v)} for v in volumes],
    }


def test_an_rm_containers_volume_without_its_container_is_an_orphan() -> None:
    listing = Listing(
        containers=[_container(naming.KIND_CONTAINER, "held")],
        volumes=[_volume("gone"), _volume("held")],
    )
    assert anonymous.orphans(listing) == [SCOPE.real("gone")]


def test_the_disk_monitor_holding_it_does_not_keep_it() -> None:
    listing = Listing(
        containers=[_container(naming.KIND_MONITOR, "gone", "named")],
        volumes=[_volume("gone"), _volume("named", auto_remove=False, anonymous_for="")],
    )
    assert anonymous.orphans(listing) == [SCOPE.real("gone")]


def test_named_and_plain_anonymous_volumes_are_never_orphans() -> None:
    """Without ``--rm`` an anonymous volume outlives its container, as with Docker's ``rm``."""
    listing = Listing(
        containers=[],
        volumes=[
            _volume("named", auto_remove=False, anonymous_for=""),
            _volume("kept", auto_remove=False),
        ],
    )
    assert anonymous.orphans(listing) == []


def test_the_mount_carries_the_sandbox_labels_and_the_rm_mark() -> None:
    mount = anonymous.mount(SCOPE, "f" * 64, "/data", "web", auto_remove=True)
    labels = mount["VolumeOptions"]["Labels"]
    assert mount["Source"] == SCOPE.real("f" * 64) and mount["Target"] == "/data"
    assert labels[naming.ANONYMOUS_FOR] == "web" and labels[naming.AUTO_REMOVE] == "true"
    assert SCOPE.owns(labels) and labels[naming.KIND] == naming.KIND_VOLUME
    plain = anonymous.mount(SCOPE, "f" * 64, "/data", "web", auto_remove=False)
    assert naming.AUTO_REMOVE not in plain["VolumeOptions"]["Labels"]


def test_only_a_container_mounting_an_anonymous_looking_volume_can_leave_one() -> None:
    """``stop``/``kill``/``rm -f`` ask the engine about ``--rm`` leftovers only for these."""
    made = "0123456789abcdef" * 4
    assert anonymous.mounted(SCOPE, _container(naming.KIND_CONTAINER, "named", made))
    assert not anonymous.mounted(SCOPE, _container(naming.KIND_CONTAINER, "named"))
    assert not anonymous.mounted(SCOPE, _container(naming.KIND_CONTAINER))
    tmpfs = {"Mounts": [{"Type": "tmpfs", "Name": SCOPE.real(made)}]}
    assert not anonymous.mounted(SCOPE, tmpfs)
    assert not anonymous.mounted(SCOPE, {"Labels": {}})  # listed without mounts
