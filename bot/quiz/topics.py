"""What ``/quiz [topic]`` understands, and the names its autocomplete offers.

The rule (the command's help says the same):

* empty, ``all`` or ``전체``: every question;
* a **topic** — the id (``storage``) or its name in either language (``Files and storage``,
  ``파일과 저장 공간``): the questions of that topic. Question topics are the concept topics
  (``content check`` refuses any other);
* otherwise a **concept** — its id (``volume``, ``docker``) or a name in either language
  (``볼륨``): the questions linked to that concept. ``/quiz docker`` is the concept "Docker".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from bot.content.base import Localized
from bot.core.commands import Suggestion
from bot.core.i18n import SUPPORTED_LOCALES, Catalog, Translator
from bot.quiz.content import Question

ALL_WORDS = frozenset({"", "all", "전체"})
TOPIC_KEY = "concepts.topics."


class NamedConcept(Protocol):
    """A concept as the quiz sees it."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> Localized: ...


class ConceptLookup(Protocol):
    """The port through which the quiz finds concepts (the concepts capability provides it)."""

    def find(self, text: str) -> NamedConcept | None:
        """The one concept ``text`` clearly names, or None."""
        ...

    def ranked(self, text: str, limit: int | None = None) -> Sequence[NamedConcept]:
        """Concepts by how well they match ``text``."""
        ...

    def topic_order(self) -> Sequence[str]:
        """Concept topics in the order ``/concepts`` lists them."""
        ...


def normalize_topic(text: str | None) -> str:
    return "-".join(str(text or "").strip().casefold().split())


def topic_name(tr: Translator, topic: str) -> str:
    """The topic's name in the reader's language (its id when it has no name)."""
    name = tr(TOPIC_KEY + topic)
    return topic if name == TOPIC_KEY + topic else name


class QuizTopics:
    """Topics and concepts of the current question bank (cheap: build one per request)."""

    def __init__(
        self, bank: Mapping[str, Question], catalog: Catalog, concepts: ConceptLookup
    ) -> None:
        self.bank = bank
        self.catalog = catalog
        self.concepts = concepts

    def topics(self) -> list[str]:
        """Topics that have questions, in the order of ``/concepts``."""
        used = {q.topic for q in self.bank.values()}
        ordered = [t for t in self.concepts.topic_order() if t in used]
        return ordered + sorted(used - set(ordered))

    def names(self, topic: str) -> set[str]:
        catalog = self.catalog
        found = {normalize_topic(topic)}
        for locale in SUPPORTED_LOCALES:
            name = catalog.t(locale, TOPIC_KEY + topic)
            if name != TOPIC_KEY + topic:
                found.add(normalize_topic(name))
        return found

    def topic_named(self, text: str) -> str | None:
        wanted = normalize_topic(text)
        return next((t for t in self.topics() if wanted in self.names(t)), None)

    def matching(self, text: str | None) -> list[Question]:
        """The questions ``text`` selects, by the rule in this module's docstring."""
        text = str(text or "").strip()
        if normalize_topic(text) in ALL_WORDS:
            return list(self.bank.values())
        topic = self.topic_named(text)
        if topic is not None:
            return [q for q in self.bank.values() if q.topic == topic]
        concept = self.concepts.find(text)
        if concept is None:
            return []
        return [q for q in self.bank.values() if concept.id in q.concepts]

    def suggest(self, tr: Translator, partial: str, limit: int) -> list[Suggestion]:
        """All topics, then matching topics (localized names), then concepts with questions."""
        wanted = normalize_topic(partial)
        everything = normalize_topic(tr("quiz.all_topics"))
        found: list[Suggestion] = []
        if wanted in everything or "all".startswith(wanted):
            found.append(Suggestion(tr("quiz.all_topics"), "all"))
        for topic in self.topics():
            if not wanted or any(wanted in name for name in self.names(topic)):
                found.append(Suggestion(f"{topic_name(tr, topic)} ({topic})", topic))
        found.extend(self._concepts(tr, partial))
        return found[:limit]

    def _concepts(self, tr: Translator, partial: str) -> Iterable[Suggestion]:
        linked = {c for q in self.bank.values() for c in q.concepts}
        for concept in self.concepts.ranked(partial):
            if concept.id in linked:
                yield Suggestion(f"{concept.title.get(tr.locale)} ({concept.id})", concept.id)
