"""Channel quiz rounds (``/study quiz``) and the daily question: public questions that every
member answers, a live scoreboard edited in place, timers on the coach's clock.

State is in SQLite (``bot/store/study.py``): the question on show and when it closes. The
coach's ticker (:meth:`StudyRounds.due`) closes questions whose time is up, so a round moves
on by itself, also after a restart. Answers go through the quiz's grading and scheduling
(the ``GroupQuiz`` port): they count in progress, streaks and reviews like any other.

Actions (valid after a restart):

* ``study:a:<round>:<position>:<button>`` — a button pressed for a choice question;
* ``study:t:<round>:<position>`` — a typed command (the text arrives as the value).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.core.commands import Request
from bot.core.context import Actor
from bot.core.errors import UserError
from bot.core.i18n import Translator, normalize_locale
from bot.core.moments import moment
from bot.core.posts import Outbox, Post
from bot.core.registry import Slot
from bot.core.reply import ChoiceStyle, Reply, Tone, spent
from bot.core.text import escape_markdown, shorten
from bot.settings import StudySettings
from bot.store import Store
from bot.store.study import GroupAnswer, GroupRound, Standing
from bot.study.ports import GroupQuiz

log = logging.getLogger("bot.study")

TranslatorFactory = Callable[[str], Translator]

ACTION = "study"
BASE_POINTS = 100
SPEED_POINTS = 100
MEDALS = ("🥇", "🥈", "🥉")
BOARD_LINES = 10  # the live board shows the leaders; the final ranking more
RANKING_LINES = 25


def points_for(correct: bool, seconds: float, limit: int) -> int:
    """100 for a right answer, plus up to 100 more the faster it came (none for a wrong one)."""
    if not correct:
        return 0
    left = max(0.0, 1.0 - seconds / max(1, limit))
    return BASE_POINTS + round(SPEED_POINTS * left)


def question_key(round_id: int, position: int) -> str:
    return f"study:q:{round_id}:{position}"


def board_key(round_id: int) -> str:
    return f"study:board:{round_id}"


class StudyRounds:
    def __init__(
        self,
        settings: StudySettings,
        clock: Clock,
        store: Slot[Store],
        posts: Outbox,
        quiz: GroupQuiz,
        translator: TranslatorFactory,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._store = store
        self.posts = posts
        self.quiz = quiz
        self.translator = translator
        self._locks: dict[int, asyncio.Lock] = {}
        self._refreshing: set[int] = set()
        self._stale: set[int] = set()

    @property
    def store(self) -> Store:
        return self._store.get()

    def _lock(self, round_id: int) -> asyncio.Lock:
        return self._locks.setdefault(round_id, asyncio.Lock())

    # commands -------------------------------------------------------------------------
    async def start(self, request: Request) -> Reply:
        actor, tr = request.actor, request.tr
        topic = str(request.opt("topic", "")).strip()
        count = request.opt("count")
        if topic.isdigit() and count is None:  # "/study quiz 3": a count, no topic
            topic, count = "", int(topic)
        count = min(int(count or self.settings.default_count), self.settings.max_count)
        seconds = int(request.opt("seconds") or self.settings.default_seconds)
        chosen = self.quiz.pick(topic, count)
        now = self.clock.now()
        round_id = await self.store.study.create_round(
            actor,
            actor.guild_id,
            actor.channel_id,
            "quiz",
            locale=await self._post_locale(actor),
            topic=topic or None,
            seconds=seconds,
            deadline=now + timedelta(seconds=seconds),
            questions=chosen,
        )
        if round_id is None:
            raise UserError("study.round_running")
        round_ = await self._round(round_id)
        await self._show_question(round_)
        await self._show_board(round_)
        return Reply(
            body=tr("study.round_started", count=len(chosen), seconds=seconds),
            tone=Tone.SUCCESS,
        )

    async def _post_locale(self, actor: Actor) -> str:
        """Posts speak the language the server chose, else the server's own language, else
        the language of who started them."""
        return await post_locale(self.store, actor)

    async def join(self, request: Request) -> Reply | None:
        """Join the channel's round (its next questions wait for you); None without one."""
        actor = request.actor
        round_ = await self.store.study.live_round(actor.guild_id, actor.channel_id)
        if round_ is None:
            return None
        await self.store.study.join(round_.round_id, actor)
        await self._show_board(await self._round(round_.round_id))
        return Reply(body=request.tr("study.joined_round"), tone=Tone.SUCCESS)

    async def next(self, request: Request) -> Reply:
        round_ = await self._live_here(request)
        self._check_host(request, round_)
        await self.close_question(round_.round_id, round_.position, "next")
        return Reply(body=request.tr("study.moved_on"))

    async def stop(self, request: Request) -> Reply:
        round_ = await self._live_here(request)
        self._check_host(request, round_)
        await self.finish(round_.round_id, "stopped")
        return Reply(body=request.tr("study.round_stopped"))

    async def _live_here(self, request: Request) -> GroupRound:
        actor = request.actor
        round_ = await self.store.study.live_round(actor.guild_id, actor.channel_id)
        if round_ is None:
            raise UserError("study.no_round")
        return round_

    @staticmethod
    def _check_host(request: Request, round_: GroupRound) -> None:
        if request.actor.user_id != round_.host_id and not request.actor.is_admin:
            raise UserError("study.host_only")

    # answers --------------------------------------------------------------------------
    async def press(self, request: Request, action: str, value: str | None) -> list[Reply]:
        round_id, position, pressed = _parse_action(action)
        tr = request.tr
        round_ = await self.store.study.round(round_id)
        if round_ is None or not round_.live or round_.position != position:
            raise UserError("study.question_closed")
        slot = round_.questions[position]
        now = self.clock.now()
        seconds = max(0.0, (now - (slot.shown_at or now)).total_seconds())
        graded = self.quiz.grade(
            slot.question_id,
            slot.option_order,
            pressed,
            None if pressed is not None else value,
            seconds,
        )
        points = points_for(graded.correct, seconds, round_.seconds)
        who = replace(request.actor, guild_id=round_.guild_id)
        recorded = await self.store.study.record_answer(
            who,
            GroupAnswer(
                round_id,
                position,
                slot.question_id,
                graded.given,
                graded.correct,
                seconds,
                graded.rating,
                points,
            ),
            self.quiz.schedule(graded.rating, now),
        )
        if not recorded.recorded:
            current = await self.store.study.round(round_id)
            if current is None or not current.live or current.position != position:
                raise UserError("study.question_closed")
            return [Reply(body=tr("study.already_answered"), tone=Tone.WARNING)]
        await self._after_answer(round_)
        if graded.correct:
            return [Reply(body=tr("study.answer_right", points=points), tone=Tone.SUCCESS)]
        return [Reply(body=tr("study.answer_wrong"), tone=Tone.WARNING)]

    async def _after_answer(self, round_: GroupRound) -> None:
        """Update the board; move on when everyone who plays has answered. (The daily
        question has no board: its tally shows when it closes.)"""
        if round_.kind != "quiz":
            return
        waiting = await self.store.study.waiting_on(round_.round_id, round_.position)
        if waiting == 0:
            await self.close_question(round_.round_id, round_.position, "everyone")
            return
        await self._refresh_board(round_.round_id)

    async def _refresh_board(self, round_id: int) -> None:
        """Publish the board once for many answers arriving together: while one refresh
        runs, others only mark it stale, and it runs again with the latest scores."""
        if round_id in self._refreshing:
            self._stale.add(round_id)
            return
        self._refreshing.add(round_id)
        try:
            while True:
                self._stale.discard(round_id)
                round_ = await self._round(round_id)
                if round_.live:
                    await self._show_board(round_)
                if round_id not in self._stale:
                    return
        finally:
            self._refreshing.discard(round_id)

    # moving on ------------------------------------------------------------------------
    async def close_question(self, round_id: int, position: int, reason: str) -> None:
        """Close question ``position`` (its answer shown), then show the next one or the
        final ranking. Does nothing when that question is no longer on show."""
        async with self._lock(round_id):
            round_ = await self._round(round_id)
            if not round_.live or round_.position != position:
                return
            await self._show_closed(round_, position)
            if round_.kind == "quiz" and position + 1 < round_.size:
                deadline = self.clock.now() + timedelta(seconds=round_.seconds)
                if await self.store.study.advance(round_id, position, deadline):
                    moved = await self._round(round_id)
                    await self._show_question(moved)
                    await self._show_board(moved)
                return
            await self._end(round_, reason)

    async def finish(self, round_id: int, reason: str) -> None:
        """End a round now with the scores so far (the question on show is closed)."""
        async with self._lock(round_id):
            round_ = await self._round(round_id)
            if not round_.live:
                return
            await self._show_closed(round_, round_.position)
            await self._end(round_, reason)

    async def _end(self, round_: GroupRound, reason: str) -> None:
        if not await self.store.study.end_round(round_.round_id, reason):
            return
        if round_.kind == "quiz":
            ended = await self._round(round_.round_id)
            await self._publish(
                ended,
                self._ranking(ended, await self._standings(ended), reason),
                board_key(ended.round_id),
            )
        self._locks.pop(round_.round_id, None)

    async def due(self) -> None:
        """Close every question whose time is up (the coach's ticker calls this)."""
        for round_id in await self.store.study.due_rounds(self.clock.now()):
            round_ = await self.store.study.round(round_id)
            if round_ is not None and round_.live:
                await self.close_question(round_id, round_.position, "timer")

    async def resume(self, started: datetime, inherited: Collection[int]) -> None:
        """After a restart (the coach started at ``started``): of the rounds an earlier coach
        left running (``inherited``), one whose question closed while the coach was away
        ends with the scores so far; one still in time is shown again and goes on. Rounds
        started since are this coach's own, already on show."""
        for round_id in await self.store.study.open_rounds("quiz"):
            if round_id not in inherited:
                continue
            round_ = await self._round(round_id)
            if round_.deadline <= started:
                await self.finish(round_id, "restart")
            else:
                await self._show_question(round_)
                await self._show_board(round_)

    # daily question -------------------------------------------------------------------
    async def post_daily(
        self, guild_id: str, channel_id: str, locale: str, question_id: str, until: datetime
    ) -> None:
        round_id = await self.store.study.create_round(
            None,
            guild_id,
            channel_id,
            "daily",
            locale=locale,
            topic=None,
            seconds=max(1, int((until - self.clock.now()).total_seconds())),
            deadline=until,
            questions=[(question_id, self.quiz.order_for(question_id))],
        )
        if round_id is not None:
            await self._show_question(await self._round(round_id))

    # showing --------------------------------------------------------------------------
    async def _round(self, round_id: int) -> GroupRound:
        round_ = await self.store.study.round(round_id)
        if round_ is None:
            raise UserError("study.question_closed")
        return round_

    async def _standings(self, round_: GroupRound) -> list[Standing]:
        return await self.store.study.standings(round_.round_id)

    async def _publish(self, round_: GroupRound, reply: Reply, key: str) -> None:
        await self.posts.publish(
            Post(round_.guild_id, round_.channel_id, reply.but(private=False), key)
        )

    def _question_reply(self, tr: Translator, round_: GroupRound, position: int) -> Reply:
        slot = round_.questions[position]
        base = f"{ACTION}:a:{round_.round_id}:{position}"
        shown = self.quiz.render(
            tr,
            slot.question_id,
            slot.option_order,
            lambda button: f"{base}:{button}",
            f"{ACTION}:t:{round_.round_id}:{position}",
        )
        if round_.kind == "daily":
            title = tr("study.daily_title")
            note = tr("study.daily_until", when=moment(round_.deadline, "t"))
        else:
            title = tr("study.question_title", number=position + 1, total=round_.size)
            note = tr("study.question_until", when=moment(round_.deadline, "R"))
        return shown.but(title=title, footer=f"{note} · {shown.footer}")

    async def _show_question(self, round_: GroupRound) -> None:
        tr = self.translator(round_.locale)
        reply = self._question_reply(tr, round_, round_.position)
        await self._publish(round_, reply, question_key(round_.round_id, round_.position))

    async def _show_closed(self, round_: GroupRound, position: int) -> None:
        """The question's message becomes its answer: buttons greyed, who got it right."""
        tr = self.translator(round_.locale)
        slot = round_.questions[position]
        shown = self._question_reply(tr, round_, position)
        answered = await self.store.study.answered(round_.round_id, position)
        right = sum(answered.values())
        body = "\n".join(
            [
                shown.body,
                "",
                tr("study.the_answer", answer=self.quiz.right_answer(tr, slot.question_id)),
                tr("study.how_many_right", right=right, answered=len(answered)),
            ]
        )
        closed = shown.but(
            title=tr("study.closed_title", title=shown.title or ""),
            body=body,
            choices=spent(shown.choices, None, ChoiceStyle.SECONDARY),
            prompt=None,
            footer=shown.footer.split(" · ", 1)[-1] if shown.footer else None,
        )
        await self._publish(round_, closed, question_key(round_.round_id, position))

    async def _show_board(self, round_: GroupRound) -> None:
        tr = self.translator(round_.locale)
        standings = await self._standings(round_)
        answered = await self.store.study.answered(round_.round_id, round_.position)
        lines = _ranking_lines(tr, standings, BOARD_LINES) or [tr("study.board_empty")]
        reply = Reply(
            title=tr("study.board_title", number=round_.position + 1, total=round_.size),
            body="\n".join(lines),
            footer=tr(
                "study.board_footer",
                answered=len(answered),
                players=len(standings),
                when=moment(round_.deadline, "R"),
            ),
        )
        await self._publish(round_, reply, board_key(round_.round_id))

    def _ranking(self, round_: GroupRound, standings: list[Standing], reason: str) -> Reply:
        tr = self.translator(round_.locale)
        lines = _ranking_lines(tr, standings, RANKING_LINES) or [tr("study.board_empty")]
        ending = tr(f"study.ended_{reason}") if reason in ENDINGS else ""
        return Reply(
            title=tr("study.ranking_title", total=round_.size),
            body="\n".join(lines),
            footer=ending or None,
            tone=Tone.SUCCESS,
        )


