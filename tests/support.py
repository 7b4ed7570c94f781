"""Helpers shared by tests that run the coach as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys

from bot.settings import REPO_ROOT


def bot_env(**overrides: str) -> dict[str, str]:
    """The test process's environment without a Discord token or COACH_* settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "DISCORD_TOKEN" and not key.startswith("COACH_")
    }
    env.update(overrides)
    return env


def run_bot(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` from the repository root and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env if env is not None else bot_env(),
        timeout=timeout,
        check=False,
    )
