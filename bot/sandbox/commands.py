"""Registers ``/docker``, ``/sh``, ``/download`` and ``/sandbox`` (with its confirmations)."""

from __future__ import annotations

from bot.core.clock import Clock
from bot.core.commands import CommandSpec, OptionKind, OptionSpec, Request, Suggestion
from bot.core.registry import Registry, Slot
from bot.core.reply import Placement, Reply
from bot.dockercli.table import COMMANDS, ROUTES
from bot.sandbox.api import SandboxNames
from bot.sandbox.presenter import ACTION
from bot.sandbox.service import SandboxService
from bot.settings import SandboxSettings
from bot.store import Store

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


def register(
    app: Registry, settings: SandboxSettings, clock: Clock, store: Slot[Store]
) -> SandboxService:
    """The store tells the sandbox whose sandboxes to keep: reconciliation adopts the
    sandboxes of the people it knows. Other capabilities get ``service.reader`` (the read
    model) through their ports."""

    async def known_users() -> set[str]:
        return await store.get().known_user_ids()

    service = SandboxService(settings, clock=clock, known_users=known_users)
    app.on_start(service.start)
    app.on_close(service.close)

    async def known(request: Request) -> None:
        """Register the user before any sandbox of theirs can exist: reconciliation removes
        sandboxes of owners the store does not know."""
        await store.get().users.ensure(request.actor)

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

    table = app.table
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
