"""The map of the seed text: the parts a study group reads, which content must cover.

Every part must be explained (by a concept) and practised (by a scenario step that exercises
one of its concepts) — or marked ``not_practisable`` with the reason, shown by
``content coverage``. ``not_practisable`` at the top marks items that explain the seed
(concepts) and cannot be practised in the sandbox; a part all of whose concepts are marked
needs no practice either.
"""

from __future__ import annotations

from pydantic import Field

from bot.content.base import ContentModel, Id, Localized, Text


class SeedPart(ContentModel):
    id: Id
    heading: str
    summary: Localized
    not_practisable: Text | None = Field(
        default=None, description="why no scenario step can practise this part"
    )


class SeedMap(ContentModel):
    source: str
    parts: tuple[SeedPart, ...]
    not_practisable: dict[Id, Text] = Field(
        default_factory=dict, description="explaining items (concepts) that cannot be practised"
    )

    def ids(self) -> set[str]:
        return {part.id for part in self.parts}
