"""Evaluate declarative checks against one user's sandbox.

Checks only read: the sandbox's state, files (through the sandbox's own reader), HTTP
answers fetched from the user's own host shell, and the commands the learner used with what
they printed (:mod:`bot.practice.uses`). Every read of one evaluation round is cached, so a
step and its fail checks share a single snapshot of the sandbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.context import Actor
from bot.core.errors import CoachError
from bot.dockercli.compose import PROJECT_LABEL, SERVICE_LABEL
from bot.dockercli.views import ContainerView, OwnImageView, SandboxState
from bot.practice.content import (
    AllCheck,
    AnyCheck,
    ComposeCheck,
    ContainerCheck,
    ContainerSpec,
    FileCheck,
    HttpCheck,
    ImageCheck,
    ImageSpec,
    NetworkCheck,
    NotCheck,
    OutputCheck,
    RemovedCheck,
    UsedCheck,
    UsedSpec,
    VolumeCheck,
)
from bot.practice.uses import CommandUse


class SandboxReader(Protocol):
    """The read-only part of the sandbox service that checks use."""

    async def state(self, actor: Actor) -> SandboxState: ...

    async def read_file(self, actor: Actor, container: str | None, path: str) -> bytes | None: ...

    async def http_get(self, actor: Actor, url: str) -> str | None: ...


@dataclass
class CheckContext:
    """What one evaluation round may look at, with its reads cached."""

    reader: SandboxReader
    actor: Actor
    used_since_step: Sequence[CommandUse] = ()
    used_in_session: Sequence[CommandUse] = ()
    remembered: Mapping[str, str] = field(default_factory=dict)
    _state: SandboxState | None = None
    _files: dict[tuple[str | None, str], bytes | None] = field(default_factory=dict)
    _pages: dict[str, str | None] = field(default_factory=dict)

    async def state(self) -> SandboxState:
        if self._state is None:
            self._state = await self.reader.state(self.actor)
        return self._state

    async def file(self, container: str | None, path: str) -> bytes | None:
        key = (container, path)
        if key not in self._files:
            self._files[key] = await self.reader.read_file(self.actor, container, path)
        return self._files[key]

    async def page(self, url: str) -> str | None:
        if url not in self._pages:
            self._pages[url] = await self.reader.http_get(self.actor, url)
        return self._pages[url]


def same_image(actual: str, wanted: str) -> bool:
    """``nginx`` matches ``nginx:latest`` and ``docker.io/library/nginx``; a tag must match."""

    def split(ref: str) -> tuple[str, str | None]:
        ref = ref.split("@", 1)[0]
        repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
        for prefix in ("docker.io/", "index.docker.io/", "library/"):
            repo = repo.removeprefix(prefix)
        return repo, tag or None

    actual_repo, actual_tag = split(actual)
    wanted_repo, wanted_tag = split(wanted)
    if actual_repo != wanted_repo:
        return False
    return wanted_tag is None or (actual_tag or "latest") == wanted_tag


def _matches(view: ContainerView, spec: ContainerSpec, remembered: Mapping[str, str]) -> bool:
    if spec.name and view.name != spec.name:
        return False
    if spec.running is not None and view.running != spec.running:
        return False
    if spec.status and view.status not in spec.status:
        return False
    if spec.image and not same_image(view.image, spec.image):
        return False
    if spec.network and spec.network not in view.networks:
        return False
    if spec.mount and not any(
        (spec.mount.volume is None or (m.type == "volume" and m.source == spec.mount.volume))
        and (
            spec.mount.destination is None
            or m.destination.rstrip("/") == spec.mount.destination.rstrip("/")
        )
        for m in view.mounts
    ):
        return False
    for key, value in spec.env.items():
        if key not in view.env or (value is not None and view.env[key] != value):
            return False
    if not _inspected_fields_match(view, spec):
        return False
    if spec.port and not any(
        p.container_port == spec.port.container
        and p.host_port is not None
        and (spec.port.host is None or p.host_port == spec.port.host)
        and (spec.port.ip is None or (p.host_ip or "0.0.0.0") == spec.port.ip)
        for p in view.ports
    ):
        return False
    if spec.remembered and spec.name:
        known = remembered.get(spec.name)
        if known is None:
            return False
        return (view.id == known) == (spec.remembered == "same")
    return True


def _inspected_fields_match(view: ContainerView, spec: ContainerSpec) -> bool:
    """Hostname, limits, exit code, OOM kill and health, as ``docker inspect`` shows them."""
    wanted: list[tuple[object, object]] = [
        (spec.hostname, view.hostname),
        (spec.memory, view.memory),
        (None if spec.cpus is None else round(spec.cpus * 1_000_000_000), view.nano_cpus),
        (spec.exit_code, None if view.running else view.exit_code),
        (spec.oom_killed, view.oom_killed),
        (spec.health, view.health),
    ]
    return all(want is None or want == have for want, have in wanted)


async def _container(check: ContainerCheck, ctx: CheckContext) -> bool:
    spec = check.container
    state = await ctx.state()
    found = any(_matches(view, spec, ctx.remembered) for view in state.containers)
    return found if spec.exists else not found


async def _file(check: FileCheck, ctx: CheckContext) -> bool:
    spec = check.file
    data = await ctx.file(spec.container, spec.path)
    if data is None:
        return not spec.exists
    if not spec.exists:
        return False
    if spec.contains is None:
        return True
    return spec.contains in data.decode("utf-8", errors="replace")


async def _http(check: HttpCheck, ctx: CheckContext) -> bool:
    page = await ctx.page(check.http.url)
    if page is None:
        return False
    return check.http.contains is None or check.http.contains in page


async def _removed(check: RemovedCheck, ctx: CheckContext) -> bool:
    state = await ctx.state()
    known = ctx.remembered.get(check.removed.name)
    if known is None:
        return state.container(check.removed.name) is None
    return all(view.id != known for view in state.containers)


async def _volume(check: VolumeCheck, ctx: CheckContext) -> bool:
    return check.volume.name in (await ctx.state()).volumes


async def _network(check: NetworkCheck, ctx: CheckContext) -> bool:
    return check.network.name in (await ctx.state()).networks


async def _image(check: ImageCheck, ctx: CheckContext) -> bool:
    spec, state = check.image, await ctx.state()
    if not spec.own:
        return any(same_image(image, spec.name) for image in state.images)
    return any(
        _made_as_said(image, spec)
        for image in state.own_images
        if any(same_image(name, spec.name) for name in image.names)
    )


def _made_as_said(image: OwnImageView, spec: ImageSpec) -> bool:
    if spec.built is not None and image.built != spec.built:
        return False
    if spec.cmd is not None and image.cmd != spec.cmd:
        return False
    return all(any(step_matches(step, wanted) for step in image.steps) for wanted in spec.steps)


def step_matches(step: str, wanted: str) -> bool:
    """Whether a build step (``COPY index.html /www/``) is the ``wanted`` one: the same
    keyword, and the words ``wanted`` gives after it, in order (``COPY index.html``)."""
    have, want = step.split(), wanted.split()
    if not have or have[0].upper() != want[0].upper():
        return False
    rest = " ".join(want[1:])
    return not rest or rest in " ".join(have[1:])


async def _compose(check: ComposeCheck, ctx: CheckContext) -> bool:
    spec, state = check.compose, await ctx.state()
    members = [c for c in state.containers if c.labels.get(PROJECT_LABEL) == spec.project]
    if not spec.exists:
        return not members and f"{spec.project}_default" not in state.networks
    running = [c for c in members if c.running]
    services = {c.labels.get(SERVICE_LABEL) for c in running}
    if not members or (spec.running is not None and len(services) != spec.running):
        return False
    if not set(spec.services) <= services:
        return False
    if spec.healthy:
        checked = [c.health for c in running if c.health is not None]
        return bool(checked) and all(health == "healthy" for health in checked)
    return True


def _names_container(typed: str | None, wanted: str, state: SandboxState) -> bool:
    """Whether ``typed`` (a name or an ID prefix, as typed) names the container ``wanted``."""
    if typed is None:
        return False
    if typed == wanted:
        return True
    view = state.container(wanted)
    return view is not None and len(typed) >= 4 and view.id.startswith(typed)


async def _use_matches(use: CommandUse, spec: UsedSpec, ctx: CheckContext) -> bool:
    if spec.shell is not None:
        return use.kind == "sh" and use.program == spec.shell
    if use.subcommand != spec.command or not all(use.has_flag(f) for f in spec.flags):
        return False
    if spec.program is not None and use.program != spec.program:
        return False
    if spec.container is not None:
        return _names_container(use.container, spec.container, await ctx.state())
    return True


async def _matching(spec: UsedSpec, ctx: CheckContext) -> list[CommandUse]:
    pool = ctx.used_since_step if spec.since == "step" else ctx.used_in_session
    return [use for use in pool if await _use_matches(use, spec, ctx)]


async def _used(check: UsedCheck, ctx: CheckContext) -> bool:
    return bool(await _matching(check.used, ctx))


async def _output(check: OutputCheck, ctx: CheckContext) -> bool:
    """What the last matching command printed has every ``contains`` and no ``lacks``."""
    found = await _matching(check.output, ctx)
    if not found or found[-1].output is None:
        return False
    printed = found[-1].output
    spec = check.output
    return all(text in printed for text in spec.contains) and not any(
        text in printed for text in spec.lacks
    )


async def _all(check: AllCheck, ctx: CheckContext) -> bool:
    for child in check.all:
        if not await evaluate(child, ctx):
            return False
    return True


async def _any(check: AnyCheck, ctx: CheckContext) -> bool:
    for child in check.any:
        if await evaluate(child, ctx):
            return True
    return False


async def _not(check: NotCheck, ctx: CheckContext) -> bool:
    return not await evaluate(check.not_, ctx)


class UnknownCheck(CoachError):
    """A check model without an evaluator: register one in :data:`EVALUATORS`."""


Evaluator = Callable[[Any, CheckContext], Awaitable[bool]]
# One evaluator per check model: a new kind of check is a model in bot/practice/content.py
# and one line here (a test checks that every model has one).
EVALUATORS: dict[type, Evaluator] = {
    ContainerCheck: _container,
    FileCheck: _file,
    HttpCheck: _http,
    VolumeCheck: _volume,
    NetworkCheck: _network,
    ImageCheck: _image,
    ComposeCheck: _compose,
    UsedCheck: _used,
    OutputCheck: _output,
    RemovedCheck: _removed,
    AllCheck: _all,
    AnyCheck: _any,
    NotCheck: _not,
}


async def evaluate(check: Any, ctx: CheckContext) -> bool:
    """Whether ``check`` holds for the sandbox right now."""
    evaluator = EVALUATORS.get(type(check))
    if evaluator is None:
        raise UnknownCheck(f"no evaluator for {type(check).__name__}")
    return await evaluator(check, ctx)
