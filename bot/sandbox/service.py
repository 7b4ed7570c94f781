"""The sandbox capability: every learner's own Docker playground on a worker host.

Four parts with one job each, built and started together here:

- :class:`~bot.sandbox.manager.SandboxManager` — workers and their thread pools, placement,
  provisioning, one command per user at a time, the reaper and reconciliation;
- :class:`~bot.sandbox.handlers.SandboxCommands` — ``/docker``, ``/sh``, ``/download``,
  ``/sandbox``, answering through the one :class:`~bot.sandbox.presenter.Presenter`;
- :class:`~bot.sandbox.readmodel.SandboxReadModel` — what practice, autocomplete, admins and
  the health endpoint may read (the interfaces in :mod:`bot.sandbox.api`);
- :class:`~bot.sandbox.watchdog.DiskWatchdog` — every sandbox within its disk budget, every
  worker above its free-space floor, and what each worker's engine can cap.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.clock import Clock
from bot.sandbox.capacity import Capacity
from bot.sandbox.handlers import SandboxCommands
from bot.sandbox.manager import IdentitySource, KnownUsers, SandboxManager
from bot.sandbox.readmodel import SandboxReadModel
from bot.sandbox.watchdog import DiskWatchdog
from bot.settings import SandboxSettings


class SandboxService:
    def __init__(
        self,
        settings: SandboxSettings,
        clock: Clock | None = None,
        known_users: KnownUsers | None = None,
        capacity: Capacity | None = None,
        identity: IdentitySource | None = None,
    ) -> None:
        """``known_users``: whose sandboxes of this instance to adopt (None: everyone's);
        ``identity``: the instance and database (default: the settings' instance)."""
        self.manager = SandboxManager(settings, clock, known_users, capacity, identity)
        self.watchdog = DiskWatchdog(self.manager)
        self.manager.admission = self.watchdog.admit
        self.manager.removal = self.watchdog.volumes_released
        self.commands = SandboxCommands(self.manager, self.watchdog)
        self.reader = SandboxReadModel(self.manager, self.watchdog)

    def prepare_images(self, references: Iterable[str]) -> None:
        """Images every worker should have before learners need them (pulled at start)."""
        self.manager.images.want(references)

    async def start(self) -> None:
        """Start bringing the workers up (in the background), the periodic rounds and the
        disk watchdog; never waits for an engine."""
        await self.manager.start()
        await self.watchdog.start()

    async def close(self) -> None:
        await self.watchdog.close()
        await self.manager.close()


__all__ = ["SandboxService"]
