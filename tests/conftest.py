"""Shared fixtures.

Tests marked ``docker`` need a real Docker engine (see ``deploy/engine/setup.sh``). When
``CI`` is set they fail if no engine answers; on a developer machine they are skipped with a
hint, so that the rest of the suite stays useful.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.coach import Coach, load_content
from bot.content.library import ContentLibrary
from bot.core.clock import FixedClock
from bot.core.context import Actor
from bot.settings import REPO_ROOT, Settings, load_settings

CONTENT = REPO_ROOT / "content"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Where the loopback stand-in for Docker Hub's search index listens (deploy/engine/setup.sh).
SEARCH_INDEX = os.environ.get("COACH_TEST_SEARCH_INDEX", "127.0.0.1:5001")
# The host-shell image (default: the settings' docker-coach/host:latest, which setup.sh builds
# with the published-port forwarder); a branch may test its own build of the recipe.
HOST_IMAGE = os.environ.get("COACH_TEST_HOST_IMAGE")
# The sandbox instance of this test session: parallel runs on one engine never touch each
# other's sandboxes (nor a coach running beside them).
TEST_INSTANCE = f"test-{os.getpid()}-{secrets.token_hex(3)}"


@pytest.fixture(scope="session")
def library() -> ContentLibrary:
    return load_content(CONTENT)


# A worker's cap counts the host shells of every coach on the engine (memory and CPU are
# physical), and sandboxes outlive the coach that made them, as in production. The suite's
# coaches therefore get a cap no session reaches; the tests of the cap set a small one.
TEST_MAX_SANDBOXES = 100_000


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Defaults, with data in a fresh temporary folder, the test search index and a sandbox
    instance of this test's own (each test's coach has a database of its own). What a test
    that uses the engine leaves there is removed when it ends. No warm pool (tests that want
    one say so), so that a coach started for a quiz makes no sandbox."""
    base = load_settings(environ={})
    data = base.model_dump()
    data["data_dir"] = tmp_path / "data"
    data["sandbox"]["search_index"] = SEARCH_INDEX
    # An instance belongs to one database (bot/sandbox/lease.py): each test's coach has a
    # database of its own, so an instance of its own too.
    instance = f"{TEST_INSTANCE}-{secrets.token_hex(3)}"
    data["sandbox"]["instance"] = instance
    if HOST_IMAGE:
        data["sandbox"]["host_image"] = HOST_IMAGE
    for worker in data["sandbox"]["workers"]:
        worker["max_sandboxes"] = TEST_MAX_SANDBOXES
        worker["warm_pool"] = 0
    yield Settings.model_validate(data)
    if "docker_engine" in request.fixturenames:
        from tests.sandbox.engine_support import remove_instance_objects

        remove_instance_objects(instance)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def coach(settings: Settings, clock: FixedClock) -> AsyncIterator[Coach]:
    """A fully started coach (store on a real SQLite file; sandbox talks to the local engine)."""
    started = await Coach.open(settings, clock=clock)
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture
async def offline_coach(settings: Settings, clock: FixedClock) -> AsyncIterator[Coach]:
    """A started coach whose sandbox worker does not exist: for everything but the sandbox."""
    data = settings.model_dump()
    data["sandbox"]["workers"] = [{"name": "gone", "url": "tcp://127.0.0.1:9"}]
    started = await Coach.open(Settings.model_validate(data), clock=clock)
    try:
        yield started
    finally:
        await started.close()


def make_actor(
    name: str = "alice", locale: str = "en", guild: str = "g1", admin: bool = False
) -> Actor:
    return Actor(user_id=name, display_name=name, guild_id=guild, locale=locale, is_admin=admin)


@pytest.fixture
def alice() -> Actor:
    return make_actor("alice")


@pytest.fixture
def bob() -> Actor:
    return make_actor("bob")


def _engine_reachable() -> str | None:
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
    except Exception as exc:  # any failure means "no engine"
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[None]:
    """Require a Docker engine: fail in CI, skip elsewhere."""
    problem = _engine_reachable()
    if problem:
        message = f"no Docker engine ({problem}); run deploy/engine/setup.sh"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    yield
    from tests.sandbox.engine_support import remove_session_objects

    remove_session_objects()  # what this session's tests left on the engine


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("docker") and "docker_engine" not in getattr(
            item, "fixturenames", ()
        ):
            item.fixturenames.insert(0, "docker_engine")  # type: ignore[attr-defined]
