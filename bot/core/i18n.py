"""Translations of the coach's own messages.

Message catalogs are data: ``content/i18n/<locale>/<namespace>[.<part>].yaml``. A key is
``<namespace>.<dotted.path>``; values are ``str.format`` templates. Missing keys fall back to
English, then to the key itself, so a missing translation is visible but never a crash
(``content check`` reports it).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "ko")
DEFAULT_LOCALE = "en"


def normalize_locale(value: str | None) -> str:
    """Map any locale tag (``ko``, ``en-US``, ``ko_KR``, a Discord locale) to ``en`` or ``ko``."""
    if not value:
        return DEFAULT_LOCALE
    base = str(value).replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED_LOCALES else DEFAULT_LOCALE


def _flatten(prefix: str, node: Any, out: dict[str, str], problems: list[str], where: str) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out, problems, where)
    elif isinstance(node, str):
        out[prefix] = node
    else:
        problems.append(f"{where}: {prefix}: expected text, got {type(node).__name__}")


class Catalog:
    """All messages in all supported locales."""

    def __init__(self, messages: dict[str, dict[str, str]]) -> None:
        self._messages = messages

    @classmethod
    def load(cls, root: Path) -> tuple[Catalog, list[str]]:
        """Load ``root/<locale>/*.yaml``; return the catalog and any problems found."""
        problems: list[str] = []
        messages: dict[str, dict[str, str]] = {loc: {} for loc in SUPPORTED_LOCALES}
        for locale in SUPPORTED_LOCALES:
            folder = root / locale
            for path in sorted(folder.glob("*.yaml")):
                where = str(path)
                try:
                    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                except yaml.YAMLError as exc:
                    problems.append(f"{where}: invalid YAML: {exc}")
                    continue
                # ``commands.sandbox.yaml`` adds to the ``commands`` namespace, so that each
                # capability keeps its own file.
                namespace = path.stem.split(".")[0]
                found: dict[str, str] = {}
                _flatten(namespace, data, found, problems, where)
                for key in found.keys() & messages[locale].keys():
                    problems.append(f"{where}: {key}: defined twice")
                messages[locale].update(found)
        problems.extend(cls._compare(messages, root))
        return cls(messages), problems

    @staticmethod
    def _compare(messages: dict[str, dict[str, str]], root: Path) -> Iterable[str]:
        english = messages[DEFAULT_LOCALE]
        for locale in SUPPORTED_LOCALES:
            if locale == DEFAULT_LOCALE:
                continue
            other = messages[locale]
            for key in sorted(english.keys() - other.keys()):
                yield f"{root / locale}: {key}: missing translation ({locale})"
            for key in sorted(other.keys() - english.keys()):
                yield f"{root / locale}: {key}: not in the English catalog"
            for key in sorted(english.keys() & other.keys()):
                if _fields(english[key]) != _fields(other[key]):
                    yield (
                        f"{root / locale}: {key}: placeholders differ from English "
                        f"({sorted(_fields(english[key]))} vs {sorted(_fields(other[key]))})"
                    )

    def has(self, key: str) -> bool:
        return key in self._messages[DEFAULT_LOCALE]

    def keys(self) -> set[str]:
        return set(self._messages[DEFAULT_LOCALE])

    def messages(self, locale: str) -> Mapping[str, str]:
        """Every template of ``locale`` by key, unformatted (for content checks)."""
        return MappingProxyType(self._messages[normalize_locale(locale)])

    def t(self, locale: str, key: str, /, **params: Any) -> str:
        """The message ``key`` in ``locale``, formatted with ``params``."""
        locale = normalize_locale(locale)
        template = self._messages[locale].get(key) or self._messages[DEFAULT_LOCALE].get(key)
        if template is None:
            return key
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            return template


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Translator:
    """A catalog bound to one locale: ``tr("concepts.not_found", topic=...)``."""

    def __init__(self, catalog: Catalog, locale: str) -> None:
        self.catalog = catalog
        self.locale = normalize_locale(locale)

    def __call__(self, key: str, /, **params: Any) -> str:
        return self.catalog.t(self.locale, key, **params)
