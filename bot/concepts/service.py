"""Concept replies: one concept, a table of contents, a "did you mean"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from bot.concepts.index import ConceptIndex
from bot.concepts.models import Concept, SandboxSupport
from bot.core.commands import MAX_SUGGESTIONS, Request, Suggestion
from bot.core.context import Actor
from bot.core.i18n import Translator
from bot.core.reply import Choice, ChoiceStyle, Field, Reply, Tone
from bot.core.text import shorten

ReadHook = Callable[[Actor, str], Awaitable[None]]
ACTION = "concept"


class ConceptService:
    """``/concept`` and ``/concepts``, and the concept lookups other capabilities are given
    (through their own ports) by the composition root.

    ``index`` gives the index of the library installed right now: after ``/admin reload``
    the next call already sees the new concepts.
    """

    def __init__(self, index: Callable[[], ConceptIndex], on_read: ReadHook | None = None) -> None:
        self._index = index
        self.on_read = on_read

    @property
    def index(self) -> ConceptIndex:
        return self._index()

    # lookups for other capabilities ------------------------------------------------------
    def find(self, text: str) -> Concept | None:
        """The one concept ``text`` clearly names (id, name, alias, prefix), or None."""
        return self.index.find(text)

    def ranked(self, text: str, limit: int | None = None) -> list[Concept]:
        """Concepts by how well they match ``text`` (all of them, in order, when empty)."""
        index = self.index
        return [m.concept for m in index.rank(text, len(index) if limit is None else limit)]

    def topic_order(self) -> Sequence[str]:
        """Concept topics in the order ``/concepts`` lists them."""
        return list(self.index.by_topic())

    def count(self) -> int:
        return len(self.index)

    async def show(self, request: Request) -> Reply:
        topic = str(request.opt("topic", "")).strip()
        if not topic:
            return self.table_of_contents(request.tr)
        concept = self.index.find(topic)
        if concept is None:
            return self.did_you_mean(request.tr, topic)
        return await self._open(request, concept)

    async def _open(self, request: Request, concept: Concept) -> Reply:
        if self.on_read is not None:
            await self.on_read(request.actor, concept.id)
        return self.render(request.tr, concept)

    async def press(self, request: Request, action: str, _value: str | None) -> Reply:
        concept = self.index.get(action.split(":")[-1])
        if concept is None:
            return self.did_you_mean(request.tr, action.split(":")[-1])
        return await self._open(request, concept)

    async def complete(self, request: Request, partial: str) -> list[Suggestion]:
        locale = request.tr.locale
        return [
            Suggestion(f"{m.concept.title.get(locale)} ({m.concept.id})", m.concept.id)
            for m in self.index.rank(partial, MAX_SUGGESTIONS)
        ]

    def render(self, tr: Translator, concept: Concept) -> Reply:
        locale = tr.locale
        fields: list[Field] = []
        if concept.examples:
            fields.append(Field(tr("concepts.examples"), self._examples(tr, concept)))
        related = [self.index.get(r) for r in concept.related]
        related_concepts = [c for c in related if c is not None]
        if related_concepts:
            names = ", ".join(f"{c.title.get(locale)} (`{c.id}`)" for c in related_concepts)
            fields.append(Field(tr("concepts.related"), names))
        if concept.scenario:
            fields.append(
                Field(
                    tr("concepts.practice"), tr("concepts.practice_hint", scenario=concept.scenario)
                )
            )
        choices = tuple(
            Choice(c.title.get(locale), f"{ACTION}:open:{c.id}") for c in related_concepts[:5]
        )
        return Reply(
            title=concept.title.get(locale),
            body=concept.body.get(locale),
            fields=tuple(fields),
            choices=choices,
            footer=tr("concepts.footer", id=concept.id),
            private=False,
        )

    @staticmethod
    def _examples(tr: Translator, concept: Concept) -> str:
        lines: list[str] = []
        for example in concept.examples:
            marker = ""
            if example.sandbox is SandboxSupport.REFUSED:
                marker = "  # " + tr("concepts.example_refused")
            elif example.sandbox is SandboxSupport.NOT_IN_SANDBOX:
                marker = "  # " + tr("concepts.example_not_in_sandbox")
            lines.append(f"$ {example.command}{marker}")
            if example.note:
                lines.append(f"# {example.note.get(tr.locale)}")
        return "```\n" + "\n".join(lines) + "\n```"

    def did_you_mean(self, tr: Translator, topic: str) -> Reply:
        suggestions = self.index.suggest(topic)
        safe_topic = shorten(topic)
        if not suggestions:
            return Reply(
                title=tr("concepts.not_found_title"),
                body=tr("concepts.not_found", topic=safe_topic),
                tone=Tone.WARNING,
            )
        locale = tr.locale
        lines = [
            f"• **{c.title.get(locale)}** (`{c.id}`) — {c.summary.get(locale)}" for c in suggestions
        ]
        return Reply(
            title=tr("concepts.did_you_mean_title"),
            body=tr("concepts.did_you_mean", topic=safe_topic) + "\n" + "\n".join(lines),
            choices=tuple(
                Choice(
                    c.title.get(locale),
                    f"{ACTION}:open:{c.id}",
                    ChoiceStyle.PRIMARY if i == 0 else ChoiceStyle.SECONDARY,
                )
                for i, c in enumerate(suggestions)
            ),
            tone=Tone.WARNING,
        )

    def table_of_contents(self, tr: Translator) -> Reply:
        locale = tr.locale
        fields: list[Field] = []
        for topic, concepts in self.index.by_topic().items():
            entries = ", ".join(f"{c.title.get(locale)} (`{c.id}`)" for c in concepts)
            name = (
                tr(f"concepts.topics.{topic}")
                if tr.catalog.has(f"concepts.topics.{topic}")
                else topic
            )
            fields.append(Field(name, entries))
        return Reply(
            title=tr("concepts.toc_title", count=len(self.index)),
            body=tr("concepts.toc_intro"),
            fields=tuple(fields),
            private=False,
        )

    async def list_all(self, request: Request) -> Reply:
        return self.table_of_contents(request.tr)
