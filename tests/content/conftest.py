"""Fixtures of the content tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the repository's content folder, to break on purpose."""
    target = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "content", target)
    return target
