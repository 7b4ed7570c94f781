"""``python -m bot run`` and ``python -m bot sync``."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.core.logs import flush_logs
from bot.core.loops import loop_factory
from bot.settings import DiscordSettings, Settings

if TYPE_CHECKING:
    from bot.coach import Coach
    from bot.discordbot.client import CoachBot
    from bot.ops.shutdown import StopSignals

log = logging.getLogger("bot.discord")


def point_at(settings: DiscordSettings) -> None:
    """Use the REST API and gateway the settings name. Settings left at Discord's addresses
    leave discord.py's own alone (so whoever pointed discord.py elsewhere keeps it so)."""
    defaults = DiscordSettings()
    if settings.api_base != defaults.api_base:
        discord.http.Route.BASE = settings.api_base.rstrip("/")
    if settings.gateway_url != defaults.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def _fail(line: str) -> int:
    """Say why the command ends, as the last line on stderr (after every log record so
    far: the log is written by a thread of its own), and give the exit code 1."""
    flush_logs()
    print(line, file=sys.stderr)
    return 1


def unreachable(settings: DiscordSettings, exc: Exception) -> str:
    """One line for a Discord the process cannot reach at all (no network, DNS, a proxy):
    the exit status says to try again, a supervisor's restart does."""
    return f"Cannot reach Discord at {settings.api_base}: {exc}"


def gateway_connected(client: discord.Client) -> bool:
    ws = getattr(client, "ws", None)
    return bool(ws is not None and ws.open and not client.is_closed() and client.is_ready())


def run_bot(settings: Settings) -> int:
    """Connect to Discord and serve until stopped (on the event loop the settings name); the
    exit status for the CLI."""
    factory = loop_factory(settings.event_loop, settings.event_loop_priority)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(_serve(settings))


async def _serve(settings: Settings) -> int:
    """Serve until Discord ends the session or SIGTERM/SIGINT arrives (then: stop taking
    commands, let running ones finish, close Discord, the engines and the store; exit 0)."""
    from bot.coach import Coach
    from bot.ops.shutdown import Stopped, StopSignals

    point_at(settings.discord)
    with StopSignals() as signals:
        try:
            coach = await signals.unless_stopped(Coach.open(settings))
        except Stopped:
            log.info("stopped while starting")
            return 0
        return await _serve_coach(settings, coach, signals)


async def _serve_coach(settings: Settings, coach: Coach, signals: StopSignals) -> int:
    from bot.discordbot.client import CoachBot
    from bot.ops.health import Readiness
    from bot.ops.http import OpsServer
    from bot.ops.shutdown import run_until_stopped

    failure: str | None = None  # said after the coach has closed, as the last line
    async with coach:
        bot = CoachBot(coach)
        ops: OpsServer | None = None
        if settings.http.enabled:
            readiness = Readiness(
                coach, lambda: gateway_connected(bot), settings.http.probe_timeout_seconds
            )
            ops = await OpsServer(settings.http, readiness).start()

        async def stop_discord(_task: asyncio.Task[None]) -> None:
            await bot.close()

        try:
            async with bot:
                await run_until_stopped(
                    bot.start(settings.discord.token or ""),
                    coach.gate,
                    settings.shutdown_grace_seconds,
                    stop_discord,
                    signals,
                )
        except discord.LoginFailure:
            failure = "Discord refused the token: check DISCORD_TOKEN."
        except aiohttp.ClientConnectionError as exc:
            failure = unreachable(settings.discord, exc)
        except discord.PrivilegedIntentsRequired:  # pragma: no cover - we ask for none
            failure = "Discord refused the intents requested."
        finally:
            if ops is not None:
                await ops.stop()
    if failure is not None:
        return _fail(failure)
    log.info("stopped")
    return 0


def sync_commands(settings: Settings, guild_id: int | None, clear: int | None = None) -> int:
    """Register the slash commands globally (slow to spread) or in one server (instant), or
    remove the commands registered in one server (``clear``)."""
    if clear is not None:
        return asyncio.run(_clear(settings, clear))
    return asyncio.run(_sync(settings, guild_id))


async def _clear(settings: Settings, guild_id: int) -> int:
    """Remove a server's own copies of the commands (the global ones stay)."""

    async def clear(bot: CoachBot) -> str:
        guild = discord.Object(id=guild_id)
        bot.tree.clear_commands(guild=guild)
        await bot.tree.sync(guild=guild)
        log.info("cleared the commands of one server", extra={"guild": guild_id})
        return f"Removed the commands registered in server {guild_id}; the global ones stay."

    return await _with_commands(settings, clear)


async def _sync(settings: Settings, guild_id: int | None) -> int:
    async def sync(bot: CoachBot) -> str:
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            bot.tree.copy_global_to(guild=guild)
        synced = await bot.tree.sync(guild=guild)
        where = f"server {guild_id}" if guild_id else "all servers (may take up to an hour to show)"
        return f"Registered {len(synced)} commands for {where}."

    return await _with_commands(settings, sync)


async def _with_commands(settings: Settings, work: Callable[[CoachBot], Awaitable[str]]) -> int:
    """Log in with the command tree built (the coach's services are not started) and run
    ``work``; print what it says."""
    from bot.coach import Coach
    from bot.discordbot.client import CoachBot

    point_at(settings.discord)
    coach = Coach.build(settings)
    bot = CoachBot(coach)
    try:
        async with bot:
            await bot.login(settings.discord.token or "")
            said = await work(bot)
    except discord.LoginFailure:
        return _fail("Discord refused the token: check DISCORD_TOKEN.")
    except aiohttp.ClientConnectionError as exc:
        return _fail(unreachable(settings.discord, exc))
    print(said)
    return 0
