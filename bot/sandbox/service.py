"""The sandbox service: every user's own Docker playground on a worker host.

It ties the parser and policy to the engine: one command per user at a time, many users in
parallel, every docker-py call on a bounded thread pool with timeouts, per-user quotas and
per-worker capacity checked under locks, a reaper for idle sandboxes and reconciliation by
labels at start. Answers are :class:`~bot.core.reply.Reply` s with CLI-like output.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from docker.errors import APIError, NotFound

from bot.core import limits as discord_limits
from bot.core.clock import Clock, SystemClock
from bot.core.context import Actor
from bot.core.errors import Busy, Unavailable, UserError
from bot.core.i18n import Translator
from bot.core.moments import moment
from bot.core.reply import Choice, ChoiceStyle, Field, Reply, ReplyFile, Tone
from bot.sandbox import cli, naming, objects, policy, provision, reaper, reconcile
from bot.sandbox.executor import DockerExecutor
from bot.sandbox.ops import OPERATIONS, Ctx, Output
from bot.sandbox.ops import containers as container_ops
from bot.sandbox.ops import files as file_ops
from bot.sandbox.ops import images as image_ops
from bot.sandbox.provision import HOME, Sandbox
from bot.sandbox.state import SandboxState
from bot.sandbox.streams import Captured
from bot.sandbox.workers import Worker, WorkerPool
from bot.settings import SandboxSettings

log = logging.getLogger("bot.sandbox")
KnownUsers = Callable[[], Awaitable[set[str] | None]]  # None: every owner counts as known
CODE_CHARS = 1800  # what fits a Discord message as a code block, with the fences
ACTION = "sandbox"
SWEEP_SECONDS = 600.0  # how often the reaper reconciles again (orphans, workers back up)


@dataclass(frozen=True, slots=True)
class SandboxSummary:
    """One sandbox for the admin commands."""

    owner: str
    sandbox: str
    worker: str
    containers: int
    running: int
    volumes: int
    networks: int
    created_at: datetime
    last_activity: datetime
    stopped: bool


class SandboxService:
    def __init__(
        self,
        settings: SandboxSettings,
        clock: Clock | None = None,
        known_users: KnownUsers | None = None,
    ) -> None:
        """``known_users``: whose sandboxes of this instance to adopt (None: everyone's)."""
        self.settings = settings
        self._last_sweep = time.monotonic()
        self.clock = clock or SystemClock()
        self.known_users = known_users
        self.policy = policy.PolicyConfig.from_settings(settings)
        self.executor = DockerExecutor(settings.thread_pool_size, settings.api_timeout_seconds)
        self.streams = DockerExecutor(settings.thread_pool_size, settings.api_timeout_seconds)
        self.pool = WorkerPool(
            settings.workers, self.executor, settings.api_timeout_seconds, self.streams
        )
        self._sandboxes: dict[str, Sandbox] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._reconciled: set[str] = set()
        self.reaper = reaper.Reaper(self.tick, settings.reaper_interval_seconds)
        self.started = False

    # life cycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Connect workers, reconcile, start the reaper; never raises for a missing engine."""
        try:
            await self.pool.connect_all()
            await self._reconcile_new_workers()
        except Exception:
            log.exception("sandbox start-up incomplete; workers will be retried")
        self.reaper.start()
        self.started = True

    async def close(self) -> None:
        await self.reaper.close()
        self.pool.close()
        self.executor.shutdown()
        self.streams.shutdown()

    async def _known(self) -> set[str] | None:
        if self.known_users is None:
            return None
        known = await self.known_users()
        # A sandbox this process serves (or is creating right now) is never an orphan,
        # whatever the store says.
        busy = {owner for owner, lock in self._locks.items() if lock.locked()}
        return None if known is None else set(known) | set(self._sandboxes) | busy

    async def _reconcile_new_workers(self, again: bool = False) -> None:
        """Reconcile workers never reconciled yet (every healthy one when ``again``)."""
        for worker in self.pool.workers:
            if (worker.name in self._reconciled and not again) or not worker.healthy:
                continue
            try:
                outcome = await reconcile.reconcile(
                    worker,
                    self.settings.instance,
                    await self._known(),
                    timedelta(minutes=self.settings.idle_stop_minutes),
                    self.settings.api_timeout_seconds * 4,
                )
            except Unavailable:
                continue
            for sandbox in outcome.adopted:
                if sandbox.owner not in self._sandboxes and not self._lock(sandbox.owner).locked():
                    self._sandboxes[sandbox.owner] = sandbox
            self._reconciled.add(worker.name)
        self._last_sweep = time.monotonic()

    async def tick(self) -> None:
        """One reaper round: re-check down workers, stop idle and destroy long-idle sandboxes."""
        for worker in self.pool.workers:
            if not worker.healthy:
                await worker.connect()
        sweep_due = time.monotonic() - self._last_sweep >= SWEEP_SECONDS
        await self._reconcile_new_workers(again=sweep_due)
        now = self.clock.now()
        stop_after = timedelta(minutes=self.settings.idle_stop_minutes)
        destroy_after = timedelta(minutes=self.settings.idle_destroy_minutes)
        for owner, sandbox in list(self._sandboxes.items()):
            action = reaper.due(sandbox, now, stop_after, destroy_after)
            if not action or not sandbox.worker.healthy or self._lock(owner).locked():
                continue
            try:
                async with self._lock(owner):
                    if action == "destroy":
                        await self._remove(sandbox)
                        log.info("idle sandbox destroyed", extra={"user": owner})
                    else:
                        await sandbox.worker.run(
                            reaper.stop_blocking,
                            sandbox.scope,
                            timeout=self.settings.api_timeout_seconds * 2,
                        )
                        sandbox.stopped = True
                        log.info("idle sandbox stopped", extra={"user": owner})
            except Unavailable:
                continue
            except Exception:
                # One sandbox the engine cannot stop or remove must not hold up the others;
                # the next round tries it again.
                log.exception("reaper could not handle a sandbox", extra={"user": owner})

    # sandboxes ----------------------------------------------------------------------
    def _lock(self, user_id: str) -> asyncio.Lock:
        return self._locks.setdefault(user_id, asyncio.Lock())

    @asynccontextmanager
    async def _turn(self, actor: Actor) -> AsyncIterator[None]:
        """The user's single slot: a second command while one runs is refused."""
        lock = self._lock(actor.user_id)
        if lock.locked():
            raise Busy("sandbox.busy")
        async with lock:
            yield

    async def _sandbox(self, actor: Actor) -> Sandbox:
        """The actor's sandbox, created on first use (on the least-loaded healthy worker)."""
        sandbox = self._sandboxes.get(actor.user_id)
        if sandbox is not None:
            await sandbox.worker.ensure()
            return sandbox
        return await self._provision(actor.user_id)

    async def _provision(self, owner: str) -> Sandbox:
        for _attempt in range(len(self.pool.workers) + 1):
            worker, _count = await self.pool.pick()
            async with worker.provision_lock:
                if await worker.sandbox_count() >= worker.settings.max_sandboxes:
                    continue
                scope = naming.Scope(owner, naming.new_sandbox_id(), self.settings.instance)
                now = self.clock.now()
                await provision.create(worker, scope, self.settings)
                sandbox = Sandbox(scope, worker, now, now)
                self._sandboxes[owner] = sandbox
                log.info("sandbox created", extra={"user": owner, "worker": worker.name})
                return sandbox
        raise Unavailable("sandbox.workers_full")

    async def _remove(self, sandbox: Sandbox) -> None:
        await sandbox.worker.run(
            provision.remove_sandbox_objects,
            sandbox.scope,
            timeout=self.settings.api_timeout_seconds * 4,
        )
        if self._sandboxes.get(sandbox.owner) is sandbox:
            del self._sandboxes[sandbox.owner]

    def _ctx(self, sandbox: Sandbox, tr: Translator) -> Ctx:
        sandbox.last_activity = self.clock.now()
        return Ctx(sandbox, self.settings, self.policy, tr)

    async def _wake(self, ctx: Ctx) -> None:
        """Start the host shell again after the reaper stopped it."""
        if ctx.sandbox.stopped:
            await provision.ensure_host_running(ctx.sandbox, self.settings.api_timeout_seconds)

    # /docker ------------------------------------------------------------------------
    async def docker(self, actor: Actor, tr: Translator, command_line: str) -> list[Reply]:
        command = cli.parse_docker(command_line)
        notes = [tr(key) for key in policy.enforce(command, self.policy)]
        operation = OPERATIONS.get(tuple(command.path))
        if operation is None:
            raise UserError("sandbox.unsupported_command", command=" ".join(command.path))
        async with self._command(actor, tr) as (ctx, replies):
            output = await operation(ctx, command)
        output.notes[:0] = notes
        replies.append(self._reply(tr, output))
        return replies

    @asynccontextmanager
    async def _command(
        self, actor: Actor, tr: Translator
    ) -> AsyncIterator[tuple[Ctx, list[Reply]]]:
        """The actor's turn in their (woken) sandbox, their uploads saved (the replies that
        say so come with it); an engine error inside is shown as the engine's own words."""
        async with self._turn(actor):
            ctx = self._ctx(await self._sandbox(actor), tr)
            await self._wake(ctx)
            try:
                yield ctx, await self._upload(ctx, actor)
            except APIError as exc:
                raise ctx.engine_error(exc) from exc

    async def _upload(self, ctx: Ctx, actor: Actor) -> list[Reply]:
        """Put the actor's attachments into the host shell's home directory (the engine
        writes into a stopped container too)."""
        saved: list[str] = []
        for upload in actor.uploads:
            if upload.size > self.settings.upload_max_bytes:
                raise UserError("sandbox.too_big", limit=self.settings.upload_max_bytes)
            data = await upload.read()
            if len(data) > self.settings.upload_max_bytes:
                raise UserError("sandbox.too_big", limit=self.settings.upload_max_bytes)
            name = file_ops.safe_filename(upload.filename)
            await ctx.run(file_ops.put_file, ctx.scope.host_name, HOME, name, data)
            saved.append(name)
        if not saved:
            return []
        return [Reply(body=ctx.tr("sandbox.uploaded", files=", ".join(saved), home=HOME))]

    def _reply(self, tr: Translator, output: Output) -> Reply:
        text = output.text.rstrip("\n")
        files: tuple[ReplyFile, ...] = ()
        encoded = text.encode("utf-8", "replace")
        total = max(output.total_bytes or 0, len(encoded))
        notes = list(output.notes)
        if len(text) > CODE_CHARS or total > len(encoded):
            note = tr("sandbox.output_cut", shown="{shown}", total=total)
            shown, _cut = discord_limits.cut_lines(text, CODE_CHARS, note)
            shown_bytes = len(shown.rsplit("\n", 1)[0].encode("utf-8"))
            text = shown.replace("{shown}", str(shown_bytes))
            capped = encoded[: self.settings.output_bytes]
            files = (ReplyFile(output.name, capped, tr("sandbox.full_output")),)
        body = "\n".join(notes)
        if not text and not body:
            body = tr("sandbox.done")
        return Reply(
            body=discord_limits.cut(body, discord_limits.EMBED_DESCRIPTION),
            code=text or None,
            code_name=output.name,
            files=files,
            tone=Tone.WARNING if output.error else Tone.INFO,
        )

    # /sh ----------------------------------------------------------------------------
    async def sh(self, actor: Actor, tr: Translator, command_line: str) -> list[Reply]:
        command_line = command_line.strip()
        if not command_line:
            raise UserError("sandbox.missing_command")
        async with self._command(actor, tr) as (ctx, replies):
            captured, code = await self._host_exec(ctx, command_line)
            output = Output(text=captured.text, name="sh.txt")
            if captured.cut:
                output.total_bytes = captured.total
                output.notes.append(tr("sandbox.stream_cut", cap=self.settings.output_bytes))
            if not captured.ended:
                await provision.restart_host(ctx.sandbox, self.settings.api_timeout_seconds)
                output.notes.append(
                    tr("sandbox.sh_stopped", seconds=round(self.settings.exec_timeout_seconds))
                )
            elif code:
                output.notes.append(tr("sandbox.exit_code", code=code))
        replies.append(self._reply(tr, output))
        return replies

    async def _host_exec(self, ctx: Ctx, command_line: str) -> tuple[Captured, int | None]:
        """``sh -c`` in the host shell; when it is not running although the reaper did not
        stop it (the engine restarted, say), it is started and the command runs once more."""
        command = ["sh", "-c", command_line]
        try:
            return await container_ops.run_exec(
                ctx, ctx.scope.host_name, command, workdir=HOME, wrap=False
            )
        except APIError as exc:
            if exc.status_code != HTTPStatus.CONFLICT:  # "is not running" / "is paused"
                raise
        await provision.ensure_host_running(ctx.sandbox, self.settings.api_timeout_seconds)
        return await container_ops.run_exec(
            ctx, ctx.scope.host_name, command, workdir=HOME, wrap=False
        )

    # /download ----------------------------------------------------------------------
    async def download(self, actor: Actor, tr: Translator, path: str) -> Reply:
        async with self._turn(actor):
            sandbox = await self._sandbox(actor)
            ctx = self._ctx(sandbox, tr)  # the engine reads a stopped host shell too
            real = file_ops.host_path(path)
            try:
                archive, single = await ctx.run(
                    file_ops.read_file, ctx.scope.host_name, real, self.settings.upload_max_bytes
                )
            except NotFound as exc:
                raise UserError("sandbox.no_such_file", path=path[:200]) from exc
            except file_ops.TooBig as exc:
                raise UserError("sandbox.too_big", limit=self.settings.upload_max_bytes) from exc
            except APIError as exc:
                raise ctx.engine_error(exc) from exc
        if single is None:
            name = (real.rstrip("/").rsplit("/", 1)[-1] or "home") + ".tar"
            data = archive
        else:
            name, data = single
            name = name.rsplit("/", 1)[-1]
        return Reply(
            body=tr("sandbox.download", path=real, size=len(data)),
            files=(ReplyFile(file_ops.safe_filename(name), data),),
        )

    # /sandbox -----------------------------------------------------------------------
    async def status(self, actor: Actor, tr: Translator) -> Reply:
        sandbox = self._sandboxes.get(actor.user_id)
        if sandbox is None:
            return Reply(title=tr("sandbox.status_title"), body=tr("sandbox.status_none"))
        listed, volumes, networks = await _listing(sandbox)
        scope = sandbox.scope
        limits = self.settings.limits
        quotas = self.settings.quotas
        expires = sandbox.last_activity + timedelta(minutes=self.settings.idle_destroy_minutes)
        stops = sandbox.last_activity + timedelta(minutes=self.settings.idle_stop_minutes)
        running = sum(1 for c in listed if c.get("State") == "running")
        containers = (
            ", ".join(f"{objects.container_name(scope, c)} ({c.get('State')})" for c in listed)
            or "—"
        )
        fields = (
            Field(tr("sandbox.field.worker"), sandbox.worker.name, True),
            Field(
                tr("sandbox.field.state"),
                tr("sandbox.state_stopped") if sandbox.stopped else tr("sandbox.state_running"),
                True,
            ),
            Field(
                tr("sandbox.field.containers"),
                discord_limits.cut(
                    f"{containers}\n"
                    + tr("sandbox.usage", used=len(listed), limit=quotas.containers)
                    + " · "
                    + tr("sandbox.running_usage", used=running, limit=quotas.running_containers),
                    discord_limits.EMBED_FIELD_VALUE,
                ),
            ),
            _usage_field(tr, "volumes", _user_names(scope, volumes), quotas.volumes),
            _usage_field(tr, "networks", _user_names(scope, networks), quotas.networks),
            Field(
                tr("sandbox.field.limits"),
                tr(
                    "sandbox.limits",
                    memory=limits.memory_bytes // (1024 * 1024),
                    cpus=limits.nano_cpus / 1e9,
                    pids=limits.pids,
                    output=self.settings.output_bytes // 1024,
                    seconds=round(self.settings.exec_timeout_seconds),
                ),
            ),
            Field(
                tr("sandbox.field.expiry"),
                tr(
                    "sandbox.expiry",
                    stop=moment(stops),
                    destroy=moment(expires),
                ),
            ),
        )
        return Reply(title=tr("sandbox.status_title"), fields=fields)

    async def reset(self, actor: Actor, tr: Translator, confirmed: bool = False) -> Reply:
        if not confirmed:
            return _confirm(tr, "reset")
        async with self._turn(actor):
            sandbox = self._sandboxes.get(actor.user_id)
            if sandbox is not None:
                await self._remove(sandbox)
            await self._provision(actor.user_id)
        return Reply(body=tr("sandbox.reset_done"), tone=Tone.SUCCESS)

    async def destroy(self, actor: Actor, tr: Translator, confirmed: bool = False) -> Reply:
        if not confirmed:
            return _confirm(tr, "destroy")
        async with self._turn(actor):
            sandbox = self._sandboxes.get(actor.user_id)
            if sandbox is None:
                return Reply(body=tr("sandbox.status_none"))
            await self._remove(sandbox)
        return Reply(body=tr("sandbox.destroy_done"), tone=Tone.SUCCESS)

    # read-only views for practice, autocomplete and admin ----------------------------
    async def state(self, actor: Actor) -> SandboxState:
        sandbox = self._sandboxes.get(actor.user_id)
        if sandbox is None:
            return SandboxState()
        worker, scope = sandbox.worker, sandbox.scope
        listed, volumes, networks = await _listing(sandbox)
        inspected, engine_images = await asyncio.gather(
            objects.inspected(worker, listed), worker.call("images")
        )
        images = {tag for _image, tag in image_ops.allowed_tags(engine_images, self.policy)}
        return SandboxState(
            exists=True,
            worker=worker.name,
            containers=tuple(objects.view_from_inspect(scope, a) for a in inspected),
            volumes=_user_names(scope, volumes),
            networks=_user_names(scope, networks),
            images=tuple(sorted(images)),
        )

    async def read_file(
        self, actor: Actor, container: str | None, path: str, max_bytes: int = 65536
    ) -> bytes | None:
        sandbox = self._sandboxes.get(actor.user_id)
        if sandbox is None:
            return None
        worker, scope = sandbox.worker, sandbox.scope
        try:
            if container is None:
                target, real = scope.host_name, file_ops.host_path(path)
            else:
                found = await objects.container(worker, scope, container)
                target, real = found.id, file_ops.container_path(path)
            _archive, single = await worker.run(file_ops.read_file, target, real, max_bytes)
        except (NotFound, UserError, file_ops.TooBig, APIError):
            return None
        return None if single is None else single[1][:max_bytes]

    async def http_get(self, actor: Actor, url: str, timeout: float = 5.0) -> str | None:  # noqa: ASYNC109
        sandbox = self._sandboxes.get(actor.user_id)
        if sandbox is None or not url.startswith(("http://", "https://")):
            return None
        try:
            created = await sandbox.worker.call(
                "exec_create",
                sandbox.scope.host_name,
                # busybox wget's own -T crashes in the stand-in image: bound it from outside
                container_ops.exec_wrapper(["wget", "-q", "-O", "-", url], timeout),
                timeout=self.settings.api_timeout_seconds,
            )
            captured, code = await sandbox.worker.stream(
                container_ops._exec_read,
                created["Id"],
                self.settings.output_bytes,
                timeout + 2,
                timeout=timeout + 10,
            )
        except (UserError, APIError):
            return None
        if code != 0 or not captured.ended:
            return None
        return captured.text

    async def container_names(self, actor: Actor) -> list[str]:
        return await self._names(actor, objects.containers, objects.container_name)

    async def volume_names(self, actor: Actor) -> list[str]:
        return await self._names(actor, objects.volumes, objects.volume_name)

    async def _names(self, actor: Actor, listing: Any, name_of: Any) -> list[str]:
        """For autocomplete: the user's names of one kind; nothing when that cannot be had."""
        sandbox = self._sandboxes.get(actor.user_id)
        if sandbox is None or not sandbox.worker.healthy:
            return []
        try:
            listed = await listing(sandbox.worker, sandbox.scope)
        except (UserError, APIError):
            return []
        return sorted(name_of(sandbox.scope, item) for item in listed)

    async def list_sandboxes(self, guild_members: set[str] | None = None) -> list[SandboxSummary]:
        summaries: list[SandboxSummary] = []
        for owner, sandbox in sorted(self._sandboxes.items()):
            if guild_members is not None and owner not in guild_members:
                continue
            counts = [0, 0, 0, 0]
            if sandbox.worker.healthy:
                try:
                    listed, volumes, networks = await _listing(sandbox)
                    running = sum(1 for c in listed if c.get("State") == "running")
                    counts = [len(listed), running, len(volumes), len(networks)]
                except (UserError, APIError):
                    pass
            summaries.append(
                SandboxSummary(
                    owner,
                    sandbox.scope.sandbox,
                    sandbox.worker.name,
                    *counts,
                    sandbox.created_at,
                    sandbox.last_activity,
                    sandbox.stopped,
                )
            )
        return summaries

    async def destroy_user(self, user_id: str) -> bool:
        sandbox = self._sandboxes.get(user_id)
        if sandbox is None:
            return False
        async with self._lock(user_id):
            await self._remove(sandbox)
        return True

    def executor_stats(self) -> dict[str, Any]:
        return {
            "api": self.executor.as_dict(),
            "streams": self.streams.as_dict(),
            "workers": {
                w.name: {"healthy": w.healthy, "error": w.last_error} for w in self.pool.workers
            },
            "sandboxes": len(self._sandboxes),
        }

    def worker_of(self, user_id: str) -> Worker | None:
        sandbox = self._sandboxes.get(user_id)
        return sandbox.worker if sandbox else None

    async def press(self, actor: Actor, tr: Translator, action: str) -> Reply:
        """``sandbox:confirm-reset``, ``sandbox:confirm-destroy``, ``sandbox:cancel``."""
        verb = action.split(":", 1)[-1]
        if verb == "confirm-reset":
            return await self.reset(actor, tr, confirmed=True)
        if verb == "confirm-destroy":
            return await self.destroy(actor, tr, confirmed=True)
        return Reply(body=tr("sandbox.cancelled"))


async def _listing(sandbox: Sandbox) -> tuple[list[dict], list[dict], list[dict]]:
    """The sandbox's containers, volumes and networks as the engine lists them (at once)."""
    worker, scope = sandbox.worker, sandbox.scope
    containers, volumes, networks = await asyncio.gather(
        objects.containers(worker, scope),
        objects.volumes(worker, scope),
        objects.networks(worker, scope),
    )
    return containers, volumes, networks


def _user_names(scope: naming.Scope, listed: list[dict]) -> tuple[str, ...]:
    """The user's names of engine-listed volumes or networks, sorted."""
    return tuple(sorted(scope.user_name(item["Name"]) for item in listed))


def _usage_field(tr: Translator, kind: str, names: tuple[str, ...], limit: int) -> Field:
    """An inline status field: the user's objects of a kind and their quota use."""
    value = (", ".join(names) or "—") + " · " + tr("sandbox.usage", used=len(names), limit=limit)
    value = discord_limits.cut(value, discord_limits.EMBED_FIELD_VALUE)
    return Field(tr(f"sandbox.field.{kind}"), value, True)


def _confirm(tr: Translator, verb: str) -> Reply:
    return Reply(
        title=tr(f"sandbox.confirm_{verb}_title"),
        body=tr(f"sandbox.confirm_{verb}"),
        tone=Tone.WARNING,
        choices=(
            Choice(
                tr(f"sandbox.confirm_{verb}_button"), f"{ACTION}:confirm-{verb}", ChoiceStyle.DANGER
            ),
            Choice(tr("sandbox.cancel_button"), f"{ACTION}:cancel"),
        ),
    )


__all__ = ["SandboxService", "SandboxSummary"]
