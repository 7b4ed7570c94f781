"""The content registry: the kinds of content the capabilities registered, and the one
library every capability reads through.

Capabilities call :meth:`ContentRegistry.add` with their :class:`ContentKind` and
:meth:`ContentRegistry.derive` for whatever they build from the library (the concept index,
the sorted scenarios). The composition root loads the library for the registered kinds and
installs it. A reload builds and validates a whole new library *and* everything derived from
it off the event loop, then swaps it in with one assignment — or keeps the current one and
reports every problem. A request therefore always sees one library and the things derived
from that same library, never a mix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from bot.content.coverage import check_seed_coverage, coverage, render_coverage
from bot.content.items import ContentKind, ContentLibrary
from bot.content.library import check_content, content_warnings
from bot.core.errors import ConfigError, NotStarted

T = TypeVar("T")


class Derived(Generic[T]):
    """Something built from the current library; :meth:`get` is the value for the library
    that is installed right now."""

    def __init__(self, registry: ContentRegistry, name: str, build: Callable[[ContentLibrary], T]):
        self._registry = registry
        self.name = name
        self.build = build

    def get(self) -> T:
        return cast("T", self._registry.snapshot().derived[self])

    def __repr__(self) -> str:
        return f"Derived({self.name!r})"


@dataclass(frozen=True, eq=False)
class Snapshot:
    """A library and every value derived from it: what a request reads, swapped whole."""

    library: ContentLibrary
    derived: Mapping[Derived[Any], Any]
    generation: int


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What a reload did: the new counts per kind, or every problem (and nothing changed)."""

    counts: dict[str, int]
    problems: tuple[str, ...] = ()

    @property
    def swapped(self) -> bool:
        return not self.problems


class ContentRegistry:
    def __init__(self) -> None:
        self._kinds: list[ContentKind[Any]] = []
        self._derivations: list[Derived[Any]] = []
        self._snapshot: Snapshot | None = None
        self._reloading = asyncio.Lock()

    # registration (capabilities) ------------------------------------------------------
    def add(self, kind: ContentKind[Any]) -> None:
        if any(known.name == kind.name for known in self._kinds):
            raise ConfigError([f"content kind {kind.name!r} registered twice"])
        self._kinds.append(kind)

    def derive(self, name: str, build: Callable[[ContentLibrary], T]) -> Derived[T]:
        """Register ``build``: it runs for every library installed from now on.

        ``build`` must depend on the library alone (it runs off the event loop while the
        current library is still being served).
        """
        handle = Derived(self, name, build)
        self._derivations.append(handle)
        if self._snapshot is not None:  # registered late: build it for the current library
            self._snapshot = self._prepare(self._snapshot.library, self._snapshot.generation)
        return handle

    @property
    def kinds(self) -> tuple[ContentKind[Any], ...]:
        return tuple(self._kinds)

    # reading --------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            raise NotStarted("no content library is installed yet")
        return self._snapshot

    @property
    def library(self) -> ContentLibrary:
        """The library installed right now."""
        return self.snapshot().library

    # loading and swapping -------------------------------------------------------------
    def check(self, root: Path) -> tuple[ContentLibrary, list[str]]:
        """Load ``root`` with every registered kind; the library and every problem."""
        return check_content(root, self._kinds)

    @staticmethod
    def warnings(library: ContentLibrary) -> list[str]:
        """What the kinds' warnings find: printed by ``content check``, never a failure."""
        return content_warnings(library)

    def load(self, root: Path) -> ContentLibrary:
        """Load ``root`` or raise :class:`ConfigError` listing every problem."""
        library, problems = self.check(root)
        if problems:
            raise ConfigError(problems)
        return library

    def install(self, library: ContentLibrary) -> None:
        """Make ``library`` the current one (at start); raises if it does not fit."""
        missing = [kind.name for kind in self._kinds if not library.has(kind)]
        if missing:
            raise ConfigError(
                [f"{library.root}: the library was loaded without: {', '.join(missing)}"]
            )
        generation = self._snapshot.generation + 1 if self._snapshot else 1
        self._snapshot = self._prepare(library, generation)

    async def reload(self, root: Path | None = None) -> ReloadOutcome:
        """Load ``root`` (default: the current library's folder) and swap it in, or keep
        the current library and return every problem found."""
        current = self.snapshot()
        folder = root or current.library.root
        async with self._reloading:  # two reloads at once: one after the other
            prepared = await asyncio.to_thread(self._try_prepare, folder, current.generation + 1)
            if isinstance(prepared, Snapshot):
                self._snapshot = prepared  # the swap: one assignment, on the event loop
                return ReloadOutcome(prepared.library.counts())
        return ReloadOutcome(self.snapshot().library.counts(), tuple(prepared))

    def _try_prepare(self, root: Path, generation: int) -> Snapshot | list[str]:
        library, problems = self.check(root)
        if problems:
            return problems
        try:
            return self._prepare(library, generation)
        except ConfigError as exc:
            return exc.problems

    def _prepare(self, library: ContentLibrary, generation: int) -> Snapshot:
        derived: dict[Derived[Any], Any] = {}
        problems: list[str] = []
        for handle in self._derivations:
            try:
                derived[handle] = handle.build(library)
            except (ConfigError, ValueError, KeyError) as exc:
                problems.append(f"{library.root}: cannot build {handle.name}: {exc}")
        if problems:
            raise ConfigError(problems)
        return Snapshot(library, derived, generation)

    # reports --------------------------------------------------------------------------
    def coverage_report(self, root: Path) -> tuple[str, int]:
        """``content coverage``: the table and the exit status (1 when a part is not explained,
        neither practised nor marked not practisable, or the content cannot be read)."""
        library, problems = self.check(root)
        if library.seed is None:
            return f"{root / 'seed.yaml'}: no seed map to report on", 1
        rows = coverage(library)
        lines = [f"Seed: {library.seed.source} — {len(rows)} parts", "", render_coverage(rows)]
        seed_problems = set(check_seed_coverage(library))
        other = [p for p in problems if p not in seed_problems]
        if other:
            lines.append("")
            lines.append(
                f"{len(other)} other content problem(s); run `python -m bot content check`."
            )
        return "\n".join(lines), 1 if seed_problems else 0
