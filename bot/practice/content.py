"""The scenario content model (``content/scenarios/*.yaml``) and its cross-file checks.

A scenario is an intro, ordered steps and a recap. Each step carries a declarative
``check``: a tree of small check models, each written in YAML as a mapping with one key
that names its kind (``{container: {name: web, running: true}}``, ``{all: [...]}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from bot.content.base import (
    BODY_LIMIT,
    FIELD_LIMIT,
    SUMMARY_LIMIT,
    TITLE_LIMIT,
    ContentModel,
    Id,
    Localized,
    too_long,
)
from bot.content.base import Text as NonEmpty
from bot.content.items import (
    ContentItem,
    ContentKind,
    ContentLibrary,
    CoverageRule,
    PartRef,
    Role,
)
from bot.dockercli import CliError, parse_docker
from bot.dockercli.model import IMAGE_COMMANDS

# Vocabularies this kind exports (see bot.content.library) …
SCENARIO_IDS = "scenario"
# … and those its checks refer to.
CONCEPT_IDS = "concept"
QUIZ_TOPICS = "quiz-topic"

# Docker subcommands a ``used`` check may name: the parser's canonical ``DockerCommand.path``
# joined by spaces (``container ls`` is recorded as ``ps``, ``image ls`` as ``images``).
KNOWN_SUBCOMMANDS: frozenset[str] = frozenset(
    {
        "search", "pull", "images", "run", "create", "start", "stop", "restart", "pause",
        "unpause", "kill", "rm", "ps", "logs", "exec", "cp", "inspect", "rename", "top",
        "port", "stats", "container prune", "volume create", "volume ls", "volume inspect",
        "volume rm", "volume prune", "network create", "network ls", "network inspect",
        "network rm", "network connect", "network disconnect", "network prune",
    }
)  # fmt: skip
SHELL_PREFIX = "sh:"
CONTAINER_STATES = ("created", "running", "paused", "restarting", "exited", "dead")


# --- check models -------------------------------------------------------------------
class MountSpec(ContentModel):
    volume: NonEmpty | None = None
    destination: NonEmpty | None = None


class PortSpec(ContentModel):
    container: int = Field(ge=1, le=65535)
    host: int | None = Field(default=None, ge=1, le=65535)


class ContainerSpec(ContentModel):
    """A container with every attribute given (no name: any container)."""

    name: NonEmpty | None = None
    exists: bool = True
    running: bool | None = None
    status: tuple[Literal[CONTAINER_STATES], ...] = ()  # type: ignore[valid-type]
    image: NonEmpty | None = None
    mount: MountSpec | None = None
    network: NonEmpty | None = None
    env: dict[str, str | None] = Field(default_factory=dict)
    port: PortSpec | None = None
    remembered: Literal["same", "new"] | None = Field(
        default=None, description="same (or a new) container as the one an earlier step remembered"
    )

    @field_validator("status", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _remembered_needs_name(self) -> ContainerSpec:
        if self.remembered and not self.name:
            raise ValueError("remembered needs a container name")
        return self


class FileSpec(ContentModel):
    path: NonEmpty
    container: NonEmpty | None = Field(default=None, description="None: the user's host shell")
    exists: bool = True
    contains: NonEmpty | None = None


class HttpSpec(ContentModel):
    url: NonEmpty
    contains: NonEmpty | None = None


class NameSpec(ContentModel):
    name: NonEmpty


class UsedSpec(ContentModel):
    """A docker subcommand (``command: cp``) or a host-shell program (``shell: wget``) was used."""

    command: NonEmpty | None = None
    shell: NonEmpty | None = None
    since: Literal["step", "session"] = "step"

    @field_validator("command")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if value not in KNOWN_SUBCOMMANDS:
            raise ValueError(f"unknown docker subcommand {value!r}")
        return value

    @model_validator(mode="after")
    def _one_of(self) -> UsedSpec:
        if (self.command is None) == (self.shell is None):
            raise ValueError("give exactly one of command (a docker subcommand) or shell")
        return self

    @property
    def token(self) -> str:
        """How the session records this use: ``run`` or ``sh:wget``."""
        return self.command if self.command is not None else SHELL_PREFIX + str(self.shell)


class ContainerCheck(ContentModel):
    container: ContainerSpec


class FileCheck(ContentModel):
    file: FileSpec


class HttpCheck(ContentModel):
    http: HttpSpec


class VolumeCheck(ContentModel):
    volume: NameSpec


class NetworkCheck(ContentModel):
    network: NameSpec


class ImageCheck(ContentModel):
    image: NameSpec


class UsedCheck(ContentModel):
    used: UsedSpec


class RemovedCheck(ContentModel):
    removed: NameSpec


class AllCheck(ContentModel):
    all: tuple[Check, ...] = Field(min_length=1)


class AnyCheck(ContentModel):
    any: tuple[Check, ...] = Field(min_length=1)


class NotCheck(ContentModel):
    not_: Check = Field(alias="not")


CHECK_KINDS = (
    "container", "file", "http", "volume", "network", "image", "used", "removed",
    "all", "any", "not",
)  # fmt: skip


def _check_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = list(value)
        if len(keys) == 1 and keys[0] in CHECK_KINDS:
            return str(keys[0])
        return None
    for kind, model in CHECK_MODELS.items():
        if isinstance(value, model):
            return kind
    return None


Check = Annotated[
    Annotated[ContainerCheck, Tag("container")]
    | Annotated[FileCheck, Tag("file")]
    | Annotated[HttpCheck, Tag("http")]
    | Annotated[VolumeCheck, Tag("volume")]
    | Annotated[NetworkCheck, Tag("network")]
    | Annotated[ImageCheck, Tag("image")]
    | Annotated[UsedCheck, Tag("used")]
    | Annotated[RemovedCheck, Tag("removed")]
    | Annotated[AllCheck, Tag("all")]
    | Annotated[AnyCheck, Tag("any")]
    | Annotated[NotCheck, Tag("not")],
    Discriminator(
        _check_kind,
        custom_error_type="check_kind",
        custom_error_message="a check is a mapping with exactly one key, one of: "
        + ", ".join(CHECK_KINDS),
    ),
]

CHECK_MODELS: dict[str, type[ContentModel]] = {
    "container": ContainerCheck,
    "file": FileCheck,
    "http": HttpCheck,
    "volume": VolumeCheck,
    "network": NetworkCheck,
    "image": ImageCheck,
    "used": UsedCheck,
    "removed": RemovedCheck,
    "all": AllCheck,
    "any": AnyCheck,
    "not": NotCheck,
}
for _model in (AllCheck, AnyCheck, NotCheck):
    _model.model_rebuild()


def children(check: Any) -> tuple[Any, ...]:
    if isinstance(check, AllCheck):
        return check.all
    if isinstance(check, AnyCheck):
        return check.any
    if isinstance(check, NotCheck):
        return (check.not_,)
    return ()


def walk(check: Any) -> Iterator[Any]:
    """Every check in the tree, the root first."""
    yield check
    for child in children(check):
        yield from walk(child)


# --- scenario models -------------------------------------------------------------------
class FailCheck(ContentModel):
    """A typical wrong state and the hint that answers it."""

    id: Id
    when: Check
    hint: Localized


class Step(ContentModel):
    id: Id
    title: Localized
    instruction: Localized
    practises: tuple[NonEmpty, ...] = ()
    hints: tuple[Localized, ...] = ()
    check: Check
    fail_checks: tuple[FailCheck, ...] = ()
    done: Localized | None = None
    remember: tuple[NonEmpty, ...] = Field(
        default=(), description="container names whose ids later steps may refer to"
    )


class SolutionStep(ContentModel):
    step: Id
    commands: tuple[NonEmpty, ...] = Field(min_length=1)


class WrongMove(ContentModel):
    """Commands that reach a typical wrong state at ``step``; ``undo`` restores a clean one."""

    step: Id
    commands: tuple[NonEmpty, ...] = Field(min_length=1)
    expect: Id
    undo: tuple[NonEmpty, ...] = ()


class Diagram(ContentModel):
    kind: Literal["lifecycle"] = "lifecycle"
    container: NonEmpty


class Scenario(ContentItem):
    order: int = 1000
    title: Localized
    summary: Localized
    intro: Localized
    steps: tuple[Step, ...] = Field(min_length=1)
    recap: Localized
    concepts: tuple[Id, ...] = ()
    quiz_topic: Id | None = None
    seed: tuple[Id, ...] = ()
    diagram: Diagram | None = None
    solution: tuple[SolutionStep, ...] = ()
    wrong_moves: tuple[WrongMove, ...] = ()

    def step_index(self, step_id: str) -> int | None:
        return next((i for i, s in enumerate(self.steps) if s.id == step_id), None)

    def container_names(self) -> set[str]:
        """Every container name the scenario's checks talk about."""
        names: set[str] = set()
        for step in self.steps:
            roots = [step.check, *(f.when for f in step.fail_checks)]
            for root in roots:
                for check in walk(root):
                    if isinstance(check, ContainerCheck) and check.container.name:
                        names.add(check.container.name)
            names.update(step.remember)
        return names

    def images(self) -> set[str]:
        """Every image the scenario's checks name and its solution runs, creates or pulls
        (as typed): what a worker should have before a learner starts the scenario."""
        found: set[str] = set()
        for step in self.steps:
            for root in (step.check, *(f.when for f in step.fail_checks)):
                for check in walk(root):
                    if isinstance(check, ContainerCheck) and check.container.image:
                        found.add(check.container.image)
        for line in (c for s in self.solution for c in s.commands):
            if not line.startswith("/docker "):
                continue
            try:
                cmd = parse_docker(line.removeprefix("/docker "))
            except CliError:  # reported by the solution's own checks
                continue
            if cmd.path in IMAGE_COMMANDS and cmd.image:
                found.add(cmd.image)
        return found


