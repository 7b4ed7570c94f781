"""Helpers shared by the engine tests (``test_engine_*.py``): settings, actors, output."""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import docker
import requests

from bot.content.library import load_library
from bot.core.context import Actor
from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.reply import Reply
from bot.sandbox import executor as executor_module
from bot.sandbox import lease, naming, provision
from bot.sandbox.service import SandboxService
from bot.settings import REPO_ROOT, Settings, load_settings
from tests.conftest import SEARCH_INDEX, TEST_INSTANCE, TEST_MAX_SANDBOXES

T = TypeVar("T")
_CATALOG = None
_INSTANCES = itertools.count(1)


def engine_settings(**sandbox: Any) -> Settings:
    """Defaults with the test search index and fast bounds; ``sandbox`` overrides more.

    Each call is a coach instance of its own (``<session instance>-<n>``): services made from
    one settings object share their sandboxes, any other service never sees them. Workers
    keep no warm pool unless a test gives one (``workers=[{..., "warm_pool": 2}]``): the
    tests that count a learner's objects expect them made for that learner.
    """
    data = load_settings(environ={}).model_dump()
    data["sandbox"].update(
        instance=f"{TEST_INSTANCE}-{next(_INSTANCES)}",
        search_index=SEARCH_INDEX,
        foreground_run_seconds=3.0,
        exec_timeout_seconds=4.0,
        output_bytes=8192,
    )
    data["sandbox"].update(sandbox)
    data["sandbox"]["workers"] = [
        {"warm_pool": 0, "max_sandboxes": TEST_MAX_SANDBOXES, **worker}
        if "workers" in sandbox
        else {**worker, "warm_pool": 0, "max_sandboxes": TEST_MAX_SANDBOXES}
        for worker in data["sandbox"]["workers"]
    ]
    return Settings.model_validate(data)


async def _nobody() -> set[str]:
    return set()


async def start(service: SandboxService) -> SandboxService:
    """Start ``service`` and wait until its workers were brought up (reconciled)."""
    await service.start()
    await service.manager.settle()
    return service


def isolated_service(settings: Settings | None = None, **kwargs: Any) -> SandboxService:
    """A service of its own instance that adopts nobody's sandbox at start."""
    settings = settings or engine_settings()
    return SandboxService(settings.sandbox, known_users=_nobody, **kwargs)


@asynccontextmanager
async def started_service(*actors: Actor, **sandbox: Any) -> AsyncIterator[SandboxService]:
    """An isolated, started service (settings overridden by ``sandbox``); at the end the
    ``actors``' sandboxes are destroyed and the service closed."""
    svc = await start(isolated_service(engine_settings(**sandbox)))
    try:
        yield svc
    finally:
        await destroy_all(svc, *actors)
        await svc.close()


def tr(locale: str = "en") -> Translator:
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = load_library(REPO_ROOT / "content").catalog
    return Translator(_CATALOG, locale)


def new_actor(name: str) -> Actor:
    """An actor with a unique id, so that test runs never share sandboxes."""
    return Actor(user_id=f"t-{name}-{uuid.uuid4().hex[:6]}", display_name=name)


def text_of(replies: list[Reply] | Reply) -> str:
    """Notes and (whole) output of replies."""
    replies = [replies] if isinstance(replies, Reply) else replies
    return "\n".join(f"{reply.body}\n{reply.code or ''}" for reply in replies)


async def eventually(
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], attempts: int = 100
) -> T:
    """``read()`` again until ``done`` holds for what it returns (a state the engine reaches
    by itself, such as a container's first output), at most ``attempts`` times."""
    for _ in range(attempts - 1):
        result = await read()
        if done(result):
            return result
        await asyncio.sleep(0.1)
    return await read()


async def docker_text(service: SandboxService, actor: Actor, line: str) -> str:
    return text_of(await service.commands.docker(actor, tr(), line))


async def sh_text(service: SandboxService, actor: Actor, line: str) -> str:
    return text_of(await service.commands.sh(actor, tr(), line))


def message(error: UserError) -> str:
    return tr()(error.key, **error.params)


def _labeled(owner: str | None) -> set[tuple[str, str]]:
    client = docker.from_env()
    try:
        wanted = [f"{naming.OWNER}={owner}"] if owner else [naming.OWNER]
        found = {
            ("container", c["Id"])
            for c in client.api.containers(all=True, filters={"label": wanted})
        }
        found |= {("network", n["Id"]) for n in client.api.networks(filters={"label": wanted})}
        volumes = client.api.volumes(filters={"label": wanted}).get("Volumes") or []
        found |= {("volume", v["Name"]) for v in volumes}
        return found
    finally:
        client.close()


async def labeled_objects(owner: str | None = None) -> set[tuple[str, str]]:
    """Every object labeled by the coach (for ``owner``), read directly from the engine."""
    return await asyncio.to_thread(_labeled, owner)


