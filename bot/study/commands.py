"""Registers ``/study quiz | next | stop | join | practice | end | plan`` and the server's study
settings ``/admin daily | language | reward``, routes the ``study:`` buttons and typed answers, and
follows group practice after every ``/docker``, ``/sh`` and ``/practice`` command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.core.clock import Clock
from bot.core.commands import CommandSpec, OptionKind, OptionSpec
from bot.core.i18n import Translator
from bot.core.posts import Outbox
from bot.core.registry import Registry, Slot
from bot.settings import StudySettings
from bot.store import Store
from bot.study.group_practice import GroupPracticeService
from bot.study.plan import StudyPlan
from bot.study.ports import ConceptNames, GroupPracticePort, GroupQuiz
from bot.study.rewards import MILESTONES, Rewards
from bot.study.rounds import ACTION, StudyRounds
from bot.study.service import LANGUAGES, StudyService


def register(
    app: Registry,
    settings: StudySettings,
    clock: Clock,
    store: Slot[Store],
    posts: Outbox,
    *,
    quiz: GroupQuiz,
    practice: GroupPracticePort,
    concepts: ConceptNames,
    translator: Callable[[str], Translator],
    default_locale: Callable[[], str],
    font: Callable[[], Path | None],
) -> StudyService:
    """``quiz``, ``practice``, ``concepts``: the ports to the other capabilities; ``posts``:
    where the channel's messages go; ``font``: the font charts draw Hangul with."""
    rounds = StudyRounds(settings, clock, store, posts, quiz, translator)
    group = GroupPracticeService(store, posts, practice, translator)
    plan = StudyPlan(store, quiz, practice, concepts, translator, font)
    rewards = Rewards(store, posts, practice, concepts, translator)
    service = StudyService(
        settings, clock, store, posts, rounds, group, plan, default_locale, translator
    )
    table = app.table
    table.add(
        CommandSpec(
            ("study", "quiz"),
            rounds.start,
            (
                OptionSpec("topic", completer=quiz.complete_topic, max_length=100),
                OptionSpec("count", OptionKind.INTEGER, min_value=1, max_value=settings.max_count),
                OptionSpec(
                    "seconds",
                    OptionKind.INTEGER,
                    min_value=settings.min_seconds,
                    max_value=settings.max_seconds,
                ),
            ),
        )
    )
    table.add(CommandSpec(("study", "next"), rounds.next))
    table.add(CommandSpec(("study", "stop"), rounds.stop))
    table.add(CommandSpec(("study", "join"), service.join, touches_worker=True))
    table.add(
        CommandSpec(
            ("study", "practice"),
            group.open,
            (
                OptionSpec(
                    "scenario",
                    required=True,
                    completer=practice.complete_scenario,
                    max_length=64,
                ),
            ),
            touches_worker=True,
        )
    )
    table.add(CommandSpec(("study", "end"), group.end))
    table.add(
        CommandSpec(("study", "plan"), plan.plan, (OptionSpec("set", rest=True, max_length=400),))
    )
    table.add(
        CommandSpec(
            ("admin", "daily"),
            service.daily,
            (
                OptionSpec("channel", OptionKind.CHANNEL, required=True),
                OptionSpec("time", required=True, max_length=5),
                OptionSpec("timezone", max_length=64),
            ),
            admin_only=True,
        )
    )
    table.add(
        CommandSpec(
            ("admin", "language"),
            service.language,
            (OptionSpec("language", choices=(*LANGUAGES, "default")),),
            admin_only=True,
        )
    )
    table.add(
        CommandSpec(
            ("admin", "reward"),
            rewards.configure,
            (
                OptionSpec("milestone", required=True, choices=MILESTONES),
                OptionSpec("role", OptionKind.ROLE),
            ),
            admin_only=True,
        )
    )
    table.add_action(ACTION, rounds.press)
    for path in (("docker",), ("sh",), ("practice",)):
        table.add_listener(path, group.after_command)
    for path in (("docker",), ("sh",), ("practice",), ("concept",)):
        table.add_listener(path, rewards.after_command)
    app.on_start(service.start)
    app.on_close(service.close)
    return service
