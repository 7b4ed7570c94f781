"""Registers ``/progress``, ``/leaderboard``, ``/forget-me``, ``/language`` and ``/timezone``."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.clock import Clock
from bot.core.commands import CommandSpec, OptionKind, OptionSpec
from bot.core.i18n import SUPPORTED_LOCALES, Translator
from bot.core.registry import Registry, Slot
from bot.progress.service import ACTION, Curriculum, PracticeRecords, ProgressService
from bot.store import Store


def register(
    app: Registry,
    clock: Clock,
    store: Slot[Store],
    curriculum: Curriculum,
    practice: PracticeRecords,
    translator: Callable[[str], Translator],
) -> ProgressService:
    """The service's ``concept_read`` and ``locale_for`` are the hooks the composition root
    gives to concepts (reads count for progress) and to every request (the chosen language)."""
    service = ProgressService(store, clock, curriculum, practice, translator)
    table = app.table
    table.add(
        CommandSpec(("progress",), service.progress, (OptionSpec("member", OptionKind.MEMBER),))
    )
    table.add(
        CommandSpec(
            ("leaderboard",), service.leaderboard, (OptionSpec("period", choices=("week", "all")),)
        )
    )
    table.add(CommandSpec(("forget-me",), service.forget_me))
    table.add(
        CommandSpec(
            ("language",), service.language, (OptionSpec("language", choices=SUPPORTED_LOCALES),)
        )
    )
    table.add(
        CommandSpec(
            ("timezone",),
            service.timezone,
            (OptionSpec("timezone", completer=service.complete_timezone, max_length=64),),
        )
    )
    table.add_action(ACTION, service.press)
    return service
