"""Registers ``/practice list|start|status|check|hint|skip|stop`` and the after-command check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.core.commands import CommandSpec, OptionSpec
from bot.practice.service import ACTION, PracticeService

if TYPE_CHECKING:
    from bot.coach import Coach


def _repo(coach: Coach) -> Any:
    store = getattr(coach, "store", None)
    if store is None:
        return None
    return getattr(store, "practice", None)


def register(coach: Coach) -> PracticeService:
    service = PracticeService(
        coach.library.scenarios,
        sandbox=lambda: coach.services.get("sandbox"),
        repo=lambda: _repo(coach),
        clock=coach.clock,
    )
    coach.services["practice"] = service
    table = coach.table
    scenario = OptionSpec(
        "scenario", required=True, completer=service.complete_scenario, max_length=64
    )
    table.add(CommandSpec(("practice", "list"), service.list_scenarios))
    table.add(CommandSpec(("practice", "start"), service.start, (scenario,), touches_worker=True))
    table.add(CommandSpec(("practice", "status"), service.status, touches_worker=True))
    table.add(CommandSpec(("practice", "check"), service.check, touches_worker=True))
    table.add(CommandSpec(("practice", "hint"), service.hint))
    table.add(CommandSpec(("practice", "skip"), service.skip, touches_worker=True))
    table.add(CommandSpec(("practice", "stop"), service.stop))
    table.add_action(ACTION, service.press)
    table.add_listener(("docker",), service.after_command)
    table.add_listener(("sh",), service.after_command)
    return service
