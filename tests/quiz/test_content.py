"""The question bank is validated like concepts: every problem reported at once."""

from __future__ import annotations

from pathlib import Path

from bot.coach import check_content
from bot.concepts.validation import CONCEPTS
from bot.content.library import ContentLibrary
from bot.core.reply import Choice
from bot.quiz.content import QUESTIONS
from bot.quiz.question_types import QUESTION_TYPES

CONCEPT = """
id: volume
topic: storage
title: {en: Volume, ko: 볼륨}
summary: {en: Storage that outlives containers., ko: 컨테이너보다 오래 남는 저장소예요.}
body: {en: A volume keeps data., ko: 볼륨은 데이터를 보관해요.}
"""

GOOD = """
- id: good-choice
  type: choice
  topic: storage
  concepts: [volume]
  prompt: {en: "Why a volume?", ko: "볼륨은 왜 쓸까요?"}
  explanation: {en: "To keep data.", ko: "데이터를 남기려고요."}
  options:
    - {en: "Keep data", ko: "데이터 보관"}
    - {en: "Speed", ko: "속도"}
  answer: 0
"""


def question(qid: str, kind: str, answer: str, **extra: str) -> str:
    """One question of the bank in YAML; ``extra`` replaces or adds fields (text as is)."""
    fields = {
        "type": kind,
        "topic": "storage",
        "concepts": "[volume]",
        "prompt": '{en: "x", ko: "x"}',
        "explanation": '{en: "x", ko: "x"}',
        **extra,
        "answer": answer,
    }
    return f"- id: {qid}\n" + "".join(f"  {key}: {value}\n" for key, value in fields.items())


TWO_OPTIONS = '[{en: "a", ko: "a"}, {en: "b", ko: "b"}]'
BAD = "".join(
    [
        question("dangling", "truefalse", "true", concepts="[no-such-concept]"),
        question("out-of-range", "choice", "2", options=TWO_OPTIONS),
        question("bad-command", "command", '"docker run --no-such-flag nginx"'),
        question(
            "long-label", "choice", "1", options=TWO_OPTIONS.replace('en: "a"', f'en: "{"a" * 81}"')
        ),
        question("missing-korean", "truefalse", "false", prompt='{en: "x"}'),
        question("tf-with-options", "truefalse", "false", options=TWO_OPTIONS),
        question("off-topic", "truefalse", "true", topic="docker"),
    ]
)


def _content(tmp_path: Path, questions: str) -> Path:
    root = tmp_path / "content"
    (root / "concepts").mkdir(parents=True)
    (root / "concepts" / "volume.yaml").write_text(CONCEPT, encoding="utf-8")
    (root / "questions").mkdir()
    (root / "questions" / "q.yaml").write_text(questions, encoding="utf-8")
    for locale in ("en", "ko"):
        (root / "i18n" / locale).mkdir(parents=True)
    return root


def test_a_good_question_loads(tmp_path: Path) -> None:
    library, problems = check_content(_content(tmp_path, GOOD))
    assert problems == []
    assert library.items(QUESTIONS)["good-choice"].type == "choice"


def test_every_problem_is_reported(tmp_path: Path) -> None:
    _, problems = check_content(_content(tmp_path, BAD))
    text = "\n".join(problems)
    assert "unknown concept 'no-such-concept'" in text
    assert "answer index 2 is out of range" in text
    assert "bad-command: answer 'docker run --no-such-flag nginx' does not parse" in text
    assert "long-label: options[0]: en is 81 characters" in text
    assert "missing translation" in text
    assert "a truefalse question has no `options`" in text
    assert "off-topic: topic: 'docker' is not a concept topic (storage)" in text


ACCEPT_AND_REJECT = "".join(
    [
        question(
            "typed",
            "command",
            '"docker run -d --name web nginx"',
            variants='["docker container run --detach --name=web nginx"]',
            reject='["docker run --name web nginx", "docker run -d --name web httpd"]',
        ),
        question(
            "redundant-accept",
            "command",
            '"docker pull httpd"',
            accept='["docker pull httpd:latest"]',
            reject='["docker pull nginx"]',
        ),
        question(
            "host-view",
            "command",
            '"docker top box"',
            strict="true",
            variants='["docker exec box ps"]',
            reject='["docker ps"]',
        ),
        question(
            "reject-is-right",
            "command",
            '"docker ps -a"',
            reject='["docker container ls --all"]',
        ),
        question("accept-unreadable", "command", '"docker ps"', accept='["docker ps \'oops"]'),
        question("choice-with-reject", "choice", "0", options=TWO_OPTIONS, reject='["docker ps"]'),
        question("no-such-type", "essay", '"anything"'),
    ]
)


def test_accepted_lines_grade_right_and_rejected_lines_grade_wrong(tmp_path: Path) -> None:
    library, problems = check_content(_content(tmp_path, ACCEPT_AND_REJECT))
    assert not [p for p in problems if ": typed:" in p]
    typed = library.items(QUESTIONS)["typed"]
    assert typed.reject == ("docker run --name web nginx", "docker run -d --name web httpd")
    text = "\n".join(problems)
    assert "reject-is-right: rejected line 'docker container ls --all' is graded right" in text
    assert 'accept-unreadable: answer "docker ps \'oops" does not parse' in text
    assert "only command questions take `accept`, `variants`, `reject` and `strict`" in text
    assert (
        "redundant-accept: accept line 'docker pull httpd:latest' is already graded right by "
        "the grader's equivalences: move it to variants"
    ) in text
    assert "host-view: accepted line 'docker exec box ps' is graded wrong" in text
    assert "unknown question type 'essay': use one of choice, truefalse, command" in text


def test_the_real_bank(library: ContentLibrary) -> None:
    questions = library.items(QUESTIONS)
    assert len(questions) >= 6
    topics = {concept.topic for concept in library.items(CONCEPTS).values()}
    assert {q.topic for q in questions.values()} <= topics  # question topics are concept topics
    assert {q.type for q in questions.values()} == set(QUESTION_TYPES)
    assert not [p for q in questions.values() for p in q.kind.check(q)]  # accept / reject hold
    for question in questions.values():
        for index in range(max(2, len(question.options))):
            Choice("x", f"quiz:a:{10**12}:{19}:{index}")  # actions fit Discord's custom_id
