"""A test-only capability and extension: commands with known timing, files, prompts, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from bot.core.commands import CommandSpec, OptionKind, OptionSpec, Request
from bot.core.reply import Choice, Placement, Reply, TextPrompt
from bot.discordbot import cooldowns
from bot.discordbot.cog import FeatureCog
from bot.discordbot.policy import Policy
from tests.frontends.replies import docker_logs_output

LONG_OUTPUT = docker_logs_output(5000)
SLOW_GATE: asyncio.Event | None = None  # set by a test: /slow waits for it to open


def register(coach: Any) -> None:
    async def work(request: Request) -> Reply:
        uploads = [f"{u.filename}:{len(await u.read())}" for u in request.actor.uploads]
        text = str(request.opt("text", "hi"))
        return Reply(
            body=f"@everyone {text} uploads={','.join(uploads) or '-'}",
            code=f"ran for {request.actor.user_id}",
        )

    async def slow(request: Request) -> Reply:
        if SLOW_GATE is not None:
            await SLOW_GATE.wait()
        return Reply(body="slow done", private=False)

    async def long(_request: Request) -> Reply:
        return Reply(title="long", code=LONG_OUTPUT, code_name="long.txt")

    async def ask(request: Request) -> Reply:
        return Reply(
            body="type something",
            choices=(Choice("Again", "echo:again"),),
            prompt=TextPrompt("echo:typed", "Your answer", "e.g. docker ps"),
        )

    async def echo(request: Request, action: str, value: str | None) -> Reply:
        return Reply(body=f"{action} value={value} by={request.actor.user_id}")

    async def counter(_request: Request) -> Reply:
        return Reply(body="count: 0", choices=(Choice("+1", "count:1"),))

    async def count(_request: Request, action: str, _value: str | None) -> list[Reply]:
        n = int(action.split(":")[1])
        again = Choice("+1", f"count:{n + 1}", disabled=n >= 1)
        return [
            Reply(body=f"count: {n}", choices=(again,), placement=Placement.REPLACE),
            Reply(body=f"counted to {n}"),
        ]

    table = coach.table
    table.add(
        CommandSpec(
            ("work",),
            work,
            (OptionSpec("text"), OptionSpec("file", OptionKind.ATTACHMENT)),
            touches_worker=True,
            share_option=True,
        )
    )
    table.add(CommandSpec(("slow",), slow))
    table.add(CommandSpec(("long",), long))
    table.add(CommandSpec(("ask",), ask))
    table.add(CommandSpec(("counter",), counter))
    table.add_action("echo", echo)
    table.add_action("count", count)


class Testing(FeatureCog):
    POLICIES: ClassVar[Mapping[str, Policy]] = {
        "work": Policy(defer=True, cooldown=cooldowns.SANDBOX),
        "slow": Policy(),
        "long": Policy(),
        "ask": Policy(),
        "counter": Policy(),
    }


async def setup(bot: Any) -> None:
    await bot.add_cog(Testing(bot))
