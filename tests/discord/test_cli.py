"""``python -m bot run`` / ``sync`` without a token: exit 2 with a one-line hint."""

from __future__ import annotations

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
