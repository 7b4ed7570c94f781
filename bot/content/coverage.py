"""Which content covers each part of the seed text.

Every registered kind with a :class:`~bot.content.library.CoverageRule` adds a column: the
items that cover the part by the kind's own rule. A part is *explained* when an item of an
``explains`` kind (concepts) covers it, *practised* when an item of a ``practises`` kind
(scenarios) does. A part nothing explains is a content error: :func:`check_seed_coverage`
reports it for ``content check``, and ``content coverage`` flags it and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.content.items import ContentItem, ContentKind, ContentLibrary, PartRef, Role
from bot.content.seed import SeedPart

UNCOVERED = "!! UNCOVERED"
BRIEF_IDS = 4


@dataclass(frozen=True)
class PartCoverage:
    """One seed part and the content of each kind that covers it (registration order)."""

    part: SeedPart
    columns: tuple[tuple[ContentKind[Any], tuple[str, ...]], ...]

    def ids(self, kind: str) -> tuple[str, ...]:
        """The ids of the items of kind ``kind`` (its name) that cover this part."""
        return next((ids for k, ids in self.columns if k.name == kind), ())

    def by_role(self, role: Role) -> tuple[str, ...]:
        return tuple(i for k, ids in self.columns if _role(k) is role for i in ids)

    @property
    def covered(self) -> bool:
        """Explained by at least one item (a concept)."""
        return bool(self.by_role(Role.EXPLAINS))

    @property
    def practised(self) -> bool:
        return bool(self.by_role(Role.PRACTISES))


def _role(kind: ContentKind[Any]) -> Role | None:
    return kind.coverage.role if kind.coverage is not None else None


def _covering(library: ContentLibrary, kind: ContentKind[Any], part: PartRef) -> tuple[str, ...]:
    rule = kind.coverage
    assert rule is not None
    found: list[ContentItem] = [
        item for item in library.items(kind).values() if rule.covers(item, part)
    ]
    order = rule.order
    found.sort(key=(lambda item: (order(item), item.id)) if order else (lambda item: item.id))
    return tuple(item.id for item in found)


def counts_coverage(library: ContentLibrary) -> bool:
    """Whether the library has a seed map and a kind that explains its parts."""
    return library.seed is not None and any(_role(kind) is Role.EXPLAINS for kind in library.kinds)


def coverage(library: ContentLibrary) -> list[PartCoverage]:
    """The coverage of every seed part, in the seed's order (empty without a seed map)."""
    if library.seed is None:
        return []
    ruled = [kind for kind in library.kinds if kind.coverage is not None]
    explaining = [kind for kind in ruled if _role(kind) is Role.EXPLAINS]
    others = [kind for kind in ruled if _role(kind) is not Role.EXPLAINS]
    table: list[PartCoverage] = []
    for part in library.seed.parts:
        columns: dict[str, tuple[ContentKind[Any], tuple[str, ...]]] = {}
        bare = PartRef(part.id, frozenset())
        for kind in explaining:
            columns[kind.name] = (kind, _covering(library, kind, bare))
        explained_by = frozenset(i for _kind, ids in columns.values() for i in ids)
        ref = PartRef(part.id, explained_by)
        for kind in others:
            columns[kind.name] = (kind, _covering(library, kind, ref))
        table.append(PartCoverage(part, tuple(columns[kind.name] for kind in ruled)))
    return table


def check_seed_coverage(library: ContentLibrary) -> Iterable[str]:
    """A problem for every seed part that nothing explains."""
    if not counts_coverage(library):
        return
    where = library.root / "seed.yaml"
    for row in coverage(library):
        if not row.covered:
            yield f"{where}: parts.{row.part.id}: no concept covers this part of the seed"


def _short(ids: tuple[str, ...], limit: int = BRIEF_IDS) -> str:
    if not ids:
        return "-"
    shown = ", ".join(ids[:limit])
    return shown if len(ids) <= limit else f"{shown} (+{len(ids) - limit})"


def _column_line(kind: ContentKind[Any], ids: tuple[str, ...], width: int) -> str:
    label = kind.name.ljust(width)
    if kind.coverage is not None and kind.coverage.brief:
        return f"    {label}: {len(ids):>3}  {_short(ids)}"
    return f"    {label}: {', '.join(ids) or '-'}"


def render_coverage(rows: list[PartCoverage]) -> str:
    """The coverage table as plain text, one seed part per block."""
    lines: list[str] = []
    width = max((len(kind.name) for row in rows for kind, _ids in row.columns), default=0)
    for row in rows:
        mark = "ok" if row.covered else UNCOVERED
        lines.append(f"[{mark}] {row.part.id} — {row.part.heading}")
        lines.extend(_column_line(kind, ids, width) for kind, ids in row.columns)
    lines.append("")
    covered = sum(row.covered for row in rows)
    lines.append(f"{covered}/{len(rows)} seed parts covered by concepts")
    kinds = rows[0].columns if rows else ()
    if any(_role(kind) is Role.PRACTISES for kind, _ids in kinds):
        practised = sum(row.practised for row in rows)
        lines.append(f"{practised}/{len(rows)} seed parts practised")
    missing = [row.part.id for row in rows if not row.covered]
    if missing:
        lines.append(f"{UNCOVERED}: {', '.join(missing)}")
    for kind, _ids in kinds:
        if _role(kind) is Role.TESTS:
            thin = [row.part.id for row in rows if row.covered and not row.ids(kind.name)]
            if thin:
                lines.append(f"note: no {kind.name} yet for {', '.join(thin)}")
    return "\n".join(lines)
