"""``python -m bot run`` and ``python -m bot sync``."""

from __future__ import annotations

import asyncio
import logging
import sys

import discord

from bot.settings import Settings

log = logging.getLogger("bot.discord")


def run_bot(settings: Settings) -> int:
    """Connect to Discord and serve until stopped; the exit status for the CLI."""
    return asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> int:
    from bot.coach import Coach
    from bot.discordbot.client import CoachBot

    coach = await Coach.open(settings)
    async with coach:
        bot = CoachBot(coach)
        try:
            async with bot:
                await bot.start(settings.discord.token or "")
        except discord.LoginFailure:
            print("Discord refused the token: check DISCORD_TOKEN.", file=sys.stderr)
            return 1
        except discord.PrivilegedIntentsRequired:  # pragma: no cover - we ask for none
            print("Discord refused the intents requested.", file=sys.stderr)
            return 1
    return 0


def sync_commands(settings: Settings, guild_id: int | None) -> int:
    """Register the slash commands globally (slow to spread) or in one server (instant)."""
    return asyncio.run(_sync(settings, guild_id))


async def _sync(settings: Settings, guild_id: int | None) -> int:
    from bot.coach import Coach
    from bot.discordbot.client import CoachBot

    # Only the command table is needed: the coach's services are not started.
    coach = Coach.build(settings)
    bot = CoachBot(coach)
    try:
        async with bot:
            await bot.login(settings.discord.token or "")
            guild = discord.Object(id=guild_id) if guild_id else None
            if guild is not None:
                bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
    except discord.LoginFailure:
        print("Discord refused the token: check DISCORD_TOKEN.", file=sys.stderr)
        return 1
    where = f"server {guild_id}" if guild_id else "all servers (may take up to an hour to show)"
    print(f"Registered {len(synced)} commands for {where}.")
    return 0
