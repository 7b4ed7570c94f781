from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.settings import Settings, load_settings


def test_defaults_need_no_file(tmp_path: Path) -> None:
    settings = load_settings(environ={})
    assert settings.content_dir.is_dir()
    assert settings.database_path.name == "coach.sqlite3"
    assert settings.sandbox.workers[0].name == "local"


def test_yaml_file_and_environment_override(tmp_path: Path) -> None:
    path = tmp_path / "coach.yaml"
    path.write_text("log_level: debug\nsandbox:\n  quotas:\n    containers: 3\n    volumes: 2\n")
    settings = load_settings(path, environ={"COACH_SANDBOX__QUOTAS__CONTAINERS": "9"})
    assert settings.log_level == "DEBUG"
    assert settings.sandbox.quotas.containers == 9
    assert settings.sandbox.quotas.volumes == 2


def test_environment_accepts_json_lists() -> None:
    settings = load_settings(environ={"COACH_SANDBOX__IMAGE_ALLOWLIST": '["busybox", "nginx"]'})
    assert settings.sandbox.image_allowlist == ("busybox", "nginx")


def test_discord_token_from_environment() -> None:
    assert load_settings(environ={"DISCORD_TOKEN": "abc"}).discord.token == "abc"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("sandbox:\n  quotas:\n    containers: many\n", "sandbox.quotas.containers"),
        ("sandboxx: {}\n", "sandboxx: unknown setting"),
        ("log_level: LOUD\n", "log_level"),
        ("sandbox:\n  limits:\n    pids: 1\n", "sandbox.limits.pids"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert any(key in problem and str(path) in problem for problem in caught.value.problems)


def test_environment_errors_name_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"COACH_SANDBOX__PIDS_OOPS": "1"})
    assert "sandbox.pids_oops: unknown setting" in caught.value.problems[0]


def test_missing_and_broken_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.yaml", environ={})
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_settings(broken, environ={})
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(listing, environ={})


def test_example_settings_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "deploy" / "settings.example.yaml"
    settings = load_settings(example, environ={})
    assert isinstance(settings, Settings)
