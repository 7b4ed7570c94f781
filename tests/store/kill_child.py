"""Child process for the SIGKILL test: records answers forever, printing an ack after each.

``python -m tests.store.kill_child <db-path>``; an ``ack <round> <position>`` line means the
store said the answer is recorded.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from bot.core.clock import SystemClock
from bot.store import Store
from bot.store.quiz import AnswerInput
from tests.store.helpers import fixed_schedule, person

QUESTIONS = 50


async def learner(store: Store, index: int) -> None:
    who = person(f"learner{index}", f"g{index % 2}")
    due = store.clock.now() + timedelta(days=1)
    while True:
        ids = [(f"q{i}", ()) for i in range(QUESTIONS)]
        round_id = await store.quiz.create_round(who, "quiz", None, ids)
        for position in range(QUESTIONS):
            answer = AnswerInput(round_id, position, f"q{position}", "0", True, 1.0, 3)
            result = await store.quiz.record_answer(who, answer, fixed_schedule(due))
            assert result.recorded
            sys.stdout.write(f"ack {round_id} {position}\n")
            sys.stdout.flush()


async def main(path: Path) -> None:
    store = await Store.open(path, SystemClock())
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.gather(*(learner(store, i) for i in range(8)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
