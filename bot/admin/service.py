"""What server managers can do: see and destroy members' sandboxes, reload content, and
choose the channel where practice runs (the store's ``guild_settings``). Discord-free: the
Discord layer requires Manage Server, and every handler here checks ``actor.is_admin`` again."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.content.registry import ReloadOutcome
from bot.core.commands import MAX_SUGGESTIONS, MemberRef, Request, Suggestion
from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.moments import DEFAULT_ZONE, moment, valid_zone, zone_names
from bot.core.registry import Slot
from bot.core.reply import Choice, ChoiceStyle, Placement, Reply, Tone
from bot.core.text import channel_label, human_bytes, shorten
from bot.store import Store
from bot.store.guilds import GuildRepo

log = logging.getLogger("bot.admin")

ACTION = "admin"


class SandboxListing(Protocol):
    """One learner's sandbox, as managers see it."""

    @property
    def owner(self) -> str: ...

    @property
    def worker(self) -> str: ...

    @property
    def containers(self) -> int: ...

    @property
    def running(self) -> int: ...

    @property
    def last_activity(self) -> datetime | None: ...

    @property
    def stopped(self) -> bool: ...

    @property
    def aside(self) -> bool:
        """Kept aside: the learner has another sandbox, the one they use (a conflict)."""
        ...

    @property
    def disk_bytes(self) -> int | None: ...

    @property
    def over_budget(self) -> bool: ...


class WorkerDisk(Protocol):
    """A worker's disk: whether its engine caps containers, its free space and floor."""

    @property
    def driver(self) -> str | None: ...

    @property
    def limits_enforced(self) -> bool | None: ...

    @property
    def detail(self) -> str | None: ...

    @property
    def free_bytes(self) -> int | None: ...

    @property
    def total_bytes(self) -> int | None: ...

    @property
    def floor(self) -> float: ...

    @property
    def below_floor(self) -> bool: ...

    @property
    def interval_seconds(self) -> float: ...


class WorkerListing(Protocol):
    """One practice worker, as managers see it."""

    @property
    def name(self) -> str: ...

    @property
    def healthy(self) -> bool: ...

    @property
    def error(self) -> str | None: ...

    @property
    def sandboxes(self) -> int | None: ...

    @property
    def disk(self) -> WorkerDisk | None: ...


class SandboxAdmin(Protocol):
    """The port to the sandbox capability's functions for managers."""

    async def list_sandboxes(self) -> Sequence[SandboxListing]: ...

    async def probe_workers(self) -> Sequence[WorkerListing]:
        """Every worker, pinged now, with its disk as last checked."""
        ...

    async def destroy_user(self, user_id: str) -> bool:
        """Remove ``user_id``'s sandbox; False when they had none."""
        ...


class ContentReloader(Protocol):
    """The port to the content the coach serves."""

    async def reload(self) -> ReloadOutcome:
        """Validate the content folder again and swap the new library in whole, or keep the
        current one and return every problem."""
        ...

    def translator(self, locale: str) -> Translator:
        """A translator over the messages of the library being served right now."""
        ...


