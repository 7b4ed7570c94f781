"""The "done when" of the quiz issue, in real console processes sharing one --db."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import bot_env, run_bot


def console(db: Path, home: Path, lines: list[str], user: str = "u") -> str:
    # XDG_DATA_HOME: downloads (the chart) go there, not to ~/.local
    done = run_bot(
        "console",
        "--user",
        user,
        "--db",
        str(db),
        stdin="\n".join(lines) + "\n",
        env=bot_env(XDG_DATA_HOME=str(home)),
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_quiz_then_progress_across_processes(tmp_path: Path) -> None:
    db = tmp_path / "coach.sqlite3"
    first = console(db, tmp_path / "home", ["/quiz docker 3", "1", "1", "1", "/progress"])
    assert "Question 1 of 3" in first and "Question 3 of 3" in first
    assert re.search(r"== Score: \d/3 ==", first)
    assert re.search(r"3 answered, \d correct", first)
    assert "progress.png" in first

    second = console(db, tmp_path / "home", ["/progress", "/leaderboard"])
    assert re.search(r"3 answered, \d correct", second)
    board = second.split("Leaderboard")[1]
    assert re.search(r"1\. u — \d points", board)
