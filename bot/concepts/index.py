"""Find concepts by id, alias or a fuzzy match, in either language.

Built once per content load; every lookup is a dictionary probe plus one RapidFuzz pass
over a few thousand short names, fast enough for autocomplete on every keystroke.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.concepts.models import Concept

# Typo matching starts at the third letter; one or two letters only match as a prefix.
MIN_FUZZY_LENGTH = 3
FUZZY_CUTOFF = 40.0
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
        owners_by_name: dict[str, list[str]] = {}
        for concept in self._concepts:
            for name in concept.names():
                key = normalize(name)
                self._exact.setdefault(key, concept.id)
                self._exact.setdefault(key.replace(" ", ""), concept.id)
                owners = owners_by_name.setdefault(_fuzzy_key(name), [])
                if concept.id not in owners:
                    owners.append(concept.id)
        # Sorted unique names: prefix search is a binary search, fuzzy search scores each once.
        self._names = sorted(owners_by_name)
        self._owners = [owners_by_name[name] for name in self._names]

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
        position = bisect.bisect_left(self._names, key)
        while position < len(self._names) and self._names[position].startswith(key):
            owners.extend(o for o in self._owners[position] if o not in owners)
            position += 1
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
        if len(key) >= MIN_FUZZY_LENGTH:
            results = process.extract(
                key, self._names, scorer=fuzz.WRatio, limit=limit * 8, score_cutoff=FUZZY_CUTOFF
            )
            for _name, score, position in results:
                for owner in self._owners[position]:
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

    def by_topic(self) -> dict[str, list[Concept]]:
        topics: dict[str, list[Concept]] = {}
        for concept in self._concepts:
            topics.setdefault(concept.topic, []).append(concept)
        return topics
