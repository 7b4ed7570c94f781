"""``/admin reload``: one library, swapped whole, seen by every capability at once.

The done-when of the architecture issue runs in a real console process: a copy of
``content/`` is edited while the console runs (a scenario title, a question, a concept), and
after ``/admin reload`` ``/practice list``, ``/quiz`` and ``/concept`` all show the edits.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.coach import Coach, content_registry, load_content
from bot.concepts.validation import CONCEPTS
from bot.content.items import ContentLibrary
from bot.content.registry import ContentRegistry
from bot.core.clock import FixedClock
from bot.core.context import Actor
from bot.core.errors import ConfigError
from bot.core.reply import Tone
from bot.practice.content import SCENARIOS
from bot.quiz.content import QUESTIONS, Question
from bot.settings import REPO_ROOT, Settings
from tests.conftest import CONTENT, make_actor
from tests.support import bot_env

OUTPUT_TIMEOUT = 90  # seconds to wait for an expected line (a deadline, not a pause)


# --- editing a content copy ------------------------------------------------------------
def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _dump(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _edit_item(path: Path, item_id: str, change: dict[str, Any]) -> None:
    """Apply ``change`` (nested keys) to the item ``item_id`` of a content file."""
    data = _load(path)
    items = data if isinstance(data, list) else [data]
    item = next(i for i in items if i["id"] == item_id)
    for key, value in change.items():
        if isinstance(value, dict):
            item[key] = {**item[key], **value}
        else:
            item[key] = value
    _dump(path, data)


def _only_question_of_a_concept(library: ContentLibrary) -> tuple[Question, str]:
    """A button question and a concept that it alone can be made to test: every other
    question linked to that concept has another concept to keep."""
    questions = list(library.items(QUESTIONS).values())
    for question in sorted(questions, key=lambda q: q.id):
        if question.options or not isinstance(question.answer, bool):
            continue  # a true/false question: one prompt, two buttons
        for concept in question.concepts:
            others = [q for q in questions if q is not question and concept in q.concepts]
            if all(len(q.concepts) > 1 for q in others):
                return question, concept
    raise AssertionError("no question can be made the only one of a concept")


def _make_exclusive(root: Path, library: ContentLibrary, question: Question, concept: str):
    for other in library.items(QUESTIONS).values():
        if other.id != question.id and concept in other.concepts:
            kept = [c for c in other.concepts if c != concept]
            _edit_item(Path(library.origin(QUESTIONS, other.id)), other.id, {"concepts": kept})


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


# --- a console process we talk to line by line ----------------------------------------------
class LiveConsole:
    def __init__(self, tmp_path: Path, content: Path) -> None:
        env = bot_env(XDG_DATA_HOME=str(tmp_path / "home"), COACH_CONTENT_DIR=str(content))
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "console",
                "--admin",
                "--user",
                "manager",
                "--db",
                str(tmp_path / "coach.sqlite3"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            env=env,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def ask(self, command: str, until: str) -> str:
        """Send ``command``; return its output up to and including the line with ``until``."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        seen: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=OUTPUT_TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"{command}: no {until!r} in {''.join(seen)!r}") from None
            if line is None:
                stderr = self.process.stderr.read() if self.process.stderr else ""
                raise AssertionError(f"{command}: the console ended: {''.join(seen)}{stderr}")
            seen.append(line)
            if until in line:
                return "".join(seen)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=OUTPUT_TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.mark.slow
