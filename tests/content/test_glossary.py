"""One Korean term per English term, particles that fit, and none of the seed's typos, in all
our text: concepts, questions, scenarios, the seed map and the message catalogs.

The rules are the pure functions of :mod:`bot.content.lint` (unit-tested in test_lint.py);
these tests run them over the repository's content.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from bot.concepts.validation import CONCEPTS
from bot.content.base import Localized
from bot.content.library import ContentLibrary
from bot.content.lint import Glossary, korean_problems, typo_problems
from bot.settings import REPO_ROOT

CONTENT = REPO_ROOT / "content"
GLOSSARY_DATA = yaml.safe_load((CONTENT / "glossary.yaml").read_text(encoding="utf-8"))
GLOSSARY = Glossary.from_mapping(GLOSSARY_DATA)
SKIP_FIELDS = frozenset({"aliases"})  # what people type may use any spelling
# The one content file, besides the glossary, that may quote the study text's typos.
ERRATA = "concepts/errata"


def _texts(value: Any, where: str) -> Iterator[tuple[str, str, str]]:
    """(where, locale, text) for every localized text inside a content model."""
    if isinstance(value, Localized):
        yield where, "en", value.en
        yield where, "ko", value.ko
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            yield from _texts(item, f"{where}[{index}]")
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name not in SKIP_FIELDS:
                yield from _texts(getattr(value, name), f"{where}.{name}")


def _catalog_texts(folder: Path) -> Iterator[tuple[str, str]]:
    def walk(value: Any, where: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, f"{where}[{index}]")

    for path in sorted(folder.glob("*.yaml")):
        yield from walk(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)


def _all_texts(library: ContentLibrary) -> Iterator[tuple[str, str, str]]:
    assert {kind.name for kind in library.kinds} >= {"concepts", "questions", "scenarios"}
    for kind in library.kinds:
        for item_id, item in library.items(kind).items():
            yield from _texts(item, f"{kind.name}/{item_id}")
    if library.seed is not None:
        for part in library.seed.parts:
            yield from _texts(part.summary, f"seed/{part.id}.summary")


def _korean(library: ContentLibrary) -> Iterator[tuple[str, str]]:
    for where, locale, text in _all_texts(library):
        if locale == "ko":
            yield where, text
    for where, text in _catalog_texts(CONTENT / "i18n" / "ko"):
        yield f"i18n/ko/{where}", text


def test_glossary_is_well_formed() -> None:
    english = [term.en for term in GLOSSARY.terms]
    assert len(english) == len(set(english))
    for term in GLOSSARY.terms:
        assert term.ko not in term.avoid, term
    for must in ("container", "image", "volume", "network", "registry", "port", "storage"):
        assert must in english
    assert GLOSSARY.phrases and GLOSSARY.contexts and GLOSSARY.typos


def test_korean_text_follows_the_glossary_and_fits_its_particles(
    library: ContentLibrary,
) -> None:
    found = [
        f"{where}: {problem}"
        for where, text in _korean(library)
        for problem in korean_problems(text, GLOSSARY)
    ]
    assert found == []


def test_no_seed_typos_in_our_text_except_the_errata(library: ContentLibrary) -> None:
    found = [
        f"{where} ({locale}): {problem}"
        for where, locale, text in _all_texts(library)
        if not where.startswith(ERRATA + ".")
        for problem in typo_problems(text, GLOSSARY.typos)
    ]
    assert found == []


def test_the_errata_names_the_typos_it_corrects(library: ContentLibrary) -> None:
    errata = library.items(CONCEPTS)["errata"]
    for typo in ("Doxker", "Xontainer", "Cirtual", "Orcla"):
        assert typo in errata.body.ko and typo in errata.body.en


@pytest.mark.parametrize("term", ["컨테이너", "이미지", "볼륨", "네트워크", "레지스트리", "포트"])
def test_core_terms_are_actually_used(library: ContentLibrary, term: str) -> None:
    assert any(term in text for _w, locale, text in _all_texts(library) if locale == "ko")