# --- cross-file checks ------------------------------------------------------------------
COMMAND_PREFIXES = ("/docker ", "/sh ")


def _step_problems(scenario: Scenario, where: str) -> Iterable[str]:
    seen: set[str] = set()
    remembered: set[str] = set()
    for index, step in enumerate(scenario.steps):
        at = f"{where}: steps[{index}] ({step.id})"
        if step.id in seen:
            yield f"{at}: id: step id used twice"
        seen.add(step.id)
        fail_ids = [f.id for f in step.fail_checks]
        for dup in {i for i in fail_ids if fail_ids.count(i) > 1}:
            yield f"{at}: fail_checks: id {dup!r} used twice"
        roots = [("check", step.check)] + [
            (f"fail_checks.{f.id}", f.when) for f in step.fail_checks
        ]
        for label, root in roots:
            for check in walk(root):
                name = _remembered_name(check)
                if name and name not in remembered:
                    yield (
                        f"{at}: {label}: container {name!r} is not remembered by an "
                        "earlier step (add it to that step's remember list)"
                    )
        remembered.update(step.remember)
        yield from _text_problems(step, at)


def _remembered_name(check: Any) -> str | None:
    if isinstance(check, RemovedCheck):
        return check.removed.name
    if isinstance(check, ContainerCheck) and check.container.remembered:
        return check.container.name
    return None


