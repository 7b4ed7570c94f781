"""Building blocks shared by every content model."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from bot.core import limits

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ContentModel(BaseModel):
    """Content is strict: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(ContentModel):
    """A text in both languages; neither may be missing or empty."""

    en: Text
    ko: Text

    def get(self, locale: str) -> str:
        return self.ko if locale == "ko" else self.en

    def longest(self) -> int:
        return max(len(self.en), len(self.ko))


class LocalizedList(ContentModel):
    en: tuple[Text, ...] = ()
    ko: tuple[Text, ...] = ()

    def get(self, locale: str) -> tuple[str, ...]:
        return self.ko if locale == "ko" else self.en

    def all(self) -> tuple[str, ...]:
        return self.en + self.ko


def too_long(text: Localized, limit: int) -> str | None:
    """A problem description when either translation is over ``limit`` characters."""
    for locale in ("en", "ko"):
        value = text.get(locale)
        if len(value) > limit:
            return f"{locale} is {len(value)} characters, over Discord's limit of {limit}"
    return None


TITLE_LIMIT = limits.EMBED_TITLE
BODY_LIMIT = limits.EMBED_DESCRIPTION
FIELD_LIMIT = limits.EMBED_FIELD_VALUE
