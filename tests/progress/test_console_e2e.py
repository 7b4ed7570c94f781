"""The "done when" of the quiz issue, in real console processes sharing one --db."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT


def console(db: Path, home: Path, lines: list[str], user: str = "u") -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env["XDG_DATA_HOME"] = str(home)  # downloads (the chart) go here, not to ~/.local
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", user, "--db", str(db)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
        check=False,
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
