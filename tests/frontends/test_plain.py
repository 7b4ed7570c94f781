"""A third front end needs no change in any capability: the test-only JSON front end
(``tests/frontends/plain.py``) drives real commands, a button press, a typed answer,
autocomplete, a long answer and an edit in place through :mod:`bot.core.frontend` alone."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.coach import Coach
from bot.concepts.validation import CONCEPTS
from bot.core.commands import CommandSpec, Request
from bot.core.frontend import Frontend
from bot.core.reply import Choice, Placement, Reply
from bot.quiz.content import QUESTIONS
from tests.conftest import make_actor
from tests.frontends import plain
from tests.frontends.plain import MESSAGE_CHARS, Event, PlainFrontend, Sent
from tests.frontends.replies import docker_logs_output, docker_logs_reply


def texts(messages: list[Sent]) -> str:
    return "\n".join(m.text for m in messages)


def test_it_is_built_from_the_core_alone() -> None:
    tree = ast.parse(Path(plain.__file__).read_text())
    imported = {
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot")
    }
    imported |= {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("bot")
    }
    assert imported and all(name.startswith("bot.core.") for name in imported), imported


def test_every_front_end_is_a_frontend(offline_coach: Coach) -> None:
    from bot.console.app import Console
    from bot.discordbot.frontend import DiscordFrontend

    assert isinstance(PlainFrontend(offline_coach), Frontend)
    assert isinstance(Console(offline_coach, make_actor()), Frontend)
    assert isinstance(DiscordFrontend(offline_coach), Frontend)


async def test_commands_buttons_and_autocomplete(offline_coach: Coach) -> None:
    web = PlainFrontend(offline_coach)
    assert "volume" in await web.suggest(Event("alice", command="concept"), "topic", "volu")

    concept = await web.handle(Event("alice", command="concept", options={"topic": "volume"}))
    assert all(m.to == "room" for m in concept)  # concepts are public
    assert concept[0].text.startswith("# Volume")
    assert all(len(m.text) <= MESSAGE_CHARS for m in concept)
    whole = offline_coach.library.items(CONCEPTS)["volume"].body.en
    assert "".join(texts(concept).split()).count("".join(whole.split())) == 1  # all of it
    buttons = concept[-1]
    assert buttons.data["buttons"], "related concepts are offered as buttons"
    related = buttons.actions[0].label

    opened = await web.handle(Event("alice", press=(buttons.id, 0)))
    assert opened[0].text.startswith(f"# {related}")

    helped = await web.handle(Event("alice", command="help"))
    assert len(helped) > 1 and all(len(m.text) <= MESSAGE_CHARS for m in helped)
    for spec in offline_coach.table.all():
        if not spec.admin_only:
            assert f"/{spec.name}" in texts(helped)
    assert all(m.to == "web:alice" for m in helped)  # private: only alice sees it

    await web.handle(Event("alice", command="language", options={"language": "ko"}))
    korean = await web.handle(Event("alice", command="concept", options={"topic": "volume"}))
    assert korean[0].text.startswith("# 볼륨")


async def test_a_quiz_round_with_buttons_and_a_typed_answer(offline_coach: Coach) -> None:
    """A topic whose questions need both: every one is answered through the page."""
    questions = offline_coach.library.items(QUESTIONS).values()
    kinds: dict[str, set[str]] = {}
    for question in questions:
        for concept in question.concepts:
            kinds.setdefault(concept, set()).add(question.type)
    topic = next(c for c, k in sorted(kinds.items()) if "command" in k and len(k) > 1)
    web = PlainFrontend(offline_coach)
    sent = await web.handle(Event("bob", command="quiz", options={"topic": topic, "count": 20}))
    typed = pressed = 0
    while "form" in sent[-1].data or any(b["enabled"] for b in sent[-1].data["buttons"]):
        last = sent[-1]
        if "form" in last.data:
            assert last.data["form"]["hint"] == "docker …"
            sent = await web.handle(Event("bob", answer="docker logs web"))
            typed += 1
        else:
            sent = await web.handle(Event("bob", press=(last.id, 0)))
            pressed += 1
        assert sent, "every answer is graded"
    assert typed >= 1 and pressed >= 1
    assert f"{typed + pressed}" in sent[-1].text  # the score names the round's size
    progress = await web.handle(Event("bob", command="progress"))
    assert progress and "web:bob" not in texts(progress)  # shown by name, not by id
    assert "Bob" in texts(progress)


async def test_long_output_and_an_edit_in_place(offline_coach: Coach) -> None:
    """Two small test capabilities: a long ``docker logs`` and a counter edited in place."""

    async def logs(_request: Request) -> Reply:
        return docker_logs_reply(5000)

    async def counter(_request: Request) -> Reply:
        return Reply(body="count: 0", choices=(Choice("+1", "count:1"),))

    async def count(_request: Request, action: str, _value: str | None) -> Reply:
        n = int(action.split(":")[1])
        return Reply(
            body=f"count: {n}",
            choices=(Choice("+1", f"count:{n + 1}", disabled=n >= 2),),
            placement=Placement.REPLACE,
        )

    offline_coach.table.add(CommandSpec(("demo-logs",), logs))
    offline_coach.table.add(CommandSpec(("demo-count",), counter))
    offline_coach.table.add_action("count", count)
    web = PlainFrontend(offline_coach)

    [logs_message] = await web.handle(Event("carol", command="demo-logs"))
    assert logs_message.files["docker-logs-web.txt"].decode() == docker_logs_output(5000)
    assert len(logs_message.text) <= MESSAGE_CHARS

    [board] = await web.handle(Event("carol", command="demo-count"))
    for expected in (1, 2):
        [edited] = await web.handle(Event("carol", press=(board.id, 0)))
        assert edited is board and board.text == f"count: {expected}"
    assert board.edits == 2 and len(web.outbox) == 2  # edited, never re-sent
    assert board.data["buttons"] == [{"label": "+1", "enabled": False}]
    assert await web.handle(Event("carol", press=(board.id, 0))) == []
