from pathlib import Path

from bot.core.i18n import Catalog, Translator, normalize_locale
from tests.conftest import CONTENT


def test_normalize_locale() -> None:
    assert normalize_locale("ko") == "ko"
    assert normalize_locale("ko_KR") == "ko"
    assert normalize_locale("en-US") == "en"
    assert normalize_locale("fr") == "en"
    assert normalize_locale(None) == "en"


def test_repository_catalog_is_complete() -> None:
    _catalog, problems = Catalog.load(CONTENT / "i18n")
    assert problems == []


def test_missing_translation_and_placeholders_are_reported(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "ko").mkdir()
    (tmp_path / "en" / "x.yaml").write_text("a: 'Hi {name}'\nb: 'only English'\n")
    (tmp_path / "ko" / "x.yaml").write_text("a: '안녕 {nam}'\n")
    catalog, problems = Catalog.load(tmp_path)
    assert any("x.b: missing translation" in p for p in problems)
    assert any("x.a: placeholders differ" in p for p in problems)
    assert Translator(catalog, "ko")("x.b") == "only English"  # falls back to English
    assert Translator(catalog, "ko")("x.zzz") == "x.zzz"  # visible, never a crash


def test_split_namespace_files_merge_and_clash(tmp_path: Path) -> None:
    for locale in ("en", "ko"):
        (tmp_path / locale).mkdir()
        (tmp_path / locale / "commands.a.yaml").write_text("one: {description: x}\n")
        (tmp_path / locale / "commands.b.yaml").write_text(
            "two: {description: y}\none: {description: z}\n"
        )
    catalog, problems = Catalog.load(tmp_path)
    assert catalog.has("commands.two.description")
    assert any("commands.one.description: defined twice" in p for p in problems)
