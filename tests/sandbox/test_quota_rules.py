"""The disk quotas' pure parts: sizes asked of the engine, tmpfs sizes, the check after
creation, which commands write, what runs over the budget, and the parsers of what probes
print. (The engine tests are ``test_engine_quota*.py``.)"""

from __future__ import annotations

import pytest

from bot.core.errors import Refused
from bot.core.text import human_bytes
from bot.dockercli.parser import parse_docker
from bot.sandbox import budget, policy
from bot.sandbox.diskprobe import parse_df
from bot.sandbox.limits import (
    DiskSupport,
    host_config_kwargs,
    missing_limits,
    storage_bytes,
    tmpfs_options,
)
from bot.sandbox.usage import Part, Usage, background_processes, parse_measure
from bot.settings import ContainerLimits, SandboxSettings

MIB = 1024 * 1024
LIMITS = ContainerLimits()
BTRFS = DiskSupport("btrfs", "btrfs", supported=True, enforced=True)
XFS = DiskSupport("overlay2", "xfs", supported=True, enforced=True)
EXT4 = DiskSupport("overlay2", "extfs", supported=False, enforced=False, detail="refused")


def test_the_size_asked_of_the_engine() -> None:
    assert storage_bytes(LIMITS, BTRFS, 2 * MIB) == 512 * MIB + 2 * MIB  # image bytes count
    assert storage_bytes(LIMITS, XFS, 2 * MIB) == 512 * MIB  # only the writable layer
    assert storage_bytes(LIMITS, EXT4, 2 * MIB) == 0  # refused there: never asked
    assert storage_bytes(LIMITS, None, 2 * MIB) == 0  # not known yet
    assert host_config_kwargs(LIMITS, 5)["storage_opt"] == {"size": "5"}
    assert "storage_opt" not in host_config_kwargs(LIMITS)
    assert BTRFS.limits_disk and not EXT4.limits_disk
    assert not DiskSupport("btrfs", "btrfs", supported=True, enforced=False).limits_disk


def test_every_tmpfs_gets_a_size_within_the_cap() -> None:
    assert tmpfs_options("/run", LIMITS) == ("/run", f"size={16 * MIB}")
    assert tmpfs_options("/run:noexec,size=8m", LIMITS) == ("/run", f"noexec,size={8 * MIB}")
    assert tmpfs_options("/run:size=1g", LIMITS) == ("/run", f"size={64 * MIB}")


def _hardened(**host: object) -> dict[str, object]:
    config = {
        "Memory": LIMITS.memory_bytes,
        "MemorySwap": LIMITS.memory_bytes,
        "NanoCpus": LIMITS.nano_cpus,
        "PidsLimit": LIMITS.pids,
        "SecurityOpt": ["no-new-privileges:true"],
        "CapDrop": list(LIMITS.cap_drop),
        "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "2"}},
        "Init": True,
        "RestartPolicy": {"Name": "no"},
    }
    config.update(host)
    return {"HostConfig": config}


def test_missing_limits_checks_the_writable_size_and_every_tmpfs() -> None:
    assert missing_limits(_hardened(), LIMITS) == []
    assert missing_limits(_hardened(), LIMITS, storage=100) == ["storage-size"]
    assert missing_limits(_hardened(StorageOpt={"size": "100"}), LIMITS, storage=100) == []
    assert missing_limits(_hardened(StorageOpt={"size": "101"}), LIMITS, 100) == ["storage-size"]
    unsized = _hardened(Tmpfs={"/t": "noexec"})
    assert missing_limits(unsized, LIMITS) == ["tmpfs-size"]
    assert missing_limits(_hardened(Tmpfs={"/t": f"size={MIB}"}), LIMITS) == []
    big = {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 65 * MIB}}
    assert missing_limits(_hardened(Mounts=[big]), LIMITS) == ["tmpfs-size"]


