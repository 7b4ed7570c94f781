"""Command names, descriptions and option texts for Discord, read from the message catalog.

Every ``locale_str`` the front end makes carries the catalog key in its extras
(``locale_str("concept", key="commands.concept.name")``); English is the default text sent
to Discord, and Korean comes from ``content/i18n/ko``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from bot.core.i18n import DEFAULT_LOCALE, Catalog, normalize_locale
from bot.discordbot import limits

log = logging.getLogger("bot.discord.translator")

NAME_PATTERN = re.compile(r"^[-_\w]{1,32}$")
NAME_LOCATIONS = (
    app_commands.TranslationContextLocation.command_name,
    app_commands.TranslationContextLocation.group_name,
    app_commands.TranslationContextLocation.parameter_name,
)


def valid_name(name: str) -> bool:
    """Whether Discord accepts ``name`` as a command or option name (lowercase, no spaces)."""
    return bool(NAME_PATTERN.match(name)) and name == name.lower() and "\u00b7" not in name


class CatalogTranslator(app_commands.Translator):
    """Translates ``locale_str`` s that carry a ``key`` into Korean (other locales: English)."""

    def __init__(self, catalog: Callable[[], Catalog]) -> None:
        self._catalog = catalog  # read at every call: ``/admin reload`` swaps the catalog

    @property
    def catalog(self) -> Catalog:
        return self._catalog()

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContext[Any, Any],
    ) -> str | None:
        return self.lookup(string, locale, context.location)

    def lookup(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        location: app_commands.TranslationContextLocation,
    ) -> str | None:
        key = string.extras.get("key")
        language = normalize_locale(locale.value)
        if not key or language == DEFAULT_LOCALE or locale.value != language:
            return None  # only Korean ("ko") has its own texts; everyone else reads English
        text = self.catalog.t(language, key)
        if text == key or text == self.catalog.t(DEFAULT_LOCALE, key):
            return None
        if location in NAME_LOCATIONS:
            if not valid_name(text):
                log.warning("ignoring invalid localized name", extra={"key": key, "name": text})
                return None
            return text
        return limits.cut(text, limits.COMMAND_DESCRIPTION)
