"""Store throughput and /progress latency on a real SQLite file (WAL, synchronous=FULL).

Run from the repository root: .venv/bin/python -m bench.store_bench [ANSWERS] [USERS]

1. Answers recorded per second, sustained, with USERS learners answering at once (each
   answer: a row in answers, the tally triggers, an FSRS review and the card upsert; the
   caller is told only after COMMIT). Targets on 2 cores: at least 1,000 answers/s.
2. /progress latency (p50/p99) over a database holding 100,000 answers, through the whole
   coach (queries, streaks, mastery and the PNG chart). Target: under 20 ms.
3. The same /progress queries with one shared connection versus a separate read-only
   reader, idle and while answers are being written.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.coach import Coach
from bot.core.clock import FixedClock
from bot.core.context import Actor
from bot.quiz.scheduling import Reviewer
from bot.settings import Settings, load_settings
from bot.store import Store
from bot.store.quiz import AnswerInput
from bot.store.timefmt import stamp

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SEED_ANSWERS = 100_000
ROUND = 10


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1]


# 1. write throughput ------------------------------------------------------------------
async def throughput(path: Path, answers: int, users: int, separate_reader: bool) -> dict:
    clock = FixedClock(NOW)
    store = await Store.open(path, clock, separate_reader=separate_reader)
    reviewer = Reviewer()
    per_user = answers // users

    async def learner(index: int) -> None:
        who = Actor(f"bench{index}", f"Bench {index}", f"g{index % 4}")
        done = 0
        while done < per_user:
            ids = [(f"q{i}", ()) for i in range(ROUND)]
            round_id = await store.quiz.create_round(who, "quiz", None, ids)
            for position in range(ROUND):
                rating = random.choice((1, 3, 3, 4))
                answer = AnswerInput(round_id, position, f"q{position}", "0", rating > 1, 5, rating)
                await store.quiz.record_answer(who, answer, reviewer.schedule(rating, NOW))
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(learner(i) for i in range(users)))
    elapsed = time.perf_counter() - started
    jobs, batches = store.db.jobs, store.db.batches
    await store.close()
    total = per_user * users
    return {
        "answers": total,
        "seconds": elapsed,
        "per_second": total / elapsed,
        "jobs_per_commit": jobs / max(1, batches),
    }


# 2. seeding 100,000 answers -----------------------------------------------------------
def seed(path: Path, total: int, heavy_user: str) -> None:
    """Fill a migrated database quickly (one transaction, triggers on), for read benchmarks.

    One learner (``heavy_user``) has 20,000 answers over a year; 400 others share the rest.
    """
    rng = random.Random(7)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN")
    users = [heavy_user] + [f"user{i}" for i in range(400)]
    for user in users:
        conn.execute(
            "INSERT INTO users (user_id, display_name, created_at) VALUES (?, ?, ?)",
            (user, user, stamp(NOW - timedelta(days=400))),
        )
        conn.execute(
            "INSERT INTO memberships VALUES ('g1', ?, ?, ?, ?)",
            (user, user, stamp(NOW - timedelta(days=400)), stamp(NOW)),
        )
    questions = [f"q{i}" for i in range(300)]
    written = 0
    round_id = 0
    while written < total:
        user = heavy_user if written < 20_000 else rng.choice(users[1:])
        round_id += 1
        when = NOW - timedelta(days=rng.randint(0, 364), minutes=rng.randint(0, 600))
        conn.execute(
            "INSERT INTO rounds (round_id, user_id, guild_id, kind, size, created_at) "
            "VALUES (?, ?, 'g1', 'quiz', ?, ?)",
            (round_id, user, ROUND, stamp(when)),
        )
        picked = rng.sample(questions, ROUND)
        conn.executemany(
            "INSERT INTO round_questions (round_id, position, question_id, shown_at) "
            "VALUES (?, ?, ?, ?)",
            [(round_id, p, q, stamp(when)) for p, q in enumerate(picked)],
        )
        conn.executemany(
            "INSERT INTO answers (round_id, position, user_id, guild_id, question_id, given, "
            "correct, seconds, rating, answered_at) VALUES (?, ?, ?, 'g1', ?, '0', ?, 5, 3, ?)",
            [
                (round_id, p, user, q, int(rng.random() < 0.7), stamp(when + timedelta(seconds=p)))
                for p, q in enumerate(picked)
            ],
        )
        for q in picked:
            conn.execute(
                "INSERT INTO cards (user_id, guild_id, question_id, card, due, last_review) "
                "VALUES (?, 'g1', ?, '{}', ?, ?) ON CONFLICT DO UPDATE SET due = excluded.due",
                (user, q, stamp(when + timedelta(days=rng.randint(1, 60))), stamp(when)),
            )
        written += ROUND
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


async def progress_latency(settings: Settings, actor: Actor, repeat: int) -> list[float]:
    """Milliseconds per full /progress through the coach (queries + streaks + chart)."""
    coach = await Coach.open(settings, clock=FixedClock(NOW))
    try:
        for _ in range(10):
            await coach.run(actor, ("progress",))
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            replies = await coach.run(actor, ("progress",))
            samples.append((time.perf_counter() - started) * 1000)
        assert replies[0].image is not None, replies[0].body
        return samples
    finally:
        await coach.close()


async def query_latency(
    path: Path, user: str, repeat: int, separate_reader: bool, under_load: bool
) -> list[float]:
    """Milliseconds for the store reads of one /progress, idle or while answers stream in."""
    store = await Store.open(path, FixedClock(NOW), separate_reader=separate_reader)
    stop = asyncio.Event()
    reviewer = Reviewer()

    async def writer(index: int) -> None:
        who = Actor(f"load{index}", "load", "g1")
        while not stop.is_set():
            round_id = await store.quiz.create_round(who, "quiz", None, [("w", ())] * ROUND)
            for position in range(ROUND):
                answer = AnswerInput(round_id, position, "w", "0", True, 5, 3)
                await store.quiz.record_answer(who, answer, reviewer.schedule(3, NOW))

    writers = [asyncio.create_task(writer(i)) for i in range(8)] if under_load else []
    samples = []
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            await store.progress.totals(user, "g1")
            await store.progress.days(user, "g1")
            await store.quiz.question_stats(user, "g1")
            await store.quiz.upcoming(user, "g1", 20)
            await store.practice.steps_done(user, "g1")
            samples.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0)
    finally:
        stop.set()
        await asyncio.gather(*writers)
        await store.close()
    return samples


def show(label: str, samples: list[float]) -> float:
    p50, p99 = statistics.median(samples), percentile(samples, 99)
    print(f"  {label:46s} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    return p50


async def main() -> None:
    answers = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    users = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    print(f"cores: {os.cpu_count()}; SQLite {sqlite3.sqlite_version}; WAL, synchronous=FULL")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"\n1. answers recorded ({answers:,} answers, {users} learners at once)")
        runs = [(True, users, answers), (False, users, answers), (True, 1, answers // 10)]
        for separate, learners, count in runs:
            name = f"w{separate}{learners}.sqlite3"
            result = await throughput(root / name, count, learners, separate)
            mode = "separate reader" if separate else "one connection"
            print(
                f"  {mode:16s} {learners:2d} learner(s) {result['per_second']:8,.0f} answers/s"
                f"   ({result['seconds']:.1f} s; {result['jobs_per_commit']:.1f} jobs per commit)"
                f"   ratio to target 1,000/s: {result['per_second'] / 1000:.1f}x"
            )

        path = root / "seeded.sqlite3"
        store = await Store.open(path, FixedClock(NOW))
        await store.close()
        started = time.perf_counter()
        seed(path, SEED_ANSWERS, "heavy")
        count = sqlite3.connect(path).execute("SELECT count(*) FROM answers").fetchone()[0]
        seeded = time.perf_counter() - started
        print(
            f"\n2. /progress with {count:,} answers (seeded in {seeded:.1f} s;"
            " the learner asked about has 20,000 of them)"
        )
        base = load_settings(environ={}).model_dump()
        base["data_dir"] = root / "data"
        base["database"] = path
        settings = Settings.model_validate(base)
        actor = Actor("heavy", "Heavy", "g1")
        p50 = show(
            "whole /progress through the coach", await progress_latency(settings, actor, 300)
        )
        print(f"  ratio to target 20 ms: {20 / p50:.1f}x headroom at p50")

        print("\n3. the store reads of one /progress")
        for separate in (True, False):
            mode = "separate reader" if separate else "one connection"
            for load in (False, True):
                samples = await query_latency(path, "heavy", 300, separate, load)
                show(f"{mode}, {'while 8 learners answer' if load else 'idle'}", samples)


if __name__ == "__main__":
    asyncio.run(main())
