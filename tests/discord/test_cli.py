"""``python -m bot run`` / ``sync`` without a token: exit 2 with a one-line hint."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import REPO_ROOT


@pytest.mark.parametrize("command", [["run"], ["sync", "--guild", "123"]])
def test_no_token_exits_2_with_a_hint(command, tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN" and not k.startswith("COACH_")
    }
    env["COACH_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0]
    assert done.stdout == ""