def test_a_reload_shows_new_scenarios_questions_and_concepts_without_a_restart(
    tmp_path: Path, copy: Path
) -> None:
    library = load_content(copy)
    question, concept_id = _only_question_of_a_concept(library)
    _make_exclusive(copy, library, question, concept_id)
    scenario = min(library.items(SCENARIOS).values(), key=lambda s: (s.order, s.id))
    concept = library.items(CONCEPTS)[concept_id]
    listing = f"(`{scenario.id}`)"  # the scenario's line in /practice list
    quizzed = f"(question {question.id})"  # the footer under the question

    console = LiveConsole(tmp_path, copy)
    try:
        assert scenario.title.en in console.ask("/practice list", until=listing)
        console.ask(f"/concept {concept.id}", until=f"== {concept.title.en} ==")
        assert "Question 1 of 1" in console.ask(f"/quiz {concept.id} 1", until=quizzed)

        edits = {
            SCENARIOS: (scenario.id, {"title": {"en": "A renamed scenario"}}),
            QUESTIONS: (question.id, {"prompt": {"en": "A reworded statement."}}),
            CONCEPTS: (concept.id, {"title": {"en": "A renamed concept"}}),
        }
        for kind, (item_id, change) in edits.items():
            _edit_item(Path(library.origin(kind, item_id)), item_id, change)
        unchanged = console.ask("/practice list", until=listing)
        assert scenario.title.en in unchanged  # files are read at reload, not on every request

        assert "✔" in console.ask("/admin reload", until="Content reloaded")

        listed = console.ask("/practice list", until=listing)
        assert "A renamed scenario" in listed and scenario.title.en not in listed
        asked = console.ask(f"/quiz {concept.id} 1", until=quizzed)
        assert "A reworded statement." in asked
        console.ask(f"/concept {concept.id}", until="== A renamed concept ==")
    finally:
        console.close()
    assert console.process.returncode == 0


# --- the swap itself, in-process --------------------------------------------------------
ADMIN = make_actor("boss", admin=True)


async def test_a_refused_reload_keeps_everything_and_lists_every_problem(
    settings: Settings, clock: FixedClock, copy: Path, alice: Actor
) -> None:
    coach = Coach.build(settings.with_overrides(content_dir=copy), clock)
    await coach.start()
    try:
        before = coach.library
        broken = sorted((copy / "scenarios").glob("*.yaml"))[0]
        broken.write_text(broken.read_text(encoding="utf-8") + "\nsurprise: 1\n", "utf-8")
        concept_file = copy / "concepts" / "volume.yaml"
        concept_file.write_text("id: [broken\n", encoding="utf-8")
        [refused] = await coach.run(ADMIN, ("admin", "reload"), {})
        assert refused.tone is Tone.ERROR
        _library, problems = content_registry().check(copy)
        assert f"has {len(problems)} problem(s)" in refused.body
        assert refused.code == "\n".join(problems)  # every one, none left out
        assert f"{broken}: surprise: unknown key" in refused.code
        assert "volume.yaml: invalid YAML" in refused.code
        assert coach.library is before  # nothing was swapped
        [volume] = await coach.run(alice, ("concept",), {"topic": "volume"})
        assert volume.title == "Volume"
    finally:
        await coach.close()


def test_a_derivation_that_fails_keeps_the_current_snapshot(tmp_path: Path) -> None:
    registry = content_registry()
    library = registry.load(CONTENT)
    registry.install(library)
    calls: list[ContentLibrary] = []

    def picky(candidate: ContentLibrary) -> int:
        calls.append(candidate)
        if len(calls) > 1:
            raise ValueError("this library cannot be indexed")
        return len(candidate.items(CONCEPTS))

    derived = registry.derive("a picky index", picky)
    assert derived.get() == len(library.items(CONCEPTS))
    snapshot = registry.snapshot()
    with pytest.raises(ConfigError, match="cannot build a picky index"):
        registry.install(registry.load(CONTENT))
    assert registry.snapshot() is snapshot and derived.get() == len(library.items(CONCEPTS))


async def test_every_derived_value_comes_from_the_library_being_served(copy: Path) -> None:
    registry = content_registry()
    root = registry.derive("the library's folder", lambda library: library.root)
    registry.install(registry.load(CONTENT))
    assert root.get() == CONTENT
    outcome = await registry.reload(copy)
    assert outcome.swapped and outcome.counts == registry.library.counts()
    snapshot = registry.snapshot()
    assert snapshot.library.root == copy and snapshot.derived[root] == copy
    assert snapshot.generation == 2


def test_a_kind_is_registered_once_and_vocabularies_must_exist() -> None:
    registry = ContentRegistry()
    registry.add(CONCEPTS)
    with pytest.raises(ConfigError, match="registered twice"):
        registry.add(CONCEPTS)
    _library, problems = registry.check(CONTENT)  # concepts refer to scenario ids
    assert problems == [
        "concepts: no content kind exports the vocabulary 'scenario' (exported: concept, "
        "concept-example, concept-topic)"
    ]
