"""The question bank is validated like concepts: every problem reported at once."""

from __future__ import annotations

from pathlib import Path

from bot.content.library import ContentLibrary, check_content
from bot.core.reply import Choice
from bot.quiz.content import QuestionType

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

BAD = """
- id: dangling
  type: truefalse
  topic: storage
  concepts: [no-such-concept]
  prompt: {en: "x", ko: "x"}
  explanation: {en: "x", ko: "x"}
  answer: true
- id: out-of-range
  type: choice
  topic: storage
  concepts: [volume]
  prompt: {en: "x", ko: "x"}
  explanation: {en: "x", ko: "x"}
  options: [{en: "a", ko: "a"}, {en: "b", ko: "b"}]
  answer: 2
- id: bad-command
  type: command
  topic: storage
  concepts: [volume]
  prompt: {en: "x", ko: "x"}
  explanation: {en: "x", ko: "x"}
  answer: "docker run --no-such-flag nginx"
- id: long-label
  type: choice
  topic: storage
  concepts: [volume]
  prompt: {en: "x", ko: "x"}
  explanation: {en: "x", ko: "x"}
  options: [{en: "LABEL", ko: "a"}, {en: "b", ko: "b"}]
  answer: 1
- id: missing-korean
  type: truefalse
  topic: storage
  concepts: [volume]
  prompt: {en: "x"}
  explanation: {en: "x", ko: "x"}
  answer: false
- id: tf-with-options
  type: truefalse
  topic: storage
  concepts: [volume]
  prompt: {en: "x", ko: "x"}
  explanation: {en: "x", ko: "x"}
  options: [{en: "a", ko: "a"}, {en: "b", ko: "b"}]
  answer: false
""".replace("LABEL", "a" * 81)


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
    assert library.questions["good-choice"].type is QuestionType.CHOICE


def test_every_problem_is_reported(tmp_path: Path) -> None:
    _, problems = check_content(_content(tmp_path, BAD))
    text = "\n".join(problems)
    assert "unknown concept 'no-such-concept'" in text
    assert "answer index 2 is out of range" in text
    assert "bad-command: answer 'docker run --no-such-flag nginx' does not parse" in text
    assert "long-label: options[0]: en is 81 characters" in text
    assert "missing translation" in text
    assert "a truefalse question has no `options`" in text


def test_the_real_bank(library: ContentLibrary) -> None:
    questions = library.questions
    assert len(questions) >= 6
    assert sum(1 for q in questions.values() if q.topic == "docker") >= 3
    assert {q.type for q in questions.values()} == set(QuestionType)
    for question in questions.values():
        for index in range(max(2, len(question.options))):
            Choice("x", f"quiz:a:{10**12}:{19}:{index}")  # actions fit Discord's custom_id
