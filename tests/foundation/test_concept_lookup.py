import pytest

from bot.concepts.index import ConceptIndex
from bot.concepts.models import Concept
from bot.concepts.validation import CONCEPTS
from bot.content.library import ContentLibrary


@pytest.fixture(scope="module")
def index(library: ContentLibrary) -> ConceptIndex:
    return ConceptIndex(library.items(CONCEPTS).values())


def test_typo_is_not_guessed_but_suggested(index: ConceptIndex) -> None:
    """Names people type are covered in tests/content/test_lookup.py."""
    assert index.find("contaner") is None
    assert index.suggest("contaner")[0].id == "container"


def test_autocomplete_is_ranked_and_bounded(index: ConceptIndex) -> None:
    ranked = index.rank("vol")
    assert ranked[0].concept.id == "volume"
    assert len(index.rank("")) == min(25, len(index))
    assert len(index.rank("e")) <= 25


def _synthetic(n: int) -> list[Concept]:
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
    concepts = []
    for i in range(n):
        name = f"{words[i % len(words)]} {words[(i * 7) % len(words)]} {i}"
        concepts.append(
            Concept.model_validate(
                {
                    "id": f"c{i}",
                    "topic": "basics",
                    "title": {"en": name, "ko": f"개념 {i}"},
                    "summary": {"en": "s", "ko": "s"},
                    "body": {"en": "b", "ko": "b"},
                    "aliases": {"en": [f"{name} alias", f"alt {i}"], "ko": [f"별칭 {i}"]},
                }
            )
        )
    return concepts


def test_lookup_with_hundreds_of_concepts_answers_every_keystroke() -> None:
    """Functional check on a large index; speed is measured in bench/concepts_bench.py."""
    index = ConceptIndex(_synthetic(600))
    assert index.find("alt 599").id == "c599"
    assert index.rank("bravo hot")[0].concept.title.en.startswith("bravo hotel")
    for prefix in ("c", "ch", "cha", "char", "charl"):
        assert len(index.rank(prefix)) == 25


def test_long_examples_are_shown_whole_and_fit_discord_in_closed_blocks(
    library: ContentLibrary,
) -> None:
    from bot.concepts.service import ConceptService
    from bot.core.i18n import Translator
    from bot.discordbot import limits
    from bot.discordbot.render import Renderer

    base = next(iter(library.items(CONCEPTS).values()))
    examples = [{"command": f"docker run --name web{i} -p 80{i:02d}:80 nginx"} for i in range(60)]
    concept = Concept.model_validate({**base.model_dump(), "examples": examples})
    one = ConceptIndex([concept])
    service = ConceptService(lambda: one)
    tr = Translator(library.catalog, "en")
    reply = service.render(tr, concept)
    shown = next(f.value for f in reply.fields if f.name == "Try it")
    assert shown.startswith("```\n$ docker run") and shown.endswith("\n```")
    assert all(f"--name web{i} " in shown for i in range(60))  # whole: the core cuts nothing
    parts = [
        field.value
        for message in Renderer(tr).render(reply)
        for embed in message.embeds
        for field in embed.fields
        if field.value and "$ docker run" in field.value
    ]
    assert len(parts) > 1  # Discord needs several fields for it
    for part in parts:
        assert len(part) <= limits.EMBED_FIELD_VALUE
        assert part.startswith("```") and part.endswith("```")
    assert all(any(f"--name web{i} " in part for part in parts) for i in range(60))
