"""Registers ``/admin sandboxes | destroy | reload | practice-channel | timezone`` (Manage
Server only)."""

from __future__ import annotations

from bot.admin.service import ACTION, AdminService, ContentReloader, SandboxAdmin
from bot.core.commands import CommandSpec, OptionKind, OptionSpec
from bot.core.registry import Registry, Slot
from bot.store import Store


def register(
    app: Registry, store: Slot[Store], sandboxes: SandboxAdmin, content: ContentReloader
) -> AdminService:
    """``sandboxes``: the sandbox capability's functions for managers; ``content``: reload."""
    service = AdminService(store, sandboxes, content)
    table = app.table
    table.add(
        CommandSpec(("admin", "sandboxes"), service.sandboxes, admin_only=True, touches_worker=True)
    )
    table.add(
        CommandSpec(
            ("admin", "destroy"),
            service.destroy,
            (OptionSpec("member", OptionKind.MEMBER, required=True),),
            admin_only=True,
        )
    )
    table.add(CommandSpec(("admin", "reload"), service.reload, admin_only=True))
    table.add(
        CommandSpec(
            ("admin", "practice-channel"),
            service.set_practice_channel,
            (OptionSpec("channel", OptionKind.CHANNEL, max_length=100),),
            admin_only=True,
        )
    )
    table.add(
        CommandSpec(
            ("admin", "timezone"),
            service.timezone,
            (OptionSpec("timezone", completer=service.complete_timezone, max_length=64),),
            admin_only=True,
        )
    )
    table.add_action(ACTION, service.press)
    return service
