"""Issue 12's backup "done when": a backup taken while 8 console learners answer quizzes
restores to a database that passes ``db check`` and holds every answer acknowledged before
the backup started. Every coach here is a real ``python -m bot console`` process on one
SQLite file; the backup and the restore are ``python -m bot db …`` processes."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT
from tests.support import bot_env, run_bot

LEARNERS = 8
ROUND = 5  # questions per round (/quiz docker 5)
QUESTIONS = 4 * ROUND  # answers per learner
BEFORE_BACKUP = 2 * ROUND  # answers each learner has acknowledged when the backup starts
ACK = "Next review of this question"  # printed once per recorded answer (English)
# Only a guard against a hung console: eight consoles starting on a loaded 2-core machine can
# take minutes before their first answer, which is not what this test measures.
HANG = 600
NO_ENGINE = '[{"name": "none", "url": "tcp://127.0.0.1:9"}]'  # the quiz needs no sandbox


class Learner:
    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.acked = 0

    async def answer(self) -> None:
        """Answer the next question (choice 1, or the text "1") and wait for the ack; start
        a new round first when the last one is over."""
        assert self.process.stdin is not None and self.process.stdout is not None
        if self.acked % ROUND == 0:
            self.process.stdin.write(f"/quiz docker {ROUND}\n".encode())
        self.process.stdin.write(b"1\n")
        await self.process.stdin.drain()
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), HANG)
            assert line, f"{self.name}'s console ended early"
            if ACK.encode() in line:
                self.acked += 1
                return


async def start_learner(name: str, db: Path, home: Path) -> Learner:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "console", "--user", name, "--locale", "en", "--db", str(db),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=REPO_ROOT,
        env=bot_env(XDG_DATA_HOME=str(home), COACH_SANDBOX__WORKERS=NO_ENGINE),
    )  # fmt: skip
    return Learner(name, process)


def answers_by_user(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT user_id, COUNT(*) FROM answers GROUP BY user_id").fetchall()
    return {user: count for user, count in rows}


@pytest.mark.slow
async def test_backup_while_eight_learners_answer(tmp_path: Path) -> None:
    db = tmp_path / "live" / "coach.sqlite3"
    backup = tmp_path / "backup.sqlite3"
    restored = tmp_path / "restored" / "coach.sqlite3"
    # Create and migrate the database once, so the learners do not race to do it.
    assert run_bot("db", "check", "--db", str(db)).returncode == 2  # no database yet
    env = bot_env(XDG_DATA_HOME=str(tmp_path / "home"), COACH_SANDBOX__WORKERS=NO_ENGINE)
    assert run_bot("console", "--db", str(db), stdin="", env=env).returncode == 0
    learners = [await start_learner(f"learner{i}", db, tmp_path / "home") for i in range(LEARNERS)]
    try:
        await asyncio.gather(*(_answer(learner, BEFORE_BACKUP) for learner in learners))
        acknowledged = {learner.name: learner.acked for learner in learners}
        backing_up = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "db", "backup", str(backup), "--db", str(db),
            cwd=REPO_ROOT, env=bot_env(), stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        # The learners go on answering while the backup runs.
        rest = asyncio.gather(*(_answer(one, QUESTIONS - BEFORE_BACKUP) for one in learners))
        out, _ = await asyncio.wait_for(backing_up.communicate(), HANG)
        assert backing_up.returncode == 0, out
        await rest
    finally:
        for learner in learners:
            if learner.process.stdin is not None:
                learner.process.stdin.close()
        codes = await asyncio.gather(*(one.process.wait() for one in learners))
    assert codes == [0] * LEARNERS

    restore = run_bot("db", "restore", str(backup), "--db", str(restored))
    assert restore.returncode == 0, restore.stdout + restore.stderr
    check = run_bot("db", "check", "--db", str(restored))
    assert check.returncode == 0 and check.stdout.strip().endswith("OK"), check.stdout

    kept = answers_by_user(restored)
    for name, count in acknowledged.items():
        assert kept.get(name, 0) >= count, (name, kept.get(name), count)
    assert sum(answers_by_user(db).values()) == LEARNERS * QUESTIONS


async def _answer(learner: Learner, count: int) -> None:
    for _ in range(count):
        await learner.answer()
