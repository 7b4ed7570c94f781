"""Issue 10's done-when: from one and the same Reply carrying a 5,000-line ``docker logs``
output, the console shows it whole (paged on a terminal) and Discord sends it as a file."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from bot.coach import Coach
from bot.console import app as console_app
from bot.console.app import Console, Turn
from bot.core.i18n import Translator
from bot.discordbot import limits
from bot.discordbot.render import HEAD_LINES, Renderer
from tests.conftest import make_actor
from tests.frontends.plain import CODE_CHARS, PlainFrontend
from tests.frontends.replies import docker_logs_output, docker_logs_reply

LINES = 5000


class Terminal(io.StringIO):
    """Standard output as a terminal (``isatty``), captured."""

    def isatty(self) -> bool:
        return True


def at_terminal(coach: Coach, out: io.StringIO, **options: bool) -> Console:
    """A console whose user types at a terminal."""
    return Console(
        coach, make_actor(), stdin=io.StringIO(), stdout=out, interactive=True, **options
    )


async def test_the_console_shows_5000_lines_whole_when_piped(offline_coach: Coach) -> None:
    reply = docker_logs_reply(LINES)
    out = io.StringIO()
    console = Console(offline_coach, make_actor(), stdin=io.StringIO(), stdout=out)
    await console.present(Turn(), [reply])
    assert out.getvalue() == docker_logs_output(LINES) + "\n"


async def test_the_console_pages_5000_lines_on_a_terminal(
    offline_coach: Coach, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = docker_logs_reply(LINES)
    paged = tmp_path / "paged.txt"
    pager = f"{sys.executable} -c 'import sys; open(sys.argv[1], \"w\").write(sys.stdin.read())'"
    monkeypatch.setenv("PAGER", f"{pager} {paged}")
    monkeypatch.setattr(console_app, "_screen_lines", lambda: 40)
    out = Terminal()
    console = Console(
        offline_coach, make_actor(), stdin=io.StringIO(), stdout=out, interactive=True
    )
    await console.present(Turn(), [reply])
    assert paged.read_text() == docker_logs_output(LINES) + "\n"  # whole, through the pager
    assert out.getvalue() == ""
    short = Terminal()
    console = Console(
        offline_coach, make_actor(), stdin=io.StringIO(), stdout=short, interactive=True
    )
    await console.present(Turn(), [docker_logs_reply(10)])
    assert short.getvalue().count("\n") == 10  # fits the screen: printed, not paged


async def test_a_pager_that_cannot_start_falls_back_to_printing(
    offline_coach: Coach, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGER", "/no/such/pager --flag")
    monkeypatch.setattr(console_app, "_screen_lines", lambda: 40)
    out = Terminal()
    await at_terminal(offline_coach, out).present(Turn(), [docker_logs_reply(LINES)])
    assert out.getvalue() == docker_logs_output(LINES) + "\n"


async def test_no_pager_means_whole_on_the_terminal(offline_coach: Coach) -> None:
    out = Terminal()
    await at_terminal(offline_coach, out, pager=False).present(Turn(), [docker_logs_reply(LINES)])
    assert out.getvalue() == docker_logs_output(LINES) + "\n"


def test_discord_sends_the_same_5000_lines_as_a_file(library) -> None:
    reply = docker_logs_reply(LINES)
    [message] = Renderer(Translator(library.catalog, "en")).render(reply)
    [file] = message.files
    assert file.filename == "docker-logs-web.txt"
    assert file.data.decode() == docker_logs_output(LINES)
    assert message.content is not None and len(message.content) <= limits.MESSAGE_CONTENT
    shown = message.content.split("```")[1].strip("\n").split("\n")
    assert shown == docker_logs_output(LINES).split("\n")[: len(shown)]
    assert 0 < len(shown) <= HEAD_LINES
    assert f"{LINES} lines" in message.content and "docker-logs-web.txt" in message.content


async def test_a_third_front_end_fits_the_same_reply_its_own_way(offline_coach: Coach) -> None:
    web = PlainFrontend(offline_coach)
    [message] = web.render(docker_logs_reply(LINES))
    assert len(docker_logs_output(LINES)) > CODE_CHARS
    assert message.files["docker-logs-web.txt"].decode() == docker_logs_output(LINES)
    assert message.text.startswith(docker_logs_output(5))
