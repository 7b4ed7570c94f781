"""Registers ``/progress``, ``/leaderboard``, ``/forget-me``, ``/language`` and
``/timezone``; installs the hooks that record concept reads and apply a user's chosen
language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.commands import CommandSpec, OptionKind, OptionSpec
from bot.core.i18n import SUPPORTED_LOCALES
from bot.progress.service import ACTION, ProgressService

if TYPE_CHECKING:
    from bot.coach import Coach


def _service(coach: Coach) -> ProgressService:
    service = coach.services.get("progress")
    if service is None:
        service = coach.services["progress"] = ProgressService(coach)
    return service


def install_hooks(coach: Coach) -> None:
    """Called before any capability registers, so that /concept captures the read hook."""
    service = _service(coach)
    coach.hooks.concept_read = service.concept_read
    coach.hooks.locale_for = service.locale_for


def register(coach: Coach) -> ProgressService:
    service = _service(coach)
    table = coach.table
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
