"""Find concepts by id, alias or a fuzzy match, in either language.

Built once per content load; every lookup is a dictionary probe plus one RapidFuzz pass
over a few thousand short names, fast enough for autocomplete on every keystroke.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.concepts.models import Concept

_SEPARATORS = re.compile(r"[\s_\-/.]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def normalize(text: str) -> str:
    """Case-, width- and separator-insensitive form of a name."""
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = text.removeprefix("docker ") if text != "docker " else text
    return _SEPARATORS.sub(" ", text).strip()


def _fuzzy_key(text: str) -> str:
    # Decomposing Hangul syllables into jamo lets a one-letter typo cost one letter.
    return unicodedata.normalize("NFD", normalize(text))


@dataclass(frozen=True, slots=True)
class Match:
    concept: Concept
    score: float
    exact: bool


class ConceptIndex:
    def __init__(self, concepts: Iterable[Concept]) -> None:
        self._concepts = sorted(concepts, key=lambda c: (c.order, c.id))
        self._by_id = {c.id: c for c in self._concepts}
        self._exact: dict[str, str] = {}
        self._names: list[str] = []
        self._owners: list[str] = []
        for concept in self._concepts:
            for name in concept.names():
                key = normalize(name)
                self._exact.setdefault(key, concept.id)
                self._exact.setdefault(key.replace(" ", ""), concept.id)
                self._names.append(_fuzzy_key(name))
                self._owners.append(concept.id)

    def __len__(self) -> int:
        return len(self._concepts)

    def all(self) -> list[Concept]:
        return list(self._concepts)

    def get(self, concept_id: str) -> Concept | None:
        return self._by_id.get(concept_id)

    def exact(self, query: str) -> Concept | None:
        key = normalize(query)
        concept_id = self._exact.get(key) or self._exact.get(key.replace(" ", ""))
        return self._by_id[concept_id] if concept_id else None

    def _prefix_owners(self, key: str) -> list[str]:
        owners: list[str] = []
        for name, owner in zip(self._names, self._owners, strict=True):
            if name.startswith(key) and owner not in owners:
                owners.append(owner)
        return owners

    def find(self, query: str) -> Concept | None:
        """The one concept ``query`` clearly names, or None (then ask "did you mean")."""
        found = self.exact(query)
        if found:
            return found
        key = _fuzzy_key(query)
        shortest = 2 if _HANGUL.search(query) else 3
        if len(normalize(query)) >= shortest:
            owners = self._prefix_owners(key)
            if len(owners) == 1:
                return self._by_id[owners[0]]
        return None

    def rank(self, query: str, limit: int = 25) -> list[Match]:
        """Concepts ordered by how well they match ``query`` (all, in order, when empty)."""
        if not normalize(query):
            return [Match(c, 0.0, False) for c in self._concepts[:limit]]
        key = _fuzzy_key(query)
        best: dict[str, float] = {}
        for owner in self._prefix_owners(key):
            best[owner] = 200.0 - len(best)
        results = process.extract(key, self._names, scorer=fuzz.WRatio, limit=limit * 8)
        for _name, score, position in results:
            owner = self._owners[position]
            best[owner] = max(best.get(owner, 0.0), float(score))
        exact = self.exact(query)
        if exact:
            best[exact.id] = 300.0
        ordered = sorted(best.items(), key=lambda item: (-item[1], self._by_id[item[0]].order))
        return [
            Match(self._by_id[cid], score, exact is not None and cid == exact.id)
            for cid, score in ordered[:limit]
        ]

    def suggest(self, query: str, limit: int = 5, threshold: float = 60.0) -> list[Concept]:
        """The closest concepts for a "did you mean", best first."""
        return [m.concept for m in self.rank(query, limit) if m.score >= threshold]

    def by_topic(self) -> dict[str, Sequence[Concept]]:
        topics: dict[str, list[Concept]] = {}
        for concept in self._concepts:
            topics.setdefault(concept.topic, []).append(concept)
        return topics
