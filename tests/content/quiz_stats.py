"""Figures about the question bank, printed side by side: ``python -m tests.content.quiz_stats``.

How often the right option of a multiple-choice question is the strictly longest (a giveaway:
:data:`bot.content.lint.MAX_LONGEST_SHARE`), how many questions each concept has, and how many
hard (difficulty 3) questions mix concepts. ``test_quiz_design.py`` asserts the limits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.coach import load_content
from bot.concepts.validation import CONCEPTS
from bot.content.library import ContentLibrary
from bot.content.lint import OptionStats, longest_option_stats
from bot.quiz.content import QUESTIONS
from bot.settings import REPO_ROOT

LOCALES = ("en", "ko")


@dataclass(frozen=True)
class QuizStats:
    options: OptionStats
    per_concept: dict[str, int]
    by_type: dict[str, int]
    hard: int
    hard_mixed: int

    def render(self) -> str:
        thin = sorted(self.per_concept.items(), key=lambda item: (item[1], item[0]))[:6]
        types = ", ".join(f"{kind} {count}" for kind, count in sorted(self.by_type.items()))
        return "\n".join(
            [
                f"questions: {sum(self.by_type.values())} ({types})",
                self.options.render(),
                f"questions per concept: min {min(self.per_concept.values())}, "
                f"fewest: {', '.join(f'{c} {n}' for c, n in thin)}",
                f"difficulty 3: {self.hard}, of which mixing concepts: {self.hard_mixed}",
            ]
        )


def choices(library: ContentLibrary) -> list[tuple[dict[str, list[str]], int]]:
    return [
        ({loc: [o.get(loc) for o in q.options] for loc in LOCALES}, int(q.answer))
        for q in library.items(QUESTIONS).values()
        if str(q.type) == "choice"
    ]


def quiz_stats(library: ContentLibrary) -> QuizStats:
    questions: list[Any] = list(library.items(QUESTIONS).values())
    per_concept = Counter(c for q in questions for c in q.concepts)
    hard = [q for q in questions if q.difficulty == 3]
    return QuizStats(
        options=longest_option_stats(choices(library)),
        per_concept={cid: per_concept.get(cid, 0) for cid in library.items(CONCEPTS)},
        by_type=dict(Counter(str(q.type) for q in questions)),
        hard=len(hard),
        hard_mixed=sum(len(q.concepts) > 1 for q in hard),
    )


def main(root: Path = REPO_ROOT / "content") -> None:
    print(quiz_stats(load_content(root)).render())


if __name__ == "__main__":
    main()
