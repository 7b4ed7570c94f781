"""``/quiz`` and ``/review``: rounds stored in SQLite, answered with buttons or typed commands.

Actions (stable, at most 100 characters, valid after a restart):

* ``quiz:a:<round_id>:<position>:<button>`` — the button pressed for a choice or true/false
  question (``button`` is the displayed position; the round remembers the shuffle);
* ``quiz:t:<round_id>:<position>`` — a typed command (the text arrives as the value).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from bot.content.registry import ContentRegistry
from bot.core import metrics
from bot.core.clock import Clock
from bot.core.commands import MAX_SUGGESTIONS, Request, Suggestion
from bot.core.context import Actor
from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.registry import Slot
from bot.core.reply import ChoiceStyle, Placement, Reply, Tone, spent
from bot.core.text import shorten
from bot.core.when import describe_due
from bot.quiz.content import QUESTIONS, Question
from bot.quiz.grading import Grade
from bot.quiz.question_types import Answer, AnswerActions, Pressed, Typed, WrongAnswerKind
from bot.quiz.scheduling import Reviewer, rating_for
from bot.quiz.topics import ConceptLookup, QuizTopics, normalize_topic, topic_name
from bot.settings import QuizSettings
from bot.store import Store
from bot.store.quiz import AnswerInput, Round, RoundQuestion

ACTION = "quiz"


class QuizService:
    def __init__(
        self,
        settings: QuizSettings,
        clock: Clock,
        store: Slot[Store],
        content: ContentRegistry,
        concepts: ConceptLookup,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._store = store
        self._content = content
        self.concepts = concepts
        self.reviewer = Reviewer(self.settings.desired_retention)
        self.rng = random.Random()

    # helpers --------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self._store.get()

    @property
    def bank(self) -> Mapping[str, Question]:
        """The questions of the library installed right now."""
        return self._content.library.items(QUESTIONS)

    def now(self) -> datetime:
        return self.clock.now()

    def _topics(self) -> QuizTopics:
        library = self._content.library
        return QuizTopics(library.items(QUESTIONS), library.catalog, self.concepts)

    def topics(self) -> list[str]:
        """Every topic ``/quiz`` offers, in the order of ``/concepts``."""
        return self._topics().topics()

    def matching(self, topic: str | None) -> list[Question]:
        """Questions for ``topic``: all, a topic (id or name) or a concept (bot.quiz.topics)."""
        return self._topics().matching(topic)

    def _shuffle(self, question: Question) -> tuple[int, ...]:
        return question.kind.option_order(question, self.rng)

    # facts for other capabilities ---------------------------------------------------------
    def question_topics(self) -> dict[str, str]:
        """Every question of the current bank and its topic."""
        return {question.id: question.topic for question in self.bank.values()}

    @staticmethod
    def topic_title(tr: Translator, topic: str) -> str:
        """A topic's name in the reader's language."""
        return topic_name(tr, topic)

    # commands -------------------------------------------------------------------------
    async def quiz(self, request: Request) -> list[Reply]:
        actor = request.actor
        topic = str(request.opt("topic", "")).strip()
        count = request.opt("count")
        if topic.isdigit() and count is None:  # "/quiz 3": a count, no topic
            topic, count = "", int(topic)
        count = max(1, int(count or self.settings.default_count))
        candidates = self.matching(topic)
        if not candidates:
            raise UserError(
                "quiz.no_questions",
                topic=shorten(topic, 60),
                topics=", ".join(self.topics()),
            )
        chosen = await self._pick(actor, candidates, min(count, self.settings.max_count))
        round_id = await self.store.quiz.create_round(
            actor,
            "quiz",
            normalize_topic(topic) or None,
            [(q.id, self._shuffle(q)) for q in chosen],
        )
        return [await self._show(request.tr, round_id, 0)]

    async def _pick(self, actor: Actor, candidates: list[Question], count: int) -> list[Question]:
        """Questions answered least (and last answered wrong) first, shuffled within a tie."""
        stats = {
            s.question_id: s
            for s in await self.store.quiz.question_stats(actor.user_id, actor.guild_id)
        }

        def priority(question: Question) -> tuple[int, int, float]:
            stat = stats.get(question.id)
            if stat is None:
                return (0, 0, self.rng.random())
            return (1, int(stat.last_correct), stat.attempts + self.rng.random())

        return sorted(candidates, key=priority)[:count]

    async def review(self, request: Request) -> list[Reply]:
        actor, tr = request.actor, request.tr
        now = self.now()
        due = await self.store.quiz.due_cards(
            actor.user_id, actor.guild_id, now, self.settings.max_count * 3
        )
        questions = [self.bank[c.question_id] for c in due if c.question_id in self.bank]
        questions = questions[: self.settings.max_count]
        if not questions:
            return [await self._nothing_due(tr, actor, now)]
        round_id = await self.store.quiz.create_round(
            actor, "review", None, [(q.id, self._shuffle(q)) for q in questions]
        )
        return [await self._show(tr, round_id, 0)]

    async def _nothing_due(self, tr: Translator, actor: Actor, now: datetime) -> Reply:
        upcoming = [
            c
            for c in await self.store.quiz.upcoming(actor.user_id, actor.guild_id, limit=50)
            if c.question_id in self.bank
        ]
        if not upcoming:
            return Reply(title=tr("quiz.review_title"), body=tr("quiz.review_no_cards"))
        when = describe_due(tr, now, upcoming[0].due)
        return Reply(
            title=tr("quiz.review_title"),
            body=tr("quiz.review_nothing_due", when=when),
            tone=Tone.SUCCESS,
        )

    async def complete_topic(self, request: Request, partial: str) -> list[Suggestion]:
        return self._topics().suggest(request.tr, partial, MAX_SUGGESTIONS)

    # answers --------------------------------------------------------------------------
    async def press(self, request: Request, action: str, value: str | None) -> list[Reply]:
        round_id, position, answer = _parse_action(action, value)
        round_ = await self.store.quiz.round(round_id)
        if round_ is None:
            raise UserError("quiz.round_gone")
        if round_.user_id != request.actor.user_id:
            raise UserError("quiz.not_yours")
        slot = round_.question(position)
        if slot is None or slot.shown_at is None:
            raise UserError("general.expired_action")
        if slot.answered:
            return [self._already(request.tr)]
        question = self.bank.get(slot.question_id)
        if question is None:
            raise UserError("quiz.question_gone")
        try:
            grade = question.kind.grade(question, slot.option_order, answer)
            given = question.kind.given(question, slot.option_order, answer)
        except WrongAnswerKind:  # an old button or form of another question
            raise UserError("general.expired_action") from None
        return await self._record(request, round_, slot, question, grade, given, action)

    async def _record(
        self,
        request: Request,
        round_: Round,
        slot: RoundQuestion,
        question: Question,
        grade: Grade,
        given: str,
        pressed: str,
    ) -> list[Reply]:
        now = self.now()
        assert slot.shown_at is not None
        seconds = max(0.0, (now - slot.shown_at).total_seconds())
        rating = rating_for(grade.correct, seconds, self.settings, question.kind.typed)
        last = slot.position == round_.size - 1
        answer = AnswerInput(
            round_id=round_.round_id,
            position=slot.position,
            question_id=question.id,
            given=given,
            correct=grade.correct,
            seconds=seconds,
            rating=int(rating),
        )
        # The answer counts in the server where the round was started.
        who = replace(request.actor, guild_id=round_.guild_id)
        recorded = await self.store.quiz.record_answer(
            who, answer, self.reviewer.schedule(rating, now)
        )
        if not recorded.recorded:
            return [self._already(request.tr)]
        metrics.quiz_answered(grade.correct)
        tr = request.tr
        feedback = self._feedback(tr, question, grade, now, recorded.due)
        if last:
            score = round_.score + int(grade.correct)
            style = ChoiceStyle.SUCCESS if grade.correct else ChoiceStyle.DANGER
            answered = spent(self._render(tr, round_, slot).choices, pressed, style)
            following = self._score(tr, round_, score).but(choices=answered)
        else:
            # The round read before recording is enough to draw the next question.
            following = self._render(tr, round_, round_.questions[slot.position + 1])
        # The answer and what follows take the question's place: a round lives in one message.
        return [reply.but(placement=Placement.REPLACE) for reply in (feedback, following)]

    # rendering ------------------------------------------------------------------------
    async def _show(self, tr: Translator, round_id: int, position: int) -> Reply:
        round_ = await self.store.quiz.round(round_id)
        assert round_ is not None
        return self._render(tr, round_, round_.questions[position])

    def _render(self, tr: Translator, round_: Round, slot: RoundQuestion) -> Reply:
        question = self.bank.get(slot.question_id)
        if question is None:
            raise UserError("quiz.question_gone")
        return render_question(tr, round_, slot, question)

    @staticmethod
    def _already(tr: Translator) -> Reply:
        return Reply(
            title=tr("quiz.already_title"), body=tr("quiz.already_answered"), tone=Tone.WARNING
        )

    def _feedback(
        self, tr: Translator, question: Question, grade: Grade, now: datetime, due: datetime | None
    ) -> Reply:
        locale = tr.locale
        lines: list[str] = []
        if not grade.correct:
            lines.append(tr("quiz.right_answer", answer=question.kind.right_answer(tr, question)))
            lines.extend("• " + _hint_text(tr, hint.key, hint.params) for hint in grade.hints)
            lines.append("")
        lines.append(question.explanation.get(locale))
        concepts = ", ".join(f"`/concept {c}`" for c in question.concepts)
        lines.append("")
        lines.append(tr("quiz.read_more", concepts=concepts))
        return Reply(
            title=tr("quiz.correct_title" if grade.correct else "quiz.wrong_title"),
            body="\n".join(lines),
            tone=Tone.SUCCESS if grade.correct else Tone.WARNING,
            footer=tr("quiz.next_review", when=describe_due(tr, now, due)) if due else None,
        )

    @staticmethod
    def _score(tr: Translator, round_: Round, score: int) -> Reply:
        size = round_.size
        key = "quiz.score_perfect" if score == size else "quiz.score_body"
        return Reply(
            title=tr("quiz.score_title", score=score, total=size),
            body=tr(key, score=score, total=size),
            tone=Tone.SUCCESS if score * 2 >= size else Tone.INFO,
        )


def render_question(
    tr: Translator, round_: Round, slot: RoundQuestion, question: Question
) -> Reply:
    heading_key = "quiz.review_heading" if round_.kind == "review" else "quiz.question_heading"
    base = f"{ACTION}:a:{round_.round_id}:{slot.position}"
    actions = AnswerActions(
        press=lambda button: f"{base}:{button}",
        typed=f"{ACTION}:t:{round_.round_id}:{slot.position}",
    )
    controls = question.kind.controls(tr, question, slot.option_order, actions)
    return Reply(
        title=tr(heading_key, number=slot.position + 1, total=round_.size),
        body=question.prompt.get(tr.locale),
        choices=controls.choices,
        prompt=controls.prompt,
        footer=tr("quiz.footer", id=question.id),
    )


def _parse_action(action: str, value: str | None) -> tuple[int, int, Answer]:
    """``quiz:a:<round>:<position>:<button>`` or ``quiz:t:<round>:<position>`` (+ the text)."""
    parts = action.split(":")
    try:
        if len(parts) == 5 and parts[1] == "a":
            return int(parts[2]), int(parts[3]), Pressed(int(parts[4]))
        if len(parts) == 4 and parts[1] == "t":
            return int(parts[2]), int(parts[3]), Typed(value or "")
    except ValueError:
        raise UserError("general.expired_action") from None
    raise UserError("general.expired_action")


def _hint_text(tr: Translator, key: str, params: dict[str, object]) -> str:
    if key == "quiz.hint.unreadable":
        inner = str(params.get("key", ""))
        if not tr.catalog.has(inner):
            return tr("quiz.hint.unreadable_plain")
        return tr(key, reason=tr(inner, **params))
    if not tr.catalog.has(key):
        return tr("quiz.hint.other")
    return tr(key, **params)
