"""Load every content file, validate it, and report all problems at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.content.seed import SeedMap
from bot.core.errors import ConfigError
from bot.core.i18n import Catalog

M = TypeVar("M", bound=BaseModel)
CrossCheck = Callable[["ContentLibrary"], Iterable[str]]


@dataclass(frozen=True)
class ContentKind:
    """One folder of content files, each holding one item or a list of items."""

    name: str
    model: type[BaseModel]
    checks: tuple[CrossCheck, ...] = ()


@dataclass
class ContentLibrary:
    root: Path
    catalog: Catalog
    seed: SeedMap | None = None
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    origins: dict[tuple[str, str], Path] = field(default_factory=dict)

    def of(self, kind: str) -> dict[str, Any]:
        return self.items.get(kind, {})

    def origin(self, kind: str, item_id: str) -> str:
        path = self.origins.get((kind, item_id))
        return str(path) if path else f"{kind}/{item_id}"

    @property
    def concepts(self) -> dict[str, Any]:
        return self.of("concepts")

    @property
    def questions(self) -> dict[str, Any]:
        return self.of("questions")

    @property
    def scenarios(self) -> dict[str, Any]:
        return self.of("scenarios")


def _kinds() -> list[ContentKind]:
    # Imported here so that each capability owns its model and its cross-checks.
    from bot.concepts.models import Concept
    from bot.concepts.validation import concept_checks

    kinds = [ContentKind("concepts", Concept, concept_checks)]
    kinds.extend(_optional_kinds())
    return kinds


def _optional_kinds() -> list[ContentKind]:
    found: list[ContentKind] = []
    try:
        from bot.quiz.content import QUESTION_KIND
    except ImportError:
        pass
    else:
        found.append(QUESTION_KIND)
    try:
        from bot.practice.content import SCENARIO_KIND
    except ImportError:
        pass
    else:
        found.append(SCENARIO_KIND)
    return found


def _describe(path: Path, prefix: str, error: dict[str, Any]) -> str:
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
    return None


def _load_kind(root: Path, kind: ContentKind, library: ContentLibrary, problems: list[str]) -> None:
    items: dict[str, Any] = {}
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
            item_id = item.id  # type: ignore[attr-defined]
            if item_id in items:
                first = library.origins[(kind.name, item_id)]
                problems.append(f"{path}: id: {item_id!r} is already defined in {first}")
                continue
            items[item_id] = item
            library.origins[(kind.name, item_id)] = path
    library.items[kind.name] = items


def check_content(root: Path) -> tuple[ContentLibrary, list[str]]:
    """Load everything under ``root``; return the library and every problem found."""
    problems: list[str] = []
    if not root.is_dir():
        return ContentLibrary(root, Catalog({"en": {}, "ko": {}})), [f"{root}: no such folder"]
    catalog, catalog_problems = Catalog.load(root / "i18n")
    problems.extend(catalog_problems)
    library = ContentLibrary(root=root, catalog=catalog)
    seed_path = root / "seed.yaml"
    seed_data = _read_yaml(seed_path, problems) if seed_path.exists() else None
    if seed_data is not None:
        try:
            library.seed = SeedMap.model_validate(seed_data)
        except ValidationError as exc:
            problems.extend(_describe(seed_path, "", err) for err in exc.errors())
    kinds = _kinds()
    for kind in kinds:
        _load_kind(root, kind, library, problems)
    for kind in kinds:
        for check in kind.checks:
            problems.extend(check(library))
    from bot.content.coverage import check_seed_coverage

    problems.extend(check_seed_coverage(library))
    return library, problems


def load_library(root: Path) -> ContentLibrary:
    """Load content or refuse to start: raise :class:`ConfigError` listing every problem."""
    library, problems = check_content(root)
    if problems:
        raise ConfigError(problems)
    return library