def _text_problems(step: Step, at: str) -> Iterable[str]:
    for name, text, limit in (
        ("title", step.title, TITLE_LIMIT - 40),
        ("instruction", step.instruction, BODY_LIMIT // 2),
        ("done", step.done, FIELD_LIMIT),
    ):
        problem = too_long(text, limit) if text else None
        if problem:
            yield f"{at}: {name}: {problem}"
    for index, hint in enumerate(step.hints):
        problem = too_long(hint, FIELD_LIMIT)
        if problem:
            yield f"{at}: hints[{index}]: {problem}"
    for fail in step.fail_checks:
        problem = too_long(fail.hint, FIELD_LIMIT)
        if problem:
            yield f"{at}: fail_checks.{fail.id}.hint: {problem}"


def _solution_problems(scenario: Scenario, where: str) -> Iterable[str]:
    if not scenario.solution:
        yield f"{where}: solution: every scenario needs a reference solution"
        return
    wanted = [s.id for s in scenario.steps]
    given = [s.step for s in scenario.solution]
    if given != wanted:
        yield f"{where}: solution: must list every step once, in order ({wanted}), not {given}"
    lines = [c for s in scenario.solution for c in s.commands]
    lines += [c for w in scenario.wrong_moves for c in (*w.commands, *w.undo)]
    for line in lines:
        if not line.startswith(COMMAND_PREFIXES):
            yield f"{where}: solution: {line!r} must start with /docker or /sh"
    for index, move in enumerate(scenario.wrong_moves):
        step_index = scenario.step_index(move.step)
        if step_index is None:
            yield f"{where}: wrong_moves[{index}]: unknown step {move.step!r}"
            continue
        fail_ids = {f.id for f in scenario.steps[step_index].fail_checks}
        if move.expect not in fail_ids:
            yield (
                f"{where}: wrong_moves[{index}]: step {move.step!r} "
                f"has no fail check {move.expect!r}"
            )


def _link_problems(scenario: Scenario, library: ContentLibrary, where: str) -> Iterable[str]:
    concepts = library.vocabulary(CONCEPT_IDS)
    for concept in scenario.concepts:
        if concept not in concepts:
            yield f"{where}: concepts: unknown concept {concept!r}"
    seed_ids = library.seed_ids()
    if seed_ids is not None:
        for part in scenario.seed:
            if part not in seed_ids:
                yield f"{where}: seed: unknown seed part {part!r}"
    quiz_topics = library.vocabulary(QUIZ_TOPICS)
    topic = scenario.quiz_topic
    if topic and quiz_topics and topic not in quiz_topics and topic not in concepts:
        yield f"{where}: quiz_topic: no question or concept has topic {scenario.quiz_topic!r}"
    for name, text, limit in (
        ("title", scenario.title, TITLE_LIMIT - 60),
        ("summary", scenario.summary, SUMMARY_LIMIT),
        ("intro", scenario.intro, BODY_LIMIT // 2),
        ("recap", scenario.recap, BODY_LIMIT // 2),
    ):
        problem = too_long(text, limit)
        if problem:
            yield f"{where}: {name}: {problem}"


def check_scenarios(library: ContentLibrary) -> Iterable[str]:
    for scenario in library.items(SCENARIOS).values():
        where = library.origin(SCENARIOS, scenario.id)
        yield from _step_problems(scenario, where)
        yield from _solution_problems(scenario, where)
        yield from _link_problems(scenario, library, where)


def _practises(scenario: Scenario, part: PartRef) -> bool:
    return part.id in scenario.seed or not part.explained_by.isdisjoint(scenario.concepts)


SCENARIOS: ContentKind[Scenario] = ContentKind(
    "scenarios",
    Scenario,
    checks=(check_scenarios,),
    vocabularies={SCENARIO_IDS: lambda s: (s.id,)},
    coverage=CoverageRule(Role.PRACTISES, _practises, order=lambda s: s.order),
)
