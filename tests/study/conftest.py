"""A started coach whose study timers only run when a test ticks them (the fixed clock)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest

from bot.coach import Coach
from bot.console.app import Console
from bot.core.clock import FixedClock
from bot.core.posts import Post
from bot.settings import Settings
from tests.conftest import make_actor


def study_settings(settings: Settings) -> Settings:
    data = settings.model_dump()
    data["study"]["tick_seconds"] = 0  # timers move only when a test calls tick()
    return Settings.model_validate(data)


@pytest.fixture
async def scoach(settings: Settings, clock: FixedClock) -> AsyncIterator[Coach]:
    coach = await Coach.open(study_settings(settings), clock=clock)
    try:
        yield coach
    finally:
        await coach.close()


@pytest.fixture
def posts(scoach: Coach) -> list[Post]:
    """Every post the coach makes during the test."""
    seen: list[Post] = []

    async def keep(post: Post) -> None:
        seen.append(post)

    scoach.posts.subscribe(keep)
    return seen


class Terminal:
    """A console driven line by line, its output read back."""

    def __init__(self, coach: Coach, name: str = "alice", admin: bool = False) -> None:
        self.out = io.StringIO()
        self.console = Console(
            coach,
            make_actor(name, guild="console", admin=admin),
            stdin=io.StringIO(),
            stdout=self.out,
            interactive=False,
            pager=False,
        )
        self.mark = 0

    async def type(self, *lines: str) -> str:
        """Type ``lines``; the output they produced."""
        for line in lines:
            await self.console.handle(line)
        text = self.out.getvalue()[self.mark :]
        self.mark = len(self.out.getvalue())
        return text

    async def answer(self) -> str:
        """Answer the channel's open question: the first button, or a typed command."""
        if self.console.channel_prompt is not None and not self.console.channel_choices:
            return await self.type("docker ps")
        return await self.type("1")


@pytest.fixture
def terminal(scoach: Coach) -> Terminal:
    return Terminal(scoach)
