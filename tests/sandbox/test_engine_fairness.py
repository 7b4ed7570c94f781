"""Start slots per worker and the bounded wait for a thread, on a real worker."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from bot.core.errors import Unavailable
from bot.sandbox.executor import DockerExecutor, acting_for
from bot.sandbox.workers import Slot, Worker
from bot.settings import WorkerSettings
from tests.sandbox.engine_support import message

pytestmark = [pytest.mark.docker]


async def connected(executor: DockerExecutor, **settings: object) -> Worker:
    worker = Worker(WorkerSettings(**settings), executor, 10)  # type: ignore[arg-type]
    assert await worker.connect()
    return worker


async def until(condition: object, attempts: int = 1000) -> None:
    for _ in range(attempts):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.005)
    raise AssertionError("never reached")


def recording(name: str, running: list[str], release: threading.Event) -> Callable[[object], str]:
    """An engine call that notes it runs, then holds its thread until ``release``."""

    def blocking(_api: object) -> str:
        running.append(name)
        release.wait(10)
        return name

    return blocking


async def test_heavy_calls_wait_for_one_of_the_workers_start_slots() -> None:
    executor = DockerExecutor(4, 10)
    worker = await connected(executor, concurrent_starts=1)
    release = threading.Event()
    running: list[str] = []

    def heavy(name: str) -> Callable[[object], str]:
        return recording(name, running, release)

    try:
        first = asyncio.create_task(worker.run(heavy("first"), heavy=Slot.CREATE))
        second = asyncio.create_task(worker.run(heavy("second"), heavy=Slot.CREATE))
        light = asyncio.create_task(worker.run(lambda api: "light"))
        assert await light == "light"  # a light call does not wait for a start slot
        await until(lambda: running == ["first"])
        await asyncio.sleep(0.05)
        assert running == ["first"]  # two threads free, one start slot: the second waits
        release.set()
        assert await asyncio.gather(first, second) == ["first", "second"]
    finally:
        release.set()
        worker.close()
        executor.shutdown()


async def test_a_start_waiting_for_a_slot_goes_ahead_of_the_creations_waiting() -> None:
    # a class arrives: three creations hold or wait for the one slot; the first learner's
    # container, made, must not wait for the others' to be made before it starts
    executor = DockerExecutor(8, 10)
    worker = await connected(executor, concurrent_starts=1)
    release = threading.Event()
    running: list[str] = []

    def call(name: str) -> Callable[[object], str]:
        return recording(name, running, release)

    try:
        held = asyncio.create_task(worker.run(call("create 1"), heavy=Slot.CREATE))
        await until(lambda: running == ["create 1"])
        waiting = [
            asyncio.create_task(worker.run(call(f"create {n}"), heavy=Slot.CREATE)) for n in (2, 3)
        ]
        await until(lambda: worker.starts.waiting() == 2)
        start = asyncio.create_task(worker.run(call("start 1"), heavy=Slot.START))
        await until(lambda: worker.starts.waiting() == 3)
        release.set()
        await asyncio.gather(held, start, *waiting)
        assert running == ["create 1", "start 1", "create 2", "create 3"]
    finally:
        release.set()
        worker.close()
        executor.shutdown()


async def test_a_creation_or_start_may_take_its_own_longer_time() -> None:
    # in a class's burst one container creation can take longer than any list or inspect
    # should: a heavy call has start_timeout_seconds, a light one the API timeout
    executor = DockerExecutor(4, 10)
    worker = Worker(WorkerSettings(start_timeout_seconds=3.0), executor, 0.2)
    assert await worker.connect()
    never = threading.Event()  # an engine call that answers after `seconds`

    def answering_after(seconds: float) -> object:
        return lambda _api: never.wait(seconds) or "answered"

    try:
        # as a command's context asks: the API timeout, and whether the call is heavy
        slow_start = worker.run(answering_after(0.6), timeout=0.2, heavy=Slot.START)
        assert await slow_start == "answered"  # past the API timeout, within its own
        with pytest.raises(Unavailable) as light:
            await worker.run(answering_after(0.6), timeout=0.2)
        assert light.value.key == "sandbox.worker_slow"
        with pytest.raises(Unavailable) as heavy:
            await worker.run(answering_after(6.0), timeout=0.2, heavy=Slot.CREATE)
        assert heavy.value.key == "sandbox.worker_slow"  # past its own: told, not waited on
        assert worker.healthy  # the engine answers pings: slow, not down
    finally:
        never.set()
        worker.close()
        executor.shutdown()


async def test_a_call_that_waits_too_long_for_a_thread_is_told_the_worker_is_busy() -> None:
    executor = DockerExecutor(1, 10, queue_timeout=0.2)
    worker = await connected(executor)
    release = threading.Event()
    try:
        with acting_for("alice"):
            busy = asyncio.create_task(worker.run(lambda api: release.wait(10)))
        await until(lambda: executor.stats.running == 1)
        with acting_for("bob"), pytest.raises(Unavailable) as refused:
            await worker.run(lambda api: api.ping())
        assert refused.value.key == "sandbox.worker_busy"
        assert "very busy" in message(refused.value)
        assert worker.healthy  # busy is not down
        release.set()
        await busy
    finally:
        release.set()
        worker.close()
        executor.shutdown()
