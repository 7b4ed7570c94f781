"""``/progress``, ``/leaderboard``, ``/forget-me`` and ``/language``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.core.commands import MemberRef, Request, Suggestion
from bot.core.context import Actor
from bot.core.errors import UserError
from bot.core.i18n import SUPPORTED_LOCALES, Translator
from bot.core.moments import KOREAN_ZONE, in_zone, learner_zone, valid_zone, zone, zone_names
from bot.core.registry import Slot
from bot.core.reply import Choice, ChoiceStyle, Field, Placement, Reply, ReplyFile, Tone
from bot.core.text import escape_markdown, shorten
from bot.core.when import describe_due
from bot.progress.chart import TopicMastery, render_chart
from bot.progress.streaks import Streaks, streaks
from bot.store import Store
from bot.store.practice import Completion, PracticeSummary

log = logging.getLogger("bot.progress")

ACTION = "progress"
CHART_DAYS = 14
WEEK_DAYS = 7


class Curriculum(Protocol):
    """The port through which progress knows the course it measures against (the composition
    root builds it from the concepts, quiz and practice capabilities)."""

    def concept_count(self) -> int:
        """How many concepts the course has."""
        ...

    def question_topics(self) -> Mapping[str, str]:
        """Every question of the bank and its topic."""
        ...

    def topic_title(self, tr: Translator, topic: str) -> str:
        """A topic's name in the reader's language."""
        ...

    def scenario_title(self, scenario_id: str, locale: str) -> str | None:
        """A scenario's title (None for one the content no longer has)."""
        ...


class PracticeRecords(Protocol):
    """The port to what learners completed in guided practice (the practice capability)."""

    async def summary(self, user_id: str, guild_id: str) -> PracticeSummary: ...


