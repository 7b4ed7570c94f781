"""The coach: the composition root.

It builds every capability explicitly, in one place (:meth:`Coach._compose`), hands each one
what it needs — the command table, the content registry, settings, the clock, the store slot
and the *ports* it declared, wired to the concrete services of other capabilities — and
answers requests from any front end with :class:`~bot.core.reply.Reply` s.

Layers (enforced by the import-linter contracts in ``pyproject.toml``)::

    front ends      bot.cli, bot.console, bot.discordbot, bot.exts
    composition     bot.coach                      (this module: nothing imports it but front ends)
    capabilities    bot.general, bot.concepts, bot.sandbox, bot.quiz, bot.practice,
                    bot.progress, bot.admin        (independent of each other: ports)
    services        bot.store, bot.content         (independent of each other)
    base            bot.settings, bot.core

Content: every capability registers its kinds in ``self.content`` (a
:class:`~bot.content.registry.ContentRegistry`) and reads the library installed there; the
same composition builds the registry for ``python -m bot content check`` (:func:`check_content`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.admin import commands as admin_commands
from bot.admin.service import AdminService
from bot.concepts import commands as concepts_commands
from bot.concepts.service import ConceptService
from bot.content.items import ContentLibrary
from bot.content.registry import ContentRegistry, ReloadOutcome
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
from bot.core.fonts import find_font
from bot.core.i18n import Translator
from bot.core.lifecycle import Gate
from bot.core.posts import Outbox
from bot.core.registry import Lifecycle, Slot
from bot.core.reply import Reply, Tone
from bot.general import commands as general_commands
from bot.practice import commands as practice_commands
from bot.practice.service import PracticeService
from bot.progress import commands as progress_commands
from bot.progress.service import ProgressService
from bot.quiz import commands as quiz_commands
from bot.quiz.group import GroupQuestions
from bot.quiz.service import QuizService
from bot.sandbox import commands as sandbox_commands
from bot.sandbox.service import SandboxService
from bot.settings import FONT_PATHS, Settings
from bot.store import Store
from bot.study import commands as study_commands
from bot.study.service import StudyService

log = logging.getLogger("bot.coach")


class Curriculum:
    """The course as ``/progress`` measures against it (progress's ``Curriculum`` port),
    answered by the concepts, quiz and practice capabilities."""

    def __init__(self, concepts: ConceptService, quiz: QuizService, practice: PracticeService):
        self._concepts = concepts
        self._quiz = quiz
        self._practice = practice

    def concept_count(self) -> int:
        return self._concepts.count()

    def question_topics(self) -> Mapping[str, str]:
        return self._quiz.question_topics()

    def topic_title(self, tr: Translator, topic: str) -> str:
        return self._quiz.topic_title(tr, topic)

    def scenario_title(self, scenario_id: str, locale: str) -> str | None:
        return self._practice.scenario_title(scenario_id, locale)


class GroupPractice:
    """Practice as a study group uses it (study's ``GroupPracticePort``): each member starts
    the group's scenario in their own sandbox, and the board reads where they are."""

    def __init__(self, practice: PracticeService) -> None:
        self._practice = practice

    async def start(self, request: Request, scenario_id: str) -> list[Reply]:
        return await self._practice.start(
            Request(request.actor, request.tr, {"scenario": scenario_id})
        )

    async def place(self, user_id: str, scenario_id: str) -> int | None:
        return await self._practice.place(user_id, scenario_id)

    def step_titles(self, scenario_id: str, locale: str) -> list[str] | None:
        return self._practice.step_titles(scenario_id, locale)

    def scenario_title(self, scenario_id: str, locale: str) -> str | None:
        return self._practice.scenario_title(scenario_id, locale)

    def scenarios_by_concept(self) -> dict[str, list[str]]:
        return self._practice.scenarios_by_concept()

    def scenario_ids(self) -> list[str]:
        return list(self._practice.scenarios)

    async def complete_scenario(self, request: Request, partial: str) -> list[Suggestion]:
        return await self._practice.complete_scenario(request, partial)


class ServedContent:
    """The content being served (admin's ``ContentReloader`` port): reloads read the
    configured content folder."""

    def __init__(self, registry: ContentRegistry, folder: Path) -> None:
        self._registry = registry
        self._folder = folder

    async def reload(self) -> ReloadOutcome:
        return await self._registry.reload(self._folder)

    def translator(self, locale: str) -> Translator:
        return Translator(self._registry.library.catalog, locale)


class Coach:
    """Every capability, composed; the one object front ends talk to.

    ``Coach(settings)`` composes the capabilities without loading content (enough for the
    command table and for :func:`check_content`); ``library`` installs one;
    :meth:`build` loads the configured content; :meth:`open` also starts the coach.
    """

    def __init__(
        self, settings: Settings, library: ContentLibrary | None = None, clock: Clock | None = None
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.table = CommandTable()
        self.content = ContentRegistry()
        self._store: Slot[Store] = Slot("store")
        self._starters: list[Lifecycle] = []
        self._closers: list[Lifecycle] = []
        self.gate = Gate()  # closed at shutdown: see bot/core/lifecycle.py
        self.posts = Outbox()  # what the coach posts on its own (boards, the daily question)
        self._compose()
        if library is not None:
            self.content.install(library)

    def _compose(self) -> None:
        """Register every capability, explicitly, each with the ports it declared."""
        store, clock, content = self._store, self.clock, self.content
        general_commands.register(self)
        self.concepts: ConceptService = concepts_commands.register(
            self, content, on_read=self._concept_read
        )
        self.sandbox: SandboxService = sandbox_commands.register(
            self, self.settings.sandbox, clock, store
        )
        self.quiz: QuizService = quiz_commands.register(
            self, content, self.settings.quiz, clock, store, concepts=self.concepts
        )
        self.practice: PracticeService = practice_commands.register(
            self, content, clock, store, sandbox=self.sandbox.reader, font=self.chart_font
        )
        self.progress: ProgressService = progress_commands.register(
            self,
            clock,
            store,
            curriculum=Curriculum(self.concepts, self.quiz, self.practice),
            practice=self.practice,
            translator=self.translator,
            font=self.chart_font,
        )
        self.admin: AdminService = admin_commands.register(
            self,
            store,
            sandboxes=self.sandbox.reader,
            content=ServedContent(content, self.settings.content_dir),
        )
        self.study: StudyService = study_commands.register(
            self,
            self.settings.study,
            clock,
            store,
            self.posts,
            quiz=GroupQuestions(self.quiz),
            practice=GroupPractice(self.practice),
            concepts=self.concepts,
            translator=self.translator,
            default_locale=lambda: self.settings.default_locale,
            font=self.chart_font,
        )

    async def _concept_read(self, actor: Actor, concept_id: str) -> None:
        await self.progress.concept_read(actor, concept_id)

    # content ----------------------------------------------------------------------------
    @property
    def library(self) -> ContentLibrary:
        """The content library being served right now (swapped whole by ``/admin reload``)."""
        return self.content.library

    def translator(self, locale: str) -> Translator:
        return Translator(self.library.catalog, locale)

    def chart_font(self) -> Path | None:
        """The font with Hangul that charts draw with (the setting, else a known path)."""
        return find_font(self.settings.chart_font, FONT_PATHS)

    # life cycle ---------------------------------------------------------------------
    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Coach:
        """Compose and load the configured content (raises ConfigError listing problems)."""
        coach = cls(settings, clock=clock)
        coach.content.install(coach.content.load(settings.content_dir))
        return coach

    @classmethod
    async def open(cls, settings: Settings, clock: Clock | None = None) -> Coach:
        coach = cls.build(settings, clock)
        try:
            await coach.start()
        except BaseException:
            await coach.close()  # what did open (the store) closes again
            raise
        return coach

    @property
    def store(self) -> Store | None:
        """The store once the coach has started (None before)."""
        return self._store.peek()

    def on_start(self, starter: Lifecycle) -> None:
        self._starters.append(starter)

    def on_close(self, closer: Lifecycle) -> None:
        self._closers.append(closer)

    async def start(self) -> None:
        # The store opens first and closes last: every other part may use it.
        self._store.fill(
            await Store.open(
                self.settings.database_path, self.clock, backups=self.settings.backup_dir
            )
        )
        # the images the scenarios use are pulled onto every worker ahead of the learners
        self.sandbox.prepare_images(self.practice.images())
        for starter in self._starters:
            await starter()

    async def close(self) -> None:
        """Close every capability (errors logged), then the store; an error closing the
        store is raised: writes it could not finish must not go unnoticed."""
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:
                log.exception("error while closing")
        store = self._store.clear()
        if store is not None:
            await store.close()

    async def __aenter__(self) -> Coach:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def worker_health(self) -> dict[str, Any]:
        """What the sandbox says about its workers and executors (for health reports)."""
        return self.sandbox.reader.executor_stats()

    # requests -----------------------------------------------------------------------
    async def localize(self, actor: Actor) -> Actor:
        """The actor with the language they chose, if they chose one."""
        if not self._store.filled:
            return actor
        try:
            chosen = await self.progress.locale_for(actor)
        except Exception:
            # A failing store must not turn every reply into an error: answer in the
            # language the front end gave us, and let the command itself report the problem.
            log.exception("could not read the user's language", extra={"user": actor.user_id})
            return actor
        if not chosen or chosen == actor.locale:
            return actor
        return replace(actor, locale=chosen)

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
            title=tr(error.title_key),
            body=tr(error.key, **error.params),
            tone=Tone.WARNING if error.ours else Tone.ERROR,
        )


def _as_list(result: Reply | Sequence[Reply] | None) -> list[Reply]:
    if result is None:
        return []
    if isinstance(result, Reply):
        return [result]
    return list(result)


# content outside a running coach: the same composition, so the same kinds ---------------------
def content_registry(settings: Settings | None = None) -> ContentRegistry:
    """The content registry exactly as the coach composes it (nothing loaded or started)."""
    return Coach(settings or Settings()).content


def check_content(root: Path) -> tuple[ContentLibrary, list[str]]:
    """``python -m bot content check``: load ``root`` with every kind the coach registers."""
    return content_registry().check(root)


def load_content(root: Path) -> ContentLibrary:
    """Load ``root`` with every registered kind, or raise ConfigError listing every problem."""
    return content_registry().load(root)


def coverage_report(root: Path) -> tuple[str, int]:
    """``python -m bot content coverage``: the table and the exit status."""
    return content_registry().coverage_report(root)
