"""Registers the scenarios kind of content, ``/practice list|start|status|check|hint|skip|stop``
and the check after every ``/docker`` and ``/sh``."""

from __future__ import annotations

from bot.content.registry import ContentRegistry
from bot.core.clock import Clock
from bot.core.commands import CommandSpec, OptionSpec
from bot.core.registry import Registry, Slot
from bot.practice.checks import SandboxReader
from bot.practice.content import SCENARIOS
from bot.practice.service import ACTION, PracticeRepo, PracticeService, in_order
from bot.store import Store


def register(
    app: Registry,
    content: ContentRegistry,
    clock: Clock,
    store: Slot[Store],
    sandbox: SandboxReader,
) -> PracticeService:
    """``sandbox``: how checks read a learner's sandbox (the sandbox capability's read model)."""
    content.add(SCENARIOS)
    scenarios = content.derive(
        "the scenarios in order", lambda library: in_order(library.items(SCENARIOS))
    )

    def repo() -> PracticeRepo:
        return store.get().practice

    service = PracticeService(scenarios.get, sandbox, repo, clock)
    table = app.table
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
