"""One Korean term per English term, particles that fit, and none of the seed's typos, in all
our text — enforced by ``content check``.

The rules are the pure functions of :mod:`bot.content.lint` (unit-tested in test_lint.py);
:mod:`bot.content.wording` applies them through the registry: each kind's cross-check covers
its items, and the content package checks its own catalogs and seed map. These tests show
that the repository passes and that a broken copy is reported by file, item and field.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.concepts.validation import CONCEPTS
from bot.content.library import ContentLibrary
from bot.content.wording import ERRATA_FILE, check_own_wording, localized_texts, wording_check
from bot.practice.content import SCENARIOS
from bot.quiz.content import QUESTIONS
from tests.content.test_content_valid import content_cli, edit


def test_the_glossary_is_loaded_and_well_formed(library: ContentLibrary) -> None:
    glossary = library.glossary
    assert glossary is not None
    english = [term.en for term in glossary.terms]
    assert len(english) == len(set(english))
    for term in glossary.terms:
        assert term.ko not in term.avoid, term
    for must in ("container", "image", "volume", "network", "registry", "port", "storage"):
        assert must in english
    assert glossary.phrases and glossary.contexts and glossary.typos


def test_every_kind_registers_the_wording_check(library: ContentLibrary) -> None:
    for kind in (CONCEPTS, QUESTIONS, SCENARIOS):
        names = [check.__name__ for check in kind.checks]
        assert f"wording_of_{kind.name}" in names, kind.name


def test_the_repository_follows_the_wording_rules(library: ContentLibrary) -> None:
    found = [p for kind in library.kinds for p in wording_check(kind.name)(library)]
    found += list(check_own_wording(library))
    assert found == []


def test_every_text_is_walked(library: ContentLibrary) -> None:
    """Nested texts (a scenario's fail-check hints, a concept's example notes) are walked."""
    scenario = library.items(SCENARIOS)["isolation"]
    walked = dict(localized_texts(scenario))
    assert "steps[0].fail_checks[0].hint" in walked
    assert "steps[0].hints[1]" in walked
    concept = library.items(CONCEPTS)["process-isolation"]
    assert "examples[1].note" in dict(localized_texts(concept))


def test_the_errata_quotes_the_typos_it_corrects(library: ContentLibrary) -> None:
    errata = library.items(CONCEPTS)["errata"]
    assert Path(library.origin(CONCEPTS, "errata")).name == ERRATA_FILE
    for typo in ("Doxker", "Xontainer", "Cirtual", "Orcla"):
        assert typo in errata.body.ko and typo in errata.body.en


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "scenarios/volumes.yaml",
            "저장 공간이에요.",
            "저장소예요.",
            "volumes: intro (ko): literal translation '저장소'",
        ),
        (
            "concepts/volume.yaml",
            'ko: "도커가 관리하는 저장 공간으로',
            'ko: "Docker가 관리하는 저장 공간으로',
            "volume: summary (ko): 'Docker' before a Korean particle",
        ),
        (
            "concepts/volume.yaml",
            "    A **volume** is storage",
            "    A Doxker **volume** is storage",
            "volume: body (en): the study text's typo 'Doxker'",
        ),
        (
            "scenarios/isolation.yaml",
            "`one` 은 실행 중이지만",
            "`{name}` 가 실행 중이지만",
            "isolation: steps[0].fail_checks[0].hint (ko): {name} 가: the value is unknown",
        ),
    ],
    ids=["storage-term", "docker-particle", "typo-in-english", "particle-after-placeholder"],
)
def test_content_check_reports_wording_by_file_item_and_field(
    copy: Path, file: str, old: str, new: str, expected: str
) -> None:
    edit(copy / file, old, new)
    result = content_cli("check", "--content", str(copy))
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if expected in line]
    assert lines, result.stdout
    assert all(line.startswith(f"{copy / file}:") for line in lines), lines


def test_the_catalogs_and_the_seed_map_are_checked_too(copy: Path) -> None:
    edit(copy / "i18n/ko/practice.yaml", ": ", ": 계수기 ")
    edit(copy / "seed.yaml", 'ko: "도커가 다른', 'ko: "Doxker가 다른')
    result = content_cli("check", "--content", str(copy))
    assert result.returncode != 0
    assert f"{copy / 'i18n' / 'ko'}: practice." in result.stdout
    assert "literal translation '계수기'" in result.stdout
    assert f"{copy / 'seed.yaml'}: parts.docker-cross-os.summary (ko):" in result.stdout
    assert "the study text's typo 'Doxker'" in result.stdout


def test_only_the_errata_file_may_quote_the_typos(copy: Path) -> None:
    errata = (copy / "concepts" / ERRATA_FILE).read_text(encoding="utf-8")
    (copy / "concepts" / ERRATA_FILE).unlink()
    (copy / "concepts" / "corrections.yaml").write_text(errata, encoding="utf-8")
    result = content_cli("check", "--content", str(copy))
    assert result.returncode != 0
    assert f"{copy / 'concepts' / 'corrections.yaml'}: errata: body (en)" in result.stdout