@pytest.mark.parametrize(
    ("line", "refused"),
    [
        ("run --tmpfs /cache:size=65m busybox", True),
        ("run --tmpfs /cache:size=50% busybox", True),
        ("run --tmpfs /cache:size=64m busybox", False),
        ("run --tmpfs /cache busybox", False),
        ("run --mount type=tmpfs,target=/c,tmpfs-size=1g busybox", True),
        ("run --mount type=tmpfs,target=/c,tmpfs-size=1048576 busybox", False),
    ],
)
def test_tmpfs_sizes_above_the_cap_are_refused_naming_the_flag(line: str, refused: bool) -> None:
    config = policy.PolicyConfig.from_settings(SandboxSettings())
    verdict = policy.check(parse_docker(line), config)
    assert verdict.allowed is not refused
    if refused:
        assert isinstance(verdict.refusal, Refused)
        assert verdict.refusal.key == "policy.tmpfs_size"
        assert verdict.refusal.params["limit"] == "64m"
        assert verdict.refusal.params["flag"] in ("--tmpfs", "--mount")


def test_which_commands_write_and_what_still_runs_over_the_budget() -> None:
    for path in (("run",), ("create",), ("start",), ("exec",), ("cp",), ("pull",)):
        assert budget.writes(path), path
    for path in (("ps",), ("logs",), ("volume", "ls")):
        assert budget.looks(path) and not budget.writes(path)
    for path in (("rm",), ("volume", "rm"), ("stop",), ("container", "prune")):
        assert not budget.writes(path) and not budget.looks(path)
    assert budget.writes(("commit",))  # a subcommand not listed writes until it is
    assert not budget.writes_volumes(("pull",))
    # what can make or remove a volume: the volumes are listed again after it
    volume_makers = (
        ("run",), ("create",), ("rm",), ("stop",), ("kill",), ("volume", "create"),
        ("volume", "rm"), ("compose", "up"), ("compose", "down"), ("commit",),
    )  # fmt: skip
    for path in volume_makers:
        assert budget.changes_volumes(path), path
    for path in (("exec",), ("cp",), ("ps",), ("logs",), ("network", "create"), ("pull",)):
        assert not budget.changes_volumes(path), path
    assert budget.frees_space(["rm", "-f", "/big"]) and budget.frees_space(["/bin/ls"])
    assert not budget.frees_space(["dd", "if=/dev/zero", "of=/x"]) and not budget.frees_space([])
    assert not budget.frees_space(["sh", "-c", "rm x"])
    for line in ("rm -rf big*", "ls -la", "du -sh .", "rm 'a b'"):
        assert budget.shell_frees_space(line), line
    for line in ("dd if=/dev/zero of=x", "cat a > b", "rm a; dd", "rm $(x)", "ls | tee x",
                 "rm a & dd", "yes > x", "rm 'unclosed"):  # fmt: skip
        assert not budget.shell_frees_space(line), line


def test_background_processes_of_a_host_shell() -> None:
    titles = ["UID", "PID", "PPID", "CMD"]
    base = [
        ["root", "100", "90", "/sbin/docker-init -- /docker-entrypoint.sh sleep infinity"],
        ["root", "110", "100", "/bin/sh /docker-entrypoint.sh sleep infinity"],
        ["root", "111", "110", "sleep infinity"],
    ]
    assert background_processes(base, titles) == 0
    # the port forwarder daemonizes under init: the coach's own, never the learner's
    forwarder = ["root", "112", "100", "/usr/local/bin/coach-portd daemon"]
    assert background_processes([*base, forwarder], titles) == 0
    assert background_processes([forwarder, *base], titles) == 0
    running_sh = [*base, ["root", "200", "95", "sh -c dd"], ["root", "201", "200", "dd"]]
    assert background_processes(running_sh, titles) == 0  # a /sh still running: not background
    orphan = [*base, ["root", "300", "100", "dd if=/dev/zero of=big"]]
    assert background_processes(orphan, titles) == 1
    assert background_processes([*orphan, forwarder], titles) == 1
    assert background_processes([], titles) == 0
    assert background_processes(base, ["UID", "CMD"]) == 0


