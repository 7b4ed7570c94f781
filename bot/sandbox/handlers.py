"""The sandbox's commands: ``/docker``, ``/sh``, ``/download`` and ``/sandbox``.

Each runs in the learner's turn (one command per learner at a time) in their sandbox (created
on first use, woken when the reaper stopped it), with their attachments saved to the host
shell first; a host shell or network that vanished is made again first, and the learner told.
This is the command boundary: an :class:`~bot.sandbox.errors.EngineError` that reaches it
becomes the engine's words in the learner's names with a hint (or, when the trouble is the
worker's, a message of our own); replies come from the one
:class:`~bot.sandbox.presenter.Presenter`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

from bot.core.context import Actor
from bot.core.errors import Unavailable, UserError
from bot.core.i18n import Translator
from bot.core.reply import Reply
from bot.dockercli.model import DockerCommand, Path
from bot.dockercli.parser import parse_docker
from bot.sandbox import budget, naming, objects, policy, provision
from bot.sandbox.errors import EngineError, EngineNotFound, TooBig
from bot.sandbox.manager import SandboxManager
from bot.sandbox.ops import OPERATIONS, Ctx, Note, Op, Output, execs, files, images, ports
from bot.sandbox.presenter import Presenter, SandboxStatus
from bot.sandbox.provision import HOME, Sandbox
from bot.sandbox.watchdog import DiskWatchdog

log = logging.getLogger("bot.sandbox.handlers")

# Subcommands that use neither the host shell nor the sandbox's network: they run without the
# host shell being inspected first when it was seen running moments ago (a forwarder table
# they hand over wakes a host shell found stopped; see ops/ports.py).
HOST_FREE: frozenset[Path] = frozenset(
    {("ps",), ("logs",), ("inspect",), ("top",), ("port",), ("stats",), ("wait",), ("diff",),
     ("exec",), ("rm",), ("stop",), ("kill",), ("pause",), ("container", "prune"),
     ("images",), ("image", "inspect"), ("history",), ("version",), ("info",),
     ("volume", "ls"), ("volume", "inspect"), ("network", "ls"), ("network", "inspect")}
)  # fmt: skip
# Subcommands that make a container on the sandbox's network: the engine keeps a network
# while a container is attached (the host shell seen running moments ago is), and they use
# the host shell only through the forwarder's table (which wakes it) — unless ``--cidfile``
# writes into it, they run without the inspect too (see :func:`trusts_host`).
CREATES: frozenset[Path] = frozenset({("run",), ("create",)})


def trusts_host(command: DockerCommand) -> bool:
    """Whether ``command`` may take a host shell seen running moments ago as running."""
    if command.path in CREATES:
        return not command.has("cidfile")
    return command.path in HOST_FREE


class SandboxCommands:
    def __init__(
        self, manager: SandboxManager, disk: DiskWatchdog, presenter: Presenter | None = None
    ) -> None:
        self.manager = manager
        self.disk = disk
        self.presenter = presenter or Presenter()

    # the learner's turn in their sandbox ------------------------------------------------
    def _ctx(self, sandbox: Sandbox) -> Ctx:
        self.manager.touch(sandbox)
        return Ctx(sandbox, self.manager.settings, self.manager.policy, self.disk)

    @asynccontextmanager
    async def _session(
        self, actor: Actor, tr: Translator, trust: bool = False
    ) -> AsyncIterator[tuple[Ctx, list[Reply]]]:
        """The actor's turn in their (woken, repaired) sandbox, their uploads saved (the
        replies that say so come with it). An engine error inside is shown in the engine's
        own words. ``trust``: the command does not need the host shell looked at when it
        was seen running moments ago (see :func:`trusts_host`)."""
        async with self.manager.turn(actor.user_id):
            sandbox = await self.manager.obtain(actor.user_id)
            ctx = self._ctx(sandbox)
            try:
                was_stopped = sandbox.stopped
                repaired = await self.manager.prepare(sandbox, trust=trust and not actor.uploads)
                if was_stopped or repaired:  # the forwarder came back with a stale table
                    await ports.sync(ctx)
                replies = self._repaired(tr, repaired)
                replies += await self._upload(ctx, actor, tr)
                yield ctx, replies
            except EngineError as exc:
                sandbox.forget_host()  # whatever went wrong, the next command looks again
                raise await self._engine_failure(ctx, tr, exc) from exc
            except Unavailable:
                sandbox.forget_host()
                raise

    def _repaired(self, tr: Translator, repaired: list[str]) -> list[Reply]:
        return [self.presenter.repaired(tr, repaired)] if repaired else []

    async def _engine_failure(self, ctx: Ctx, tr: Translator, exc: EngineError) -> UserError:
        """``exc`` for the learner: real names rewritten, full ids shown as their names; the
        worker's own trouble as a message of ours (the engine's words go to the log)."""
        names: dict[str, str] = {}
        if naming.has_full_id(exc.explanation):
            names = await self._names_by_id(ctx)
        error = self.presenter.engine_error(tr, naming.for_user(exc.explanation, ctx.scope, names))
        if error.ours:
            log.warning(
                "engine trouble shown to a learner as %s",
                error.key,
                extra={
                    "user": ctx.scope.owner,
                    "error": exc.explanation[:500],
                    "status": exc.status,
                },
            )
        return error

    async def _names_by_id(self, ctx: Ctx) -> dict[str, str]:
        """The learner's names of their containers and networks by full id (what can be had:
        an id not found here is shown short)."""
        containers, networks = await asyncio.gather(
            objects.containers(ctx.worker, ctx.scope),
            objects.networks(ctx.worker, ctx.scope, with_bridge=True),
            return_exceptions=True,
        )
        names: dict[str, str] = {}
        if not isinstance(containers, BaseException):  # else the ids are shown short
            names |= {str(c["Id"]): objects.container_name(ctx.scope, c) for c in containers}
        if not isinstance(networks, BaseException):
            names |= {str(n["Id"]): ctx.scope.user_name(str(n["Name"])) for n in networks}
        return names

    async def _upload(self, ctx: Ctx, actor: Actor, tr: Translator) -> list[Reply]:
        """Put the actor's attachments into the host shell's home directory (the engine
        writes into a stopped container too)."""
        saved: list[str] = []
        limit = self.manager.settings.upload_max_bytes
        if actor.uploads:
            await self._refuse_over_budget(ctx, tr, "sandbox.disk.over_budget_upload")
        for upload in actor.uploads:
            if upload.size > limit:
                raise UserError("sandbox.too_big", limit=limit)
            files.check_room(upload.size, self.disk.room(ctx.sandbox))  # the disk budget
            data = await upload.read()
            if len(data) > limit:
                raise UserError("sandbox.too_big", limit=limit)
            files.check_room(len(data), self.disk.room(ctx.sandbox))
            name = files.safe_filename(upload.filename)
            async with self.disk.writing(ctx.sandbox, volumes=False, volume_set=False):
                await files.put_home_file(ctx, name, data)
            ctx.attached.append((name, data))  # `docker cp - …` reads an attached tar
            saved.append(name)
        return [self.presenter.uploaded(tr, saved, HOME)] if saved else []

    # the disk budget ------------------------------------------------------------------
    async def _refuse_over_budget(self, ctx: Ctx, tr: Translator, key: str) -> None:
        """A UserError saying what uses the space when the sandbox is over its budget."""
        over = await self.disk.over_budget(ctx.sandbox)
        if over is not None:
            budget_bytes = ctx.settings.disk.budget_bytes
            raise self.presenter.over_budget(tr, over, budget_bytes, key)

    async def _docker_gate(self, ctx: Ctx, tr: Translator, command: DockerCommand) -> None:
        """Over the budget, commands that write are refused; ``exec`` of a program that only
        looks or deletes still runs."""
        if not budget.writes(command.path):
            return
        if command.path == ("exec",) and budget.frees_space(command.container_command):
            return
        await self._refuse_over_budget(ctx, tr, "sandbox.disk.over_budget")

    def _notices(self, ctx: Ctx, tr: Translator) -> list[Reply]:
        """What the disk watchdog did since the learner's last reply."""
        stopped = self.disk.take_notice(ctx.sandbox)
        return [self.presenter.disk_notice(tr, stopped)] if stopped is not None else []

    # /docker ---------------------------------------------------------------------------
    async def docker(self, actor: Actor, tr: Translator, command_line: str) -> list[Reply]:
        command = parse_docker(command_line)
        # Which images are the learner's own is known inside their sandbox: run/create
        # resolve the image there (their own first, else the allowlist decides).
        deferred = replace(self.manager.policy, own_images=None)
        notes = [Note(key) for key in policy.enforce(command, deferred)]
        operation = OPERATIONS.get(command.path)
        if operation is None:
            raise UserError("sandbox.unsupported_command", command=" ".join(command.path))
        async with self._session(actor, tr, trusts_host(command)) as (ctx, replies):
            await self._docker_gate(ctx, tr, command)
            try:
                output = await self._watched(ctx, operation, command)
            finally:
                if budget.changes_images(command.path):
                    images.forget_own(ctx)  # listed again by the next command that asks
        replies.append(self.presenter.output(tr, output, before=notes))
        return replies + self._notices(ctx, tr)

    async def _watched(self, ctx: Ctx, operation: Op, command: DockerCommand) -> Output:
        """``operation`` under the disk watchdog's eye, as the command can change the disk."""
        volume_set = budget.changes_volumes(command.path)
        if budget.looks(command.path):
            return await operation(ctx, command)
        if budget.writes(command.path):
            volumes = budget.writes_volumes(command.path)
            async with self.disk.writing(ctx.sandbox, volumes, volume_set=volume_set):
                return await operation(ctx, command)
        try:  # frees space (or changes no bytes): measured again after
            return await operation(ctx, command)
        finally:
            self.disk.wrote(ctx.sandbox, started=False, volume_set=volume_set)

    # /sh ------------------------------------------------------------------------------
    async def sh(self, actor: Actor, tr: Translator, command_line: str) -> list[Reply]:
        command_line = command_line.strip()
        if not command_line:
            raise UserError("sandbox.missing_command")
        async with self._session(actor, tr) as (ctx, replies):
            if not budget.shell_frees_space(command_line):
                await self._refuse_over_budget(ctx, tr, "sandbox.disk.over_budget_sh")
            async with self.disk.writing(
                ctx.sandbox, volumes=False, processes=True, volume_set=False
            ):
                captured, code = await execs.host_exec(ctx, command_line)
            output = Output(text=captured.text, name="sh.txt")
            settings = ctx.settings
            if captured.cut:
                output.notes.append(Note("sandbox.stream_cut", {"cap": settings.output_bytes}))
            if not captured.ended:
                await provision.restart_host(ctx.sandbox, settings.api_timeout_seconds)
                seconds = round(settings.exec_timeout_seconds)
                output.notes.append(Note("sandbox.sh_stopped", {"seconds": seconds}))
            elif code:
                output.notes.append(Note("sandbox.exit_code", {"code": code}))
        replies.append(self.presenter.output(tr, output))
        return replies + self._notices(ctx, tr)

    # /download ----------------------------------------------------------------------
    async def download(self, actor: Actor, tr: Translator, path: str) -> Reply:
        limit = self.manager.settings.upload_max_bytes
        async with self.manager.turn(actor.user_id):
            sandbox = await self.manager.obtain(actor.user_id)
            ctx = self._ctx(sandbox)
            real, host = files.host_path(path), ctx.scope.host_name
            try:
                # the engine reads a stopped host shell too: repaired if gone, not woken
                repaired = self._repaired(tr, await self.manager.prepare(sandbox, wake=False))
                archive, single = await ctx.run(lambda api: files.read_file(api, host, real, limit))
            except EngineNotFound as exc:
                if repaired:  # the host shell was made again: the file went with the old one
                    raise UserError("sandbox.repaired_no_file", path=path[:200]) from exc
                raise UserError("sandbox.no_such_file", path=path[:200]) from exc
            except TooBig as exc:
                raise UserError("sandbox.too_big", limit=exc.limit) from exc
            except EngineError as exc:
                raise await self._engine_failure(ctx, tr, exc) from exc
        if single is None:
            name = (real.rstrip("/").rsplit("/", 1)[-1] or "home") + ".tar"
            data = archive
        else:
            name, data = single
            name = name.rsplit("/", 1)[-1]
        reply = self.presenter.download(tr, real, files.safe_filename(name), data)
        if repaired:
            reply = dataclasses.replace(reply, body=f"{repaired[0].body}\n{reply.body}")
        return reply

    # /sandbox -----------------------------------------------------------------------
    async def status(self, actor: Actor, tr: Translator) -> Reply:
        settings = self.manager.settings
        sandbox = self.manager.get(actor.user_id)
        if sandbox is None:  # one of theirs on a worker (after a restart) counts too
            async with self.manager.turn(actor.user_id):
                sandbox = await self.manager.adopt(actor.user_id)
        if sandbox is None:
            return self.presenter.status(tr, None, settings)
        containers, volumes, networks = await objects.listing(sandbox.worker, sandbox.scope)
        scope = sandbox.scope
        disk = await self.disk.current(sandbox)
        support = sandbox.worker.disk_support
        status = SandboxStatus(
            worker=sandbox.worker.name,
            stopped=sandbox.stopped,
            containers=tuple(
                (objects.container_name(scope, c), str(c.get("State"))) for c in containers
            ),
            volumes=objects.user_names(scope, volumes),
            networks=objects.user_names(scope, networks),
            stops_at=sandbox.last_activity + timedelta(minutes=settings.idle_stop_minutes),
            destroyed_at=sandbox.last_activity + timedelta(minutes=settings.idle_destroy_minutes),
            aside=tuple((s.worker.name, s.created_at) for s in self.manager.aside(actor.user_id)),
            disk=disk,
            disk_limited=support.limits_disk if support is not None else None,
            over_budget=self.disk.state(sandbox).over,
        )
        self.disk.take_notice(sandbox)  # the status shows it all
        return self.presenter.status(tr, status, settings)

    async def reset(self, actor: Actor, tr: Translator, confirmed: bool = False) -> Reply:
        if not confirmed:
            return self.presenter.confirm(tr, "reset", actor.user_id)
        async with self.manager.turn(actor.user_id):
            await self.manager.reset(actor.user_id)
        return self.presenter.done(tr, "sandbox.reset_done")

    async def destroy(self, actor: Actor, tr: Translator, confirmed: bool = False) -> Reply:
        if not confirmed:
            return self.presenter.confirm(tr, "destroy", actor.user_id)
        async with self.manager.turn(actor.user_id):
            if not await self.manager.destroy(actor.user_id):
                return self.presenter.plain(tr, "sandbox.status_none")
        return self.presenter.done(tr, "sandbox.destroy_done")

    async def press(self, actor: Actor, tr: Translator, action: str) -> Reply:
        """``sandbox:confirm-reset:<owner>``, ``sandbox:confirm-destroy:<owner>``,
        ``sandbox:cancel:<owner>``: only the member who asked may answer (another member's
        press on a shared question would otherwise reset or delete the presser's sandbox)."""
        parts = action.split(":")
        if len(parts) != 3 or parts[1] not in ("confirm-reset", "confirm-destroy", "cancel"):
            raise UserError("general.expired_action")  # a question asked before owners were kept
        verb, owner = parts[1], parts[2]
        if owner != actor.user_id:
            raise UserError("sandbox.not_yours")
        if verb == "confirm-reset":
            return await self.reset(actor, tr, confirmed=True)
        if verb == "confirm-destroy":
            return await self.destroy(actor, tr, confirmed=True)
        return self.presenter.plain(tr, "sandbox.cancelled")
