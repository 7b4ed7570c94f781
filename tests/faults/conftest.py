"""The fault suite: the coach under engine restarts, ``kill -9`` at chosen API calls, a
frozen engine, a class of 60 and 120, and two coaches on one engine.

Tests that stop, restart or freeze an engine use an extra engine of their own
(``tests/engines.py``), never the shared one: other test runs use that all the time. The load
tests run on the shared engine as instances of their own and remove what they made. Extra
engines need root (CI runs as root); like every engine test, these fail in CI when they
cannot run and are skipped elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import IN_CI
from tests.engines import ExtraEngine, extra_engine, unique_name


def _require_root() -> None:
    if os.geteuid() != 0:
        message = "the fault suite's extra engines need root (deploy/engine/extra_engine.sh)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def engine(docker_engine: None) -> Iterator[ExtraEngine]:
    """An engine of this test module's own (overlay2: the storage driver plays no part)."""
    _require_root()
    with extra_engine("overlay2", name=unique_name("faults")) as started:
        yield started