class ProgressService:
    def __init__(
        self,
        store: Slot[Store],
        clock: Clock,
        curriculum: Curriculum,
        practice: PracticeRecords,
        translator: Callable[[str], Translator],
    ) -> None:
        self._store = store
        self.clock = clock
        self.curriculum = curriculum
        self.practice = practice
        self.translator = translator

    @property
    def store(self) -> Store:
        return self._store.get()

    def today(self, zone: ZoneInfo | None = None) -> date:
        """Today in ``zone`` (a learner's: see :meth:`zone_for`)."""
        return self.clock.now().astimezone(zone or ZoneInfo("UTC")).date()

    async def zone_for(self, actor: Actor, user_id: str | None = None) -> ZoneInfo:
        """The zone ``user_id``'s (default: the actor's) days follow in the actor's server."""
        name, _source = await self._zone_name(actor, user_id or actor.user_id)
        return zone(name)

    async def _zone_name(self, actor: Actor, user_id: str) -> tuple[str, str]:
        """The learner's zone and where it comes from (chosen, server, korean, default)."""
        users, guilds = self.store.users, self.store.guilds
        chosen = await users.timezone(user_id)
        server = await guilds.timezone(actor.guild_id)
        if user_id == actor.user_id:
            locale: str | None = actor.locale
        else:  # another member: the language they chose, else the one last seen here
            locale = await users.locale(user_id)
            if locale is None and await users.zone_of(user_id, actor.guild_id) == KOREAN_ZONE:
                locale = "ko"
        name = learner_zone(chosen, server, locale)
        source = (
            "chosen"
            if name == chosen
            else "server"
            if name == server
            else "korean"
            if name == KOREAN_ZONE and locale == "ko"
            else "default"
        )
        return name, source

    # hooks ----------------------------------------------------------------------------
    async def concept_read(self, actor: Actor, concept_id: str) -> None:
        """Count a concept read; reading must work even when recording it fails (logged)."""
        try:
            await self.store.progress.record_read(actor, concept_id)
        except Exception:
            log.exception("could not record a concept read", extra={"user": actor.user_id})

    async def locale_for(self, actor: Actor) -> str | None:
        """The language ``actor`` chose with ``/language`` (None: follow the front end)."""
        return await self.store.users.locale(actor.user_id)

    # /progress ------------------------------------------------------------------------
    async def progress(self, request: Request) -> Reply:
        actor, tr = request.actor, request.tr
        member = request.opt("member")
        user_id, name = actor.user_id, actor.display_name
        if isinstance(member, MemberRef):
            user_id, name = member.user_id, member.display_name
        name = escape_markdown(name)
        guild = actor.guild_id
        repo = self.store.progress
        totals = await repo.totals(user_id, guild)
        practice = await self._practice(user_id, guild)
        if totals.answers == 0 and totals.concepts_read == 0 and not practice.anything:
            key = (
                "progress.nothing_yet_self" if user_id == actor.user_id else "progress.nothing_yet"
            )
            return Reply(title=tr("progress.title", name=name), body=tr(key, name=name))
        tz = await self.zone_for(actor, user_id)
        today = self.today(tz)
        days = await repo.days(user_id, guild)
        streak = streaks(days, today, tz)
        mastery = await self._mastery(user_id, guild)
        fields = [
            Field(tr("progress.concepts"), self._concepts_line(tr, totals.concepts_read), True),
            Field(
                tr("progress.answers"), self._answers_line(tr, totals.answers, totals.correct), True
            ),
            Field(tr("progress.practice"), self._practice_line(tr, practice), True),
            Field(tr("progress.streak"), self._streak_line(tr, streak), True),
            Field(tr("progress.reviews"), await self._reviews_line(tr, user_id, guild), False),
        ]
        if practice.completions:
            fields.append(
                Field(
                    tr("progress.scenarios", count=len(practice.completions)),
                    self._scenario_lines(tr, practice.completions),
                    False,
                )
            )
        if mastery:
            fields.append(Field(tr("progress.mastery"), self._mastery_lines(tr, mastery), False))
        # Pillow drawing and PNG encoding are CPU work: keep them off the event loop.
        chart = await asyncio.to_thread(render_chart, days, mastery, today, CHART_DAYS)
        return Reply(
            title=tr("progress.title", name=name),
            body=tr("progress.chart_caption", days=CHART_DAYS),
            fields=tuple(fields),
            image=ReplyFile("progress.png", chart, tr("progress.chart_alt", name=name)),
            private=False,
        )

    def _concepts_line(self, tr: Translator, read: int) -> str:
        return tr("progress.concepts_line", read=read, total=self.curriculum.concept_count())

    @staticmethod
    def _answers_line(tr: Translator, answers: int, correct: int) -> str:
        percent = round(100 * correct / answers) if answers else 0
        return tr("progress.answers_line", answers=answers, correct=correct, percent=percent)

    async def _practice(self, user_id: str, guild: str) -> PracticeSummary:
        """Steps passed and skipped, and scenarios completed, in this server."""
        return await self.practice.summary(user_id, guild)

    @staticmethod
    def _practice_line(tr: Translator, practice: PracticeSummary) -> str:
        line = tr("progress.practice_line", steps=practice.steps_done)
        if practice.steps_skipped:
            line += tr("progress.practice_skipped", count=practice.steps_skipped)
        return line

    def _scenario_lines(self, tr: Translator, completions: tuple[Completion, ...]) -> str:
        """One line per completed scenario, titled in the reader's language."""
        lines = []
        for done in completions:
            title = self.curriculum.scenario_title(done.scenario_id, tr.locale) or done.scenario_id
            line = tr("progress.scenario_line", title=title)
            if done.times > 1:
                line += tr("progress.scenario_times", count=done.times)
            if done.skipped:
                line += tr("progress.scenario_skipped", count=done.skipped)
            lines.append(line)
        return "\n".join(lines)

    @staticmethod
    def _streak_line(tr: Translator, streak: Streaks) -> str:
        return tr("progress.streak_line", current=streak.current, best=streak.best)

    async def _reviews_line(self, tr: Translator, user_id: str, guild: str) -> str:
        now = self.clock.now()
        bank = self.curriculum.question_topics()
        upcoming = [
            c for c in await self.store.quiz.upcoming(user_id, guild, 20) if c.question_id in bank
        ]
        if not upcoming:
            return tr("progress.reviews_none")
        due_now = sum(1 for c in upcoming if c.due <= now)
        later = [c for c in upcoming if c.due > now]
        parts = []
        if due_now:
            parts.append(tr("progress.reviews_due", count=due_now))
        if later:
            parts.append(tr("progress.reviews_next", when=describe_due(tr, now, later[0].due)))
        return "\n".join(parts)

    async def _mastery(self, user_id: str, guild: str) -> list[TopicMastery]:
        """Per question topic: questions whose latest answer was right, out of all of them."""
        stats = {s.question_id: s for s in await self.store.quiz.question_stats(user_id, guild)}
        totals: dict[str, list[int]] = {}
        for question_id, topic in self.curriculum.question_topics().items():
            entry = totals.setdefault(topic, [0, 0, 0])
            entry[1] += 1
            stat = stats.get(question_id)
            if stat is not None:
                entry[2] += 1
                entry[0] += int(stat.last_correct)
        touched = [(t, v) for t, v in totals.items() if v[2]]
        touched.sort(key=lambda item: (-item[1][2], item[0]))
        return [TopicMastery(topic, v[0], v[1]) for topic, v in touched]

    def _mastery_lines(self, tr: Translator, mastery: list[TopicMastery]) -> str:
        lines = [
            tr(
                "progress.mastery_line",
                topic=self.curriculum.topic_title(tr, m.topic),
                mastered=m.mastered,
                total=m.total,
                percent=round(m.share * 100),
            )
            for m in mastery
        ]
        return "\n".join(lines)

    # /leaderboard ---------------------------------------------------------------------
    async def leaderboard(self, request: Request) -> Reply:
        actor, tr = request.actor, request.tr
        period = str(request.opt("period", "week"))
        today = self.today(await self.zone_for(request.actor))
        since = today - timedelta(days=WEEK_DAYS - 1) if period == "week" else None
        rows = await self.store.progress.leaderboard(actor.guild_id, since, limit=10)
        title = tr("progress.leaderboard_week" if period == "week" else "progress.leaderboard_all")
        if not rows:
            return Reply(title=title, body=tr("progress.leaderboard_empty"))
        lines = []
        for rank, row in enumerate(rows, start=1):
            name = escape_markdown(shorten(row.display_name or row.user_id, 40))
            line = tr(
                "progress.leaderboard_line",
                rank=rank,
                name=name,
                points=row.points,
                correct=row.correct,
                answers=row.answers,
                practice=row.practice,
                days=row.active_days,
            )
            lines.append(f"**{line}**" if row.user_id == actor.user_id else line)
        return Reply(
            title=title,
            body="\n".join(lines),
            footer=tr("progress.leaderboard_footer"),
            private=False,
        )

    # /forget-me -----------------------------------------------------------------------
    async def forget_me(self, request: Request) -> Reply:
        tr, user = request.tr, request.actor.user_id
        return Reply(
            title=tr("progress.forget_title"),
            body=tr("progress.forget_confirm"),
            choices=(
                Choice(
                    tr("progress.forget_yes"),
                    f"{ACTION}:forget:confirm:{user}",
                    ChoiceStyle.DANGER,
                ),
                Choice(tr("progress.forget_no"), f"{ACTION}:forget:cancel:{user}"),
            ),
            tone=Tone.WARNING,
        )

    async def press(self, request: Request, action: str, _value: str | None) -> Reply:
        parts = action.split(":", 3)
        if len(parts) != 4 or parts[1] != "forget" or parts[2] not in ("confirm", "cancel"):
            raise UserError("general.expired_action")
        if parts[3] != request.actor.user_id:
            raise UserError("progress.forget_not_yours")
        tr = request.tr
        # The outcome takes the confirmation's place: its buttons cannot be pressed twice.
        if parts[2] == "cancel":
            return Reply(
                title=tr("progress.forget_title"),
                body=tr("progress.forget_cancelled"),
                placement=Placement.REPLACE,
            )
        await self.store.forget_user(request.actor.user_id)
        return Reply(
            title=tr("progress.forget_title"),
            body=tr("progress.forget_done"),
            tone=Tone.SUCCESS,
            placement=Placement.REPLACE,
        )

    # /language ------------------------------------------------------------------------
    # /timezone ------------------------------------------------------------------------
    async def timezone(self, request: Request) -> Reply:
        """Show the zone the learner's days follow, or choose one ("default": forget it)."""
        tr, actor = request.tr, request.actor
        wanted = str(request.opt("timezone", "")).strip()
        if wanted:
            if wanted.lower() == "default":
                await self.store.users.set_timezone(actor, None)
            elif valid_zone(wanted):
                await self.store.users.set_timezone(actor, wanted)
            else:
                raise UserError("progress.timezone_unknown", zone=shorten(wanted, 60))
        name, source = await self._zone_name(actor, actor.user_id)
        now = in_zone(self.clock.now(), "f", zone(name))
        if wanted:
            body = tr("progress.timezone_set", zone=name, now=now)
            return Reply(title=tr("progress.timezone_title"), body=body, tone=Tone.SUCCESS)
        body = tr(
            "progress.timezone_now",
            zone=name,
            source=tr(f"progress.timezone_sources.{source}"),
            now=now,
        )
        return Reply(title=tr("progress.timezone_title"), body=body)

    async def complete_timezone(self, _request: Request, partial: str) -> list[Suggestion]:
        return suggest_zones(partial)

    async def language(self, request: Request) -> Reply:
        chosen = request.opt("language")
        if not chosen:
            current = await self.store.users.locale(request.actor.user_id)
            tr = request.tr
            name = (
                tr(f"progress.language_names.{current}")
                if current
                else tr("progress.language_auto")
            )
            return Reply(
                title=tr("progress.language_title"), body=tr("progress.language_now", name=name)
            )
        if chosen not in SUPPORTED_LOCALES:
            raise UserError(
                "general.bad_choice", option="language", choices=", ".join(SUPPORTED_LOCALES)
            )
        await self.store.users.set_locale(request.actor, chosen)
        tr = self.translator(chosen)
        return Reply(
            title=tr("progress.language_title"),
            body=tr("progress.language_set", name=tr(f"progress.language_names.{chosen}")),
            tone=Tone.SUCCESS,
        )


def suggest_zones(partial: str, limit: int = 25) -> list[Suggestion]:
    """Zone names for ``partial``: those that start with it first (``Asia/Se``), then those
    with a part that does (``seoul``, ``berlin``)."""
    wanted = partial.strip().replace(" ", "_").casefold()
    names = sorted(zone_names())
    first = [n for n in names if n.casefold().startswith(wanted)]
    rest = [
        n
        for n in names
        if n not in first and any(p.casefold().startswith(wanted) for p in n.split("/")[1:])
    ]
    return [Suggestion(name, name) for name in (first + rest)[:limit]]
