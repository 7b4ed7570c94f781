"""Graceful shutdown on SIGTERM and SIGINT, for ``python -m bot run`` and the console.

The first signal closes the coach's gate (new commands are answered "restarting"), waits for
the running ones to finish — at most ``shutdown_grace_seconds`` — and then stops the front
end; the caller closes the coach (engine clients, then the store) and exits 0. A second
signal skips the rest of the wait. A signal that arrives while the coach is still opening
(:meth:`StopSignals.unless_stopped`) cancels the opening, which closes what it had opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from bot.core.lifecycle import Gate

log = logging.getLogger("bot.ops.shutdown")
T = TypeVar("T")
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(Exception):
    """A stop signal arrived before the coach was serving; what had started was closed."""


class StopSignals:
    """While entered, SIGTERM and SIGINT set :attr:`requested` (and :attr:`forced` the
    second time) instead of ending the process."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.forced = asyncio.Event()
        self.received: str | None = None
        self._installed: list[signal.Signals] = []

    def __enter__(self) -> StopSignals:
        """Install the handlers (again after :meth:`__exit__`; once when entered twice)."""
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            if sig in self._installed:
                continue
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError):  # not the main thread
                continue
            self._installed.append(sig)
        return self

    def __exit__(self, *_exc: object) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
        self._installed.clear()

    async def unless_stopped(self, step: Awaitable[T]) -> T:
        """``await step``, unless a stop signal comes first: then ``step`` is cancelled (it
        undoes what it did, as :meth:`Coach.open` does) and :class:`Stopped` is raised."""
        task = asyncio.ensure_future(step)
        waiter = asyncio.ensure_future(self.requested.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the caller was cancelled: so is the step
            task.cancel()
            raise
        finally:
            waiter.cancel()
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            # Done before the cancel took effect: the caller serves, sees the signal that
            # is already there and stops at once.
            return await task
        raise Stopped

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.requested.is_set():
            log.warning("second stop signal: not waiting for running commands any longer")
            self.forced.set()
            return
        self.received = sig.name
        log.info("stop signal received, shutting down", extra={"signal": sig.name})
        self.requested.set()


async def drain(gate: Gate, grace: float, forced: asyncio.Event | None = None) -> bool:
    """Close the gate and wait for running commands (``grace`` seconds at most)."""
    gate.close()
    waiting = asyncio.ensure_future(gate.drained(grace))
    waits: set[asyncio.Future[Any]] = {waiting}
    if forced is not None:
        waits.add(asyncio.ensure_future(forced.wait()))
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for pending in waits:
        pending.cancel()
    drained = waiting.done() and not waiting.cancelled() and waiting.result()
    if drained:
        log.info("every running command finished")
    else:
        log.warning("stopping with commands still running", extra={"running": gate.running})
    return bool(drained)


async def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()


async def run_until_stopped(
    main: Coroutine[Any, Any, T],
    gate: Gate,
    grace: float,
    stop_front_end: Callable[[asyncio.Task[T]], Awaitable[None]] = _cancel,
    signals: StopSignals | None = None,
) -> T | int:
    """Run ``main`` until it ends by itself (its result) or a stop signal arrives (0).

    ``signals``: the handlers the caller installed before opening the coach (a signal that
    came since is acted on at once), else new ones. Either way they are removed on return:
    while the caller closes the coach, a signal does what it does by default."""
    with signals or StopSignals() as stop:
        task: asyncio.Task[T] = asyncio.ensure_future(main)
        waiter = asyncio.ensure_future(stop.requested.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            waiter.cancel()
            return task.result()
        await drain(gate, grace, stop.forced)
        await stop_front_end(task)
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return 0


async def blocking_read(read: Callable[..., T], *args: Any) -> T:
    """``read(*args)`` on a daemon thread: like ``asyncio.to_thread``, but a read still
    waiting for a line when the process stops never holds up its exit (the default executor
    is joined at exit; a daemon thread is not)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        try:
            result, error = read(*args), None
        except BaseException as exc:  # handed to the awaiting coroutine
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="blocking-read", daemon=True).start()
    return await future
