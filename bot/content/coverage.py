"""Which content covers each part of the seed text.

Every registered kind with a :class:`~bot.content.items.CoverageRule` adds what it does for a
part. A part is

* *explained* when an item of an ``explains`` kind (a concept) covers it;
* *practised* when an item of a ``practises`` kind exercises one of the items that explain
  it: a scenario step that lists the concept and whose check touches it
  (:mod:`bot.practice.exercise` says exactly when);
* *not practisable* when ``seed.yaml`` says why (the part's ``not_practisable``), or when
  every item that explains it is marked not practisable (``seed.yaml``'s top-level
  ``not_practisable``).

``content check`` reports a part nothing explains, and — once a kind practises — a part that
is neither practised nor marked, a mark on something a step does practise, and a mark on an
unknown item. ``content coverage`` shows all of it part by part and exits non-zero on a gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.content.items import (
    ContentItem,
    ContentKind,
    ContentLibrary,
    Exercise,
    PartRef,
    Role,
)
from bot.content.seed import SeedMap, SeedPart

UNCOVERED = "!! UNCOVERED"
UNPRACTISED = "!! NOT PRACTISED"
BRIEF_IDS = 4
THIS_PART = "this part"


@dataclass(frozen=True)
class PartCoverage:
    """One seed part: the content of each kind that covers it (registration order), the
    steps that practise it, and why what cannot be practised is not."""

    part: SeedPart
    columns: tuple[tuple[ContentKind[Any], tuple[str, ...]], ...]
    exercises: tuple[Exercise, ...] = ()
    marks: tuple[tuple[str, str], ...] = ()  # (THIS_PART or an explaining item id, why)

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
        """A step exercises an item that explains this part."""
        return bool(self.exercises)

    @property
    def not_practisable(self) -> str | None:
        """Why this part cannot be practised: its own mark, or every explaining item's."""
        own = dict(self.marks).get(THIS_PART)
        if own:
            return own
        explained = self.by_role(Role.EXPLAINS)
        marked = dict(self.marks)
        if explained and all(i in marked for i in explained):
            return "; ".join(f"{i}: {marked[i]}" for i in explained)
        return None

    @property
    def settled(self) -> bool:
        """Practised, or not practisable for a reason."""
        return self.practised or self.not_practisable is not None


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


def counts_practice(library: ContentLibrary) -> bool:
    """Whether a kind practises what the seed's explaining items explain."""
    return counts_coverage(library) and any(_role(kind) is Role.PRACTISES for kind in library.kinds)


def all_exercises(library: ContentLibrary) -> list[Exercise]:
    """Every (item, where, explaining item) that the practising kinds exercise, in order."""
    found: list[Exercise] = []
    for kind in library.kinds:
        rule = kind.coverage
        if rule is None or rule.role is not Role.PRACTISES or rule.exercises is None:
            continue
        items = list(library.items(kind).values())
        order = rule.order
        if order is not None:
            items.sort(key=lambda item: (order(item), item.id))
        for item in items:
            found.extend(
                Exercise(item.id, where, explains) for where, explains in rule.exercises(item)
            )
    return found


