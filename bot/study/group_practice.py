"""Group practice (``/study practice SCENARIO``): a channel works through one scenario, each
member in their own sandbox, with one live board of everyone's steps.

Where a medium has rooms (Discord's threads) the session asks for one named after the
scenario (:meth:`bot.core.posts.Outbox.open_room`): its board and summary go there, and
``/study join`` and ``/study end`` find it from the room or from the channel it was opened
in. Where no room can be opened (no permission, a channel that cannot have threads) it runs
in the channel, and the server is told why once.

The board follows the practice capability's own checks: after every ``/docker``, ``/sh`` or
``/practice`` command of a member, the step they are on is read (the ``GroupPracticePort``)
and the board is updated when it changed. Hints stay private: the board only counts them.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.commands import Request
from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.posts import Outbox, Post, RoomRequest
from bot.core.registry import Slot
from bot.core.reply import Field, Reply, Tone
from bot.core.text import channel_label, escape_markdown, shorten
from bot.store import Store
from bot.store.study import GroupPractice, PracticeMember
from bot.study.ports import GroupPracticePort
from bot.study.rounds import post_locale

DONE, CURRENT, TODO = "✔", "▶", "·"
ROOM_NAME = 100  # the longest room name (Discord's thread names)


def board_key(practice_id: int) -> str:
    return f"study:practice:{practice_id}"


class GroupPracticeService:
    def __init__(
        self,
        store: Slot[Store],
        posts: Outbox,
        practice: GroupPracticePort,
        translator: Callable[[str], Translator],
    ) -> None:
        self._store = store
        self.posts = posts
        self.practice = practice
        self.translator = translator

    @property
    def store(self) -> Store:
        return self._store.get()

    async def open(self, request: Request) -> list[Reply]:
        actor, tr = request.actor, request.tr
        scenario_id = str(request.opt("scenario", "")).strip().lower()
        if self.practice.step_titles(scenario_id, tr.locale) is None:
            raise UserError("practice.unknown_scenario", scenario=shorten(scenario_id, 60))
        locale = await post_locale(self.store, actor)
        practice_id = await self.store.study.open_practice(
            actor, actor.channel_id, scenario_id, locale
        )
        if practice_id is None:
            raise UserError("study.practice_running")
        title = self.practice.scenario_title(scenario_id, tr.locale) or scenario_id
        room = await self._open_room(request, practice_id, scenario_id, locale)
        entered = await self._enter(request, practice_id, scenario_id)
        if room is None:
            opened = tr("study.practice_opened", title=title)
        else:
            opened = tr("study.practice_opened_in", title=title, room=channel_label(room))
        return [Reply(body=opened, tone=Tone.SUCCESS), *entered]

    async def _open_room(
        self, request: Request, practice_id: int, scenario_id: str, locale: str
    ) -> str | None:
        """A room of the practice's own (a thread named after the scenario) where the medium
        has them; None: it runs in the channel (the server is told why, once)."""
        actor = request.actor
        name = self.practice.scenario_title(scenario_id, locale) or scenario_id
        room = await self.posts.open_room(
            RoomRequest(
                actor.guild_id,
                actor.channel_id,
                shorten(name, ROOM_NAME),
                f"group practice {scenario_id} opened by {actor.display_name}",
            )
        )
        if room.channel_id == actor.channel_id:  # the channel already is a room
            return None
        if room.channel_id is not None:
            await self.store.study.rooms_refused(actor.guild_id, None)
            await self.store.study.set_room(practice_id, room.channel_id)
            return room.channel_id
        if room.refused and await self.store.study.rooms_refused(actor.guild_id, room.refused):
            tr = self.translator(locale)
            notice = Reply(
                body=tr(f"study.room_refused_{room.refused}"), tone=Tone.WARNING, private=False
            )
            await self.posts.publish(Post(actor.guild_id, actor.channel_id, notice))
        return None

    async def join(self, request: Request) -> list[Reply] | None:
        """Join the channel's group practice (your own sandbox); None without one."""
        actor = request.actor
        group = await self.store.study.live_practice(actor.guild_id, actor.channel_id)
        if group is None:
            return None
        return await self._enter(request, group.practice_id, group.scenario_id)

    async def _enter(self, request: Request, practice_id: int, scenario_id: str) -> list[Reply]:
        await self.store.study.join_practice(practice_id, request.actor)
        started = await self.practice.start(request, scenario_id)
        await self._refresh(practice_id, request.actor.user_id, finished=False)
        await self.show_board(practice_id)
        return started

    async def end(self, request: Request) -> Reply:
        actor, tr = request.actor, request.tr
        group = await self.store.study.live_practice(actor.guild_id, actor.channel_id)
        if group is None:
            raise UserError("study.no_practice")
        if actor.user_id != group.host_id and not actor.is_admin:
            raise UserError("study.practice_host_only")
        if await self.store.study.end_practice(group.practice_id):
            await self.show_board(group.practice_id)
            await self._publish(group, self._summary(group), None)
        return Reply(body=tr("study.practice_ended"))

    # following the members -------------------------------------------------------------
    async def after_command(
        self, request: Request, path: tuple[str, ...], replies: list[Reply]
    ) -> list[Reply]:
        """Listener after ``/docker``, ``/sh`` and ``/practice``: the board follows the
        member's step (practice's own check ran first); a hint is counted, never shown."""
        user_id = request.actor.user_id
        for group in await self.store.study.practices_of(user_id):
            if path == ("practice", "hint") and not any(r.tone is Tone.ERROR for r in replies):
                await self.store.study.add_hint(group.practice_id, user_id)
                await self.show_board(group.practice_id)
                continue
            finished = any(
                reply.meta.get("practice") == "finished"
                and reply.meta.get("scenario") == group.scenario_id
                for reply in replies
            )
            if await self._refresh(group.practice_id, user_id, finished=finished, group=group):
                await self.show_board(group.practice_id)
        return []

    async def _refresh(
        self,
        practice_id: int,
        user_id: str,
        *,
        finished: bool,
        group: GroupPractice | None = None,
    ) -> bool:
        group = group or await self.store.study.practice(practice_id)
        if group is None:
            return False
        steps = self.practice.step_titles(group.scenario_id, group.locale) or []
        if finished:
            return await self.store.study.update_member(practice_id, user_id, len(steps), True)
        place = await self.practice.place(user_id, group.scenario_id)
        if place is None:  # stopped or on another scenario: the board keeps their last step
            return False
        return await self.store.study.update_member(practice_id, user_id, place, False)

    # showing --------------------------------------------------------------------------
    async def show_board(self, practice_id: int) -> None:
        group = await self.store.study.practice(practice_id)
        if group is None:
            return
        await self._publish(group, await self._board(group), board_key(practice_id))

    async def _board(self, group: GroupPractice) -> Reply:
        tr = self.translator(group.locale)
        steps = self.practice.step_titles(group.scenario_id, group.locale) or []
        members = await self.store.study.practice_members(group.practice_id)
        lines = [_member_line(tr, member, len(steps)) for member in members]
        title = self.practice.scenario_title(group.scenario_id, group.locale) or group.scenario_id
        legend = "\n".join(f"{i + 1}. {escape_markdown(step)}" for i, step in enumerate(steps))
        hinted = [m for m in members if m.hints]
        fields = [Field(tr("study.practice_steps"), legend)] if legend else []
        if hinted:
            names = ", ".join(f"{_name(m)} ({m.hints})" for m in hinted)
            fields.append(Field(tr("study.practice_hints"), names))
        ended = group.ended_at is not None
        return Reply(
            title=tr("study.practice_board_title", title=title),
            body="\n".join(lines) or tr("study.practice_nobody"),
            fields=tuple(fields),
            footer=tr("study.practice_ended_footer" if ended else "study.practice_join_footer"),
        )

    def _summary(self, group: GroupPractice) -> Reply:
        tr = self.translator(group.locale)
        title = self.practice.scenario_title(group.scenario_id, group.locale) or group.scenario_id
        return Reply(title=tr("study.practice_summary_title", title=title), tone=Tone.SUCCESS)

    async def _publish(self, group: GroupPractice, reply: Reply, key: str | None) -> None:
        if key is None and not reply.body:
            reply = await self._summary_body(group, reply)
        fallback = group.channel_id if group.room_id else None
        await self.posts.publish(
            Post(group.guild_id, group.posts_to, reply.but(private=False), key, fallback)
        )

    async def _summary_body(self, group: GroupPractice, reply: Reply) -> Reply:
        tr = self.translator(group.locale)
        steps = len(self.practice.step_titles(group.scenario_id, group.locale) or [])
        members = await self.store.study.practice_members(group.practice_id)
        done = [m for m in members if m.finished]
        lines = [
            tr(
                "study.practice_summary",
                finished=len(done),
                members=len(members),
                steps=steps,
            ),
            "",
            *(_member_line(tr, member, steps) for member in members),
        ]
        return reply.but(body="\n".join(lines))


def _name(member: PracticeMember) -> str:
    return escape_markdown(shorten(member.display_name or member.user_id, 40))


def _member_line(tr: Translator, member: PracticeMember, steps: int) -> str:
    done = steps if member.finished else min(member.steps_done, steps)
    marks = DONE * done
    if done < steps:
        marks += CURRENT + TODO * (steps - done - 1)
    status = tr("study.practice_finished") if member.finished else f"{done}/{steps}"
    hints = f" · 💡{member.hints}" if member.hints else ""
    return f"**{_name(member)}** `{marks}` {status}{hints}"
