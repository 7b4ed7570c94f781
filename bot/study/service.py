"""Study groups, together: the commands that span rounds and practice (``/study join``), the
server's study settings (``/admin daily``, ``/admin language``) and the ticker that runs
every timer from the coach's clock and the state in SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.core.commands import Request
from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.moments import valid_zone
from bot.core.posts import Outbox, Post
from bot.core.registry import Slot
from bot.core.reply import Reply, Tone
from bot.core.text import shorten
from bot.settings import StudySettings
from bot.store import Store
from bot.store.study import StudyGuild
from bot.study.group_practice import GroupPracticeService
from bot.study.plan import StudyPlan
from bot.study.rounds import StudyRounds, post_locale

log = logging.getLogger("bot.study")

_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]?([0-5]\d)$")
LANGUAGES = ("en", "ko")


def parse_time(text: str) -> time | None:
    match = _TIME.match(text.strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


class StudyService:
    def __init__(
        self,
        settings: StudySettings,
        clock: Clock,
        store: Slot[Store],
        posts: Outbox,
        rounds: StudyRounds,
        practice: GroupPracticeService,
        plan: StudyPlan,
        default_locale: Callable[[], str],
        translator: Callable[[str], Translator],
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._store = store
        self.posts = posts
        self.rounds = rounds
        self.practice = practice
        self.plan = plan
        self.default_locale = default_locale
        self.translator = translator
        self._ticker: asyncio.Task[None] | None = None
        self._resumed = False
        self._started: datetime | None = None
        # Rounds left running by an earlier coach: only these are resumed (shown again).
        self._inherited: frozenset[int] = frozenset()
        self._ticking = asyncio.Lock()

    @property
    def store(self) -> Store:
        return self._store.get()

    # /study join ----------------------------------------------------------------------
    async def join(self, request: Request) -> list[Reply]:
        """Join what the channel is doing: its quiz round, its group practice, or both."""
        replies: list[Reply] = []
        joined_round = await self.rounds.join(request)
        if joined_round is not None:
            replies.append(joined_round)
        practice = await self.practice.join(request)
        if practice is not None:
            replies.extend(practice)
        if not replies:
            raise UserError("study.nothing_to_join")
        return replies

    # server settings ------------------------------------------------------------------
    async def daily(self, request: Request) -> Reply:
        actor, tr = request.actor, request.tr
        channel = str(request.opt("channel", "")).strip().lstrip("#")
        wanted_time = str(request.opt("time", "")).strip()
        zone_name = str(request.opt("timezone", "")).strip() or self.settings.daily_timezone
        if channel.lower() in ("off", "none"):
            await self.store.study.set_daily(actor.guild_id, None, None, None)
            return Reply(body=tr("study.daily_off"), tone=Tone.SUCCESS)
        at = parse_time(wanted_time)
        if at is None:
            raise UserError("study.bad_time", time=shorten(wanted_time, 20))
        if not valid_zone(zone_name):
            raise UserError("progress.timezone_unknown", zone=shorten(zone_name, 60))
        await self.store.study.set_daily(actor.guild_id, channel, at.strftime("%H:%M"), zone_name)
        await post_locale(self.store, actor)  # remembers the server's own language
        # Set after today's time: the first question comes tomorrow, not late today.
        local = self.clock.now().astimezone(ZoneInfo(zone_name))
        if local.time().replace(second=0, microsecond=0) > at:
            await self.store.study.claim_daily(actor.guild_id, local.date().isoformat())
        return Reply(
            body=tr("study.daily_set", channel=channel, time=at.strftime("%H:%M"), zone=zone_name),
            tone=Tone.SUCCESS,
        )

    async def language(self, request: Request) -> Reply:
        actor, tr = request.actor, request.tr
        wanted = str(request.opt("language", "")).strip().lower()
        if wanted:
            await self.store.study.set_locale(
                actor.guild_id, None if wanted == "default" else wanted
            )
        chosen = (await self.store.study.settings(actor.guild_id)).locale
        if chosen:
            return Reply(body=tr("study.language_set", language=tr(f"study.language_{chosen}")))
        return Reply(body=tr("study.language_none"))

    # timers ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._started = self.clock.now()
        self._inherited = frozenset(await self.store.study.open_rounds("quiz"))
        if self.settings.tick_seconds > 0:
            self._ticker = asyncio.create_task(self._tick_forever(), name="study-ticker")

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.tick_seconds)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("study timers failed; trying again at the next tick")

    async def tick(self) -> None:
        """Everything that is due on the coach's clock: rounds resumed after a restart (the
        first time), questions whose time is up, the daily question, the weekly summary."""
        async with self._ticking:
            if not self._resumed:
                self._resumed = True
                await self.rounds.resume(self._started or self.clock.now(), self._inherited)
            await self.rounds.due()
            for guild in await self.store.study.daily_guilds():
                await self._daily(guild, self.clock.now())

    async def _daily(self, guild: StudyGuild, now: datetime) -> None:
        at = parse_time(guild.daily_time or "")
        if at is None or guild.daily_channel_id is None:
            return
        zone = ZoneInfo(guild.daily_timezone or self.settings.daily_timezone)
        local = now.astimezone(zone)
        due = datetime.combine(local.date(), at, zone)
        today = local.date().isoformat()
        if local < due or (guild.daily_last_day or "") >= today:
            return
        if not await self.store.study.claim_daily(guild.guild_id, today):
            return
        if local - due > timedelta(hours=self.settings.daily_grace_hours):
            log.info(
                "daily question skipped: too late after a downtime",
                extra={"guild": guild.guild_id, "day": today},
            )
            return
        locale = guild.locale or guild.server_locale or self.default_locale()
        question = await self.plan.daily_question(guild.guild_id)
        if question is not None:
            await self.rounds.post_daily(
                guild.guild_id, guild.daily_channel_id, locale, question, due + timedelta(days=1)
            )
        if local.weekday() == self.settings.summary_weekday and guild.plan:
            week = "{}-W{:02d}".format(*local.isocalendar()[:2])
            if await self.store.study.claim_summary(guild.guild_id, week):
                report = await self.plan.report(self.translator(locale), guild.guild_id)
                await self.posts.publish(
                    Post(
                        guild.guild_id,
                        guild.daily_channel_id,
                        report.but(
                            title=self.translator(locale)("study.weekly_title"), private=False
                        ),
                    )
                )
