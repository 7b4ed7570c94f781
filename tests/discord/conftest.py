"""Fixtures for the Discord tests: a started coach, the loopback stand-in, a logged-in bot.

The coach is built from ``check_content`` (content problems are ``content check``'s job,
not these tests'); the store is a real SQLite file in a temporary folder.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.coach import Coach, check_content
from bot.core.clock import FixedClock
from bot.discordbot.client import EXTENSIONS, CoachBot
from bot.settings import Settings
from tests.conftest import CONTENT
from tests.discord import testing_ext
from tests.discord.standin import Standin, StandinClock

TEST_EXTENSIONS = (*EXTENSIONS, "tests.discord.testing_ext")


def build_coach(settings: Settings, clock: FixedClock, extra: bool = True) -> Coach:
    library, _problems = check_content(CONTENT)
    coach = Coach(settings, library, clock=clock)
    if extra:
        testing_ext.register(coach)
    return coach


@pytest.fixture
async def dcoach(settings: Settings, clock: FixedClock) -> AsyncIterator[Coach]:
    coach = build_coach(settings, clock)
    await coach.start()
    try:
        yield coach
    finally:
        await coach.close()


@pytest.fixture
async def standin() -> AsyncIterator[Standin]:
    server = Standin(StandinClock(frozen=True))
    await server.start()
    try:
        async with server.pointed_at():
            yield server
    finally:
        await server.stop()
    # Anything the bot sent that Discord would have refused (a test of the rules clears it).
    assert not server.refused_forms, server.refused_forms


async def logged_in_bot(coach: Coach, **options: Any) -> CoachBot:
    bot = CoachBot(coach, extensions=TEST_EXTENSIONS, **options)
    await bot.login("test-token")  # runs setup_hook: extensions, translator, dynamic items
    return bot


@pytest.fixture
async def bot(dcoach: Coach, standin: Standin) -> AsyncIterator[CoachBot]:
    client = await logged_in_bot(dcoach)
    try:
        yield client
    finally:
        await client.close()
        await asyncio.sleep(0)
