"""``python -m bot run`` / ``sync`` without a token: exit 2 with a one-line hint."""

from __future__ import annotations

import socket

import pytest

from tests.support import bot_env, run_bot


@pytest.mark.parametrize(
    "command", [["run"], ["sync", "--guild", "123"], ["sync", "--clear-guild", "123"]]
)
def test_no_token_exits_2_with_a_hint(command, tmp_path):
    done = run_bot(*command, env=bot_env(COACH_DATA_DIR=str(tmp_path)), timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0]
    assert done.stdout == ""


@pytest.mark.parametrize("command", [["sync", "--guild", "123"], ["sync", "--clear-guild", "123"]])
def test_an_unreachable_discord_exits_1_with_one_line(command, tmp_path):
    """No route to Discord (here: a closed port) ends with one line naming where, not a
    traceback."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{probe.getsockname()[1]}/api/v10"
    env = bot_env(
        COACH_DATA_DIR=str(tmp_path), DISCORD_TOKEN="test-token", COACH_DISCORD__API_BASE=base
    )
    done = run_bot(*command, env=env, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr  # the log may say more; no traceback
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Cannot reach Discord at {base}: "), done.stderr
    assert done.stdout == ""
