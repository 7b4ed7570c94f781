"""Building blocks shared by every content model."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

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
            return f"{locale} is {len(value)} characters, over the content limit of {limit}"
    return None


# Content's own length rules. They are about reading, not about any one front end: texts
# within them read well on every front end, and no front end has to split or cut them
# (Discord's embed limits are the tightest we serve, so the numbers sit within them).
TITLE_LIMIT = 256
"""A title is a heading: one line on every front end."""
SUMMARY_LIMIT = 100
"""A summary is one line: it also describes a command or a suggestion while typing."""
BODY_LIMIT = 4096
"""A body (a concept, a question's explanation) is read on one screen."""
FIELD_LIMIT = 1024
"""A side section (examples, a hint, a recap) is a few lines."""
PAGE_LIMIT = 5500
"""A concept's whole page (title, body, examples) is read on one screen."""
CHOICE_LIMIT = 80
"""An answer option is a button or a numbered line: a few words."""
ANSWER_LIMIT = 320
"""A typed answer is one command line a learner can type."""
