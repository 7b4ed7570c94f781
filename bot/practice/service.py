"""Guided practice: walk a learner through a scenario, checking each step in their sandbox."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from bot.core import metrics
from bot.core.clock import Clock
from bot.core.commands import MAX_SUGGESTIONS, Request, Suggestion
from bot.core.context import Actor
from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.reply import Choice, ChoiceStyle, Field, Placement, Reply, ReplyFile, Tone
from bot.core.text import shorten
from bot.dockercli.views import SandboxState
from bot.practice.checks import CheckContext, SandboxReader, evaluate
from bot.practice.content import FailCheck, Scenario, Step
from bot.practice.diagram import diagram_state, render_lifecycle
from bot.practice.session import PracticeSession
from bot.practice.uses import CommandUse, record
from bot.store.practice import PracticeSummary, SessionRecord

log = logging.getLogger("bot.practice")

ACTION = "practice"
PRIMARY = ChoiceStyle.PRIMARY


class PracticeRepo(Protocol):
    """Where sessions, finished steps and completions are kept (``bot/store/practice.py``)."""

    async def load_session(self, user_id: str) -> SessionRecord | None: ...

    async def start_session(self, who: Actor, session: SessionRecord) -> None: ...

    async def save_session(self, session: SessionRecord) -> None: ...

    async def end_session(self, user_id: str) -> None: ...

    async def record_step(
        self, who: Actor, scenario_id: str, step_id: str, skipped: bool
    ) -> None: ...

    async def record_completion(self, who: Actor, scenario_id: str, skipped: int) -> None: ...

    async def completed_scenarios(self, user_id: str, guild_id: str) -> set[str]: ...

    async def summary(self, user_id: str, guild_id: str) -> PracticeSummary: ...


def command_use(path: tuple[str, ...], line: str, replies: Sequence[Reply]) -> CommandUse | None:
    """The use of a ``/docker`` or ``/sh`` command that answered ``replies`` (its output is
    the preformatted text they show)."""
    if path not in (("docker",), ("sh",)):
        return None
    output = "\n".join(reply.code for reply in replies if reply.code)
    return record("docker" if path == ("docker",) else "sh", line, output)


def in_order(scenarios: Mapping[str, Scenario]) -> dict[str, Scenario]:
    """Scenarios as ``/practice list`` shows them: by their ``order``, then id."""
    return dict(sorted(scenarios.items(), key=lambda kv: (kv[1].order, kv[0])))


class PracticeService:
    """Guided practice. ``scenarios`` gives the scenarios of the library installed right now
    (in order), so that ``/admin reload`` changes what every next command sees; ``sandbox``
    is the port through which checks read the learner's sandbox; ``repo`` the store's
    practice tables (available once the coach has started)."""

    def __init__(
        self,
        scenarios: Callable[[], Mapping[str, Scenario]],
        sandbox: SandboxReader,
        repo: Callable[[], PracticeRepo],
        clock: Clock,
    ) -> None:
        self._scenarios = scenarios
        self._sandbox = sandbox
        self._repo = repo
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    # plumbing -----------------------------------------------------------------------
    @property
    def scenarios(self) -> Mapping[str, Scenario]:
        return self._scenarios()

    def sandbox(self) -> SandboxReader:
        return self._sandbox

    def repo(self) -> PracticeRepo:
        return self._repo()

    async def _load(self, user_id: str) -> PracticeSession | None:
        record = await self.repo().load_session(user_id)
        return PracticeSession.from_record(record) if record is not None else None

    async def _save(self, session: PracticeSession) -> None:
        await self.repo().save_session(session.to_record())

    # facts for other capabilities ----------------------------------------------------
    async def summary(self, user_id: str, guild_id: str) -> PracticeSummary:
        """Steps passed and skipped, and scenarios completed, in one server."""
        return await self.repo().summary(user_id, guild_id)

    def scenario_title(self, scenario_id: str, locale: str) -> str | None:
        """A scenario's title in ``locale`` (None for a scenario the content no longer has)."""
        scenario = self.scenarios.get(scenario_id)
        return scenario.title.get(locale) if scenario is not None else None

    def _lock(self, user_id: str) -> asyncio.Lock:
        return self._locks.setdefault(user_id, asyncio.Lock())

    def _scenario(self, scenario_id: str) -> Scenario:
        scenario = self.scenarios.get(scenario_id.strip().lower())
        if scenario is None:
            raise UserError("practice.unknown_scenario", scenario=shorten(scenario_id, 60))
        return scenario

    async def _active(self, request: Request) -> tuple[PracticeSession, Scenario]:
        session = await self._load(request.actor.user_id)
        if session is None:
            raise UserError("practice.no_session")
        scenario = self.scenarios.get(session.scenario_id)
        if scenario is None or session.step_index >= len(scenario.steps):
            await self.repo().end_session(request.actor.user_id)
            raise UserError("practice.no_session")
        return session, scenario

    # commands -----------------------------------------------------------------------
    async def list_scenarios(self, request: Request) -> Reply:
        tr, locale = request.tr, request.tr.locale
        done = await self.repo().completed_scenarios(request.actor.user_id, request.actor.guild_id)
        active = await self._load(request.actor.user_id)
        scenarios = self.scenarios
        lines = []
        for scenario in scenarios.values():
            mark = "✅ " if scenario.id in done else ""
            if active and active.scenario_id == scenario.id:
                mark = "▶️ "
            lines.append(
                tr(
                    "practice.list_entry",
                    mark=mark,
                    title=scenario.title.get(locale),
                    id=scenario.id,
                    summary=scenario.summary.get(locale),
                    steps=len(scenario.steps),
                )
            )
        return Reply(
            title=tr("practice.list_title", count=len(scenarios)),
            body=tr("practice.list_intro") + "\n\n" + "\n".join(lines),
        )

    async def complete_scenario(self, request: Request, partial: str) -> list[Suggestion]:
        wanted = partial.strip().casefold()
        locale = request.tr.locale
        found = []
        for scenario in self.scenarios.values():
            title = scenario.title.get(locale)
            if wanted in scenario.id or wanted in title.casefold():
                found.append(Suggestion(f"{title} ({scenario.id})", scenario.id))
        return found[:MAX_SUGGESTIONS]

    async def start(self, request: Request) -> list[Reply]:
        scenario = self._scenario(str(request.opt("scenario", "")))
        actor, tr = request.actor, request.tr
        async with self._lock(actor.user_id):
            replies: list[Reply] = []
            current = await self._load(actor.user_id)
            if current is not None and current.scenario_id == scenario.id:
                replies.append(Reply(body=tr("practice.already_active"), tone=Tone.WARNING))
                replies.append(await self._step_reply(request, scenario, current))
                return replies
            if current is not None and current.scenario_id in self.scenarios:
                old = self.scenarios[current.scenario_id]
                replies.append(Reply(body=tr("practice.replaced", title=old.title.get(tr.locale))))
            state = await self.sandbox().state(actor)
            now = self.clock.now()
            session = PracticeSession(
                user_id=actor.user_id,
                guild_id=actor.guild_id,
                scenario_id=scenario.id,
                started_at=now,
                step_started_at=now,
            )
            await self.repo().start_session(actor, session.to_record())
            replies.append(self._intro_reply(tr, scenario, state))
            replies.append(await self._step_reply(request, scenario, session, state))
            return replies

    async def status(self, request: Request) -> Reply:
        session, scenario = await self._active(request)
        return await self._step_reply(request, scenario, session)

    async def check(self, request: Request) -> list[Reply]:
        async with self._lock(request.actor.user_id):
            session, scenario = await self._active(request)
            return await self._progress(request, session, scenario, explicit=True)

    async def hint(self, request: Request) -> Reply:
        tr = request.tr
        async with self._lock(request.actor.user_id):
            session, scenario = await self._active(request)
            step = scenario.steps[session.step_index]
            if not step.hints:
                return Reply(body=tr("practice.no_hints"), tone=Tone.WARNING)
            if session.hints_shown >= len(step.hints):
                return Reply(body=tr("practice.no_more_hints"), tone=Tone.WARNING)
            session.hints_shown += 1
            await self._save(session)
            number = session.hints_shown
            body = step.hints[number - 1].get(tr.locale)
            if number == len(step.hints):
                body += "\n\n" + tr("practice.last_hint")
            return Reply(
                title=tr("practice.hint_title", number=number, total=len(step.hints)), body=body
            )

    async def skip(self, request: Request) -> list[Reply]:
        tr = request.tr
        async with self._lock(request.actor.user_id):
            session, scenario = await self._active(request)
            step = scenario.steps[session.step_index]
            ctx = self._context(request, session)
            await self._remember(ctx, step, session)
            await self.repo().record_step(request.actor, scenario.id, step.id, skipped=True)
            session.skipped += 1
            replies = [
                Reply(
                    body=tr(
                        "practice.skipped",
                        number=session.step_index + 1,
                        title=step.title.get(tr.locale),
                    ),
                    tone=Tone.WARNING,
                )
            ]
            session.advance(self.clock.now())
            if session.step_index >= len(scenario.steps):
                replies.extend(await self._finish(request, scenario, session))
                return replies
            await self._save(session)
            replies.append(await self._step_reply(request, scenario, session))
            return replies

    # the status message's buttons --------------------------------------------------------
    async def press(self, request: Request, action: str, _value: str | None) -> list[Reply]:
        """``practice:check:<user>`` and ``practice:hint:<user>`` on a step's message: the
        answer takes that message's place, so it stays the learner's live status."""
        parts = action.split(":")
        if len(parts) != 3 or parts[1] not in ("check", "hint"):
            raise UserError("general.expired_action")
        if parts[2] != request.actor.user_id:
            raise UserError("practice.not_yours")
        if parts[1] == "hint":
            shown = await self.hint(request)
            if shown.tone is Tone.WARNING:  # no (more) hints: said to the presser only
                return [shown]
            replies = [await self.status(request)]
        else:
            replies = await self.check(request)
            if not any(r.meta.get("practice") in ("step", "finished") for r in replies):
                replies.append(await self.status(request))
        return [reply.but(placement=Placement.REPLACE) for reply in replies]

    async def stop(self, request: Request) -> Reply:
        async with self._lock(request.actor.user_id):
            _session, scenario = await self._active(request)
            await self.repo().end_session(request.actor.user_id)
            title = scenario.title.get(request.tr.locale)
            return Reply(body=request.tr("practice.stopped", title=title))

    async def after_command(
        self, request: Request, path: tuple[str, ...], replies: list[Reply]
    ) -> list[Reply]:
        """Listener for ``/docker`` and ``/sh``: record what was used, re-check the step."""
        async with self._lock(request.actor.user_id):
            session = await self._load(request.actor.user_id)
            if session is None:
                return []
            scenario = self.scenarios.get(session.scenario_id)
            if scenario is None or session.step_index >= len(scenario.steps):
                return []
            failed = any(reply.tone is Tone.ERROR for reply in replies)
            if not failed:
                used = command_use(path, str(request.opt("command", "")), replies)
                if used is not None:
                    session.use(used)
            # The command itself has answered: a check that cannot run now stays quiet for the
            # learner (and never hides the command's own output), but not for the log.
            try:
                return await self._progress(request, session, scenario, explicit=False)
            except UserError as exc:
                log.info(
                    "practice check skipped",
                    extra={"user": session.user_id, "reason": exc.key},
                )
            except Exception:
                log.exception("practice check failed", extra={"user": session.user_id})
            await self._save(session)
            return []

    # checking -----------------------------------------------------------------------
    def _context(self, request: Request, session: PracticeSession) -> CheckContext:
        return CheckContext(
            reader=self.sandbox(),
            actor=request.actor,
            used_since_step=session.used_since_step(),
            used_in_session=session.used_in_session(),
            remembered=dict(session.remembered),
        )

    @staticmethod
    def _next_context(previous: CheckContext, session: PracticeSession) -> CheckContext:
        """The context for the session's next step, sharing ``previous``'s reads."""
        return dataclasses.replace(
            previous,
            used_since_step=session.used_since_step(),
            used_in_session=session.used_in_session(),
            remembered=dict(session.remembered),
        )

    @staticmethod
    async def _remember(ctx: CheckContext, step: Step, session: PracticeSession) -> None:
        if not step.remember:
            return
        state = await ctx.state()
        for name in step.remember:
            view = state.container(name)
            if view is not None:
                session.remembered[name] = view.id

    @staticmethod
    async def _matching_fail(step: Step, ctx: CheckContext) -> FailCheck | None:
        for fail in step.fail_checks:
            if await evaluate(fail.when, ctx):
                return fail
        return None

    async def _progress(
        self, request: Request, session: PracticeSession, scenario: Scenario, explicit: bool
    ) -> list[Reply]:
        tr = request.tr
        replies: list[Reply] = []
        ctx = self._context(request, session)
        moved = False
        while session.step_index < len(scenario.steps):
            step = scenario.steps[session.step_index]
            if await evaluate(step.check, ctx):
                await self._remember(ctx, step, session)
                await self.repo().record_step(request.actor, scenario.id, step.id, skipped=False)
                metrics.practice_step_completed()
                replies.append(self._done_reply(tr, step, session.step_index + 1))
                session.advance(self.clock.now())
                moved = True
                ctx = self._next_context(ctx, session)
                continue
            fail = await self._matching_fail(step, ctx)
            if fail is not None and (explicit or fail.id != session.last_fail):
                replies.append(self._fail_reply(tr, fail))
            session.last_fail = fail.id if fail else None
            if moved:
                replies.append(
                    await self._step_reply(request, scenario, session, await ctx.state())
                )
            elif explicit and fail is None:
                replies.append(self._not_yet_reply(tr, step, session.step_index + 1))
            await self._save(session)
            return replies
        replies.extend(await self._finish(request, scenario, session))
        return replies

    async def _finish(
        self, request: Request, scenario: Scenario, session: PracticeSession
    ) -> list[Reply]:
        tr, locale = request.tr, request.tr.locale
        await self.repo().record_completion(request.actor, scenario.id, session.skipped)
        await self.repo().end_session(session.user_id)
        fields = [Field(tr("practice.recap"), scenario.recap.get(locale))]
        if scenario.quiz_topic:
            fields.append(
                Field(
                    tr("practice.quiz_field"), tr("practice.quiz_hint", topic=scenario.quiz_topic)
                )
            )
        if scenario.concepts:
            names = ", ".join(f"`/concept {c}`" for c in scenario.concepts)
            fields.append(Field(tr("practice.concepts_field"), names))
        body = tr("practice.finished", steps=len(scenario.steps))
        if session.skipped:
            body += " " + tr("practice.finished_skipped", skipped=session.skipped)
        return [
            Reply(
                title=tr("practice.finished_title", title=scenario.title.get(locale)),
                body=body,
                fields=tuple(fields),
                tone=Tone.SUCCESS,
                meta={"practice": "finished", "scenario": scenario.id},
            )
        ]

    # replies ------------------------------------------------------------------------
    def _intro_reply(self, tr: Translator, scenario: Scenario, state: SandboxState) -> Reply:
        locale = tr.locale
        body = scenario.intro.get(locale)
        leftovers = sorted(scenario.container_names() & {c.name for c in state.containers})
        tone = Tone.INFO
        if leftovers:
            body += "\n\n" + tr("practice.leftovers", names=", ".join(f"`{n}`" for n in leftovers))
            tone = Tone.WARNING
        return Reply(
            title=scenario.title.get(locale),
            body=body,
            footer=tr("practice.intro_footer", steps=len(scenario.steps)),
            tone=tone,
            meta={"practice": "intro", "scenario": scenario.id},
        )

    async def _step_reply(
        self,
        request: Request,
        scenario: Scenario,
        session: PracticeSession,
        state: SandboxState | None = None,
    ) -> Reply:
        tr, locale = request.tr, request.tr.locale
        number = session.step_index + 1
        step = scenario.steps[session.step_index]
        fields = []
        if step.practises:
            commands = "\n".join(f"`{c}`" for c in step.practises)
            fields.append(Field(tr("practice.practises"), commands))
        for index in range(min(session.hints_shown, len(step.hints))):
            fields.append(
                Field(
                    tr("practice.hint_title", number=index + 1, total=len(step.hints)),
                    step.hints[index].get(locale),
                )
            )
        image = None
        if scenario.diagram is not None:
            image = await self._diagram(request, scenario, session, state)
        return Reply(
            title=tr(
                "practice.step_title",
                number=number,
                total=len(scenario.steps),
                title=step.title.get(locale),
            ),
            body=step.instruction.get(locale),
            fields=tuple(fields),
            footer=tr("practice.step_footer"),
            image=image,
            choices=self._step_choices(tr, request.actor.user_id, step, session),
            meta={"practice": "step", "scenario": scenario.id, "step": step.id},
        )

    @staticmethod
    def _step_choices(
        tr: Translator, user_id: str, step: Step, session: PracticeSession
    ) -> tuple[Choice, ...]:
        """Check the step (and, while some are left, show a hint) from the step's message."""
        choices = [Choice(tr("practice.check_button"), f"{ACTION}:check:{user_id}", PRIMARY)]
        if session.hints_shown < len(step.hints):
            choices.append(Choice(tr("practice.hint_button"), f"{ACTION}:hint:{user_id}"))
        return tuple(choices)

    async def _diagram(
        self,
        request: Request,
        scenario: Scenario,
        session: PracticeSession,
        state: SandboxState | None,
    ) -> ReplyFile:
        assert scenario.diagram is not None
        name = scenario.diagram.container
        if state is None:
            state = await self.sandbox().state(request.actor)
        view = state.container(name)
        current = view.status if view else ("removed" if name in session.remembered else None)
        data = await asyncio.to_thread(render_lifecycle, current, name)
        shown, tr = diagram_state(current), request.tr
        where = (
            tr("practice.diagram_here", name=name, state=shown)
            if shown
            else tr("practice.diagram_absent", name=name)
        )
        return ReplyFile("lifecycle.png", data, f"{tr('practice.diagram_alt')}. {where}")

    @staticmethod
    def _done_reply(tr: Translator, step: Step, number: int) -> Reply:
        body = tr("practice.step_done", number=number, title=step.title.get(tr.locale))
        if step.done:
            body += "\n" + step.done.get(tr.locale)
        return Reply(body=body, tone=Tone.SUCCESS, meta={"practice": "passed", "step": step.id})

    @staticmethod
    def _fail_reply(tr: Translator, fail: FailCheck) -> Reply:
        return Reply(
            title=tr("practice.fail_title"),
            body=fail.hint.get(tr.locale),
            tone=Tone.WARNING,
            meta={"practice": "fail", "fail": fail.id},
        )

    @staticmethod
    def _not_yet_reply(tr: Translator, step: Step, number: int) -> Reply:
        return Reply(
            title=tr("practice.not_yet_title"),
            body=tr("practice.not_yet", number=number, title=step.title.get(tr.locale)),
            tone=Tone.WARNING,
            meta={"practice": "not_yet", "step": step.id},
        )


def step_ids(replies: Sequence[Reply], kind: str) -> list[str]:
    """The step (or fail check) ids that ``replies`` report, for tests and front ends."""
    key = "fail" if kind == "fail" else "step"
    return [r.meta[key] for r in replies if r.meta.get("practice") == kind and key in r.meta]
