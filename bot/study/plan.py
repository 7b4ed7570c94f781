"""This week's topic (``/study plan``) and the daily question's choice.

``/study plan set CONCEPT…`` (managers) chooses the concepts; ``/study plan`` shows, per
concept, how many members read it, passed its questions and completed its scenario, as a
table and as a chart. The same report is the weekly summary in the daily channel.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

from bot.core.commands import Request
from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.registry import Slot
from bot.core.reply import Reply, ReplyFile, Tone
from bot.core.text import shorten
from bot.store import Store
from bot.study.chart import PlanRow, render_plan_chart
from bot.study.ports import ConceptNames, GroupPracticePort, GroupQuiz

RECENT_DAILY = 14  # a daily question is not asked again within this many days
MAX_PLAN = 10


class StudyPlan:
    def __init__(
        self,
        store: Slot[Store],
        quiz: GroupQuiz,
        practice: GroupPracticePort,
        concepts: ConceptNames,
        translator: Callable[[str], Translator],
        font: Callable[[], Path | None],
    ) -> None:
        self._store = store
        self.quiz = quiz
        self.practice = practice
        self.concepts = concepts
        self.translator = translator
        self.font = font
        self.rng = random.Random()

    @property
    def store(self) -> Store:
        return self._store.get()

    async def plan(self, request: Request) -> Reply:
        actor, tr = request.actor, request.tr
        wanted = str(request.opt("set", "")).strip()
        if wanted:
            if not actor.is_admin:
                raise UserError("general.admin_only")
            chosen = self._resolve(wanted)
            await self.store.study.set_plan(actor.guild_id, chosen)
        return await self.report(tr, actor.guild_id, changed=bool(wanted))

    def _resolve(self, text: str) -> list[str]:
        words = [w for w in re.split(r"[\s,]+", text) if w]
        if words and words[0].lower() == "set":  # "/study plan set a b" in the console
            words = words[1:]
        if words == ["none"] or words == ["-"]:
            return []
        found: list[str] = []
        unknown: list[str] = []
        for word in words:
            concept = self.concepts.find(word)
            if concept is None:
                unknown.append(word)
            elif concept.id not in found:
                found.append(concept.id)
        if unknown:
            raise UserError("study.plan_unknown", names=shorten(", ".join(unknown), 200))
        if len(found) > MAX_PLAN:
            raise UserError("study.plan_too_long", limit=MAX_PLAN)
        return found

    async def report(self, tr: Translator, guild_id: str, changed: bool = False) -> Reply:
        settings = await self.store.study.settings(guild_id)
        if not settings.plan:
            return Reply(title=tr("study.plan_title"), body=tr("study.plan_none"))
        progress = await self.store.study.concept_progress(
            guild_id,
            settings.plan,
            self.quiz.questions_by_concept(),
            self.practice.scenarios_by_concept(),
        )
        members = await self.store.study.member_count(guild_id)
        labels = {cid: self._title(tr, cid) for cid in settings.plan}
        header = (
            tr("study.plan_concept"),
            tr("study.plan_read"),
            tr("study.plan_passed"),
            tr("study.plan_completed"),
        )
        table = [header] + [
            (
                labels[p.concept_id],
                f"{p.read}/{members}",
                f"{p.passed}/{members}",
                f"{p.completed}/{members}",
            )
            for p in progress
        ]
        chart = render_plan_chart(
            [PlanRow(labels[p.concept_id], p.read, p.passed, p.completed) for p in progress],
            members,
            (tr("study.plan_read"), tr("study.plan_passed"), tr("study.plan_completed")),
            self.font(),
        )
        return Reply(
            title=tr("study.plan_title"),
            body=tr("study.plan_set" if changed else "study.plan_body", members=members),
            code=_table(table),
            code_name="plan.txt",
            image=ReplyFile("plan.png", chart, tr("study.plan_title")),
            tone=Tone.SUCCESS if changed else Tone.INFO,
        )

    def _title(self, tr: Translator, concept_id: str) -> str:
        concept = self.concepts.find(concept_id)
        return concept.title.get(tr.locale) if concept is not None else concept_id

    # the daily question ---------------------------------------------------------------
    async def daily_question(self, guild_id: str) -> str | None:
        """A question on what the server studied (the plan, concepts read), the ones the
        group gets wrong most first, none asked in the last days; any question when the server
        studied nothing yet."""
        settings = await self.store.study.settings(guild_id)
        studied = set(settings.plan) | await self.store.study.concepts_read(guild_id)
        recent = set(await self.store.study.recent_daily(guild_id, RECENT_DAILY))
        every = self.quiz.question_ids()
        pool = [q for q in every if q not in recent] or every
        on_topic = [q for q in pool if studied & set(self.quiz.concepts_of(q))]
        pool = on_topic or pool
        if not pool:
            return None
        stats = await self.store.study.group_stats(guild_id)

        def misses(question_id: str) -> float:
            attempts, correct = stats.get(question_id, (0, 0))
            share = 0.5 if not attempts else 1 - correct / attempts
            return share + self.rng.random() * 0.25

        return max(pool, key=misses)


def _table(rows: list[tuple[str, str, str, str]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[i] + " " * (widths[i] - _width(row[i])) for i in range(4)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _width(text: str) -> int:
    """Columns a terminal gives ``text`` (Hangul takes two)."""
    return sum(2 if "\u1100" <= ch <= "\ud7a3" else 1 for ch in text)
