"""The console keeps no warm pool unless the settings ask for one."""

from __future__ import annotations

from bot.cli import _console_settings
from bot.settings import load_settings


def test_the_console_keeps_no_warm_pool_by_default() -> None:
    settings = load_settings(environ={})
    assert settings.sandbox.workers[0].warm_pool > 0  # the bot keeps one for a class
    assert [w.warm_pool for w in _console_settings(settings).sandbox.workers] == [0]


def test_a_warm_pool_the_settings_ask_for_is_kept() -> None:
    workers = '[{"name": "a", "warm_pool": 2}, {"name": "b"}]'
    settings = load_settings(environ={"COACH_SANDBOX__WORKERS": workers})
    assert [w.warm_pool for w in _console_settings(settings).sandbox.workers] == [2, 0]
