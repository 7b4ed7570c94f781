"""The sandbox capability: every learner's own Docker playground on a worker host.

Three parts with one job each, built and started together here:

- :class:`~bot.sandbox.manager.SandboxManager` — workers and their thread pools, placement,
  provisioning, one command per user at a time, the reaper and reconciliation;
- :class:`~bot.sandbox.handlers.SandboxCommands` — ``/docker``, ``/sh``, ``/download``,
  ``/sandbox``, answering through the one :class:`~bot.sandbox.presenter.Presenter`;
- :class:`~bot.sandbox.readmodel.SandboxReadModel` — what practice, autocomplete, admins and
  the health endpoint may read (the interfaces in :mod:`bot.sandbox.api`).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.clock import Clock
from bot.sandbox.capacity import Capacity
from bot.sandbox.handlers import SandboxCommands
from bot.sandbox.manager import IdentitySource, KnownUsers, SandboxManager
from bot.sandbox.readmodel import SandboxReadModel
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
        self.commands = SandboxCommands(self.manager)
        self.reader = SandboxReadModel(self.manager)

    def prepare_images(self, references: Iterable[str]) -> None:
        """Images every worker should have before learners need them (pulled at start)."""
        self.manager.images.want(references)

    async def start(self) -> None:
        """Start bringing the workers up (in the background) and the periodic rounds; never
        waits for an engine."""
        await self.manager.start()

    async def close(self) -> None:
        await self.manager.close()


__all__ = ["SandboxService"]