class AdminService:
    def __init__(
        self, store: Slot[Store], sandboxes: SandboxAdmin, content: ContentReloader
    ) -> None:
        self._store = store
        self.sandboxes_port = sandboxes
        self.content = content

    # helpers --------------------------------------------------------------------------
    @staticmethod
    def _require_admin(request: Request) -> None:
        if not request.actor.is_admin:
            raise UserError("general.admin_only")

    def _guilds(self) -> GuildRepo:
        """Per-server settings in the store (``guild_settings``, cached in memory)."""
        return self._store.get().guilds

    async def _member_name(self, guild_id: str, user_id: str) -> str | None:
        """The member's name in this server, or None if they are not known here."""
        member = await self._store.get().users.member(guild_id, user_id)
        return member.display_name if member else None

    # /admin sandboxes -----------------------------------------------------------------
    async def sandboxes(self, request: Request) -> Reply:
        self._require_admin(request)
        tr = request.tr
        lines: list[str] = []
        members = await self._store.get().users.names_in(request.actor.guild_id)  # one query
        for row in await self.sandboxes_port.list_sandboxes():
            name = members.get(row.owner)
            if name is None:
                continue  # another server's member
            state = tr("admin.state_stopped" if row.stopped else "admin.state_active")
            if row.aside:
                state = tr("admin.state_aside", state=state)
            since = moment(row.last_activity) if row.last_activity else "?"
            line = tr(
                "admin.sandbox_line",
                name=name,
                worker=row.worker,
                state=state,
                since=since,
                containers=row.containers,
                running=row.running,
            )
            if row.disk_bytes is not None:
                key = "admin.sandbox_disk_over" if row.over_budget else "admin.sandbox_disk"
                line += tr(key, used=human_bytes(row.disk_bytes))
            lines.append(line)
        if not lines:
            return Reply(title=tr("admin.sandboxes_title", count=0), body=tr("admin.none"))
        return Reply(title=tr("admin.sandboxes_title", count=len(lines)), body="\n".join(lines))

    # /admin workers -------------------------------------------------------------------
    async def workers(self, request: Request) -> Reply:
        """Every practice worker: reachable or not, its sandboxes, whether its engine caps
        containers' disk use, its free space against the floor."""
        self._require_admin(request)
        tr = request.tr
        listed = await self.sandboxes_port.probe_workers()
        lines = [_worker_lines(tr, worker) for worker in listed]
        low = any(w.disk is not None and w.disk.below_floor for w in listed)
        return Reply(
            title=tr("admin.workers_title", count=len(lines)),
            body="\n\n".join(lines) or tr("admin.no_workers"),
            tone=Tone.WARNING if low or not all(w.healthy for w in listed) else Tone.INFO,
        )

    # /admin destroy member ------------------------------------------------------------
    async def destroy(self, request: Request) -> Reply:
        self._require_admin(request)
        tr = request.tr
        member = request.opt("member")
        if not isinstance(member, MemberRef):
            member = MemberRef(str(member), str(member))
        return Reply(
            title=tr("admin.destroy_title"),
            body=tr("admin.destroy_confirm", name=member.display_name),
            choices=(
                Choice(
                    tr("admin.destroy_button"),
                    f"{ACTION}:destroy:{member.user_id}",
                    ChoiceStyle.DANGER,
                ),
                Choice(tr("admin.cancel_button"), f"{ACTION}:cancel"),
            ),
            tone=Tone.WARNING,
        )

    async def press(self, request: Request, action: str, _value: str | None) -> Reply:
        self._require_admin(request)
        tr = request.tr
        parts = action.split(":", 2)
        if len(parts) < 3 or parts[1] != "destroy":
            return Reply(body=tr("admin.cancelled"), placement=Placement.REPLACE)
        user_id = parts[2]
        removed = await self.sandboxes_port.destroy_user(user_id)
        log.info(
            "admin destroyed a sandbox",
            extra={"admin": request.actor.user_id, "owner": user_id, "found": bool(removed)},
        )
        key = "admin.destroyed" if removed else "admin.nothing_to_destroy"
        name = await self._member_name(request.actor.guild_id, user_id) or user_id
        # The outcome takes the confirmation's place: its buttons cannot be pressed twice.
        return Reply(body=tr(key, name=name), tone=Tone.SUCCESS, placement=Placement.REPLACE)

    # /admin reload --------------------------------------------------------------------
    async def reload(self, request: Request) -> Reply:
        """Validate the content folder again and swap the new library in, or keep the one
        being served and list every problem."""
        self._require_admin(request)
        tr = request.tr
        outcome = await self.content.reload()
        if not outcome.swapped:
            log.warning(
                "content reload refused",
                extra={"admin": request.actor.user_id, "problems": len(outcome.problems)},
            )
            return Reply(
                title=tr("admin.reload_refused_title"),
                body=tr("admin.reload_refused", count=len(outcome.problems)),
                code="\n".join(outcome.problems),
                code_name="content-problems.txt",
                tone=Tone.ERROR,
            )
        counts = outcome.counts
        log.info("content reloaded", extra={"admin": request.actor.user_id, "counts": counts})
        fresh = self.content.translator(tr.locale)  # the answer speaks the new content
        numbers = {kind: counts.get(kind, 0) for kind in ("concepts", "questions", "scenarios")}
        return Reply(body=fresh("admin.reloaded", **numbers), tone=Tone.SUCCESS)

    # /admin practice-channel [channel] ------------------------------------------------
    async def set_practice_channel(self, request: Request) -> Reply:
        self._require_admin(request)
        tr = request.tr
        channel = str(request.opt("channel", "")).strip().lstrip("#")
        await self._guilds().set_practice_channel(request.actor.guild_id, channel)
        if not channel:
            return Reply(body=tr("admin.practice_anywhere"), tone=Tone.SUCCESS)
        return Reply(
            body=tr("admin.practice_channel_set", channel=channel_label(channel)), tone=Tone.SUCCESS
        )

    # /admin timezone [zone] -----------------------------------------------------------
    async def timezone(self, request: Request) -> Reply:
        """Show or choose the server's time zone, its members' default ("default": none)."""
        self._require_admin(request)
        tr, guild = request.tr, request.actor.guild_id
        wanted = str(request.opt("timezone", "")).strip()
        if wanted:
            if wanted.lower() == "default":
                wanted = ""
            elif not valid_zone(wanted):
                raise UserError("progress.timezone_unknown", zone=shorten(wanted, 60))
            await self._guilds().set_timezone(guild, wanted or None)
        chosen = await self._guilds().timezone(guild)
        if wanted and chosen:
            return Reply(body=tr("admin.timezone_set", zone=chosen), tone=Tone.SUCCESS)
        if chosen:
            return Reply(body=tr("admin.timezone_now", zone=chosen))
        return Reply(body=tr("admin.timezone_none", zone=DEFAULT_ZONE))

    async def complete_timezone(self, _request: Request, partial: str) -> list[Suggestion]:
        return [
            Suggestion(name, name)
            for name in sorted(zone_names())
            if name.casefold().startswith(partial.strip().casefold())
        ][:MAX_SUGGESTIONS]

    async def practice_channel(self, guild_id: str) -> str | None:
        """The channel where practice runs on ``guild_id``, if a manager chose one."""
        return await self._guilds().practice_channel(guild_id)