ENDINGS = frozenset({"stopped", "restart"})


async def post_locale(store: Store, actor: Actor) -> str:
    """The language of what the coach posts in ``actor``'s server: the one its managers chose
    (``/admin language``), else the server's preferred one, else ``actor``'s."""
    settings = await store.study.settings(actor.guild_id)
    server = normalize_locale(actor.guild_locale) if actor.guild_locale else None
    if server is not None:
        await store.study.note_server_locale(actor.guild_id, server)
    return settings.locale or server or settings.server_locale or actor.locale


def _ranking_lines(tr: Translator, standings: list[Standing], limit: int) -> list[str]:
    """The leaders, best first; how many more played, when there are more."""
    lines = []
    for index, standing in enumerate(standings[:limit]):
        mark = MEDALS[index] if index < len(MEDALS) and standing.points else f"{index + 1}."
        name = escape_markdown(shorten(standing.display_name or standing.user_id, 40))
        lines.append(
            f"{mark} **{name}** — {standing.points} pts ({standing.correct}/{standing.answered})"
        )
    if len(standings) > limit:
        lines.append(tr("study.and_more", count=len(standings) - limit))
    return lines


def _parse_action(action: str) -> tuple[int, int, int | None]:
    """``study:a:<round>:<position>:<button>`` or ``study:t:<round>:<position>``."""
    parts = action.split(":")
    try:
        if len(parts) == 5 and parts[1] == "a":
            return int(parts[2]), int(parts[3]), int(parts[4])
        if len(parts) == 4 and parts[1] == "t":
            return int(parts[2]), int(parts[3]), None
    except ValueError:
        raise UserError("general.expired_action") from None
    raise UserError("general.expired_action")