def test_parsers_of_what_probes_print() -> None:
    measured = parse_measure("dc-1-data 2048 3\ndc-1-logs 0 1\ngarbage\n")
    assert measured == {"dc-1-data": (2 * MIB, 2), "dc-1-logs": (0, 0)}
    # the larger of allocated and apparent: data not yet on disk, sparse files
    late = parse_measure(f"dc-1-data 1024 2 {5 * MIB}\ndc-1-sparse 8 2 4096\n")
    assert late == {"dc-1-data": (5 * MIB, 1), "dc-1-sparse": (8192, 1)}
    df = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/x 1000 400 600 40% /p"
    space = parse_df(df)
    assert (space.total_bytes, space.free_bytes) == (1000 * 1024, 600 * 1024)
    assert space.free_fraction == 0.6
    with pytest.raises(ValueError):
        parse_df("df: /p: no such file")


def test_usage_counts_files_and_ranks_parts() -> None:
    parts = (
        Part("host", "host", "h", 10 * MIB),
        Part("volume", "data", "v", MIB, files=1000),
        Part("container", "web", "c", 0),
    )
    used = Usage(parts, 384)
    assert used.total == 11 * MIB + 384_000
    assert [p.name for p in used.biggest()] == ["host", "data"]  # nothing held: not listed
    assert used.of("volume") == MIB + 384_000


def test_sizes_are_shown_in_binary_units() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1536, 512 * MIB, 1024 * MIB, 1536 * MIB)] == [
        "0 B",
        "1023 B",
        "1.5 KiB",
        "512 MiB",
        "1.0 GiB",
        "1.5 GiB",
    ]


def test_only_commands_that_cannot_change_a_learners_images_keep_their_names() -> None:
    """The learner's own image names are kept between commands (``run -d nginx`` lists no
    images) and listed again after any command that can make, tag or remove one; a new
    subcommand can, until listed as one that cannot."""
    from bot.sandbox.ops import OPERATIONS

    image_makers = (
        ("commit",), ("tag",), ("rmi",), ("image", "prune"), ("build",), ("compose", "up"),
        ("compose", "build"), ("compose", "down"), ("system", "prune"), ("image", "tag"),
    )  # fmt: skip
    for path in image_makers:
        assert budget.changes_images(path), path
    for path in (("run",), ("create",), ("ps",), ("exec",), ("rm",), ("pull",), ("history",)):
        assert not budget.changes_images(path), path
    assert set(OPERATIONS) >= budget.KEEPS_IMAGES


def test_a_creations_shape_is_the_limit_fields_it_sends() -> None:
    """What an engine that kept one creation's limits keeps for the next of the same shape:
    the limit fields sent, not their values (``-m 64m`` is the shape of the defaults)."""
    from docker.api import APIClient

    from bot.sandbox.limits import CHECKED_FIELDS, checked_shape

    api = APIClient(base_url="unix:///nonexistent.sock", version="1.41")
    plain = api.create_host_config(network_mode="n", **host_config_kwargs(LIMITS))
    lowered = api.create_host_config(
        network_mode="m", **{**host_config_kwargs(LIMITS), "mem_limit": 64 * MIB}
    )
    published = api.create_host_config(
        network_mode="n", port_bindings={"80/tcp": [("127.0.0.1", 8080)]},
        **host_config_kwargs(LIMITS, storage=10 * MIB),
    )  # fmt: skip
    assert checked_shape(plain) == checked_shape(lowered) <= CHECKED_FIELDS
    assert checked_shape(published) - checked_shape(plain) == {"PortBindings", "StorageOpt"}
    assert "NetworkMode" not in checked_shape(plain)
    assert missing_limits({"HostConfig": plain}, LIMITS) == []  # the request's own check
