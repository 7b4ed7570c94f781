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


def test_command_line_flags_keep_the_console_without_a_warm_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--db`` and ``--instance`` re-validate the settings: a default warm pool stays a
    default (it made four hidden sandboxes that outlived every such console)."""
    for key in [key for key in os.environ if key.startswith("COACH_")]:
        monkeypatch.delenv(key)
    args = ["console", "--db", str(tmp_path / "c.db"), "--instance", "mine"]
    settings = _settings(_parser().parse_args(args))
    assert settings.database == tmp_path / "c.db" and settings.sandbox.instance == "mine"
    assert [w.warm_pool for w in _console_settings(settings).sandbox.workers] == [0]


def test_a_warm_pool_the_settings_ask_for_is_kept_with_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACH_SANDBOX__WORKERS", '[{"name": "a", "warm_pool": 2}, {"name": "b"}]')
    monkeypatch.setenv("COACH_SANDBOX__COOLDOWN_SECONDS", "7")
    settings = _settings(_parser().parse_args(["console", "--db", str(tmp_path / "c.db")]))
    assert settings.sandbox.cooldown_seconds == 7  # what the settings set is kept
    assert [w.warm_pool for w in _console_settings(settings).sandbox.workers] == [2, 0]
