"""A channel quiz round under load: MEMBERS members answering one question.

Run from the repository root: .venv/bin/python -m bench.study_bench [MEMBERS] [SECONDS]

Through the whole coach (press → grade → one write with the FSRS card and the tallies → the
board published) on a real SQLite file, with the Discord front end's live-message queue
(``bot.discordbot.live.LivePoster``, its default interval) in front of a fake channel whose
every send or edit takes LATENCY seconds, as Discord's REST API would.

1. burst: every member presses at the same instant; answers/s through the coach;
2. spread: the members answer at random moments within SECONDS (default 10) of real time,
   each pressing twice (the second press must record nothing).

Printed side by side for both: answers recorded / expected (no lost and no double-counted
answers), answers/s, board versions published vs channel edits made (coalescing), and the
most edits in any 5 s window vs Discord's limit of 5 per 5 s per channel.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.coach import Coach
from bot.core.clock import FixedClock
from bot.core.context import Actor
from bot.core.posts import Post
from bot.discordbot.live import LivePoster
from bot.settings import Settings, load_settings

CHANNEL = "4242"
GUILD = "77"
LATENCY = 0.05  # seconds per REST call
DISCORD_LIMIT = 5  # edits per channel per 5 s


@dataclass
class FakeChannel:
    """A channel that only records when it was written to."""

    moments: list[float] = field(default_factory=list)
    edits: int = 0
    sends: int = 0

    async def send(self, **_kwargs: Any) -> FakeMessage:
        await asyncio.sleep(LATENCY)
        self.moments.append(time.perf_counter())
        self.sends += 1
        return FakeMessage(self, len(self.moments))

    def get_partial_message(self, message_id: int) -> FakeMessage:
        return FakeMessage(self, message_id)


@dataclass
class FakeMessage:
    channel: FakeChannel
    id: int

    async def edit(self, **_kwargs: Any) -> None:
        await asyncio.sleep(LATENCY)
        self.channel.moments.append(time.perf_counter())
        self.channel.edits += 1


class FakeClient:
    def __init__(self) -> None:
        self.channel = FakeChannel()

    def get_partial_messageable(self, _channel_id: int, guild_id: int | None = None) -> FakeChannel:
        return self.channel


def settings_in(folder: Path) -> Settings:
    data = load_settings(environ={}).model_dump()
    data["data_dir"] = folder
    data["study"]["tick_seconds"] = 0
    return Settings.model_validate(data)


def actor(index: int) -> Actor:
    return Actor(f"m{index}", f"Member {index}", GUILD, "en", channel_id=CHANNEL)


async def one_round(members: int, spread: float, folder: Path) -> dict[str, float]:
    settings = settings_in(folder)
    coach = await Coach.open(settings, clock=FixedClock())
    client = FakeClient()
    poster = LivePoster(
        client,  # type: ignore[arg-type]
        lambda: coach.translator("en"),
        settings.discord.live_edit_seconds,
    )
    coach.posts.subscribe(poster.post)
    shown: list[Post] = []

    async def keep(post: Post) -> None:
        shown.append(post)

    coach.posts.subscribe(keep)
    try:
        host = actor(0)
        await coach.run(host, ("study", "quiz"), {"count": 1, "seconds": 300})
        await poster.drain()
        question = poster.stats.posted  # the question and the first board
        store = coach.store
        assert store is not None
        round_ = await store.study.live_round(GUILD, CHANNEL)
        assert round_ is not None
        reply = next(p.reply for p in shown if p.key and p.key.startswith("study:q:"))
        if reply.choices:
            action = random.choice(reply.choices).action
        else:
            assert reply.prompt is not None
            action = reply.prompt.action

        async def member(index: int) -> None:
            if spread:
                await asyncio.sleep(random.uniform(0, spread))
            await coach.press(actor(index), action, "docker ps")
            if spread:
                await coach.press(actor(index), action, "docker ps")  # must not count

        started = time.perf_counter()
        await asyncio.gather(*(member(i) for i in range(1, members + 1)))
        answered = time.perf_counter() - started
        await poster.drain()
        recorded = await store.study.answer_count(round_.round_id)
        standings = await store.study.standings(round_.round_id)
        counted = sum(s.answered for s in standings)
        moments = client.channel.moments
        window = max(
            (sum(1 for m in moments if start <= m < start + 5) for start in moments), default=0
        )
        span = (moments[-1] - moments[0]) if len(moments) > 1 else 1.0
        return {
            "recorded": recorded,
            "counted": counted,
            "expected": members,
            "answers/s": members / answered,
            "board versions": poster.stats.posted - question,
            "channel writes": client.channel.edits + client.channel.sends,
            "writes/s": len(moments) / span,
            "max writes in 5 s": window,
        }
    finally:
        await poster.close()
        await coach.close()


async def main(members: int, spread: float) -> None:
    with tempfile.TemporaryDirectory() as burst_dir, tempfile.TemporaryDirectory() as spread_dir:
        burst = await one_round(members, 0.0, Path(burst_dir))
        spread_out = await one_round(members, spread, Path(spread_dir))
    print(f"channel round, {members} members, live-edit interval 1 s, REST latency {LATENCY} s")
    print(f"{'':24}{'burst':>12}{f'spread {spread:g} s':>16}")
    for key in burst:
        a, b = burst[key], spread_out[key]
        print(f"{key:24}{a:>12.1f}{b:>16.1f}")
    ok = all(r["recorded"] == r["counted"] == r["expected"] for r in (burst, spread_out)) and all(
        r["max writes in 5 s"] <= DISCORD_LIMIT for r in (burst, spread_out)
    )
    ratio = spread_out["board versions"] / max(1, spread_out["channel writes"])
    print(
        f"complete and within Discord's {DISCORD_LIMIT} writes per 5 s: {'yes' if ok else 'NO'}; "
        f"coalescing (spread): {ratio:.1f} board versions per channel write"
    )


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    asyncio.run(main(count, seconds))
