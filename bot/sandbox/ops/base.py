"""What every docker subcommand implementation gets and returns, and the helpers they share.

An operation is ``async (ctx, cmd) -> Output``: the learner's sandbox and settings in ``ctx``,
the parsed command in ``cmd``. It returns CLI-like text and :class:`Note` s (message keys,
translated by the presenter); it raises :class:`~bot.core.errors.UserError` for what the
learner must change, and :class:`~bot.sandbox.errors.EngineError` for what the engine (or an
operation speaking for it) refused — the command boundary shows those in the engine's words,
in the learner's names, with a hint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from docker.api import APIClient

from bot.core.errors import UserError
from bot.dockercli.model import DockerCommand
from bot.dockercli.values import parse_timestamp
from bot.sandbox import naming, objects
from bot.sandbox.errors import EngineError, EngineNotFound
from bot.sandbox.limits import DiskSupport
from bot.sandbox.naming import Scope
from bot.sandbox.policy import PolicyConfig
from bot.sandbox.provision import Sandbox
from bot.sandbox.streams import Captured
from bot.sandbox.workers import Slot, Worker
from bot.settings import SandboxSettings

T = TypeVar("T")
RUNNING_STATES = frozenset({"running", "paused", "restarting"})


@dataclass(frozen=True, slots=True)
class Note:
    """A remark shown next to a command's output: a message key and its parameters."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


def note(key: str, /, **params: Any) -> Note:
    return Note(key, MappingProxyType(params))


@dataclass
class Output:
    """A command's CLI-like output (whole) and the notes shown next to it."""

    text: str = ""
    name: str = "docker.txt"
    notes: list[Note] = field(default_factory=list)
    error: bool = False  # some of the objects named failed (the rest worked)
    files: list[tuple[str, bytes]] = field(default_factory=list)  # sent back as attachments


class DiskGuard(Protocol):
    """What operations ask of the disk watchdog (:mod:`bot.sandbox.watchdog`)."""

    async def support(self, worker: Worker) -> DiskSupport | None:
        """Whether the worker's engine caps containers' writable layers (None: unknown)."""
        ...

    def room(self, sandbox: Sandbox) -> int:
        """Bytes the sandbox may still write before its disk budget."""
        ...

    async def before_pull(self, sandbox: Sandbox) -> None:
        """Raise a UserError when the sandbox may not pull now (worker floor, pulls/hour)."""
        ...

    async def before_build(self, sandbox: Sandbox) -> None:
        """Raise a UserError when the sandbox may not build now (the worker's floor)."""
        ...

    def volumes_released(self, sandbox: Sandbox) -> AbstractAsyncContextManager[None]:
        """Around removing the learner's volumes: the watchdog lets go of them first."""
        ...

    async def auto_removed(self, sandbox: Sandbox, settled: Sequence[str] = ()) -> None:
        """Remove the anonymous volumes of ``--rm`` containers that are gone (after waiting a
        little for the engine to remove those of ``settled`` that remove themselves)."""
        ...


@dataclass
class Ctx:
    """One command's view of the world: the sandbox, its settings, the policy and the disk
    watchdog."""

    sandbox: Sandbox
    settings: SandboxSettings
    policy: PolicyConfig
    disk: DiskGuard
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    attached: list[tuple[str, bytes]] = field(default_factory=list)  # this command's files

    @property
    def scope(self) -> Scope:
        return self.sandbox.scope

    @property
    def worker(self) -> Worker:
        return self.sandbox.worker

    async def run(
        self,
        fn: Callable[[APIClient], T],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        heavy: Slot | None = None,
    ) -> T:
        """``fn(api)`` on the worker (the API timeout unless told otherwise); ``heavy`` for
        calls that create or start a container (see ``Worker.run``)."""
        limit = timeout or self.settings.api_timeout_seconds
        return await self.worker.run(fn, timeout=limit, heavy=heavy)


Op = Callable[[Ctx, DockerCommand], Awaitable[Output]]


# --------------------------------------------------------------------------------------------
# Names, labels, captured output
# --------------------------------------------------------------------------------------------


def user_name(name: str) -> str:
    """``name`` if it is a valid name for the learner's object; UserError otherwise."""
    if not naming.valid_user_name(name):
        raise UserError("sandbox.bad_name", name=name[:80])
    return name


def user_labels(cmd: DockerCommand) -> dict[str, str]:
    """``--label`` values as a dict, without any of the coach's own labels."""
    labels: dict[str, str] = {}
    for item in cmd.values("label"):
        key, _, value = item.partition("=")
        if not key.startswith(naming.LABEL_PREFIX):
            labels[key] = value
    return labels


async def create_volume(ctx: Ctx, name: str, extra: Mapping[str, str] | None = None) -> None:
    """Create the user's volume ``name`` (a local volume under the sandbox's labels, with
    the learner's own ``extra`` labels)."""
    real = ctx.scope.real(name)
    labels = {**(extra or {}), **ctx.scope.labels(naming.KIND_VOLUME, name)}
    await ctx.run(lambda api: api.create_volume(real, driver="local", labels=labels))


