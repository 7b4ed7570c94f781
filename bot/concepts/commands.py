"""Registers ``/concept`` and ``/concepts``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.concepts.service import ACTION, ConceptService
from bot.core.commands import CommandSpec, OptionSpec

if TYPE_CHECKING:
    from bot.coach import Coach


def register(coach: Coach) -> ConceptService:
    service = ConceptService(coach.concept_index, on_read=coach.hooks.concept_read)
    coach.table.add(
        CommandSpec(
            ("concept",),
            service.show,
            (
                OptionSpec(
                    "topic", required=True, completer=service.complete, rest=True, max_length=100
                ),
            ),
        )
    )
    coach.table.add(CommandSpec(("concepts",), service.list_all))
    coach.table.add_action(ACTION, service.press)
    return service
