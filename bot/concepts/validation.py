"""The concepts kind of content (``content/concepts/*.yaml``) and its cross-file checks:
links, seed parts, content length rules, names that two concepts claim."""

from __future__ import annotations

from collections.abc import Iterable

from bot.concepts.models import Concept, SandboxSupport
from bot.content.base import (
    BODY_LIMIT,
    FIELD_LIMIT,
    PAGE_LIMIT,
    SUMMARY_LIMIT,
    TITLE_LIMIT,
    too_long,
)
from bot.content.items import ContentKind, ContentLibrary, CoverageRule, PartRef, Role
from bot.content.wording import wording_check

# Vocabularies this kind exports for other kinds' checks (see bot.content.library).
CONCEPT_IDS = "concept"
CONCEPT_TOPICS = "concept-topic"
CONCEPT_EXAMPLES = "concept-example"  # "<concept id> <command>" for each example that runs
# What this kind's checks refer to in other kinds.
SCENARIO_IDS = "scenario"
SCENARIO_EXERCISES = "scenario-exercise"  # "<scenario id> <concept id>": a step exercises it


def _examples_block(concept: Concept, locale: str) -> str:
    lines = []
    for example in concept.examples:
        lines.append(f"$ {example.command}")
        if example.note:
            lines.append(f"# {example.note.get(locale)}")
    return "```\n" + "\n".join(lines) + "\n```"


def check_links(library: ContentLibrary) -> Iterable[str]:
    concepts = library.items(CONCEPTS)
    seed_ids = library.seed_ids()
    scenarios = library.vocabulary(SCENARIO_IDS)
    exercised = library.vocabulary(SCENARIO_EXERCISES)
    for concept in concepts.values():
        where = library.origin(CONCEPTS, concept.id)
        for related in concept.related:
            if related not in concepts:
                yield f"{where}: related: unknown concept {related!r}"
            elif related == concept.id:
                yield f"{where}: related: a concept cannot be related to itself"
        if seed_ids is not None:
            for part in concept.seed:
                if part not in seed_ids:
                    yield f"{where}: seed: unknown seed part {part!r}"
        if concept.scenario and concept.scenario not in scenarios:
            yield f"{where}: scenario: unknown scenario {concept.scenario!r}"
        elif concept.scenario and f"{concept.scenario} {concept.id}" not in exercised:
            yield (
                f"{where}: scenario: no step of {concept.scenario!r} exercises this concept "
                "(a step lists it in its concepts, and its check touches it)"
            )


def check_limits(library: ContentLibrary) -> Iterable[str]:
    for concept in library.items(CONCEPTS).values():
        where = library.origin(CONCEPTS, concept.id)
        for name, text, limit in (
            ("title", concept.title, TITLE_LIMIT),
            ("summary", concept.summary, SUMMARY_LIMIT),
            ("body", concept.body, BODY_LIMIT),
        ):
            problem = too_long(text, limit)
            if problem:
                yield f"{where}: {name}: {problem}"
        for locale in ("en", "ko"):
            block = _examples_block(concept, locale)
            if concept.examples and len(block) > FIELD_LIMIT:
                yield (
                    f"{where}: examples: {locale} examples take {len(block)} characters, "
                    f"over the content limit of {FIELD_LIMIT} for a section"
                )
            total = len(concept.title.get(locale)) + len(concept.body.get(locale)) + len(block)
            if total > PAGE_LIMIT:
                yield (
                    f"{where}: body: {locale} page (title, body, examples) is {total} "
                    f"characters, over the content limit of {PAGE_LIMIT}"
                )


def check_alias_clashes(library: ContentLibrary) -> Iterable[str]:
    owners: dict[str, str] = {}
    for concept in library.items(CONCEPTS).values():
        for name in concept.names():
            key = name.casefold()
            owner = owners.setdefault(key, concept.id)
            if owner != concept.id:
                where = library.origin(CONCEPTS, concept.id)
                yield f"{where}: aliases: {name!r} is already a name of concept {owner!r}"


def _explains(concept: Concept, part: PartRef) -> bool:
    return part.id in concept.seed


CONCEPTS: ContentKind[Concept] = ContentKind(
    "concepts",
    Concept,
    checks=(check_links, check_limits, check_alias_clashes, wording_check("concepts")),
    vocabularies={
        CONCEPT_IDS: lambda c: (c.id,),
        CONCEPT_TOPICS: lambda c: (c.topic,),
        CONCEPT_EXAMPLES: lambda c: (
            f"{c.id} {e.command}"
            for e in c.examples
            if e.sandbox is SandboxSupport.RUNS and not e.shell
        ),
    },
    coverage=CoverageRule(Role.EXPLAINS, _explains, order=lambda c: c.order),
)
