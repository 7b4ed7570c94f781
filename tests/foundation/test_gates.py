"""The priority gate behind a worker's start slots: urgency first, then arrival."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.gates import PriorityGate


async def _holder(gate: PriorityGate, rank: int, name: str, order: list[str]) -> None:
    async with gate.slot(rank):
        order.append(name)
        await asyncio.sleep(0)


async def _until_waiting(gate: PriorityGate, count: int) -> None:
    for _ in range(1000):
        if gate.waiting() == count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{gate.waiting()} waiting, not {count}")


async def test_a_freed_slot_goes_to_the_most_urgent_then_the_longest_waiting() -> None:
    gate = PriorityGate(1)
    order: list[str] = []
    held, release = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with gate.slot(1):
            order.append("first")
            held.set()
            await release.wait()

    tasks = [asyncio.create_task(first())]
    await held.wait()
    assert gate.locked()
    for rank, name in ((1, "late a"), (1, "late b"), (0, "urgent")):
        tasks.append(asyncio.create_task(_holder(gate, rank, name, order)))
    await _until_waiting(gate, 3)
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["first", "urgent", "late a", "late b"]
    assert not gate.locked() and gate.waiting() == 0


async def test_no_more_than_its_slots_hold_it_at_once() -> None:
    gate = PriorityGate(3)
    holding = 0
    most = 0

    async def hold(rank: int) -> None:
        nonlocal holding, most
        async with gate.slot(rank):
            holding += 1
            most = max(most, holding)
            for _ in range(3):
                await asyncio.sleep(0)
            holding -= 1

    await asyncio.gather(*(hold(n % 2) for n in range(20)))
    assert most == 3 and holding == 0 and not gate.locked()


async def test_a_waiter_cancelled_takes_no_slot_and_one_handed_a_slot_hands_it_on() -> None:
    gate = PriorityGate(1)
    order: list[str] = []
    held, release = asyncio.Event(), asyncio.Event()
    waiters: dict[str, asyncio.Task[None]] = {}

    async def first() -> None:
        async with gate.slot():
            held.set()
            await release.wait()
        # the slot was just handed to "handed", which has not run yet: cancelled now, it
        # must hand the slot on to "last"
        waiters["handed"].cancel()

    holder = asyncio.create_task(first())
    await held.wait()
    for rank, name in ((0, "gone"), (0, "handed"), (1, "last")):
        waiters[name] = asyncio.create_task(_holder(gate, rank, name, order))
    await _until_waiting(gate, 3)
    waiters["gone"].cancel()  # cancelled while it waits: it takes no slot
    with pytest.raises(asyncio.CancelledError):
        await waiters["gone"]
    assert gate.waiting() == 2
    release.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await waiters["handed"]
    await asyncio.wait_for(waiters["last"], 10)  # a lost slot would leave it waiting
    assert order == ["last"]
    assert not gate.locked()


def test_a_gate_needs_a_slot() -> None:
    with pytest.raises(ValueError):
        PriorityGate(0)
