"""Graceful shutdown: the gate, draining with a bound, and SIGTERM handled in-process."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bot.coach import Coach
from bot.core import metrics
from bot.core.commands import CommandSpec, Request
from bot.core.lifecycle import Gate
from bot.core.reply import Reply, Tone
from bot.ops.shutdown import Stopped, StopSignals, drain, run_until_stopped
from tests.conftest import make_actor


def add_held_command(coach: Coach) -> tuple[asyncio.Event, asyncio.Event]:
    """A ``/held`` command that starts, then waits until released."""
    started, release = asyncio.Event(), asyncio.Event()

    async def held(_request: Request) -> Reply:
        started.set()
        await release.wait()
        return Reply(body="held done")

    coach.table.add(CommandSpec(("held",), held))
    return started, release


async def test_gate_counts_running_requests_and_reports_drained():
    gate = Gate()
    with gate.admitted():
        assert gate.running == 1
        assert await gate.drained(0.01) is False  # still running: the bound ends the wait
    assert gate.running == 0
    assert await gate.drained(0.01) is True
    gate.close()
    assert gate.closing


async def test_closed_gate_refuses_new_commands_in_the_users_language(coach: Coach):
    refused = metrics.INTERACTIONS.labels("concept", "refused_shutting_down")
    before = refused._value.get()
    coach.gate.close()
    [reply] = await coach.run(make_actor("kim", locale="ko"), ("concept",), {"topic": "volume"})
    assert reply.tone is Tone.WARNING
    assert reply.title == coach.translator("ko")("general.shutting_down_title")
    assert refused._value.get() == before + 1


async def test_drain_waits_for_a_running_command_then_returns(coach: Coach):
    started, release = add_held_command(coach)
    running = asyncio.create_task(coach.run(make_actor(), ("held",)))
    await started.wait()
    draining = asyncio.create_task(drain(coach.gate, grace=30))
    await asyncio.sleep(0)
    assert not draining.done()  # waits for /held
    release.set()
    assert await draining is True
    [reply] = await running
    assert reply.body == "held done"  # the running command finished normally


async def test_drain_is_bounded(coach: Coach):
    started, _release = add_held_command(coach)
    running = asyncio.create_task(coach.run(make_actor(), ("held",)))
    await started.wait()
    assert await drain(coach.gate, grace=0.05) is False
    running.cancel()


async def test_sigterm_stops_taking_commands_lets_the_running_one_finish_and_returns_0(
    coach: Coach,
):
    started, release = add_held_command(coach)
    front_end_stopped = asyncio.Event()

    async def front_end() -> int:  # serves until stopped, like the console or Discord
        try:
            await asyncio.Event().wait()
        finally:
            front_end_stopped.set()
        return 1

    running = asyncio.create_task(coach.run(make_actor(), ("held",)))
    await started.wait()
    serving = asyncio.create_task(run_until_stopped(front_end(), coach.gate, 30))
    await asyncio.sleep(0)
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(1000):  # the handler runs on the loop, within a few iterations
        if coach.gate.closing:
            break
        await asyncio.sleep(0)
    assert coach.gate.closing
    [refused] = await coach.run(make_actor("late"), ("help",))
    assert refused.title == coach.translator("en")("general.shutting_down_title")
    assert not front_end_stopped.is_set()  # still waiting for /held
    release.set()
    assert await serving == 0
    assert front_end_stopped.is_set()
    [reply] = await running
    assert reply.body == "held done"


async def test_a_signal_while_the_coach_opens_calls_the_opening_off():
    cancelled = asyncio.Event()

    async def opening() -> str:  # an opening that never ends by itself
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()  # Coach.open closes what it opened here
            raise
        return "opened"

    with StopSignals() as signals:
        attempt = asyncio.create_task(signals.unless_stopped(opening()))
        await asyncio.sleep(0)
        os.kill(os.getpid(), signal.SIGTERM)
        with pytest.raises(Stopped):
            await attempt
    assert cancelled.is_set()


async def test_a_signal_that_came_while_opening_stops_the_serving_at_once(coach: Coach):
    """The opening finished just as the signal came: serving starts, sees it and stops."""

    async def front_end() -> int:
        await asyncio.Event().wait()
        return 1

    with StopSignals() as signals:
        assert await signals.unless_stopped(asyncio.sleep(0, "opened")) == "opened"
        signals.requested.set()
        assert await run_until_stopped(front_end(), coach.gate, 1, signals=signals) == 0
    assert coach.gate.closing
