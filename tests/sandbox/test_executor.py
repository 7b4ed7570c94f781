"""The executor's fairness and time bounds, with real threads (no engine needed).

A call's owner is the learner whose turn it runs in (``acting_for``). Threads are handed out
round-robin between owners, an owner holds at most ``per_owner`` of them while others wait,
a call's timeout counts from when it has a thread, and the wait for a thread is bounded.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.core.metrics import REGISTRY
from bot.sandbox.executor import (
    BACKGROUND,
    OWNER,
    CallTimedOut,
    DockerExecutor,
    QueueTimedOut,
    acting_for,
)


class Gate:
    """Blocking calls that wait until released, and the order in which they started."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self._lock = threading.Lock()
        self._events: dict[str, threading.Event] = {}

    def call(self, name: str) -> object:
        event = self._events.setdefault(name, threading.Event())

        def blocking() -> str:
            with self._lock:
                self.started.append(name)
            event.wait(10)
            return name

        return blocking

    def release(self, name: str) -> None:
        self._events.setdefault(name, threading.Event()).set()


async def submit(executor: DockerExecutor, owner: str, fn: object) -> asyncio.Task[object]:
    with acting_for(owner):
        task = asyncio.create_task(executor.call(fn))  # type: ignore[arg-type]
    await asyncio.sleep(0)  # let it reach the executor's queue, in submission order
    return task


async def until(condition: object, attempts: int = 1000) -> None:
    """Wait (bounded) for a state the executor's threads reach by themselves."""
    for _ in range(attempts):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the executor never reached the expected state")


async def test_a_learner_with_many_calls_does_not_make_another_wait_behind_them() -> None:
    executor = DockerExecutor(1, 10)
    gate = Gate()
    try:
        alice = [await submit(executor, "alice", gate.call(f"a{i}")) for i in range(5)]
        bob = await submit(executor, "bob", gate.call("b0"))
        await until(lambda: gate.started == ["a0"])
        gate.release("a0")
        await until(lambda: len(gate.started) == 2)
        # first come, first served would run a1 next; bob's turn comes first
        assert gate.started == ["a0", "b0"]
        for name in ("b0", "a1", "a2", "a3", "a4"):
            gate.release(name)
        assert await bob == "b0"
        assert [await t for t in alice] == [f"a{i}" for i in range(5)]
        assert gate.started == ["a0", "b0", "a1", "a2", "a3", "a4"]
    finally:
        for name in ("a0", "a1", "a2", "a3", "a4", "b0"):
            gate.release(name)
        executor.shutdown()


async def test_round_robin_between_three_owners() -> None:
    executor = DockerExecutor(1, 10)
    gate = Gate()
    names = ["x", "a1", "a2", "b1", "b2", "c1"]
    try:
        tasks = [await submit(executor, BACKGROUND, gate.call("x"))]
        for name in names[1:]:
            tasks.append(await submit(executor, name[0], gate.call(name)))
        for count in range(1, len(names) + 1):  # one thread: release whatever runs, in turn
            await until(lambda count=count: len(gate.started) == count)
            gate.release(gate.started[-1])
        await asyncio.gather(*tasks)
        assert gate.started == ["x", "a1", "b1", "c1", "a2", "b2"]
    finally:
        for name in names:
            gate.release(name)
        executor.shutdown()


async def test_one_owner_holds_at_most_per_owner_threads_while_others_wait() -> None:
    executor = DockerExecutor(4, 10, per_owner=2)
    gate = Gate()
    names = ["a0", "a1", "a2", "a3", "b0"]
    try:
        alice = [await submit(executor, "alice", gate.call(n)) for n in names[:4]]
        await until(lambda: len(gate.started) == 2)
        await asyncio.sleep(0.05)  # two threads are free, yet alice gets no third
        assert sorted(gate.started) == ["a0", "a1"]
        bob = await submit(executor, "bob", gate.call("b0"))
        await until(lambda: "b0" in gate.started)
        assert executor.stats.running == 3
        for name in names:
            gate.release(name)
        await asyncio.gather(bob, *alice)
        assert executor.stats.running == 0 and executor.stats.queued == 0
    finally:
        for name in names:
            gate.release(name)
        executor.shutdown()


