"""The map of the seed text: the parts a study group reads, which content must cover."""

from __future__ import annotations

from bot.content.base import ContentModel, Id, Localized


class SeedPart(ContentModel):
    id: Id
    heading: str
    summary: Localized


class SeedMap(ContentModel):
    source: str
    parts: tuple[SeedPart, ...]

    def ids(self) -> set[str]:
        return {part.id for part in self.parts}