def _inspect_all(owner: str) -> list[dict[str, Any]]:
    client = docker.from_env()
    try:
        listed = client.api.containers(all=True, filters={"label": [f"{naming.OWNER}={owner}"]})
        return [client.api.inspect_container(c["Id"]) for c in listed]
    finally:
        client.close()


async def inspect_containers(owner: str) -> list[dict[str, Any]]:
    return await asyncio.to_thread(_inspect_all, owner)


async def destroy_all(service: SandboxService, *actors: Actor) -> None:
    for actor in actors:
        await service.reader.destroy_user(actor.user_id)


def _of_this_session(labels: dict[str, str] | None) -> bool:
    instance = naming.instance_of(labels)
    return instance == TEST_INSTANCE or instance.startswith(TEST_INSTANCE + "-")


def remove_session_objects() -> int:
    """Blocking: remove every object of this test session's instances from the engine (their
    leases too)."""
    return _remove_labelled(_of_this_session)


def remove_instance_objects(instance: str) -> int:
    """Blocking: remove every object of one test's sandbox instance from the engine (its
    lease too)."""
    return _remove_labelled(lambda labels: naming.instance_of(labels) == instance)


def _remove_labelled(wanted_labels: Callable[[dict[str, str] | None], bool]) -> int:
    client = docker.from_env()
    try:
        api, wanted = client.api, {"label": [naming.OWNER]}
        leases = {"label": [f"{naming.KIND}={lease.KIND_LEASE}"]}
        found = [
            ("container", c["Id"])
            for c in api.containers(all=True, filters=wanted)
            if wanted_labels(c.get("Labels"))
        ]
        found += [
            ("container", c["Id"])
            for c in api.containers(all=True, filters=leases)
            if wanted_labels(c.get("Labels"))
        ]
        found += [
            ("network", n["Id"])
            for n in api.networks(filters=wanted)
            if wanted_labels(n.get("Labels"))
        ]
        volumes = api.volumes(filters=wanted).get("Volumes") or []
        found += [("volume", v["Name"]) for v in volumes if wanted_labels(v.get("Labels"))]
        found += [
            ("image", str(i["Id"]))
            for i in api.images(filters=wanted)
            if wanted_labels(i.get("Labels"))
        ]
        return provision.remove_objects(api, found)
    finally:
        client.close()


@contextmanager
def changed_settings(service: SandboxService, **changes: Any) -> Iterator[None]:
    """Run a block with some of the service's sandbox settings changed, then restore them."""
    manager = service.manager
    original = manager.settings
    manager.settings = original.model_copy(update=changes)
    try:
        yield
    finally:
        manager.settings = original


class EngineRequests:
    """Every HTTP request docker-py sends to an engine, with the learner its pool call was
    made for (``"background"``: the watchdog, the warm pool, the sweep; ``"?"``: not made
    through a coach's thread pool): what a command costs the engine, counted without
    changing a call."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []  # (owner, "METHOD /path" without ids)
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def installed(self) -> Iterator[None]:
        recorder = self
        original_send = requests.Session.send
        original_call = executor_module.DockerExecutor.call

        def send(session: requests.Session, request: Any, **kwargs: Any) -> Any:
            if isinstance(session, docker.APIClient):
                owner = getattr(recorder._local, "owner", "?")
                with recorder._lock:
                    recorder.seen.append((owner, request_shape(request.method, request.path_url)))
            return original_send(session, request, **kwargs)

        async def call(
            self: executor_module.DockerExecutor,
            fn: Callable[[], T],
            timeout: float | None = None,  # noqa: ASYNC109
        ) -> T:
            owner = executor_module.OWNER.get() or "background"

            def owned() -> T:
                recorder._local.owner = owner
                return fn()

            return await original_call(self, owned, timeout)

        requests.Session.send = send  # type: ignore[method-assign,assignment]
        executor_module.DockerExecutor.call = call  # type: ignore[method-assign]
        try:
            yield
        finally:
            requests.Session.send = original_send  # type: ignore[method-assign]
            executor_module.DockerExecutor.call = original_call  # type: ignore[method-assign]

    def mark(self) -> int:
        with self._lock:
            return len(self.seen)

    def since(self, mark: int) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.seen[mark:])

    def of(self, owner: str, mark: int) -> list[str]:
        """The requests made for ``owner`` since ``mark``, in order."""
        return [request for who, request in self.since(mark) if who == owner]


_HEX_ID = re.compile(r"[0-9a-f]{64}")
_REAL_NAME = re.compile(r"dc-[\w.-]+")
_API_VERSION = re.compile(r"^/v\d+\.\d+(?=/)")


def request_shape(method: str, path: str) -> str:
    """``GET /containers/<id>/json``: a request without its query, version, ids and names."""
    path = _API_VERSION.sub("", path.split("?", 1)[0])
    return f"{method} {_REAL_NAME.sub('<name>', _HEX_ID.sub('<id>', path))}"