async def test_alone_an_owner_uses_every_thread_up_to_the_cap() -> None:
    executor = DockerExecutor(3, 10, per_owner=8)
    gate = Gate()
    try:
        tasks = [await submit(executor, "alice", gate.call(f"a{i}")) for i in range(3)]
        await until(lambda: len(gate.started) == 3)
        for i in range(3):
            gate.release(f"a{i}")
        await asyncio.gather(*tasks)
    finally:
        for i in range(3):
            gate.release(f"a{i}")
        executor.shutdown()


async def test_the_timeout_counts_from_when_the_call_has_a_thread() -> None:
    executor = DockerExecutor(1, 10)
    gate = Gate()
    try:
        first = await submit(executor, "alice", gate.call("slow"))
        with acting_for("bob"):
            queued = asyncio.create_task(executor.call(lambda: "quick", timeout=0.2))
        await asyncio.sleep(0.4)  # bob waited past his call's timeout, without a thread
        gate.release("slow")
        assert await first == "slow"
        assert await queued == "quick"
        assert executor.stats.timeouts == 0
    finally:
        gate.release("slow")
        executor.shutdown()


async def test_a_call_running_past_its_timeout_times_out_and_frees_its_thread() -> None:
    executor = DockerExecutor(1, 10)
    gate = Gate()
    try:
        with pytest.raises(CallTimedOut):
            await executor.call(gate.call("stuck"), timeout=0.1)  # type: ignore[arg-type]
        assert executor.stats.timeouts == 1 and executor.stats.running == 0
    finally:
        gate.release("stuck")
        executor.shutdown()


async def test_the_wait_for_a_thread_is_bounded_and_gives_the_place_up() -> None:
    executor = DockerExecutor(1, 10, queue_timeout=0.1)
    gate = Gate()
    try:
        first = await submit(executor, "alice", gate.call("busy"))
        with acting_for("bob"), pytest.raises(QueueTimedOut):
            await executor.call(lambda: "never")
        assert executor.stats.queue_timeouts == 1 and executor.stats.queued == 0
        gate.release("busy")
        assert await first == "busy"
        assert await executor.call(lambda: "next") == "next"
    finally:
        gate.release("busy")
        executor.shutdown()


async def test_a_cancelled_waiting_call_leaves_the_queue() -> None:
    executor = DockerExecutor(1, 10)
    gate = Gate()
    try:
        first = await submit(executor, "alice", gate.call("busy"))
        waiting = await submit(executor, "bob", gate.call("never"))
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert executor.stats.queued == 0
        gate.release("busy")
        await first
        assert await executor.call(lambda: "after") == "after"
        assert "never" not in gate.started
    finally:
        gate.release("busy")
        executor.shutdown()


async def test_owner_is_the_learner_in_whose_turn_the_call_runs() -> None:
    assert OWNER.get() == BACKGROUND
    with acting_for("alice"):
        inner = asyncio.create_task(asyncio.sleep(0, OWNER.get()))
        assert await inner == "alice"
    assert OWNER.get() == BACKGROUND


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_show_the_queue_and_count_both_kinds_of_time_out() -> None:
    """/metrics: calls waiting for a thread (coach_executor_queue_depth), calls past their
    time-out (coach_executor_timeouts_total, an engine error of kind timeout) and calls that
    found no thread in time (coach_executor_queue_timeouts_total)."""
    executor = DockerExecutor(1, 10, queue_timeout=0.2)
    gate = Gate()
    timeouts = sample("coach_executor_timeouts_total")
    engine_timeouts = sample("coach_engine_errors_total", kind="timeout")
    queue_timeouts = sample("coach_executor_queue_timeouts_total")
    depth = sample("coach_executor_queue_depth")
    try:
        busy = await submit(executor, "alice", gate.call("busy"))
        await until(lambda: gate.started == ["busy"])
        waiting = await submit(executor, "bob", gate.call("never"))
        assert sample("coach_executor_queue_depth") - depth == 1
        with pytest.raises(QueueTimedOut):
            await waiting
        assert sample("coach_executor_queue_timeouts_total") - queue_timeouts == 1
        assert sample("coach_executor_queue_depth") == depth
        gate.release("busy")
        await busy
        with pytest.raises(CallTimedOut):
            await executor.call(gate.call("stuck"), timeout=0.1)  # type: ignore[arg-type]
        assert sample("coach_executor_timeouts_total") - timeouts == 1
        assert sample("coach_engine_errors_total", kind="timeout") - engine_timeouts == 1
    finally:
        gate.release("busy")
        gate.release("stuck")
        executor.shutdown()
