"""How fast concept lookups answer, per keystroke, with hundreds of concepts.

Run from the repository root: .venv/bin/python -m bench.concepts_bench [N_CONCEPTS]
Discord gives autocomplete 3 seconds; a keystroke should cost well under a millisecond.
"""

from __future__ import annotations

import statistics
import sys
import time

from bot.coach import load_content
from bot.concepts.index import ConceptIndex
from bot.concepts.validation import CONCEPTS
from bot.settings import REPO_ROOT
from tests.foundation.test_concept_lookup import _synthetic


def _time(fn, repeat: int = 200) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    real = list(load_content(REPO_ROOT / "content").items(CONCEPTS).values())
    concepts = real + _synthetic(size)
    started = time.perf_counter()
    index = ConceptIndex(concepts)
    build_ms = (time.perf_counter() - started) * 1000
    typed = "container lifecycle"
    per_key = []
    for end in range(1, len(typed) + 1):
        per_key.extend(_time(lambda q=typed[:end]: index.rank(q, 25), repeat=50))
    find = _time(lambda: index.find("컨테이너 생명주기"))
    typo = _time(lambda: index.suggest("contaner"))
    print(f"concepts indexed: {len(index)} (names: {sum(len(c.names()) for c in concepts)})")
    print(f"index build: {build_ms:.1f} ms")
    for label, samples in (
        ("autocomplete per keystroke", per_key),
        ("exact find", find),
        ("did-you-mean", typo),
    ):
        p99 = statistics.quantiles(samples, n=100)[98]
        print(f"{label:28s} p50 {statistics.median(samples):7.3f} ms   p99 {p99:7.3f} ms")
    budget = 3000 / statistics.median(per_key)
    print(f"ratio: Discord's 3 s autocomplete window / p50 keystroke = {budget:,.0f}x")


if __name__ == "__main__":
    main()
