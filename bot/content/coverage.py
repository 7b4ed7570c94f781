"""Which content covers each part of the seed text.

A part is covered by the concepts that name it in ``seed``; questions cover it through their
concepts; scenarios through their ``seed`` parts and their concepts. A part no concept covers
is a content error: :func:`check_seed_coverage` reports it for ``content check`` and
:func:`print_coverage` flags it in the table and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.content.library import ContentLibrary
    from bot.content.seed import SeedPart

UNCOVERED = "!! UNCOVERED"


@dataclass(frozen=True)
class PartCoverage:
    """One seed part and the content that teaches it."""

    part: SeedPart
    concepts: tuple[str, ...]
    questions: tuple[str, ...]
    scenarios: tuple[str, ...]

    @property
    def covered(self) -> bool:
        return bool(self.concepts)


def _concepts_for(library: ContentLibrary, part_id: str) -> tuple[str, ...]:
    found = [c for c in library.concepts.values() if part_id in c.seed]
    return tuple(c.id for c in sorted(found, key=lambda c: (c.order, c.id)))


def _questions_for(library: ContentLibrary, concept_ids: Iterable[str]) -> tuple[str, ...]:
    wanted = set(concept_ids)
    return tuple(
        question.id
        for question in library.questions.values()
        if wanted.intersection(getattr(question, "concepts", ()))
    )


def _scenarios_for(
    library: ContentLibrary, part_id: str, concept_ids: Iterable[str]
) -> tuple[str, ...]:
    wanted = set(concept_ids)
    found: list[Any] = [
        scenario
        for scenario in library.scenarios.values()
        if part_id in getattr(scenario, "seed", ())
        or wanted.intersection(getattr(scenario, "concepts", ()))
    ]
    return tuple(s.id for s in sorted(found, key=lambda s: (getattr(s, "order", 0), s.id)))


def coverage(library: ContentLibrary) -> list[PartCoverage]:
    """The coverage of every seed part, in the seed's order (empty without a seed map)."""
    if library.seed is None:
        return []
    table: list[PartCoverage] = []
    for part in library.seed.parts:
        concepts = _concepts_for(library, part.id)
        table.append(
            PartCoverage(
                part=part,
                concepts=concepts,
                questions=_questions_for(library, concepts),
                scenarios=_scenarios_for(library, part.id, concepts),
            )
        )
    return table


def check_seed_coverage(library: ContentLibrary) -> Iterable[str]:
    """A problem for every seed part that no concept covers."""
    where = library.root / "seed.yaml"
    for row in coverage(library):
        if not row.covered:
            yield f"{where}: parts.{row.part.id}: no concept covers this part of the seed"


def _short(ids: tuple[str, ...], limit: int = 4) -> str:
    if not ids:
        return "-"
    shown = ", ".join(ids[:limit])
    return shown if len(ids) <= limit else f"{shown} (+{len(ids) - limit})"


def render_coverage(rows: list[PartCoverage]) -> str:
    """The coverage table as plain text, one seed part per block."""
    lines: list[str] = []
    for row in rows:
        mark = "ok" if row.covered else UNCOVERED
        lines.append(f"[{mark}] {row.part.id} — {row.part.heading}")
        lines.append(f"    concepts : {', '.join(row.concepts) or '-'}")
        lines.append(f"    questions: {len(row.questions):>3}  {_short(row.questions)}")
        lines.append(f"    scenarios: {', '.join(row.scenarios) or '-'}")
    covered = sum(row.covered for row in rows)
    lines.append("")
    lines.append(f"{covered}/{len(rows)} seed parts covered by concepts")
    missing = [row.part.id for row in rows if not row.covered]
    if missing:
        lines.append(f"{UNCOVERED}: {', '.join(missing)}")
    thin = [row.part.id for row in rows if row.covered and not row.questions]
    if thin:
        lines.append(f"note: no questions yet for {', '.join(thin)}")
    return "\n".join(lines)


def print_coverage(root: Path) -> int:
    """Print which concepts, questions and scenarios cover each seed part.

    Exit status: 0 when every part is covered, 1 when a part is not (or content is invalid).
    """
    from bot.content.library import check_content

    library, problems = check_content(root)
    if library.seed is None:
        print(f"{root / 'seed.yaml'}: no seed map to report on")
        return 1
    rows = coverage(library)
    print(f"Seed: {library.seed.source} — {len(rows)} parts\n")
    print(render_coverage(rows))
    other = [p for p in problems if "no concept covers this part" not in p]
    if other:
        print(f"\n{len(other)} other content problem(s); run `python -m bot content check`.")
    return 0 if all(row.covered for row in rows) else 1
