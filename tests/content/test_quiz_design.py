"""The question bank cannot be gamed and covers every concept: the limits of issue 18."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.coach import content_registry
from bot.content.library import ContentLibrary
from bot.content.lint import MAX_LONGEST_SHARE, longest_option_warning
from bot.quiz.content import QUESTIONS
from tests.content.quiz_stats import choices, quiz_stats
from tests.content.test_content_valid import content_cli

MIN_PER_CONCEPT = 4
MIN_HARD_MIXED = 30


def test_the_right_option_is_rarely_the_strictly_longest(library: ContentLibrary) -> None:
    stats = quiz_stats(library).options
    assert stats.total >= 50
    for locale in ("en", "ko"):
        assert stats.share(locale) < MAX_LONGEST_SHARE, stats.render()
    assert stats.ok(), stats.render()


def test_the_longest_option_is_not_a_sign_of_a_wrong_one_either(library: ContentLibrary) -> None:
    """Never-longest would be a pattern too: some right answers are the longest option."""
    warned = [longest_option_warning(options, answer) for options, answer in choices(library)]
    assert sum(w is not None for w in warned) >= 3


def test_every_concept_has_enough_questions(library: ContentLibrary) -> None:
    per_concept = quiz_stats(library).per_concept
    thin = {cid: n for cid, n in per_concept.items() if n < MIN_PER_CONCEPT}
    assert thin == {}


def test_hard_questions_mix_concepts(library: ContentLibrary) -> None:
    stats = quiz_stats(library)
    assert stats.hard_mixed >= MIN_HARD_MIXED, stats.render()
    hard_single = [
        q.id for q in library.items(QUESTIONS).values() if q.difficulty == 3 and len(q.concepts) < 2
    ]
    assert hard_single == []


def test_every_typed_question_lists_variants_and_a_near_miss(library: ContentLibrary) -> None:
    bare = [
        q.id
        for q in library.items(QUESTIONS).values()
        if str(q.type) == "command" and (not (q.accept or q.variants) or not q.reject)
    ]
    assert bare == []


def test_content_check_warns_about_each_giveaway_without_failing(library: ContentLibrary) -> None:
    warnings = content_registry().warnings(library)
    giveaways = [w for w in warnings if "strictly longest" in w]
    assert len(giveaways) == quiz_stats(library).options.either
    assert any(
        "can be answered by picking the longest option: within the limit" in w for w in warnings
    )
    result = content_cli("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning: " in result.stdout and "content OK" in result.stdout


def test_content_check_fails_when_the_longest_option_pays_off_too_often(copy: Path) -> None:
    """Over the limit, ``content check`` fails: the rule is enforced, not only reported."""
    shortened = 0
    for path in sorted((copy / "questions").glob("*.yaml")):
        questions = yaml.safe_load(path.read_text(encoding="utf-8"))
        for question in questions:
            if question["type"] != "choice" or shortened >= 12:
                continue
            for index, option in enumerate(question["options"]):
                if index != question["answer"]:
                    option["en"], option["ko"] = option["en"][:6], option["ko"][:3]
            shortened += 1
        path.write_text(yaml.safe_dump(questions, allow_unicode=True), encoding="utf-8")
    result = content_cli("check", "--content", str(copy))
    assert result.returncode == 1, result.stdout
    [line] = [x for x in result.stdout.splitlines() if "picking the longest option" in x]
    assert line.startswith(f"{copy / 'questions'}: ") and "over the limit of 25%" in line
    assert "content OK" not in result.stdout
