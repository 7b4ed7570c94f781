"""One Korean term per English term, and none of the seed's typos, in all our text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from bot.content.base import Localized
from bot.content.library import ContentLibrary
from bot.settings import REPO_ROOT

GLOSSARY = yaml.safe_load((REPO_ROOT / "content" / "glossary.yaml").read_text(encoding="utf-8"))
SKIP_FIELDS = frozenset({"aliases"})  # what people type may use any spelling


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


def _all_texts(library: ContentLibrary) -> Iterator[tuple[str, str, str]]:
    assert {kind.name for kind in library.kinds} >= {"concepts", "questions", "scenarios"}
    for kind in library.kinds:
        for item_id, item in library.items(kind).items():
            yield from _texts(item, f"{kind.name}/{item_id}")


def test_glossary_is_well_formed() -> None:
    terms = GLOSSARY["terms"]
    english = [term["en"] for term in terms]
    assert len(english) == len(set(english))
    for term in terms:
        assert term["ko"] not in term["avoid"], term
    for must in ("container", "image", "volume", "network", "registry", "port"):
        assert must in english


def test_korean_text_uses_the_glossary_terms(library: ContentLibrary) -> None:
    found = [
        f"{where}: uses {bad!r}, the glossary says {term['ko']!r}"
        for where, locale, text in _all_texts(library)
        if locale == "ko"
        for term in GLOSSARY["terms"]
        for bad in term["avoid"]
        if bad in text
    ]
    assert found == []


def test_no_seed_typos_in_our_text(library: ContentLibrary) -> None:
    found = [
        f"{where} ({locale}): {typo!r}"
        for where, locale, text in _all_texts(library)
        for typo in GLOSSARY["typos"]
        if typo in text
    ]
    assert found == []


@pytest.mark.parametrize("term", ["컨테이너", "이미지", "볼륨", "네트워크", "레지스트리", "포트"])
def test_core_terms_are_actually_used(library: ContentLibrary, term: str) -> None:
    assert any(term in text for _w, locale, text in _all_texts(library) if locale == "ko")
