"""The content library: every item loaded from ``content/``, by kind, immutable.

The library knows no feature. Each capability describes its own kind of content with a
:class:`ContentKind` — its folder, its pydantic model, its cross-file checks, the names
(vocabularies) it lets other kinds refer to, and what it contributes to the coverage of the
seed text — and registers it in its own ``register()``. The loader (``bot.content.library``)
reads every registered kind the same way; a capability reads its items back, typed, with
``library.items(ITS_KIND)``.

Kinds refer to each other's items by *vocabulary*, never by importing each other: the
concepts kind exports ``concept`` (its ids) and ``concept-topic``; a question's check asks
``library.vocabulary("concept")`` whether a concept it names exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from bot.content.base import ContentModel, Id
from bot.content.lint import Glossary
from bot.content.seed import SeedMap
from bot.core.errors import ConfigError
from bot.core.i18n import Catalog


class ContentItem(ContentModel):
    """One item of content (a concept, a question, a scenario): every item has an id."""

    id: Id


ItemT = TypeVar("ItemT", bound=ContentItem)
CrossCheck = Callable[["ContentLibrary"], Iterable[str]]


class Role(StrEnum):
    """What a kind of content does for a part of the seed text."""

    EXPLAINS = "explains"  # a part nothing of this role covers is a content error
    PRACTISES = "practises"
    TESTS = "tests"


@dataclass(frozen=True, slots=True)
class PartRef:
    """A seed part as a coverage rule sees it: its id and the items that explain it."""

    id: str
    explained_by: frozenset[str]


@dataclass(frozen=True, slots=True)
class Exercise:
    """One place where an item practises an explaining item: ``where`` (a step) of ``item``
    exercises ``explains`` (a concept)."""

    item: str
    where: str
    explains: str


@dataclass(frozen=True, slots=True)
class CoverageRule(Generic[ItemT]):
    """How items of a kind cover the seed parts (``content coverage``).

    ``covers(item, part)`` decides; ``order`` sorts the ids listed (default: by id);
    ``brief`` lists a count and the first few ids instead of every id. A kind that practises
    gives ``exercises``: for an item, the (where, explaining item id) pairs it exercises
    (a scenario's steps and their concepts), which ``content coverage`` lists part by part.
    """

    role: Role
    covers: Callable[[ItemT, PartRef], bool]
    order: Callable[[ItemT], Any] | None = None
    brief: bool = False
    exercises: Callable[[ItemT], Iterable[tuple[str, str]]] | None = None


@dataclass(frozen=True, eq=False)
class ContentKind(Generic[ItemT]):
    """One folder of content files, each holding one item or a list of items.

    ``checks`` find problems (``content check`` fails); ``warnings`` find things worth a
    second look that are not wrong on their own (printed, never failing). ``vocabularies``
    name the sets of words this kind lets other kinds refer to: for each name, a function
    giving an item's words (``{"concept": lambda c: [c.id]}``).
    """

    name: str
    model: type[ItemT]
    checks: tuple[CrossCheck, ...] = ()
    warnings: tuple[CrossCheck, ...] = ()
    vocabularies: Mapping[str, Callable[[ItemT], Iterable[str]]] = field(default_factory=dict)
    coverage: CoverageRule[ItemT] | None = None

    def __repr__(self) -> str:
        return f"ContentKind({self.name!r}, {self.model.__name__})"


@dataclass(frozen=True, eq=False)
class ContentLibrary:
    """Everything loaded from one content folder. Never changed after loading: a reload
    builds a new library and swaps it in whole (``bot.content.registry``)."""

    root: Path
    catalog: Catalog
    seed: SeedMap | None = None
    glossary: Glossary | None = None
    kinds: tuple[ContentKind[Any], ...] = ()
    by_kind: Mapping[str, Mapping[str, ContentItem]] = field(default_factory=dict)
    origins: Mapping[tuple[str, str], Path] = field(default_factory=dict)
    vocabularies: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def items(self, kind: ContentKind[ItemT]) -> Mapping[str, ItemT]:
        """The items of ``kind`` by id, typed by the kind's model."""
        try:
            found = self.by_kind[kind.name]
        except KeyError:
            raise ConfigError(
                [f"{self.root}: the library was loaded without {kind.name!r} content"]
            ) from None
        return cast("Mapping[str, ItemT]", found)

    def has(self, kind: ContentKind[Any]) -> bool:
        return kind.name in self.by_kind

    def origin(self, kind: ContentKind[Any] | str, item_id: str) -> str:
        """The file an item came from (for problem messages)."""
        name = kind if isinstance(kind, str) else kind.name
        path = self.origins.get((name, item_id))
        return str(path) if path else f"{name}/{item_id}"

    def vocabulary(self, name: str) -> frozenset[str]:
        """Every word of vocabulary ``name`` that the loaded kinds export.

        Raises :class:`ConfigError` when no loaded kind exports ``name``: a check that
        refers to a misspelt or missing vocabulary must not pass silently.
        """
        try:
            return self.vocabularies[name]
        except KeyError:
            exported = ", ".join(sorted(self.vocabularies)) or "none"
            raise ConfigError(
                [f"no content kind exports the vocabulary {name!r} (exported: {exported})"]
            ) from None

    def seed_ids(self) -> frozenset[str] | None:
        """The ids of the seed parts, or None when there is no seed map."""
        return frozenset(self.seed.ids()) if self.seed is not None else None

    def replacing(self, kind: ContentKind[ItemT], items: Mapping[str, ItemT]) -> ContentLibrary:
        """A copy whose ``kind`` items are ``items`` (vocabularies follow): to check a few
        items against everything else without writing files."""
        by_kind: dict[str, Mapping[str, ContentItem]] = {**self.by_kind, kind.name: dict(items)}
        return replace(
            self, by_kind=by_kind, vocabularies=exported_vocabularies(self.kinds, by_kind)
        )

    def counts(self) -> dict[str, int]:
        """How many items of each kind, in the order the kinds were registered."""
        return {kind.name: len(self.by_kind.get(kind.name, {})) for kind in self.kinds}


def exported_vocabularies(
    kinds: Sequence[ContentKind[Any]], by_kind: Mapping[str, Mapping[str, ContentItem]]
) -> dict[str, frozenset[str]]:
    """Every vocabulary the kinds export, from their loaded items."""
    words: dict[str, set[str]] = {}
    for kind in kinds:
        for name, of in kind.vocabularies.items():
            bucket = words.setdefault(name, set())
            for item in by_kind.get(kind.name, {}).values():
                bucket.update(of(item))
    return {name: frozenset(found) for name, found in words.items()}
