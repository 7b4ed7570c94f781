import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT


def bot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=full_env,
        timeout=120,
        check=False,
    )


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


def test_run_without_token_exits_2_with_one_line() -> None:
    result = bot("run")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "DISCORD_TOKEN" in lines[0]


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
