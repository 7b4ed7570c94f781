"""Fixtures for tests of the engine setup itself (deploy/engine/).

The extra engines need root (they mount loop files and start dockerd): without root these
tests fail in CI and are skipped elsewhere, like every engine test.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from bot.settings import REPO_ROOT
from tests.conftest import IN_CI
from tests.engines import ExtraEngine, extra_engine

ENGINE_DIR = REPO_ROOT / "deploy" / "engine"


def load_engine_module(name: str) -> ModuleType:
    """Import deploy/engine/NAME.py (a script folder, not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"deploy_engine_{name}", ENGINE_DIR / f"{name}.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _require_root() -> None:
    if os.geteuid() != 0:
        message = "extra engines need root (deploy/engine/extra_engine.sh)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def btrfs_engine(docker_engine: None) -> Iterator[ExtraEngine]:
    """An extra engine like the shared one: btrfs data root with quotas."""
    _require_root()
    with extra_engine("btrfs") as engine:
        yield engine


@pytest.fixture(scope="module")
def overlay_engine(docker_engine: None) -> Iterator[ExtraEngine]:
    """An extra engine without quota support: overlay2 on the host's ext4."""
    _require_root()
    with extra_engine("overlay2") as engine:
        yield engine
