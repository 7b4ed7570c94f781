"""`python -m bot content coverage`: every seed part is covered, and a gap is flagged."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.coach import coverage_report
from bot.content.coverage import UNCOVERED, coverage
from bot.content.library import ContentLibrary
from bot.settings import REPO_ROOT
from tests.content.test_content_valid import content_cli, edit


def test_every_seed_part_has_concepts_questions_and_a_listing(library: ContentLibrary) -> None:
    rows = coverage(library)
    assert library.seed is not None and len(rows) == len(library.seed.parts)
    assert [row.part.id for row in rows if not row.ids("concepts")] == []
    assert [row.part.id for row in rows if not row.ids("questions")] == []


def test_the_goal_parts_are_practised_in_scenarios(library: ContentLibrary) -> None:
    rows = {row.part.id: row for row in coverage(library)}
    for part in ("goal-search", "goal-one-image", "goal-multi-container", "goal-lifecycle"):
        assert rows[part].ids("scenarios"), part
    assert "web-cp" in rows["docker-cp"].ids("scenarios")
    assert "volumes" in rows["volume-mount"].ids("scenarios")


def test_coverage_cli_prints_every_part_and_exits_0(library: ContentLibrary) -> None:
    result = content_cli("coverage")
    assert result.returncode == 0, result.stdout + result.stderr
    assert library.seed is not None
    for part in library.seed.parts:
        assert f"[ok] {part.id} " in result.stdout
    total = len(library.seed.parts)
    assert f"{total}/{total} seed parts covered" in result.stdout
    assert UNCOVERED not in result.stdout


def test_an_uncovered_part_is_flagged_and_fails(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "content", content)
    edit(content / "concepts/container-history.yaml", "seed: [container-history]", "seed: []")
    out, status = coverage_report(content)
    assert status == 1
    assert f"[{UNCOVERED}] container-history" in out
    assert f"{UNCOVERED}: container-history" in out
