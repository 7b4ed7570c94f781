"""The course's wording rules applied to loaded content: one Korean term per English term,
particles that fit, and none of the study text's typos.

The rules themselves are the pure functions of :mod:`bot.content.lint`, fed by the glossary
(``content/glossary.yaml``, loaded with the library). Each kind of content adds
:func:`wording_check` to its cross-checks, so every Korean text of every item is checked with
:func:`~bot.content.lint.korean_problems` and every text with
:func:`~bot.content.lint.typo_problems`; :func:`check_own_wording` does the same for the
content package's own texts (the message catalogs and the seed map's summaries).

The study text's typos may be quoted only in a file named ``errata.yaml`` (the errata concept,
which tells learners what is right) and in the glossary that lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.content.base import Localized
from bot.content.items import ContentLibrary, CrossCheck
from bot.content.lint import Glossary, korean_problems, typo_problems

ERRATA_FILE = "errata.yaml"
"""The one content file (besides the glossary) that may quote the study text's typos."""
KOREAN = "ko"


def localized_texts(value: Any, where: str = "") -> Iterator[tuple[str, Localized]]:
    """(field path, text) for every :class:`Localized` inside a content model, in order.

    Lists of names (``aliases``, a :class:`~bot.content.base.LocalizedList`) are what
    learners type, in any spelling, and are not texts of ours.
    """
    if isinstance(value, Localized):
        yield where, value
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            yield from localized_texts(item, f"{where}[{index}]")
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from localized_texts(getattr(value, name), f"{where}.{name}" if where else name)


def text_problems(
    text: str, locale: str, glossary: Glossary, *, quotes_typos: bool = False
) -> list[str]:
    """Every wording problem of one text in ``locale``."""
    found = korean_problems(text, glossary) if locale == KOREAN else []
    if not quotes_typos:
        found += typo_problems(text, glossary.typos)
    return found


def _localized_problems(
    text: Localized, glossary: Glossary, quotes_typos: bool
) -> Iterator[tuple[str, str]]:
    for locale in ("en", "ko"):
        for problem in text_problems(text.get(locale), locale, glossary, quotes_typos=quotes_typos):
            yield locale, problem


def wording_check(kind_name: str) -> CrossCheck:
    """The cross-check a kind registers so that its items' texts follow the wording rules."""

    def check(library: ContentLibrary) -> Iterable[str]:
        glossary = library.glossary
        if glossary is None:
            return
        for item_id, item in library.by_kind.get(kind_name, {}).items():
            origin = library.origin(kind_name, item_id)
            quotes_typos = Path(origin).name == ERRATA_FILE
            for where, text in localized_texts(item):
                for locale, problem in _localized_problems(text, glossary, quotes_typos):
                    yield f"{origin}: {item_id}: {where} ({locale}): {problem}"

    check.__name__ = f"wording_of_{kind_name}"
    return check


def check_own_wording(library: ContentLibrary) -> Iterable[str]:
    """The wording of the message catalogs and of the seed map's summaries."""
    glossary = library.glossary
    if glossary is None:
        return
    for locale in ("en", "ko"):
        folder = library.root / "i18n" / locale
        for key, template in sorted(library.catalog.messages(locale).items()):
            for problem in text_problems(template, locale, glossary):
                yield f"{folder}: {key}: {problem}"
    if library.seed is not None:
        where = library.root / "seed.yaml"
        for part in library.seed.parts:
            for locale, problem in _localized_problems(part.summary, glossary, False):
                yield f"{where}: parts.{part.id}.summary ({locale}): {problem}"
