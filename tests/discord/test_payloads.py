"""Every slash command's payload fits Discord's rules, and Discord and the core agree."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import discord
import pytest

from bot.core.commands import OptionKind
from bot.discordbot.client import CoachBot
from bot.discordbot.slash import SHARE_OPTION
from tests.discord.conftest import build_coach

NAME = re.compile(r"^[-_\w]{1,32}$")
LOCALES = {locale.value for locale in discord.Locale}
SUBCOMMAND, GROUP = 1, 2


@pytest.fixture
async def production(settings, clock) -> Any:
    """The bot as ``python -m bot run`` builds it (no test commands), without connecting."""
    coach = build_coach(settings, clock, extra=False)
    bot = CoachBot(coach)
    await bot.setup_hook()
    payloads = [
        await command.get_translated_payload(bot.tree, bot.tree.translator)
        for command in bot.tree.get_commands()
    ]
    yield coach, bot, payloads
    await bot.close()


def walk(payload: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple, dict]]:
    """Every command, group and leaf command with its path."""
    here = (*path, payload["name"])
    yield here, payload
    for option in payload.get("options") or []:
        if option["type"] in (SUBCOMMAND, GROUP):
            yield from walk(option, here)


def check_name(name: str, where: str) -> None:
    assert NAME.match(name) and name == name.lower(), f"{where}: bad name {name!r}"


def check_description(text: str, where: str) -> None:
    assert 1 <= len(text) <= 100, f"{where}: description of {len(text)} chars"


def check_localizations(item: dict[str, Any], where: str) -> None:
    for key in ("name_localizations", "description_localizations"):
        for locale, text in (item.get(key) or {}).items():
            assert locale in LOCALES, f"{where}: unknown locale {locale}"
            if key == "name_localizations":
                check_name(text, f"{where} [{locale}]")
            else:
                check_description(text, f"{where} [{locale}]")


async def test_every_payload_fits_discord(production):
    _coach, _bot, payloads = production
    assert payloads
    top_names = [p["name"] for p in payloads]
    assert len(top_names) == len(set(top_names))
    for path, item in (pair for payload in payloads for pair in walk(payload)):
        where = "/" + " ".join(path)
        check_name(item["name"], where)
        check_description(item["description"], where)
        check_localizations(item, where)
        options = item.get("options") or []
        assert len(options) <= 25, where
        names = [o["name"] for o in options]
        assert len(names) == len(set(names)), f"{where}: duplicate options"
        korean = [(o.get("name_localizations") or {}).get("ko", o["name"]) for o in options]
        assert len(korean) == len(set(korean)), f"{where}: duplicate Korean option names"
        required_seen_optional = False
        for option in options:
            if option["type"] in (SUBCOMMAND, GROUP):
                continue
            spot = f"{where} {option['name']}"
            check_name(option["name"], spot)
            check_description(option["description"], spot)
            check_localizations(option, spot)
            assert len(option.get("choices") or []) <= 25, spot
            if option.get("required"):
                assert not required_seen_optional, f"{spot}: required after optional"
            else:
                required_seen_optional = True


async def test_korean_names_are_sent(production):
    _coach, _bot, payloads = production
    by_name = {p["name"]: p for p in payloads}
    assert by_name["concept"]["name_localizations"]["ko"] == "개념"
    assert by_name["concept"]["description_localizations"]["ko"]


async def test_admin_commands_need_manage_server_by_default(production):
    _coach, _bot, payloads = production
    admin = next(p for p in payloads if p["name"] == "admin")
    assert int(admin["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    assert admin.get("contexts") == [0] or admin.get("dm_permission") is False


def discord_side(bot: CoachBot) -> dict[tuple[str, ...], list[str]]:
    found: dict[tuple[str, ...], list[str]] = {}
    for command in bot.tree.walk_commands():
        if isinstance(command, discord.app_commands.Command):
            path = tuple(command.qualified_name.split())
            found[path] = [p.display_name for p in command.parameters]
    return found


async def test_every_core_command_is_a_slash_command_and_back(production):
    coach, bot, _payloads = production
    core = {spec.path: [o.name for o in spec.options] for spec in coach.table.all()}
    discord_commands = discord_side(bot)
    assert set(core) == set(discord_commands), "core and Discord disagree on the commands"
    for path, names in core.items():
        # ``share`` is the front end's own option (show a private answer to everyone)
        found = [n for n in discord_commands[path] if n != SHARE_OPTION]
        assert sorted(found) == sorted(names), f"/{' '.join(path)}"
    assert SHARE_OPTION in discord_commands[("docker",)]
    assert SHARE_OPTION in discord_commands[("progress",)]


async def test_option_kinds_match(production):
    coach, bot, _payloads = production
    expected = {
        OptionKind.STRING: discord.AppCommandOptionType.string,
        OptionKind.INTEGER: discord.AppCommandOptionType.integer,
        OptionKind.BOOLEAN: discord.AppCommandOptionType.boolean,
        OptionKind.ATTACHMENT: discord.AppCommandOptionType.attachment,
        OptionKind.MEMBER: discord.AppCommandOptionType.user,
        OptionKind.CHANNEL: discord.AppCommandOptionType.channel,
        OptionKind.ROLE: discord.AppCommandOptionType.role,
    }
    for command in bot.tree.walk_commands():
        if not isinstance(command, discord.app_commands.Command):
            continue
        spec = coach.table.get(tuple(command.qualified_name.split()))
        for option in spec.options:
            parameter = command.get_parameter(option.name.replace("-", "_"))
            assert parameter.type is expected[option.kind], f"/{spec.name} {option.name}"
            assert parameter.required is option.required
            assert parameter.autocomplete is (option.completer is not None and not option.choices)
