"""Registers ``/docker``, ``/sh``, ``/download`` and ``/sandbox`` (with its confirmations)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.core.clock import Clock
from bot.core.commands import (
    CommandSpec,
    CommandTable,
    OptionKind,
    OptionSpec,
    Request,
    Suggestion,
)
from bot.core.reply import Placement, Reply
from bot.dockercli.table import COMMANDS, ROUTES
from bot.sandbox.api import SandboxNames
from bot.sandbox.presenter import ACTION
from bot.sandbox.service import SandboxService
from bot.settings import Settings


class Coach(Protocol):
    """What registration uses of the coach (``bot.coach.Coach``), without importing it."""

    settings: Settings
    clock: Clock
    table: CommandTable
    services: dict[str, Any]

    def on_start(self, starter: Callable[[], Awaitable[None]]) -> None: ...

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None: ...


SANDBOX_ACTIONS = ("status", "reset", "destroy")
SUBCOMMANDS: tuple[str, ...] = tuple(
    sorted({" ".join(path) for path in ROUTES} | {" ".join(p) for p in COMMANDS})
)
# Subcommands whose next word names one of the user's containers / volumes.
_TAKES_CONTAINER = frozenset(
    {"start", "stop", "restart", "pause", "unpause", "kill", "rm", "logs", "exec", "inspect",
     "rename", "top", "port", "stats", "container start", "container stop", "container rm"}
)  # fmt: skip
_TAKES_VOLUME = frozenset({"volume rm", "volume inspect"})


def register(coach: Coach) -> SandboxService:
    service = SandboxService(
        coach.settings.sandbox, clock=coach.clock, known_users=_known_users(coach)
    )
    coach.services["sandbox"] = service.reader
    coach.on_start(service.start)
    coach.on_close(service.close)

    async def known(request: Request) -> None:
        """Register the user before any sandbox of theirs can exist: reconciliation removes
        sandboxes of owners the store does not know."""
        store = coach.services.get("store")
        users = getattr(store, "users", None)
        if users is not None and hasattr(users, "ensure"):
            await users.ensure(request.actor)

    handlers = service.commands

    async def docker(request: Request) -> list[Reply]:
        await known(request)
        return await handlers.docker(request.actor, request.tr, str(request.opt("command", "")))

    async def sh(request: Request) -> list[Reply]:
        await known(request)
        return await handlers.sh(request.actor, request.tr, str(request.opt("command", "")))

    async def download(request: Request) -> Reply:
        await known(request)
        return await handlers.download(request.actor, request.tr, str(request.opt("path", "")))

    async def sandbox(request: Request) -> Reply:
        await known(request)
        action = str(request.opt("action", "status"))
        if action == "reset":
            return await handlers.reset(request.actor, request.tr)
        if action == "destroy":
            return await handlers.destroy(request.actor, request.tr)
        return await handlers.status(request.actor, request.tr)

    async def press(request: Request, action: str, _value: str | None) -> Reply:
        await known(request)  # a confirmed reset creates a sandbox
        outcome = await handlers.press(request.actor, request.tr, action)
        # The outcome takes the confirmation's place: its buttons cannot be pressed twice.
        return outcome.but(placement=Placement.REPLACE)

    async def complete(request: Request, partial: str) -> list[Suggestion]:
        return await complete_docker(service.reader, request, partial)

    table = coach.table
    for name, handler, completer in (("docker", docker, complete), ("sh", sh, None)):
        command = OptionSpec(
            "command", required=True, rest=True, completer=completer, max_length=1500
        )
        attachment = OptionSpec("file", kind=OptionKind.ATTACHMENT)
        table.add(CommandSpec((name,), handler, (command, attachment), touches_worker=True))
    table.add(
        CommandSpec(
            ("download",),
            download,
            (OptionSpec("path", required=True, rest=True, max_length=500),),
            touches_worker=True,
        )
    )
    table.add(
        CommandSpec(
            ("sandbox",),
            sandbox,
            (OptionSpec("action", choices=SANDBOX_ACTIONS),),
            touches_worker=True,
        )
    )
    table.add_action(ACTION, press)
    return service


def _known_users(coach: Coach) -> Callable[[], Awaitable[set[str] | None]]:
    """The store's users (looked up when asked: the store opens after registration);
    None — everyone counts as known — when there is no store."""

    async def users() -> set[str] | None:
        store = coach.services.get("store")
        known = getattr(store, "known_user_ids", None)
        return None if known is None else set(await known())

    return users


async def complete_docker(
    service: SandboxNames, request: Request, partial: str
) -> list[Suggestion]:
    """Subcommands first; then the user's container or volume names for the last word."""
    words = partial.split(" ")
    head = " ".join(w for w in words[:-1] if w and not w.startswith("-"))
    last = words[-1]
    if not head:
        return [Suggestion(s, s) for s in SUBCOMMANDS if s.startswith(last)][:25]
    names: list[str] = []
    if head in _TAKES_VOLUME:
        names = await service.volume_names(request.actor)
    elif head.split(" ")[0] in _TAKES_CONTAINER or head in _TAKES_CONTAINER:
        names = await service.container_names(request.actor)
    prefix = partial[: len(partial) - len(last)]
    return [Suggestion(prefix + n, prefix + n) for n in names if n.startswith(last)][:25]
