"""Extra Docker engines for tests: start one beside the shared engine, stop it after.

    with extra_engine(driver="overlay2") as engine:
        client = engine.client()
        ...

Runs ``deploy/engine/extra_engine.sh`` (root only): the engine gets its own socket, data
root, exec root, containerd and address pool, no default bridge and no iptables rules, so
nothing of the shared engine is touched. ``driver="btrfs"`` puts the data root on its own
btrfs loop file with quotas (like the shared engine); ``driver="overlay2"`` on a plain
directory of the host's ext4, where ``storage_opt`` is refused (a worker without quota
support). Images come from the shared registry mirror. Starting takes about 2 s, stopping
about 3 s.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker

from bot.settings import REPO_ROOT

SCRIPT = REPO_ROOT / "deploy" / "engine" / "extra_engine.sh"
STATE = Path("/var/lib/docker-coach/engines")
RUN = Path("/run/docker-coach/engines")
DEFAULT_IMAGES = ("busybox", "docker-coach/host")


class EngineError(RuntimeError):
    """The extra engine could not be started or stopped; the message has the script's output."""


@dataclass(frozen=True)
class ExtraEngine:
    name: str
    driver: str

    @property
    def base_url(self) -> str:
        return f"unix://{RUN / self.name / 'docker.sock'}"

    @property
    def data_root(self) -> Path:
        return STATE / self.name / "root"

    @property
    def socket(self) -> Path:
        return RUN / self.name / "docker.sock"

    def client(self, timeout: int = 60) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.base_url, timeout=timeout)


def _script(*args: str, timeout: float) -> None:
    result = subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise EngineError(
            f"extra_engine.sh {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )


def start_engine(
    name: str, driver: str = "overlay2", size: str = "4G", images: Sequence[str] = DEFAULT_IMAGES
) -> ExtraEngine:
    _script(
        "start",
        name,
        "--driver",
        driver,
        "--size",
        size,
        "--images",
        ",".join(images),
        timeout=180,
    )
    return ExtraEngine(name, driver)


def stop_engine(name: str) -> None:
    _script("stop", name, timeout=180)


def halt_engine(name: str) -> None:
    """Stop the engine's dockerd only: its data stays, :func:`resume_engine` starts it again
    (without live-restore its containers stop, as after a reboot)."""
    _script("halt", name, timeout=180)


def resume_engine(name: str) -> None:
    _script("resume", name, timeout=180)


def dockerd_pid(name: str) -> int:
    """The pid of the engine's dockerd (to freeze it with SIGSTOP in a test)."""
    return int((RUN / name / "dockerd.pid").read_text().strip())


def freeze(pid: int, timeout: float = 10.0) -> None:
    """Stop process ``pid`` with SIGSTOP and return once every thread of it has stopped.

    ``kill`` only queues the signal: each thread stops when the kernel next runs it, on a busy
    machine several milliseconds later, and until then a dockerd thread still answers what
    a client sends it (a freeze that a request overtakes is no freeze)."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + timeout
    while not _every_thread_stopped(pid):
        if time.monotonic() > deadline:
            raise EngineError(f"process {pid} did not stop within {timeout:.0f} s of SIGSTOP")
        time.sleep(0.001)


def _every_thread_stopped(pid: int) -> bool:
    """Whether no thread of process ``pid`` can run: each is stopped (or has exited)."""
    for stat in (Path("/proc") / str(pid) / "task").glob("*/stat"):
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):  # the thread exited meanwhile
            continue
        if state not in ("T", "t", "Z", "X"):
            return False
    return True


def unique_name(prefix: str = "t") -> str:
    """A name no other test session uses (extra_engine.sh allows 24 characters)."""
    return f"{prefix[:10]}-{os.getpid() % 100000}-{secrets.token_hex(2)}"


@contextmanager
def extra_engine(
    driver: str = "overlay2",
    *,
    name: str | None = None,
    size: str = "4G",
    images: Sequence[str] = DEFAULT_IMAGES,
) -> Iterator[ExtraEngine]:
    """A running extra engine for the ``with`` block; stopped and deleted afterwards."""
    engine_name = name or unique_name(driver[:5])
    try:
        yield start_engine(engine_name, driver, size, images)
    finally:
        stop_engine(engine_name)
