"""The scenario content model (``content/scenarios/*.yaml``) and its cross-file checks.

A scenario is an intro, ordered steps and a recap. Each step carries a declarative
``check``: a tree of small check models, each written in YAML as a mapping with one key
that names its kind (``{container: {name: web, running: true}}``, ``{all: [...]}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

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
from bot.content.wording import wording_check
from bot.dockercli import COMMANDS, CliError, parse_docker
from bot.dockercli.model import IMAGE_COMMANDS, DockerCommand
from bot.dockercli.values import parse_bytes
from bot.practice.exercise import (
    STATUS_FACETS,
    cmd_facet,
    example_facets,
    flag_facet,
    run_flag_facets,
    touches,
)

# Vocabularies this kind exports (see bot.content.library) …
SCENARIO_IDS = "scenario"
SCENARIO_EXERCISES = "scenario-exercise"  # "<scenario id> <concept id>": a step exercises it
# … and those its checks refer to.
CONCEPT_IDS = "concept"
CONCEPT_EXAMPLES = "concept-example"  # "<concept id> <docker command>", runnable examples
QUIZ_TOPICS = "quiz-topic"

# Docker subcommands a ``used`` check may name: the parser's canonical ``DockerCommand.path``
# joined by spaces (``container ls`` is recorded as ``ps``, ``image ls`` as ``images``).
KNOWN_SUBCOMMANDS: frozenset[str] = frozenset(" ".join(path) for path in COMMANDS)
# Subcommands whose use names a container (``used: {command: logs, container: app}``) and
# those that run a program in one (``used: {command: exec, program: ps}``).
ON_A_CONTAINER: frozenset[str] = frozenset(
    {
        "exec", "logs", "top", "inspect", "start", "stop", "restart", "pause", "unpause",
        "kill", "rm", "port", "rename", "stats", "cp",
    }
) & KNOWN_SUBCOMMANDS  # fmt: skip
RUNS_A_PROGRAM: frozenset[str] = frozenset({"exec", "run", "create", "compose exec"})
CONTAINER_STATES = ("created", "running", "paused", "restarting", "exited", "dead")
HEALTH_STATES = ("starting", "healthy", "unhealthy")


# --- check models -------------------------------------------------------------------
class MountSpec(ContentModel):
    volume: NonEmpty | None = None
    destination: NonEmpty | None = None


class Leaf(ContentModel):
    """A check that looks at one thing; ``facets`` say which commands make it hold
    (:mod:`bot.practice.exercise`)."""

    def facets(self) -> Iterator[str]:
        return iter(())


class PortSpec(ContentModel):
    container: int = Field(ge=1, le=65535)
    host: int | None = Field(default=None, ge=1, le=65535)
    ip: NonEmpty | None = Field(default=None, description="the host address: 127.0.0.1, 0.0.0.0")


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
    hostname: NonEmpty | None = None
    memory: int | None = Field(default=None, description="memory limit: 64m, 1g or bytes")
    cpus: float | None = Field(default=None, gt=0, description="CPU limit: 0.25")
    exit_code: int | None = Field(default=None, ge=0, le=255)
    oom_killed: bool | None = None
    health: Literal[HEALTH_STATES] | None = None  # type: ignore[valid-type]
    remembered: Literal["same", "new"] | None = Field(
        default=None, description="same (or a new) container as the one an earlier step remembered"
    )

    @field_validator("status", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("memory", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_bytes(value)
            except ValueError:
                raise ValueError(f"not a memory size: {value!r} (e.g. 64m)") from None
        return value

    @model_validator(mode="after")
    def _remembered_needs_name(self) -> ContainerSpec:
        if self.remembered and not self.name:
            raise ValueError("remembered needs a container name")
        return self

    def facets(self) -> Iterator[str]:
        for status in self.status or (("running",) if self.running else ()):
            yield from STATUS_FACETS.get(status, ())
        if self.image:
            yield cmd_facet("run")
        if self.remembered == "same":
            yield from (cmd_facet("start"), cmd_facet("restart"))
        for field in ("hostname", "memory", "cpus", "network", "mount", "env", "port", "health"):
            if getattr(self, field) not in (None, {}):
                yield from run_flag_facets(field)
        if self.oom_killed:
            yield from run_flag_facets("oom_killed")
        if self.mount is not None:
            yield cmd_facet("volume create")


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


INSTRUCTIONS = (
    "FROM", "RUN", "COPY", "ADD", "WORKDIR", "ENV", "ARG", "LABEL", "EXPOSE", "USER", "CMD",
    "ENTRYPOINT", "VOLUME", "HEALTHCHECK", "STOPSIGNAL", "SHELL", "ONBUILD", "MAINTAINER",
)  # fmt: skip


class ImageSpec(ContentModel):
    """An image the learner can use (``name`` only: shared or their own). With ``built``,
    ``steps`` or ``cmd`` it is one of their own images, made as described: ``built: true``
    by ``docker build`` in their sandbox; every one of ``steps`` an instruction its build ran
    (``COPY`` or ``COPY index.html /www/``: the keyword, then words the step has); ``cmd``
    its ``CMD`` exactly."""

    name: NonEmpty
    built: bool | None = None
    steps: tuple[NonEmpty, ...] = ()
    cmd: tuple[str, ...] | None = None

    @field_validator("steps", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return _words(value)

    @field_validator("steps")
    @classmethod
    def _instructions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for step in value:
            keyword = step.split()[0].upper()
            if keyword not in INSTRUCTIONS:
                raise ValueError(f"not a Dockerfile instruction: {step!r}")
        return value

    @property
    def own(self) -> bool:
        """Whether the check is about how the learner made the image."""
        return self.built is not None or bool(self.steps) or self.cmd is not None

    def facets(self) -> Iterator[str]:
        yield cmd_facet("build" if self.own else "pull")


class ComposeSpec(ContentModel):
    """A compose project of the learner's (``docker compose -p``, or its folder's name).

    ``running``: exactly this many of its services run; ``services``: each of these runs;
    ``healthy: true``: every running service with a health check reports healthy (and one
    has a check). ``exists: false``: nothing of the project is left (no container, no
    ``PROJECT_default`` network)."""

    project: NonEmpty
    exists: bool = True
    running: int | None = Field(default=None, ge=0)
    services: tuple[NonEmpty, ...] = ()
    healthy: bool | None = None

    @field_validator("services", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return _words(value)

    @model_validator(mode="after")
    def _fits(self) -> ComposeSpec:
        if not self.exists and (self.running or self.services or self.healthy):
            raise ValueError("a project that must be gone has no running services to check")
        return self

    def facets(self) -> Iterator[str]:
        yield cmd_facet("compose up" if self.exists else "compose down")
        if self.exists and self.healthy:
            yield "flag:run:health-cmd"


def _words(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


class UsedSpec(ContentModel):
    """A command was used (only successful commands count).

    ``command`` names a docker subcommand (``ps``, ``volume create``), ``shell`` a program run
    in the host shell (``wget``). A docker command may also have to carry ``flags`` (``[-a]``),
    act on a ``container`` (``exec``, ``logs``, ``top``, ``inspect``, ``cp`` …) or run a
    ``program`` in one (``exec``, ``run``: ``docker exec web ps`` runs ``ps``).
    """

    command: NonEmpty | None = None
    shell: NonEmpty | None = None
    flags: tuple[NonEmpty, ...] = Field(default=(), description="-a or --all: the flag's name")
    container: NonEmpty | None = None
    program: NonEmpty | None = None
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

    @field_validator("flags", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return _words(value)

    @field_validator("flags")
    @classmethod
    def _canonical_flags(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        command = info.data.get("command")
        if not value or command is None:
            return value  # no flags, or a problem reported on ``command`` / by ``_fits``
        return tuple(_flag_name(command, flag) for flag in value)

    def facets(self) -> Iterator[str]:
        if self.shell is not None:
            yield f"prog:{self.shell}"
            return
        command = str(self.command)
        yield cmd_facet(command)
        yield from (flag_facet(command, name) for name in self.flags)
        if self.program:
            yield f"prog:{self.program}"

    @model_validator(mode="after")
    def _fits(self) -> UsedSpec:
        if (self.command is None) == (self.shell is None):
            raise ValueError("give exactly one of command (a docker subcommand) or shell")
        command = self.command or ""
        if self.shell is not None and (self.flags or self.container or self.program):
            raise ValueError("flags, container and program go with a docker command")
        if self.container and command not in ON_A_CONTAINER:
            raise ValueError(f"docker {command} does not act on one container")
        if self.program and command not in RUNS_A_PROGRAM:
            raise ValueError(
                f"docker {command} runs no program (exec, run, create and compose exec do)"
            )
        return self


def _flag_name(command: str, typed: str) -> str:
    spec = COMMANDS[tuple(command.split())]
    flag = spec.by_short.get(typed[1:]) if len(typed) == 2 and typed[0] == "-" else None
    flag = flag or spec.by_long.get(typed.lstrip("-"))
    if flag is None:
        known = ", ".join(sorted(f.label for f in spec.flags)) or "none"
        raise ValueError(f"docker {command} has no flag {typed!r} (flags: {known})")
    return flag.name


class OutputSpec(UsedSpec):
    """What the **last** command matching the :class:`UsedSpec` fields printed: it
    ``contains`` every text given and ``lacks`` every one."""

    contains: tuple[NonEmpty, ...] = ()
    lacks: tuple[NonEmpty, ...] = ()

    @field_validator("contains", "lacks", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        return _words(value)

    @model_validator(mode="after")
    def _something_to_read(self) -> OutputSpec:
        if not self.contains and not self.lacks:
            raise ValueError("an output check needs contains or lacks")
        return self


class ContainerCheck(Leaf):
    container: ContainerSpec

    def facets(self) -> Iterator[str]:
        return self.container.facets()


class FileCheck(Leaf):
    file: FileSpec

    def facets(self) -> Iterator[str]:
        yield cmd_facet("cp")
        if self.file.container:
            yield cmd_facet("exec")


class HttpCheck(Leaf):
    http: HttpSpec

    def facets(self) -> Iterator[str]:
        yield from ("prog:wget", "prog:curl")


class VolumeCheck(Leaf):
    volume: NameSpec

    def facets(self) -> Iterator[str]:
        yield cmd_facet("volume create")


class NetworkCheck(Leaf):
    network: NameSpec

    def facets(self) -> Iterator[str]:
        yield cmd_facet("network create")


class ImageCheck(Leaf):
    image: ImageSpec

    def facets(self) -> Iterator[str]:
        return self.image.facets()


class ComposeCheck(Leaf):
    compose: ComposeSpec

    def facets(self) -> Iterator[str]:
        return self.compose.facets()


class UsedCheck(Leaf):
    used: UsedSpec

    def facets(self) -> Iterator[str]:
        return self.used.facets()


class OutputCheck(Leaf):
    output: OutputSpec

    def facets(self) -> Iterator[str]:
        return self.output.facets()


class RemovedCheck(Leaf):
    removed: NameSpec

    def facets(self) -> Iterator[str]:
        yield from (cmd_facet("rm"), cmd_facet("container prune"))


class AllCheck(ContentModel):
    all: tuple[Check, ...] = Field(min_length=1)

    def facets(self) -> Iterator[str]:
        for child in self.all:
            yield from child.facets()


class AnyCheck(ContentModel):
    any: tuple[Check, ...] = Field(min_length=1)

    def facets(self) -> Iterator[str]:
        for child in self.any:
            yield from child.facets()


class NotCheck(ContentModel):
    not_: Check = Field(alias="not")

    def facets(self) -> Iterator[str]:
        return iter(())  # what must *not* hold makes no command's case


CHECK_KINDS = (
    "container", "file", "http", "volume", "network", "image", "compose", "used", "output",
    "removed", "all", "any", "not",
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
    | Annotated[ComposeCheck, Tag("compose")]
    | Annotated[UsedCheck, Tag("used")]
    | Annotated[OutputCheck, Tag("output")]
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
    "compose": ComposeCheck,
    "used": UsedCheck,
    "output": OutputCheck,
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
    concepts: tuple[Id, ...] = Field(
        default=(), description="the concepts this step exercises (its check must touch each)"
    )
    shows_command: bool = Field(
        default=False,
        description="a later step that gives its command word for word on purpose: the command "
        "sets the stage (writes a file, runs a prepared program) and typing it is not the lesson",
    )

    def facets(self) -> frozenset[str]:
        """What the step's check makes a learner do (:mod:`bot.practice.exercise`)."""
        return frozenset(self.check.facets())


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
    concepts: tuple[Id, ...] = Field(
        default=(), description="the concepts the recap links: each exercised by a step"
    )
    quiz_topic: Id | None = None
    diagram: Diagram | None = None
    solution: tuple[SolutionStep, ...] = ()
    wrong_moves: tuple[WrongMove, ...] = ()

    def exercises(self) -> Iterator[tuple[str, str]]:
        """(step id, concept id) for every concept a step exercises."""
        for step in self.steps:
            for concept in step.concepts:
                yield step.id, concept

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
        (as typed), less those its solution builds or tags itself: what a worker should have
        before a learner starts the scenario."""
        found: set[str] = set()
        made: set[str] = set()
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
            made |= _made_images(cmd)
        return found - made - {f"{name}:latest" for name in made}


def _made_images(cmd: DockerCommand) -> set[str]:
    """Image names a command makes in the learner's sandbox (``build -t``, ``tag``,
    ``commit``): never to be pulled."""
    if cmd.path in (("build",), ("image", "build"), ("buildx", "build")):
        return set(cmd.values("tag"))
    if cmd.path in (("tag",), ("image", "tag"), ("commit",), ("container", "commit")):
        return {cmd.args[-1]} if cmd.args else set()
    return set()


# --- cross-file checks ------------------------------------------------------------------
COMMAND_PREFIXES = ("/docker ", "/sh ")
SHOWN_STEPS = 2
"""The first steps may give their command word for word; later ones show the goal."""
_CODE_SPAN = re.compile(r"`([^`]+)`")


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


def _answer_problems(scenario: Scenario, where: str) -> Iterable[str]:
    """From the third step on, neither the instruction nor ``practises`` gives a command of the
    reference solution word for word: the step shows the goal and its hints reveal the command."""
    commands = {part.step: part.commands for part in scenario.solution}
    for index, step in enumerate(scenario.steps):
        if index < SHOWN_STEPS or step.shows_command:
            continue
        at = f"{where}: steps[{index}] ({step.id})"
        shown = {
            (f"instruction ({locale})", span.strip().removeprefix("/"))
            for locale in ("en", "ko")
            for span in _CODE_SPAN.findall(step.instruction.get(locale))
        }
        shown |= {("practises", line.strip().removeprefix("/")) for line in step.practises}
        for command in commands.get(step.id, ()):
            answer = command.removeprefix("/")
            labels = sorted(label for label, text in shown if text == answer)
            if labels:
                yield (
                    f"{at}: {', '.join(labels)}: gives the answer {command!r} word for word: "
                    "show the goal, let the hints reveal the command and practise its pattern "
                    "(NAME, IMAGE, [OPTIONS]), or set shows_command: true when typing it is "
                    "not the lesson"
                )


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
    exercised = {concept for _step, concept in scenario.exercises()}
    for concept in scenario.concepts:
        if concept in concepts and concept not in exercised:
            yield (
                f"{where}: concepts: no step exercises {concept!r} (list it in the concepts of "
                "the step whose check touches it, or leave it out of the recap)"
            )
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


def _exercise_problems(scenario: Scenario, library: ContentLibrary, where: str) -> Iterable[str]:
    """Every concept a step lists exists, and the step's check touches it."""
    concepts = library.vocabulary(CONCEPT_IDS)
    examples = example_facets(library.vocabulary(CONCEPT_EXAMPLES))
    for index, step in enumerate(scenario.steps):
        at = f"{where}: steps[{index}] ({step.id}): concepts"
        facets = step.facets()
        for concept in step.concepts:
            if concept not in concepts:
                yield f"{at}: unknown concept {concept!r}"
            elif not touches(facets, examples.get(concept, frozenset())):
                shown = ", ".join(sorted(facets)) or "nothing"
                yield (
                    f"{at}: the check never touches {concept!r}: no example of the concept "
                    f"uses what the check looks for ({shown})"
                )


def check_scenarios(library: ContentLibrary) -> Iterable[str]:
    for scenario in library.items(SCENARIOS).values():
        where = library.origin(SCENARIOS, scenario.id)
        yield from _step_problems(scenario, where)
        yield from _solution_problems(scenario, where)
        yield from _answer_problems(scenario, where)
        yield from _link_problems(scenario, library, where)
        yield from _exercise_problems(scenario, library, where)


def _practises(scenario: Scenario, part: PartRef) -> bool:
    """A step exercises a concept that explains the part."""
    return any(concept in part.explained_by for _step, concept in scenario.exercises())


SCENARIOS: ContentKind[Scenario] = ContentKind(
    "scenarios",
    Scenario,
    checks=(check_scenarios, wording_check("scenarios")),
    vocabularies={
        SCENARIO_IDS: lambda s: (s.id,),
        SCENARIO_EXERCISES: lambda s: (f"{s.id} {concept}" for _step, concept in s.exercises()),
    },
    coverage=CoverageRule(
        Role.PRACTISES, _practises, order=lambda s: s.order, exercises=Scenario.exercises
    ),
)
