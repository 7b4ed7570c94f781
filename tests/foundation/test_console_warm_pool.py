"""The console keeps no warm pool unless the settings ask for one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import _console_settings, _parser, _settings
from bot.settings import load_settings


def test_the_console_keeps_no_warm_pool_by_default() -> None:
    settings = load_settings(environ={})
    assert settings.sandbox.workers[0].warm_pool > 0  # the bot keeps one for a class
    assert [w.warm_pool for w in _console_settings(settings).sandbox.workers] == [0]


def test_a_warm_pool_the_settings_ask_for_is_kept() -> None:
    workers = '[{"name": "a", "warm_pool": 2}, {"name": "b"}]'
    settings = load_settings(environ={"COACH_SANDBOX__WORKERS": workers})
    assert [w.warm_pool for w in _console_settings(settings).sandbox.workers] == [2, 0]


def test_command_line_flags_keep_the_defaults_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`console --db … --instance …` (as docs/deploy.md runs it beside the bot) keeps no
    warm pool either: the flags once made every default look asked for."""
    for key in [key for key in os.environ if key.startswith("COACH_")]:
        monkeypatch.delenv(key)
    db = tmp_path / "c.sqlite3"
    args = _parser().parse_args(["console", "--db", str(db), "--instance", "console"])
    settings = _console_settings(_settings(args))
    assert settings.database == db and settings.sandbox.instance == "console"
    assert [w.warm_pool for w in settings.sandbox.workers] == [0]
