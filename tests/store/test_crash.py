"""A process killed with SIGKILL while answers are being written loses no acknowledged one."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.settings import REPO_ROOT
from bot.store import Store

ACKS_BEFORE_KILL = 400


@pytest.mark.slow
def test_every_acknowledged_answer_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.store.kill_child", str(path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acked: set[tuple[int, int]] = set()
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", (
            child.stderr.read() if child.stderr else ""
        )
        while len(acked) < ACKS_BEFORE_KILL:
            line = child.stdout.readline()
            assert line, child.stderr.read() if child.stderr else "child ended"
            _, round_id, position = line.split()
            acked.add((int(round_id), int(position)))
        os.kill(child.pid, signal.SIGKILL)
        # Acks already printed but not read yet count too.
        for line in child.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "ack":
                acked.add((int(parts[1]), int(parts[2])))
    finally:
        child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        stored = set(conn.execute("SELECT round_id, position FROM answers").fetchall())
        tallied = conn.execute("SELECT sum(answers) FROM activity").fetchone()[0]
    finally:
        conn.close()
    missing = acked - stored
    assert not missing, f"{len(missing)} acknowledged answers lost"
    assert tallied == len(stored)

    assert asyncio.run(reopen(path)) == "ok"


async def reopen(path: Path) -> str:
    """Open the store again (migrations, WAL recovery) and check it."""
    store = await Store.open(path, FixedClock())
    try:
        return await store.integrity_check()
    finally:
        await store.close()
