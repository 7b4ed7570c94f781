"""Load every content file of the registered kinds, validate it, report all problems at once.

The loader is the same for every kind: a folder of YAML files (each one item or a list of
items) validated by the kind's model, ids unique within the kind, then every kind's cross-file
checks, then the checks of the content package's own files (the wording of the message
catalogs and the seed map, the seed coverage). Warnings (:func:`content_warnings`) are the
kinds' second looks that never fail a check. It imports no capability: the kinds are handed
to it (by the content registry, ``bot.content.registry``, in which capabilities register
them). The types it loads into live in ``bot.content.items`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.content.coverage import check_seed_coverage
from bot.content.items import (
    ContentItem,
    ContentKind,
    ContentLibrary,
    CoverageRule,
    CrossCheck,
    PartRef,
    Role,
    exported_vocabularies,
)
from bot.content.lint import Glossary
from bot.content.seed import SeedMap
from bot.content.wording import check_own_wording
from bot.core.errors import ConfigError
from bot.core.i18n import Catalog


def _describe(path: Path, prefix: str, error: Any) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    where = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "(file)")
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing" and loc.split(".")[-1] in ("en", "ko"):
        message = "missing translation"
    return f"{path}: {where}: {message}"


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        problems.append(f"{path}: invalid YAML: {exc}")
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text: {exc}")
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc.strerror or exc}")
    return None


def _load_kind(
    root: Path,
    kind: ContentKind[Any],
    origins: dict[tuple[str, str], Path],
    problems: list[str],
) -> dict[str, ContentItem]:
    items: dict[str, ContentItem] = {}
    for path in sorted((root / kind.name).glob("**/*.yaml")):
        data = _read_yaml(path, problems)
        if data is None:
            continue
        entries = data if isinstance(data, list) else [data]
        for index, entry in enumerate(entries):
            prefix = f"[{index}]" if isinstance(data, list) else ""
            try:
                item = kind.model.model_validate(entry)
            except ValidationError as exc:
                problems.extend(_describe(path, prefix, err) for err in exc.errors())
                continue
            if item.id in items:
                first = origins[(kind.name, item.id)]
                problems.append(f"{path}: id: {item.id!r} is already defined in {first}")
                continue
            items[item.id] = item
            origins[(kind.name, item.id)] = path
    return items


def _seed(root: Path, problems: list[str]) -> SeedMap | None:
    path = root / "seed.yaml"
    data = _read_yaml(path, problems) if path.exists() else None
    if data is None:
        return None
    try:
        return SeedMap.model_validate(data)
    except ValidationError as exc:
        problems.extend(_describe(path, "", err) for err in exc.errors())
        return None


def _glossary(root: Path, problems: list[str]) -> Glossary | None:
    path = root / "glossary.yaml"
    data = _read_yaml(path, problems) if path.exists() else None
    if data is None:
        return None
    try:
        return Glossary.from_mapping(data)
    except (KeyError, TypeError, AttributeError) as exc:
        problems.append(f"{path}: not a glossary (terms, phrases, contexts, typos): {exc!r}")
        return None


def _unique(kinds: Sequence[ContentKind[Any]]) -> tuple[ContentKind[Any], ...]:
    names = [kind.name for kind in kinds]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ConfigError([f"content kind registered twice: {', '.join(twice)}"])
    return tuple(kinds)


def check_content(
    root: Path, kinds: Sequence[ContentKind[Any]] = ()
) -> tuple[ContentLibrary, list[str]]:
    """Load ``root`` for ``kinds``; return the library and every problem found.

    Without kinds only the message catalog and the seed map are loaded.
    """
    kinds = _unique(kinds)
    problems: list[str] = []
    if not root.is_dir():
        empty = ContentLibrary(root, Catalog({"en": {}, "ko": {}}), kinds=kinds)
        return empty, [f"{root}: no such folder"]
    catalog, catalog_problems = Catalog.load(root / "i18n")
    problems.extend(catalog_problems)
    seed = _seed(root, problems)
    glossary = _glossary(root, problems)
    origins: dict[tuple[str, str], Path] = {}
    by_kind = {kind.name: _load_kind(root, kind, origins, problems) for kind in kinds}
    library = ContentLibrary(
        root=root,
        catalog=catalog,
        seed=seed,
        glossary=glossary,
        kinds=kinds,
        by_kind=by_kind,
        origins=origins,
        vocabularies=exported_vocabularies(kinds, by_kind),
    )
    for kind in kinds:
        problems.extend(_run(kind, kind.checks, library))
    problems.extend(check_own_wording(library))
    problems.extend(check_seed_coverage(library))
    return library, problems


def _run(
    kind: ContentKind[Any], checks: Sequence[CrossCheck], library: ContentLibrary
) -> list[str]:
    found: list[str] = []
    for check in checks:
        try:
            found.extend(check(library))
        except ConfigError as exc:  # a check that refers to a vocabulary nobody exports
            found.extend(f"{kind.name}: {problem}" for problem in exc.problems)
    return found


def content_warnings(library: ContentLibrary) -> list[str]:
    """What every kind's warnings find in ``library``: worth a look, never a failure."""
    return [warning for kind in library.kinds for warning in _run(kind, kind.warnings, library)]


def load_library(root: Path, kinds: Sequence[ContentKind[Any]] = ()) -> ContentLibrary:
    """Load content or refuse to start: raise :class:`ConfigError` listing every problem."""
    library, problems = check_content(root, kinds)
    if problems:
        raise ConfigError(problems)
    return library


__all__ = [
    "ContentItem",
    "ContentKind",
    "ContentLibrary",
    "CoverageRule",
    "PartRef",
    "Role",
    "check_content",
    "content_warnings",
    "load_library",
]
