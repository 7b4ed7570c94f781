"""Korean command names through the Translator; ``sync`` registers the commands."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.discordbot import runner
from bot.discordbot.client import CoachBot
from bot.discordbot.translator import CatalogTranslator, valid_name
from tests.discord.conftest import build_coach
from tests.discord.standin import APP_ID


def test_names_and_descriptions_in_korean_only(library):
    translator = CatalogTranslator(lambda: library.catalog)
    name = app_commands.locale_str("concept", key="commands.concept.name")
    assert translator.lookup(name, discord.Locale.korean, Where.command_name) == "개념"
    assert translator.lookup(name, discord.Locale.american_english, Where.command_name) is None
    assert translator.lookup(name, discord.Locale.japanese, Where.command_name) is None
    unknown = app_commands.locale_str("x", key="commands.nothing.name")
    assert translator.lookup(unknown, discord.Locale.korean, Where.command_name) is None
    described = app_commands.locale_str("d", key="commands.concept.description")
    text = translator.lookup(described, discord.Locale.korean, Where.command_description)
    assert text and len(text) <= 100


def test_name_rule():
    assert valid_name("개념") and valid_name("practice-channel") and valid_name("내기록삭제")
    assert not valid_name("Concept") and not valid_name("two words") and not valid_name("x" * 33)


async def test_sync_registers_every_command_in_one_server(standin, settings, capsys):
    with_token = settings.model_copy(
        update={"discord": settings.discord.model_copy(update={"token": "test-token"})}
    )
    assert await runner._sync(with_token, 4242) == 0
    stored = standin.commands[f"/applications/{APP_ID}/guilds/4242/commands"]
    names = {command["name"] for command in stored}
    assert {"concept", "docker", "quiz", "practice", "admin"} <= names
    assert "Registered" in capsys.readouterr().out


async def test_clear_guild_removes_a_servers_copies_only(standin, settings, capsys):
    with_token = settings.model_copy(
        update={"discord": settings.discord.model_copy(update={"token": "test-token"})}
    )
    assert await runner._sync(with_token, 4242) == 0
    assert await runner._sync(with_token, None) == 0  # now every command shows twice there
    assert await runner._clear(with_token, 4242) == 0
    assert standin.commands[f"/applications/{APP_ID}/guilds/4242/commands"] == []
    assert standin.commands[f"/applications/{APP_ID}/commands"]  # the global ones stay
    assert "Removed" in capsys.readouterr().out


async def test_server_only_commands_are_not_offered_in_dms(settings, clock):
    bot = CoachBot(build_coach(settings, clock, extra=False))
    await bot.setup_hook()
    try:
        found = {c.name: c.to_dict(bot.tree) for c in bot.tree.get_commands()}
    finally:
        await bot.close()
    for name in ("practice", "leaderboard", "admin", "study"):
        assert found[name]["contexts"] == [0], name
    for name in ("concept", "quiz", "docker", "progress", "help"):
        assert sorted(found[name]["contexts"]) == [0, 1], name
