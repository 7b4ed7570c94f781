"""`python -m bot content coverage`: every seed part is explained, and practised by a scenario
step or marked not practisable with the reason; a gap is flagged and fails."""

from __future__ import annotations

from pathlib import Path

from bot.coach import check_content, coverage_report
from bot.content.coverage import THIS_PART, UNCOVERED, UNPRACTISED, coverage
from bot.content.library import ContentLibrary
from tests.content.test_content_valid import content_cli, edit


def test_every_seed_part_is_explained_tested_and_practised_or_marked(
    library: ContentLibrary,
) -> None:
    rows = coverage(library)
    assert library.seed is not None and len(rows) == len(library.seed.parts)
    assert [row.part.id for row in rows if not row.ids("concepts")] == []
    assert [row.part.id for row in rows if not row.ids("questions")] == []
    assert [row.part.id for row in rows if not row.settled] == []
    marked = {row.part.id: row.not_practisable for row in rows if not row.practised}
    assert set(marked) == {"container-history", "docker-cross-os"}
    assert all(reason and len(reason) > 40 for reason in marked.values())


def test_practice_is_counted_step_by_step(library: ContentLibrary) -> None:
    rows = {row.part.id: row for row in coverage(library)}
    steps = {(e.item, e.where, e.explains) for e in rows["process-isolation"].exercises}
    assert ("isolation", "from-the-host", "process-isolation") in steps
    assert ("isolation", "look-inside", "namespaces") in steps
    assert {e.item for e in rows["docker-cp"].exercises} == {"web-cp", "debugging"}
    volume = rows["volume-mount"]
    assert {e.explains for e in volume.exercises} == {"volume"}
    assert dict(volume.marks)["bind-mount"].startswith("The sandbox refuses bind mounts")
    assert THIS_PART not in dict(volume.marks)


def test_coverage_cli_prints_every_part_and_exits_0(library: ContentLibrary) -> None:
    result = content_cli("coverage")
    assert result.returncode == 0, result.stdout + result.stderr
    assert library.seed is not None
    for part in library.seed.parts:
        assert f"[ok] {part.id} " in result.stdout
    total = len(library.seed.parts)
    assert f"{total}/{total} seed parts covered" in result.stdout
    assert f"{total - 2}/{total} seed parts practised in a scenario step, 2 not practisable" in (
        result.stdout
    )
    assert "practised      : volume ← volumes/create-volume" in result.stdout
    assert "not practisable: bind-mount — The sandbox refuses bind mounts" in result.stdout
    assert "not practisable: this part — History" in result.stdout
    assert UNCOVERED not in result.stdout and UNPRACTISED not in result.stdout


def test_an_uncovered_part_is_flagged_and_fails(copy: Path) -> None:
    edit(copy / "concepts/container-history.yaml", "seed: [container-history]", "seed: []")
    out, status = coverage_report(copy)
    assert status == 1
    assert f"[{UNCOVERED}] container-history" in out
    assert f"{UNCOVERED}: container-history" in out


def test_a_part_no_step_practises_is_flagged_and_fails_the_check(copy: Path) -> None:
    for _twice in range(2):
        edit(
            copy / "scenarios/web-cp.yaml",
            "concepts: [docker-cp, copy-files]",
            "concepts: [docker-cp]",
        )
    out, status = coverage_report(copy)
    assert status == 1
    assert f"[{UNPRACTISED}] copy-files-why" in out
    assert f"{UNPRACTISED}: copy-files-why" in out
    _library, problems = check_content(copy)
    assert sorted(problems) == [
        f"{copy / 'concepts/copy-files.yaml'}: scenario: no step of 'web-cp' exercises this "
        "concept (a step lists it in its concepts, and its check touches it)",
        f"{copy / 'scenarios/web-cp.yaml'}: concepts: no step exercises 'copy-files' (list it "
        "in the concepts of the step whose check touches it, or leave it out of the recap)",
        f"{copy / 'seed.yaml'}: parts.copy-files-why: no scenario step exercises a concept of "
        "this part (copy-files): add one, or say why it cannot be practised (not_practisable)",
    ]


def test_marks_that_do_not_fit_are_problems(copy: Path) -> None:
    edit(copy / "seed.yaml", "not_practisable:\n  bind-mount:", "not_practisable:\n  volume:")
    edit(
        copy / "seed.yaml",
        '    summary: {en: "Process isolation", ko: "프로세스 격리"}',
        '    summary: {en: "Process isolation", ko: "프로세스 격리"}\n'
        "    not_practisable: nothing to see",
    )
    edit(copy / "seed.yaml", "\nnot_practisable:\n", "\nnot_practisable:\n  no-such-thing: why\n")
    _library, problems = check_content(copy)
    text = "\n".join(problems)
    assert "not_practisable.volume: volumes/create-volume exercises it: remove the mark" in text
    assert (
        "parts.process-isolation: not_practisable, yet isolation/own-hostname, "
        "isolation/look-inside, isolation/from-the-host, isolation/cannot-see practise it: "
        "remove the mark" in text
    )
    assert "not_practisable.no-such-thing: no concept" in text