def _marks(
    seed: SeedMap, part: SeedPart, explained: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    marks = [(THIS_PART, part.not_practisable)] if part.not_practisable else []
    marks += [(i, seed.not_practisable[i]) for i in explained if i in seed.not_practisable]
    return tuple(marks)


def coverage(library: ContentLibrary) -> list[PartCoverage]:
    """The coverage of every seed part, in the seed's order (empty without a seed map)."""
    seed = library.seed
    if seed is None:
        return []
    ruled = [kind for kind in library.kinds if kind.coverage is not None]
    explaining = [kind for kind in ruled if _role(kind) is Role.EXPLAINS]
    others = [kind for kind in ruled if _role(kind) is not Role.EXPLAINS]
    exercises = all_exercises(library)
    table: list[PartCoverage] = []
    for part in seed.parts:
        columns: dict[str, tuple[ContentKind[Any], tuple[str, ...]]] = {}
        bare = PartRef(part.id, frozenset())
        for kind in explaining:
            columns[kind.name] = (kind, _covering(library, kind, bare))
        explained = tuple(i for _kind, ids in columns.values() for i in ids)
        ref = PartRef(part.id, frozenset(explained))
        for kind in others:
            columns[kind.name] = (kind, _covering(library, kind, ref))
        table.append(
            PartCoverage(
                part,
                tuple(columns[kind.name] for kind in ruled),
                tuple(e for e in exercises if e.explains in ref.explained_by),
                _marks(seed, part, explained),
            )
        )
    return table


def check_seed_coverage(library: ContentLibrary) -> Iterable[str]:
    """A problem for every part nothing explains; once a kind practises, for every part that
    is neither practised nor marked, and for marks that do not fit."""
    if not counts_coverage(library):
        return
    assert library.seed is not None
    where = library.root / "seed.yaml"
    rows = coverage(library)
    for row in rows:
        if not row.covered:
            yield f"{where}: parts.{row.part.id}: no concept covers this part of the seed"
    if not counts_practice(library):
        return
    for row in rows:
        at = f"{where}: parts.{row.part.id}"
        if row.covered and not row.settled:
            concepts = ", ".join(row.by_role(Role.EXPLAINS))
            yield (
                f"{at}: no scenario step exercises a concept of this part ({concepts}): add "
                "one, or say why it cannot be practised (not_practisable)"
            )
        if row.part.not_practisable and row.practised:
            yield f"{at}: not_practisable, yet {_steps(row.exercises)} practise it: remove the mark"
    explaining = {
        item
        for kind in library.kinds
        if _role(kind) is Role.EXPLAINS
        for item in library.items(kind)
    }
    exercised: dict[str, Exercise] = {}
    for exercise in all_exercises(library):
        exercised.setdefault(exercise.explains, exercise)
    for item in sorted(library.seed.not_practisable):
        if item not in explaining:
            yield f"{where}: not_practisable.{item}: no concept (or other explaining item) {item!r}"
        elif item in exercised:
            step = exercised[item]
            yield (
                f"{where}: not_practisable.{item}: {step.item}/{step.where} exercises it: "
                "remove the mark"
            )


def _steps(exercises: Iterable[Exercise]) -> str:
    return ", ".join(dict.fromkeys(f"{e.item}/{e.where}" for e in exercises))


def _short(ids: tuple[str, ...], limit: int = BRIEF_IDS) -> str:
    if not ids:
        return "-"
    shown = ", ".join(ids[:limit])
    return shown if len(ids) <= limit else f"{shown} (+{len(ids) - limit})"


def _practice_lines(row: PartCoverage, width: int) -> list[str]:
    label = "practised".ljust(width)
    by_item: dict[str, list[str]] = {}
    for exercise in row.exercises:
        steps = by_item.setdefault(exercise.explains, [])
        if f"{exercise.item}/{exercise.where}" not in steps:
            steps.append(f"{exercise.item}/{exercise.where}")
    lines = [
        f"    {label if index == 0 else ' ' * width}: {item} ← {_short(tuple(steps))}"
        for index, (item, steps) in enumerate(by_item.items())
    ] or [f"    {label}: -"]
    why = "not practisable".ljust(width)
    lines += [f"    {why}: {what} — {reason}" for what, reason in row.marks]
    return lines


def _column_line(kind: ContentKind[Any], ids: tuple[str, ...], width: int) -> str:
    label = kind.name.ljust(width)
    if kind.coverage is not None and kind.coverage.brief:
        return f"    {label}: {len(ids):>3}  {_short(ids)}"
    return f"    {label}: {', '.join(ids) or '-'}"


def _mark(row: PartCoverage, practice: bool) -> str:
    if not row.covered:
        return UNCOVERED
    if practice and not row.settled:
        return UNPRACTISED
    return "ok"


def render_coverage(rows: list[PartCoverage]) -> str:
    """The coverage table as plain text, one seed part per block."""
    lines: list[str] = []
    kinds = rows[0].columns if rows else ()
    practice = any(_role(kind) is Role.PRACTISES for kind, _ids in kinds)
    width = max([len("not practisable"), *(len(kind.name) for kind, _ids in kinds)])
    for row in rows:
        lines.append(f"[{_mark(row, practice)}] {row.part.id} — {row.part.heading}")
        for kind, ids in row.columns:
            if _role(kind) is Role.PRACTISES:
                lines.extend(_practice_lines(row, width))
            else:
                lines.append(_column_line(kind, ids, width))
    lines.append("")
    total = len(rows)
    covered = sum(row.covered for row in rows)
    lines.append(f"{covered}/{total} seed parts covered by concepts")
    missing = [row.part.id for row in rows if not row.covered]
    if practice:
        practised = sum(row.practised for row in rows)
        marked = [row.part.id for row in rows if not row.practised and row.not_practisable]
        lines.append(
            f"{practised}/{total} seed parts practised in a scenario step, "
            f"{len(marked)} not practisable ({', '.join(marked) or '-'})"
        )
    if missing:
        lines.append(f"{UNCOVERED}: {', '.join(missing)}")
    gaps = [row.part.id for row in rows if row.covered and practice and not row.settled]
    if gaps:
        lines.append(f"{UNPRACTISED}: {', '.join(gaps)}")
    lines.extend(_notes(rows, practice))
    return "\n".join(lines)


def _notes(rows: list[PartCoverage], practice: bool) -> list[str]:
    notes: list[str] = []
    kinds = rows[0].columns if rows else ()
    if practice:
        explained = dict.fromkeys(i for row in rows for i in row.by_role(Role.EXPLAINS))
        exercised = {e.explains for row in rows for e in row.exercises}
        marked = {what for row in rows for what, _why in row.marks}
        only_unpractisable = {
            i
            for i in explained
            if all(row.not_practisable for row in rows if i in row.by_role(Role.EXPLAINS))
        }
        idle = [i for i in explained if i not in exercised | marked | only_unpractisable]
        if idle:
            notes.append(f"note: no step exercises yet: {', '.join(idle)}")
    for kind, _ids in kinds:
        if _role(kind) is Role.TESTS:
            thin = [row.part.id for row in rows if row.covered and not row.ids(kind.name)]
            if thin:
                notes.append(f"note: no {kind.name} yet for {', '.join(thin)}")
    return notes
