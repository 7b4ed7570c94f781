"""``event_loop_priority``: the loop's thread alone runs in the real-time class, or stays at
normal priority with a warning when it may not."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading

import pytest

from bot.core.errors import ConfigError
from bot.core.loops import loop_factory

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux scheduling policies")


def _policies_on_a_fresh_thread(priority: str) -> tuple[int, int]:
    """The scheduling policy of a new thread whose loop is made at ``priority``, and of a
    thread that loop's thread starts (as the executors start theirs)."""
    seen: list[int] = []

    def loop_thread() -> None:
        with asyncio.Runner(loop_factory=loop_factory("asyncio", priority)) as runner:
            seen.append(runner.run(_policy_here()))
            child = threading.Thread(target=lambda: seen.append(os.sched_getscheduler(0)))
            child.start()
            child.join()

    thread = threading.Thread(target=loop_thread)
    thread.start()
    thread.join()
    return seen[0], seen[1]


async def _policy_here() -> int:
    return os.sched_getscheduler(0)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs CAP_SYS_NICE (CI runs as root)")
def test_realtime_raises_the_loop_thread_only() -> None:
    loop_policy, child_policy = _policies_on_a_fresh_thread("realtime")
    # round-robin, with the flag that gives threads it starts the normal policy
    assert loop_policy == os.SCHED_RR | os.SCHED_RESET_ON_FORK
    assert child_policy == os.SCHED_OTHER  # docker-py's threads are not raised with it
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the caller's thread is untouched


def test_normal_leaves_the_policy_alone() -> None:
    assert _policies_on_a_fresh_thread("normal") == (os.SCHED_OTHER, os.SCHED_OTHER)


def test_an_unknown_priority_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="event_loop_priority"):
        loop_factory("asyncio", "highest")


_WITHOUT_THE_RIGHT = """
import asyncio, logging, os, resource, sys
from bot.core.loops import loop_factory
logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(message)s")
resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))  # no real-time priority by the limit
if os.geteuid() == 0:
    os.setgid(65534)
    os.setuid(65534)  # nobody: no CAP_SYS_NICE, RLIMIT_RTPRIO 0
with asyncio.Runner(loop_factory=loop_factory("asyncio", "realtime")) as runner:
    print("policy", runner.run(asyncio.sleep(0, os.sched_getscheduler(0))))
"""


def test_without_the_right_the_loop_runs_at_normal_priority_and_says_why() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_THE_RIGHT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"policy {os.SCHED_OTHER}" in done.stdout
    warning = [line for line in done.stdout.splitlines() if line.startswith("WARNING")]
    assert warning and "stays at normal priority" in warning[0], done.stdout
    assert "CAP_SYS_NICE" in warning[0] and "RLIMIT_RTPRIO" in warning[0]