def _worker_lines(tr: Translator, worker: WorkerListing) -> str:
    """A worker for managers: its state, then its disk (limits, free space, floor)."""
    if not worker.healthy:
        return tr("admin.worker_down", name=worker.name, error=worker.error or "?")
    lines = [tr("admin.worker_up", name=worker.name, sandboxes=worker.sandboxes or 0)]
    disk = worker.disk
    if disk is None:
        return lines[0]
    seconds = f"{disk.interval_seconds:g}"
    if disk.limits_enforced:
        lines.append(tr("admin.worker_limits", driver=disk.driver, seconds=seconds))
    elif disk.limits_enforced is False:
        detail = disk.detail or ""
        lines.append(
            tr("admin.worker_no_limits", driver=disk.driver, seconds=seconds, detail=detail)
        )
    else:
        lines.append(tr("admin.worker_limits_unknown", detail=disk.detail or "?"))
    if disk.free_bytes is not None and disk.total_bytes:
        lines.append(
            tr(
                "admin.worker_space",
                free=human_bytes(disk.free_bytes),
                total=human_bytes(disk.total_bytes),
                percent=round(100 * disk.free_bytes / disk.total_bytes),
                floor=round(100 * disk.floor),
            )
        )
    if disk.below_floor:
        lines.append(tr("admin.worker_below_floor", floor=round(100 * disk.floor)))
    return "\n".join(lines)
