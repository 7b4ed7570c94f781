"""The coach: the composition root that wires content, store, sandbox, quiz and practice
together and answers requests from any front end with :class:`~bot.core.reply.Reply` s."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.concepts.index import ConceptIndex
from bot.content.library import ContentLibrary, load_library
from bot.core import metrics
from bot.core.clock import Clock, SystemClock
from bot.core.commands import (
    MAX_SUGGESTIONS,
    CommandSpec,
    CommandTable,
    MemberRef,
    OptionKind,
    Request,
    Suggestion,
)
from bot.core.context import Actor
from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.lifecycle import Gate
from bot.core.reply import Reply, Tone
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger("bot.coach")

# Each capability registers its commands through ``register(coach)`` in this module.
CAPABILITIES: tuple[str, ...] = (
    "bot.general.commands",
    "bot.concepts.commands",
    "bot.sandbox.commands",
    "bot.quiz.commands",
    "bot.progress.commands",
    "bot.practice.commands",
    "bot.admin.commands",
)

Hook = Callable[..., Awaitable[None]]


async def _nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


@dataclass
class Hooks:
    """Points where one capability lets another react without importing it."""

    concept_read: Hook = _nothing
    locale_for: Callable[[Actor], Awaitable[str | None]] | None = None


@dataclass
class Coach:
    settings: Settings
    library: ContentLibrary
    clock: Clock = field(default_factory=SystemClock)
    table: CommandTable = field(default_factory=CommandTable)
    hooks: Hooks = field(default_factory=Hooks)
    services: dict[str, Any] = field(default_factory=dict)
    _starters: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    gate: Gate = field(default_factory=Gate)  # closed at shutdown: see bot/core/lifecycle.py
    concept_index: ConceptIndex = field(init=False)
    store: Store | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.concept_index = ConceptIndex(self.library.concepts.values())
        modules = [importlib.import_module(m) for m in CAPABILITIES if _available(m)]
        # Hooks first: a capability registered early may capture a hook set by a later one.
        for module in modules:
            if hasattr(module, "install_hooks"):
                module.install_hooks(self)
        for module in modules:
            module.register(self)

    # life cycle ---------------------------------------------------------------------
    @classmethod
    async def open(cls, settings: Settings, clock: Clock | None = None) -> Coach:
        coach = cls(settings, load_library(settings.content_dir), clock=clock or SystemClock())
        await coach.start()
        return coach

    def on_start(self, starter: Callable[[], Awaitable[None]]) -> None:
        self._starters.append(starter)

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        self._closers.append(closer)

    async def start(self) -> None:
        from bot.store import Store

        # The store opens first and closes last: every other part may use it.
        self.store = await Store.open(
            self.settings.database_path, self.clock, backups=self.settings.backup_dir
        )
        self.services["store"] = self.store
        for starter in self._starters:
            await starter()

    async def close(self) -> None:
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:
                log.exception("error while closing")
        if self.store is not None:
            store, self.store = self.store, None
            self.services.pop("store", None)
            try:
                await store.close()
            except Exception:
                log.exception("error while closing the store")

    async def __aenter__(self) -> Coach:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # requests -----------------------------------------------------------------------
    async def localize(self, actor: Actor) -> Actor:
        """The actor with the language they chose, if they chose one."""
        if self.hooks.locale_for is None:
            return actor
        try:
            chosen = await self.hooks.locale_for(actor)
        except Exception:
            # A failing store must not turn every reply into an error: answer in the
            # language the front end gave us, and let the command itself report the problem.
            log.exception("could not read the user's language", extra={"user": actor.user_id})
            return actor
        if not chosen or chosen == actor.locale:
            return actor
        return Actor(
            actor.user_id, actor.display_name, actor.guild_id, chosen, actor.is_admin, actor.uploads
        )

    def translator(self, locale: str) -> Translator:
        return Translator(self.library.catalog, locale)

    async def run(
        self, actor: Actor, path: Sequence[str], options: dict[str, Any] | None = None
    ) -> list[Reply]:
        """Run the command at ``path`` for ``actor``; never raises for user mistakes."""
        actor = await self.localize(actor)
        tr = self.translator(actor.locale)
        spec = self.table.get(tuple(path))
        if spec is None:
            return [
                self.error_reply(
                    tr, UserError("general.unknown_command", command="/" + " ".join(path))
                )
            ]
        request = Request(actor, tr, dict(options or {}))
        return await self._guarded(spec.name, request, lambda: self._invoke(spec, request))

    async def press(self, actor: Actor, action: str, value: str | None = None) -> list[Reply]:
        """A button press or a typed answer for a choice made earlier (maybe before a restart)."""
        actor = await self.localize(actor)
        tr = self.translator(actor.locale)
        handler = self.table.action_handler(action)
        if handler is None:
            return [self.error_reply(tr, UserError("general.expired_action"))]
        request = Request(actor, tr, {})
        return await self._guarded(
            f"action:{action.split(':', 1)[0]}", request, lambda: handler(request, action, value)
        )

    async def complete(
        self, actor: Actor, path: Sequence[str], option: str, partial: str
    ) -> list[Suggestion]:
        """Suggestions for ``option`` while the user types; never raises (none on failure)."""
        spec = self.table.get(tuple(path))
        opt = spec.option(option) if spec else None
        if spec is None or opt is None or opt.completer is None:
            return []
        try:
            actor = await self.localize(actor)
            request = Request(actor, self.translator(actor.locale), {})
            return (await opt.completer(request, partial))[:MAX_SUGGESTIONS]
        except Exception:
            log.exception("autocomplete failed", extra={"command": spec.name})
            return []

    async def _invoke(self, spec: CommandSpec, request: Request) -> list[Reply]:
        self._check_options(spec, request)
        if spec.admin_only and not request.actor.is_admin:
            raise UserError("general.admin_only")
        replies = _as_list(await spec.handler(request))
        for listener in self.table.listeners_for(spec.path):
            replies.extend(await listener(request, spec.path, replies))
        return replies

    async def _guarded(
        self, name: str, request: Request, call: Callable[[], Awaitable[Any]]
    ) -> list[Reply]:
        """Every request's one way in: refused once shutdown began, counted while it runs."""
        if self.gate.closing:
            metrics.observe_command(name, "refused_shutting_down", 0.0)
            tr = request.tr
            return [
                Reply(
                    title=tr("general.shutting_down_title"),
                    body=tr("general.shutting_down"),
                    tone=Tone.WARNING,
                )
            ]
        with self.gate.admitted():
            return await self._answer(name, request, call)

    async def _answer(
        self, name: str, request: Request, call: Callable[[], Awaitable[Any]]
    ) -> list[Reply]:
        started = time.perf_counter()
        outcome = "ok"
        try:
            replies = _as_list(await call())
        except UserError as exc:
            outcome = "user_error"
            replies = [self.error_reply(request.tr, exc)]
        except Exception:
            outcome = "error"
            error_id = uuid.uuid4().hex[:8]
            log.exception("command failed", extra={"command": name, "error_id": error_id})
            replies = [
                Reply(
                    title=request.tr("general.unexpected_title"),
                    body=request.tr("general.unexpected", error_id=error_id),
                    tone=Tone.ERROR,
                )
            ]
        log.info(
            "command",
            extra={
                "command": name,
                "user": request.actor.user_id,
                "guild": request.actor.guild_id,
                "outcome": outcome,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        metrics.observe_command(name, outcome, time.perf_counter() - started)
        return replies

    @staticmethod
    def _check_options(spec: CommandSpec, request: Request) -> None:
        for option in spec.options:
            value = request.options.get(option.name)
            if value is None or value == "":
                if option.required:
                    raise UserError(
                        "general.missing_option", option=option.name, command="/" + spec.name
                    )
                continue
            if option.kind is OptionKind.INTEGER:
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise UserError(
                        "general.not_a_number", option=option.name, value=str(value)[:40]
                    ) from None
                if (option.min_value is not None and value < option.min_value) or (
                    option.max_value is not None and value > option.max_value
                ):
                    raise UserError(
                        "general.out_of_range",
                        option=option.name,
                        low=option.min_value,
                        high=option.max_value,
                    )
                request.options[option.name] = value
            elif option.kind is OptionKind.STRING:
                if option.choices and value not in option.choices:
                    raise UserError(
                        "general.bad_choice", option=option.name, choices=", ".join(option.choices)
                    )
                if option.max_length and len(str(value)) > option.max_length:
                    raise UserError("general.too_long", option=option.name, limit=option.max_length)
            elif option.kind is OptionKind.MEMBER and not isinstance(value, MemberRef):
                request.options[option.name] = MemberRef(str(value), str(value))

    @staticmethod
    def error_reply(tr: Translator, error: UserError) -> Reply:
        return Reply(
            title=tr("general.error_title"), body=tr(error.key, **error.params), tone=Tone.ERROR
        )


def _available(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:
        return False


def _as_list(result: Reply | Sequence[Reply] | None) -> list[Reply]:
    if result is None:
        return []
    if isinstance(result, Reply):
        return [result]
    return list(result)
