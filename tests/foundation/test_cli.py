import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli import _parser, _settings
from bot.settings import REPO_ROOT
from tests.support import bot_env, run_bot


def bot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_bot(*args, env=bot_env(**(env or {})))


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("console",),
        ("run",),
        ("sync",),
        ("content",),
        ("content", "check"),
        ("content", "coverage"),
    ],
)
def test_help_on_every_command(args: tuple[str, ...]) -> None:
    result = bot(*args, "--help")
    assert result.returncode == 0
    assert "usage: python -m bot" in result.stdout


def test_content_check_passes_on_the_repository() -> None:
    result = bot("content", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "content OK" in result.stdout


def test_content_check_names_file_and_field_of_every_problem(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "content", content)
    volume = content / "concepts" / "volume.yaml"
    volume.write_text(volume.read_text().replace("topic: storage", "topic: storage\ncolour: blue"))
    container = content / "concepts" / "container.yaml"
    text = container.read_text()
    container.write_text(text.replace("related: [", "related: [no-such-concept, "))
    result = bot("content", "check", "--content", str(content))
    assert result.returncode != 0
    assert f"{volume}: colour: unknown key" in result.stdout
    assert f"{container}: related: unknown concept 'no-such-concept'" in result.stdout


def test_invalid_settings_refuse_to_start(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("sandbox:\n  quotas:\n    containers: -1\n")
    result = bot("--settings", str(path), "content", "check")
    assert result.returncode == 1
    assert "sandbox.quotas.containers" in result.stderr


def test_invalid_content_refuses_to_start_the_console(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "content", content)
    (content / "concepts" / "volume.yaml").write_text("id: volume\n")
    result = bot("console", env={"COACH_CONTENT_DIR": str(content), "XDG_DATA_HOME": str(tmp_path)})
    assert result.returncode == 1
    assert "volume.yaml" in result.stderr and "title" in result.stderr


def test_console_instance_is_the_sandbox_instance_setting() -> None:
    """`console --instance` sets `sandbox.instance` (a console beside the running bot)."""
    args = _parser().parse_args(["console", "--instance", "console"])
    assert _settings(args).sandbox.instance == "console"
    assert _settings(_parser().parse_args(["console"])).sandbox.instance is None


def test_a_bad_console_instance_is_refused_naming_the_setting(tmp_path: Path) -> None:
    result = bot("console", "--instance", "no spaces", env={"XDG_DATA_HOME": str(tmp_path)})
    assert result.returncode == 1
    assert "sandbox.instance" in result.stderr, result.stderr
