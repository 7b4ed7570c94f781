"""The concept content model (``content/concepts/*.yaml``)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from bot.content.base import ContentModel, Id, Localized, LocalizedList, Text
from bot.content.items import ContentItem


class SandboxSupport(StrEnum):
    """What the sandbox does with an example command (CI checks each claim)."""

    RUNS = "runs"
    REFUSED = "refused"
    NOT_IN_SANDBOX = "not-in-sandbox"


class Example(ContentModel):
    command: Text
    note: Localized | None = None
    sandbox: SandboxSupport = SandboxSupport.RUNS
    shell: bool = Field(
        default=False,
        description="a line of the host shell (``/sh``) that sets the stage for the docker "
        "commands after it, e.g. writing a Dockerfile; shown like them, with ``$``",
    )


class Concept(ContentItem):
    topic: Id
    title: Localized
    summary: Localized
    body: Localized
    aliases: LocalizedList = LocalizedList()
    related: tuple[Id, ...] = ()
    examples: tuple[Example, ...] = ()
    seed: tuple[Id, ...] = Field(default=(), description="ids of the seed parts it teaches")
    scenario: Id | None = None
    order: int = 1000

    def names(self) -> tuple[str, ...]:
        """Every name a learner might type for this concept."""
        return (
            self.id,
            self.id.replace("-", " "),
            self.title.en,
            self.title.ko,
            *self.aliases.all(),
        )
