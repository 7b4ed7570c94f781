"""Registers the concepts kind of content, ``/concept`` and ``/concepts``."""

from __future__ import annotations

from bot.concepts.index import ConceptIndex
from bot.concepts.service import ACTION, ConceptService, ReadHook
from bot.concepts.validation import CONCEPTS
from bot.content.items import ContentLibrary
from bot.content.registry import ContentRegistry
from bot.core.commands import CommandSpec, OptionSpec
from bot.core.registry import Registry


def build_index(library: ContentLibrary) -> ConceptIndex:
    return ConceptIndex(library.items(CONCEPTS).values())


def register(app: Registry, content: ContentRegistry, on_read: ReadHook) -> ConceptService:
    """``on_read`` is called with every concept a learner opens (progress counts reads)."""
    content.add(CONCEPTS)
    index = content.derive("the concept index", build_index)
    service = ConceptService(index.get, on_read=on_read)
    app.table.add(
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
    app.table.add(CommandSpec(("concepts",), service.list_all))
    app.table.add_action(ACTION, service.press)
    return service
