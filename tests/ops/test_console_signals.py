"""SIGTERM and SIGINT to ``python -m bot console`` as a real process: exit 0 with the
database closed, whether the console is serving or still opening the coach."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT
from tests.support import bot_env, run_bot

NO_ENGINE = '[{"name": "none", "url": "tcp://127.0.0.1:9"}]'  # the console needs none here
HANG = 300  # only a guard against a hung process (starting can be slow on a busy machine)


async def start_console(db: Path, home: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "console", "--user", "sig", "--locale", "en",
        "--db", str(db), "--no-pager",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=REPO_ROOT,
        env=bot_env(XDG_DATA_HOME=str(home), COACH_SANDBOX__WORKERS=NO_ENGINE),
    )  # fmt: skip


async def read_until(process: asyncio.subprocess.Process, text: bytes) -> None:
    assert process.stdout is not None
    while True:
        line = await asyncio.wait_for(process.stdout.readline(), HANG)
        assert line, f"the console ended before printing {text!r}"
        if text in line:
            return


def has_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open (it reached the code that opens it)."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except FileNotFoundError:  # the process or one of its descriptors just went away
        return False


def checks_out(db: Path) -> bool:
    check = run_bot("db", "check", "--db", str(db))
    return check.returncode == 0 and check.stdout.strip().endswith("OK")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_serving_console_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    db = tmp_path / "coach.sqlite3"
    console = await start_console(db, tmp_path / "home")
    try:
        assert console.stdin is not None
        console.stdin.write(b"/concept volume\n")
        await console.stdin.drain()
        await read_until(console, b"Volume")  # answered: the console is serving
        console.send_signal(sig)
        assert await asyncio.wait_for(console.wait(), HANG) == 0
    finally:
        if console.returncode is None:
            console.kill()
            await console.wait()
    assert "stop signal received" in (tmp_path / "console.log").read_text()
    assert checks_out(db)


@pytest.mark.slow
async def test_sigterm_while_the_console_is_still_opening_exits_0(tmp_path: Path) -> None:
    """The signal comes while the coach opens its database (held up here by another
    process preparing it): the opening is called off and the process exits 0, not killed."""
    db = tmp_path / "coach.sqlite3"
    preparing = db.with_name(db.name + ".prepare.lock")
    fd = os.open(preparing, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a process migrating the database would
    held = True
    console = await start_console(db, tmp_path / "home")
    try:
        for _ in range(HANG * 10):  # bounded: until the console waits for the lock
            if has_open(console.pid, preparing):
                break
            await asyncio.sleep(0.1)
        assert has_open(console.pid, preparing)
        console.send_signal(signal.SIGTERM)
        os.close(fd)  # the waiting thread may go on, so the process can end
        held = False
        assert await asyncio.wait_for(console.wait(), HANG) == 0
    finally:
        if held:
            os.close(fd)
        if console.returncode is None:
            console.kill()
            await console.wait()
    assert "stop signal received" in (tmp_path / "console.log").read_text()
    assert checks_out(db)
