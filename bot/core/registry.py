"""How a capability plugs into the coach without knowing the coach.

Every capability has a ``register(app, …)`` function. ``app`` is a :class:`Registry`: the
command table to add commands, actions and listeners to, and the start/close life cycle.
Whatever else a capability needs is an explicit, typed argument of its ``register()``:
settings, the clock, the content registry, the store (a :class:`Slot`, filled when the coach
starts), and *ports* — Protocols the capability declares for what it needs from another
capability, which the composition root (``bot.coach``) wires to the concrete service.
A capability never imports ``bot.coach`` nor a capability it does not own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from bot.core.commands import CommandTable
from bot.core.errors import NotStarted

T = TypeVar("T")
Lifecycle = Callable[[], Awaitable[None]]


class Registry(Protocol):
    """What ``register()`` receives from the composition root."""

    @property
    def table(self) -> CommandTable:
        """Where commands, button actions and after-command listeners are registered."""
        ...

    def on_start(self, starter: Lifecycle) -> None:
        """Run ``starter`` when the coach starts (after the store has opened)."""
        ...

    def on_close(self, closer: Lifecycle) -> None:
        """Run ``closer`` when the coach closes (in reverse order, before the store closes)."""
        ...


class Slot(Generic[T]):
    """A dependency that exists only once the coach has started (the store).

    Capabilities are registered before anything is opened (``python -m bot sync`` only needs
    the command table), so they hold the slot and call :meth:`get` when a request arrives.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._value: T | None = None

    def fill(self, value: T) -> None:
        self._value = value

    def clear(self) -> T | None:
        value, self._value = self._value, None
        return value

    @property
    def filled(self) -> bool:
        return self._value is not None

    def get(self) -> T:
        if self._value is None:
            raise NotStarted(f"the {self.name} is not open: the coach has not been started")
        return self._value

    def peek(self) -> T | None:
        """The value if the coach has started, else None (for optional, best-effort uses)."""
        return self._value