def label_matches(labels: Mapping[str, str], wanted: str) -> bool:
    """A ``label=KEY`` or ``label=KEY=VALUE`` filter value against an object's labels."""
    key, has_value, value = wanted.partition("=")
    return key in labels and (not has_value or labels[key] == value)


def prune_selects(
    labels: Mapping[str, str],
    filters: Mapping[str, tuple[str, ...]],
    created: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Whether a prune with ``--filter label=…``/``label!=…``/``until=…`` takes an object with
    ``labels`` made at ``created`` (``until``: only what was made before that time)."""
    if not all(label_matches(labels, wanted) for wanted in filters.get("label", ())):
        return False
    if any(label_matches(labels, unwanted) for unwanted in filters.get("label!", ())):
        return False
    for value in filters.get("until", ()):
        edge = parse_timestamp(value, (now or datetime.now(UTC)).timestamp())
        if created is None or created.timestamp() >= edge:
            return False
    return True


def captured_output(ctx: Ctx, captured: Captured, name: str, notes: list[Note]) -> Output:
    """Output of a stream read; a note when the sandbox's output limit stopped it."""
    out = Output(text=captured.text, name=name, notes=list(notes))
    if captured.cut:
        out.notes.append(note("sandbox.stream_cut", cap=ctx.settings.output_bytes))
    return out


# --------------------------------------------------------------------------------------------
# Commands on several objects: docker stop a b c
# --------------------------------------------------------------------------------------------

Action = Callable[[objects.Found], Awaitable[None]]


async def for_each(
    ctx: Ctx, cmd: DockerCommand, action: Action, find: Callable[[str], objects.Found] | None = None
) -> Output:
    """``action`` on every object the arguments name, like the docker CLI: the names that
    worked, then the errors; when all of them failed, that is the error. ``find`` resolves a
    name (default: among the user's containers, listed once for the whole command)."""
    if not cmd.args:
        raise UserError("sandbox.missing_container")
    listed: list[objects.Listed] = []
    if find is None:
        listed = await objects.containers(ctx.worker, ctx.scope)
        find = partial(objects.find_container, ctx.scope, listed)
    ids = {item["Id"]: objects.container_name(ctx.scope, item) for item in listed}
    done: list[str] = []
    errors: list[str] = []  # in docker's words, as it prints them
    refusals: list[UserError] = []  # the sandbox's own reasons (quotas), shown as notes
    first: EngineError | None = None
    for ref in cmd.args:
        try:
            await action(find(ref))
            done.append(ref)
        except EngineError as exc:
            first = first or exc
            errors.append(naming.for_user(exc.explanation, ctx.scope, ids))
        except UserError as exc:
            if len(cmd.args) == 1:
                raise
            line = _docker_line(exc)
            if line is None:
                refusals.append(exc)
            else:
                errors.append(line)
    if not done:
        if refusals:
            raise refusals[0]
        # one "Error response from daemon:" per line, as docker prints each failure
        text = "\nError response from daemon: ".join(errors)
        raise EngineError(text, first.status if first else None)
    text = "\n".join(done + [f"Error response from daemon: {e}" for e in errors])
    notes = [note(exc.key, **exc.params) for exc in refusals]
    return Output(text=text, notes=notes, error=bool(errors or refusals))


def _docker_line(exc: UserError) -> str | None:
    """How docker words a lookup failure among several objects (None: not a lookup failure)."""
    ref = exc.params.get("ref")
    if exc.key == "sandbox.ambiguous":
        return f"multiple IDs found with provided prefix: {ref}"
    kind = exc.key.removeprefix("sandbox.no_such_")
    return None if kind == exc.key else f"No such {kind}: {ref}"


async def prune_each(
    ctx: Ctx, candidates: list[tuple[str, str]], remove: Callable[[str], Awaitable[None]]
) -> tuple[list[str], list[str]]:
    """``remove(ident)`` for each ``(ident, shown)``: what was removed (as shown) and the
    engine's refusals (in the learner's names). One removed meanwhile is skipped."""
    removed: list[str] = []
    errors: list[str] = []
    for ident, shown in candidates:
        try:
            await remove(ident)
        except EngineNotFound:  # removed meanwhile: not reclaimed by this prune
            continue
        except EngineError as exc:  # in use again by something created meanwhile
            errors.append(naming.for_user(exc.explanation, ctx.scope))
            continue
        removed.append(shown)
    return removed, errors


def engine_action(ctx: Ctx, call: Callable[[APIClient, str], object]) -> Action:
    """An action calling ``call(api, id)`` for each object."""

    async def action(found: objects.Found) -> None:
        await ctx.run(lambda api: call(api, found.id))

    return action
