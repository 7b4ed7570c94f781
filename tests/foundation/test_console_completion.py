"""Tab in the console offers what Discord's autocomplete offers; numbered choices can be
picked with the arrow keys or by the start of their label (prompt_toolkit on a pipe)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from bot.coach import Coach
from bot.console.app import Console
from bot.console.completion import suggest
from bot.console.prompt import prompt_session
from bot.core.reply import Choice
from tests.conftest import make_actor

ALICE = make_actor("alice")
CHOICES = [Choice("Volume", "concept:open:volume"), Choice("Image", "concept:open:image")]


async def texts(coach: Coach, line: str, choices=()) -> list[str]:
    return [c.text for c in await suggest(coach, ALICE, line, choices)]


async def test_commands_subcommands_and_option_values(offline_coach: Coach) -> None:
    assert await texts(offline_coach, "/conc") == ["/concept", "/concepts"]
    assert "start" in await texts(offline_coach, "/practice st")
    assert await texts(offline_coach, "/leaderboard w") == ["week"]
    assert "first-container" in await texts(offline_coach, "/practice start fir")


async def test_the_same_suggestions_as_discords_autocomplete(offline_coach: Coach) -> None:
    for line, path, option, partial in (
        ("/concept vol", ("concept",), "topic", "vol"),
        ("/concept 볼륨", ("concept",), "topic", "볼륨"),
        ("/quiz net", ("quiz",), "topic", "net"),
        ("/docker lo", ("docker",), "command", "lo"),
    ):
        discord_values = [
            s.value for s in await offline_coach.complete(ALICE, path, option, partial)
        ]
        assert discord_values, line
        assert await texts(offline_coach, line) == discord_values
    assert "volume" in await texts(offline_coach, "/concept 볼륨")  # Korean names too


async def test_the_learners_own_container_names(offline_coach: Coach, monkeypatch) -> None:
    sandbox = offline_coach.sandbox.reader  # the read model the completer asks

    async def names(actor):
        assert actor.user_id == "alice"
        return ["web", "db"]

    monkeypatch.setattr(sandbox, "container_names", names)
    assert await texts(offline_coach, "/docker logs w") == ["logs web"]
    assert await texts(offline_coach, "/docker stop ") == ["stop web", "stop db"]


async def test_choices_by_number_or_label(offline_coach: Coach) -> None:
    assert await texts(offline_coach, "", CHOICES) == ["1", "2"]
    assert await texts(offline_coach, "im", CHOICES) == ["2"]
    assert await texts(offline_coach, "x", CHOICES) == []


@pytest.fixture
def console(offline_coach: Coach, tmp_path: Path) -> Console:
    out = io.StringIO()
    return Console(offline_coach, ALICE, stdin=io.StringIO(), stdout=out, interactive=True)


Ready = str | Callable[[Buffer], bool] | None


async def typed(console: Console, steps: list[tuple[str, Ready]], tmp_path: Path) -> str:
    """Type each chunk of keys at the prompt; after a chunk, wait until the line reads as
    given, or the condition holds (completions arrive asynchronously, as on a terminal);
    return the line entered."""
    with create_pipe_input() as pipe:
        session = prompt_session(console, tmp_path / "history", input=pipe, output=DummyOutput())
        console.session = session
        changed = asyncio.Event()
        buffer = session.default_buffer
        buffer.on_text_changed += lambda _buffer: changed.set()
        buffer.on_completions_changed += lambda _buffer: changed.set()
        reading = asyncio.ensure_future(console._read_line())
        for _ in range(500):  # until the prompt runs (it reads the keys from then on)
            if session.app.is_running:
                break
            await asyncio.sleep(0.01)
        for keys, then in steps:
            pipe.send_text(keys)
            async with asyncio.timeout(10):
                while not ready(buffer, then):
                    changed.clear()
                    await changed.wait()
        line = await asyncio.wait_for(reading, 10)
        assert line is not None
        return line


def ready(buffer: Buffer, then: Ready) -> bool:
    if then is None:
        return True
    if isinstance(then, str):
        return buffer.text == then
    return then(buffer)


def menu_open(buffer: Buffer) -> bool:
    return buffer.complete_state is not None and bool(buffer.complete_state.completions)


async def test_tab_completes_on_the_prompt(console: Console, tmp_path: Path) -> None:
    steps = [("/concep\t", "/concept"), ("\r", None)]
    assert await typed(console, steps, tmp_path) == "/concept"
    # Many suggestions (the same as Discord's): Tab opens them, Tab again takes the first.
    steps = [("/concept volu\t", menu_open), ("\t", "/concept volume"), ("\r", None)]
    assert await typed(console, steps, tmp_path) == "/concept volume"


async def test_arrow_keys_and_label_starts_pick_a_choice(console: Console, tmp_path: Path) -> None:
    console.choices = list(CHOICES)
    down = "\x1b[B"
    steps = [(down, "1"), (down, "2"), ("\r", None)]
    assert await typed(console, steps, tmp_path) == "2"
    line = await typed(console, [("Im\r", None)], tmp_path)
    assert line == "Im"
    await console.handle(line)  # the start of a label picks it
    assert isinstance(console.stdout, io.StringIO)
    assert "Image" in console.stdout.getvalue()


async def test_piped_lines_are_read_as_before(offline_coach: Coach) -> None:
    console = Console(offline_coach, ALICE, stdin=io.StringIO("Im\n"), stdout=io.StringIO())
    console.choices = list(CHOICES)
    assert console.session is None
    line = await console._read_line()
    await console.handle(line or "")
    assert "Commands start with /" in console.stdout.getvalue()  # no guessing when piped


async def test_the_consoles_own_commands_complete_too(offline_coach: Coach) -> None:
    assert await texts(offline_coach, "/a") == ["/admin", "/as", "/attach"]
    assert await texts(offline_coach, "/as") == ["/as"]
    members = ["alice", "bob", "bella"]
    found = await suggest(offline_coach, ALICE, "/as b", (), members)
    assert [c.text for c in found] == ["bob", "bella"] and all(c.replace == 1 for c in found)
    assert [c.text for c in await suggest(offline_coach, ALICE, "/as ", (), members)] == members
    assert await suggest(offline_coach, ALICE, "/as bob x", (), members) == []  # one word


async def test_tab_completes_as_and_the_members_typed_as(console: Console, tmp_path: Path) -> None:
    await console.handle("/as bob")
    await console.handle("/as carol")
    steps = [("/as b\t", "/as bob"), ("\r", None)]
    assert await typed(console, steps, tmp_path) == "/as bob"
