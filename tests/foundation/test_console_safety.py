"""What the console prints and reads on a learner's behalf: a container's output cannot drive
the terminal, and ``/attach`` checks a file's size before reading it."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from bot.coach import Coach
from bot.console.app import Console
from bot.console.terminal import RESET, clean
from bot.core.commands import CommandSpec, Request
from bot.core.reply import Reply
from tests.conftest import make_actor

HOSTILE = (
    "\x1b[2J\x1b[H"  # clear the screen, cursor home
    "\x1b]0;owned\x07"  # window title
    "\x1b]52;c;cm0gLXJmIH4=\x1b\\"  # write to the clipboard (OSC 52)
    "\x1bP+q544e\x1b\\"  # DCS: ask the terminal to answer
    "\x9b6n"  # 8-bit CSI: report the cursor position
    "\x1b[31mred\x1b[0m"  # colours
    "\tok\r\nnext\x08\x07\x1b"
)


def test_control_sequences_are_removed() -> None:
    assert clean(HOSTILE) == "red\tok\nnext"
    assert clean("plain text\n\ttabbed") == "plain text\n\ttabbed"
    assert clean("한국어 텍스트 ✔") == "한국어 텍스트 ✔"


def test_colours_are_kept_when_asked_and_reset_at_the_end() -> None:
    assert clean(HOSTILE, colours=True) == "\x1b[31mred\x1b[0m\tok\nnext" + RESET
    assert clean("no colours", colours=True) == "no colours"


def _console(coach: Coach, colours: bool = False) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    console = Console(
        coach,
        make_actor(),
        stdin=io.StringIO(""),
        stdout=out,
        interactive=False,
        colours=colours,
    )
    return console, out


async def test_sandbox_output_reaches_the_terminal_as_text(offline_coach: Coach) -> None:
    async def noisy(_request: Request) -> Reply:
        return Reply(title="logs \x1b]0;t\x07", body="engine said \x1b[2K", code=HOSTILE)

    offline_coach.table.add(CommandSpec(("noisy",), noisy))
    console, out = _console(offline_coach)
    await console.handle("/noisy")
    printed = out.getvalue()
    assert "\x1b" not in printed and "\x9b" not in printed and "\x07" not in printed
    assert "red\tok" in printed and "== logs  ==" in printed
    coloured, out = _console(offline_coach, colours=True)
    await coloured.handle("/noisy")
    assert "\x1b[31mred" in out.getvalue() and "\x1b]" not in out.getvalue()


async def test_attach_checks_the_size_before_reading(offline_coach: Coach, tmp_path: Path) -> None:
    limit = offline_coach.settings.sandbox.upload_max_bytes
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as handle:  # 1 GiB that takes no disk (and must take no memory)
        handle.truncate(1024**3)
    exact = tmp_path / "exact.bin"
    exact.write_bytes(b"x" * limit)
    console, out = _console(offline_coach)
    await console.handle(f"/attach {huge}")
    assert f"it is {1024**3} bytes" in out.getvalue() and not console.uploads
    await console.handle(f"/attach {tmp_path}")
    assert "not a regular file" in out.getvalue() and not console.uploads
    await console.handle(f"/attach {exact}")
    assert f"exact.bin ({limit} bytes)" in out.getvalue() and len(console.uploads) == 1


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
async def test_attach_refuses_a_device_that_never_ends(offline_coach: Coach) -> None:
    console, out = _console(offline_coach)
    await console.handle("/attach /dev/zero")
    assert "not a regular file" in out.getvalue() and not console.uploads
