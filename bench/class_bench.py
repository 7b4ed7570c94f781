"""A whole class at once: N new learners type the same ``/docker`` commands in the same second.

The coach runs in-process and is driven the way the Discord front end drives it: each
interaction goes through :meth:`DiscordFrontend.run_command` (options, actor, practice-channel
check, the deferral, ``Coach.run``, rendering with the real :class:`Renderer`) with an
interaction double that records when the front end acknowledges it (``response.defer``) and
when each answer is sent. N learners, each new to the bot, send their first
``/docker run -d --name web nginx`` at moments spread over one second, then — each as soon as
the previous answer arrived — ``ps``, ``exec web echo ready``, ``logs web`` and ``rm -f web``.

Side by side, in the same run, the **raw engine** does the same container work through
docker-py with the same concurrency (one thread per learner, the same arrival moments): create
+ start the same image with the same limits (the writable layer's size cap included, where the
engine takes one) on a network of the learner's own (made before the clock starts, as a
sandbox's is), list the learner's containers, exec, read the logs, remove.
The ratio of the two burst times is the figure that counts; absolute times depend on the
machine and on whoever else uses the engine.

Printed for each N: the time to acknowledge each interaction, p50/p95/max of the time to each
result (coach and raw), the burst's total time and the ratio, the event loop's lag (a 10 ms
ticker) p50/p99/max, and failures (an error reply or an answer without what the command must
show). Then a new learner's first ``run -d`` against a returning learner's ``run -d`` (median
over ``--first-runs`` learners, one after the other, the warm pool refilled between them).
The last line: ``N=100: ack p99 X ms, burst ratio vs raw engine R, loop lag p99 L ms,
failures F``.

    .venv/bin/python -m bench.class_bench [--learners 25,50,100] [--loop asyncio|uvloop|both]

The coach runs as an instance of its own (``bench-class-<random>``) with a database in a
temporary folder, logging at INFO into a file as ``python -m bot run`` does into its stream;
everything it and the raw side made on the engine is removed at the end (also after Ctrl-C).
The worker's ``max_sandboxes`` is raised to fit the class (room is not what is measured) and
its warm pool holds the class (``--warm-pool``: a worker set up for a class keeps that many
ready, as the raw side's networks are made before the clock starts); everything else comes
from the settings (``--settings`` / ``COACH_*``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import discord
import docker

from bench import cores
from bot.coach import Coach, load_content
from bot.content.items import ContentLibrary
from bot.core.logs import configure_logging
from bot.core.loops import loop_factory, raise_thread_priority
from bot.core.reply import Reply, Tone
from bot.discordbot.frontend import DiscordFrontend, Policy
from bot.exts.sandbox import Sandbox as SandboxCog
from bot.sandbox import naming
from bot.sandbox.limits import host_config_kwargs, storage_bytes
from bot.settings import Settings, load_settings
from tests.sandbox.engine_support import EngineRequests

IMAGE = "nginx"
GUILD_ID = 424242
CHANNEL_ID = 515151
HEX_ID = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Step:
    """One command of a learner's session and what its answer must contain."""

    label: str
    line: str
    ok: Callable[[str], bool]


STEPS = (
    Step("run -d", f"run -d --name web {IMAGE}", lambda code: bool(HEX_ID.match(code.strip()))),
    Step("ps", "ps", lambda code: "web" in code),
    Step("exec", "exec web echo ready", lambda code: "ready" in code),
    Step("logs", "logs web", lambda _code: True),
    Step("rm -f", "rm -f web", lambda code: code.strip() == "web"),
)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds >= 0.1 else f"{seconds * 1000:.1f}"


def triple(values: Sequence[float]) -> str:
    if not values:
        return "—"
    return f"{ms(percentile(values, 0.5))} / {ms(percentile(values, 0.95))} / {ms(max(values))}"


# --------------------------------------------------------------------------------------------
# The Discord side: an interaction double and a front end that keeps the replies
# --------------------------------------------------------------------------------------------


class _Response:
    def __init__(self, owner: BenchInteraction) -> None:
        self._owner = owner
        self._done = False

    def is_done(self) -> bool:
        return self._done

    async def defer(self, **_kwargs: Any) -> None:
        self._owner.acked_at = time.perf_counter()
        self._done = True

    async def send_message(self, **_kwargs: Any) -> None:
        now = time.perf_counter()
        self._owner.acked_at = self._owner.acked_at or now
        self._owner.sent_at = now
        self._done = True

    async def edit_message(self, **kwargs: Any) -> None:
        await self.send_message(**kwargs)


class _Followup:
    def __init__(self, owner: BenchInteraction) -> None:
        self._owner = owner

    async def send(self, **_kwargs: Any) -> None:
        self._owner.sent_at = time.perf_counter()


@dataclass
class _User:
    id: int
    display_name: str


class BenchInteraction:
    """What :class:`DiscordFrontend` reads of an interaction, and when it answered it."""

    type = discord.InteractionType.application_command
    locale = discord.Locale.american_english
    guild_locale = None  # read by the front end for the server's language
    guild_id = GUILD_ID
    channel_id = CHANNEL_ID
    channel = None
    message = None
    command = None
    filesize_limit = 10 * 1024 * 1024
    permissions = discord.Permissions.none()

    def __init__(self, user: _User, arrived: float) -> None:
        self.user = user
        self.arrived = arrived
        self.acked_at: float | None = None
        self.sent_at: float | None = None
        self.replies: list[Reply] = []
        self.response = _Response(self)
        self.followup = _Followup(self)


class BenchFrontend(DiscordFrontend):
    """The Discord front end, keeping what it presented (to check the answers)."""

    async def deliver(self, answer: Any, replies: Sequence[Reply]) -> None:
        answer.interaction.replies = list(replies)
        await super().deliver(answer, replies)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One burst's figures (seconds)."""

    results: dict[str, list[float]] = field(default_factory=lambda: {s.label: [] for s in STEPS})
    acks: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    total: float = 0.0
    requests: int = 0  # engine requests made in the learners' turns during the burst
    background: int = 0  # and by background work meanwhile (watchdog, warm pool, sweep)
    background_kinds: Counter[str] = field(default_factory=Counter)  # those, by request


class Ticker:
    """A 10 ms ticker on the loop: how late each tick wakes is the loop's lag."""

    INTERVAL = 0.01

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.INTERVAL)
            self.lags.append(max(0.0, time.perf_counter() - started - self.INTERVAL))

    def __enter__(self) -> Ticker:
        self._task = asyncio.ensure_future(self._run())
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


async def _sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.perf_counter()))


# --------------------------------------------------------------------------------------------
# The coach
# --------------------------------------------------------------------------------------------


class CoachSide:
    def __init__(self, coach: Coach) -> None:
        self.coach = coach
        self.front = BenchFrontend(coach)
        spec = coach.table.get(("docker",))
        assert spec is not None
        self.spec = spec
        self.policy: Policy = SandboxCog.POLICIES["docker"]
        self.users: list[str] = []

    def new_user(self, name: str) -> _User:
        user = _User(random.randrange(10**17, 10**18), name)
        self.users.append(str(user.id))
        return user

    async def command(self, user: _User, step: Step, arrived: float) -> BenchInteraction:
        """One interaction through the Discord front end; it arrived at ``arrived``."""
        interaction = BenchInteraction(user, arrived)
        try:
            await self.front.run_command(
                interaction,  # type: ignore[arg-type]
                self.spec,
                self.policy,
                {"command": step.line},
            )
        except Exception as exc:  # what the slash command's error handler would get
            await self.front.report_error(interaction, exc, "command", name="docker")  # type: ignore[arg-type]
            interaction.replies = [Reply(body=f"{type(exc).__name__}: {exc}", tone=Tone.ERROR)]
        return interaction

    async def session(self, user: _User, start: float, figures: Figures) -> None:
        await _sleep_until(start)
        arrived = start
        for step in STEPS:
            done = await self.command(user, step, arrived)
            end = done.sent_at or time.perf_counter()
            figures.results[step.label].append(end - arrived)
            figures.acks.append((done.acked_at or end) - arrived)
            problem = _problem(step, done.replies)
            if problem:
                figures.failures.append(f"{step.label}: {problem}")
                return
            arrived = end

    async def burst(self, offsets: Sequence[float]) -> Figures:
        figures = Figures()
        users = [self.new_user(f"learner{i}") for i in range(len(offsets))]
        start = time.perf_counter() + 0.2
        recorder = EngineRequests()
        with Ticker() as ticker, recorder.installed():
            await asyncio.gather(
                *(self.session(u, start + o, figures) for u, o in zip(users, offsets, strict=True))
            )
        figures.total = time.perf_counter() - start
        figures.lags = ticker.lags
        learners = {str(u.id) for u in users}
        owners = [owner for owner, _request in recorder.since(0)]
        figures.requests = sum(1 for owner in owners if owner in learners)
        figures.background = len(owners) - figures.requests
        figures.background_kinds = Counter(
            request for owner, request in recorder.since(0) if owner not in learners
        )
        return figures

    async def first_runs(self, count: int) -> tuple[list[float], list[float], list[str]]:
        """A new learner's first ``run -d`` and the same learner's next one, one learner after
        the other (the warm pool, if any, full again before each command)."""
        new: list[float] = []
        returning: list[float] = []
        failures: list[str] = []
        first, second = STEPS[0], Step("run -d", f"run -d --name web2 {IMAGE}", STEPS[0].ok)
        cleanup = Step("rm -f", "rm -f web web2", lambda _code: True)
        for index in range(count):
            user = self.new_user(f"first{index}")
            for step, into in ((first, new), (second, returning)):
                await self.pool_ready()  # no refill running while either is measured
                arrived = time.perf_counter()
                done = await self.command(user, step, arrived)
                into.append((done.sent_at or time.perf_counter()) - arrived)
                problem = _problem(step, done.replies)
                if problem:
                    failures.append(problem)
            await self.command(user, cleanup, time.perf_counter())
        return new, returning, failures

    async def pool_ready(self) -> None:
        """Wait until the warm pool (when the coach has one) is full again."""
        manager = self.coach.sandbox.manager
        ready = getattr(manager, "warm_pool_ready", None)
        if ready is not None:
            await ready()

    async def forget_all(self) -> None:
        """Remove every sandbox the bench's learners have (eight at a time)."""
        gate = asyncio.Semaphore(8)

        async def one(user_id: str) -> None:
            async with gate:
                with contextlib.suppress(Exception):
                    await self.coach.sandbox.reader.destroy_user(user_id)

        await asyncio.gather(*(one(u) for u in self.users))
        self.users.clear()


def _problem(step: Step, replies: Sequence[Reply]) -> str:
    """Why an answer is not what the command must show ('' when it is)."""
    if any(r.tone is Tone.ERROR for r in replies):
        text = " | ".join((r.body or r.title or "")[:160] for r in replies)
        return text.replace("\n", " ") or "error"
    code = "\n".join(r.code or "" for r in replies)
    if not step.ok(code):
        said = " | ".join((r.body or r.title or "")[:120] for r in replies if r.body or r.title)
        return f"unexpected answer {code[:80]!r}" + (f": {said}" if said else "")
    return ""


# --------------------------------------------------------------------------------------------
# The raw engine
# --------------------------------------------------------------------------------------------


class RawSide:
    """The same container work through docker-py, one thread per learner."""

    def __init__(self, instance: str, settings: Settings, learners: int, storage: int = 0) -> None:
        self.label = {"org.docker-coach.bench": instance}
        self.instance = instance
        # the coach's limits, the writable layer's size cap included where the engine takes
        # one (on btrfs each cap is a qgroup the engine sets up: container work, not the
        # coach's own)
        self.hardening = {
            k: v
            for k, v in host_config_kwargs(settings.sandbox.limits, storage).items()
            if k != "privileged"
        }
        self.client = docker.from_env(timeout=300, max_pool_size=learners + 4)
        self.api = self.client.api

    def _network(self, index: int) -> str:
        name = f"{self.instance}-raw{index}"
        self.api.create_network(name, driver="bridge", internal=True, labels=self.label)
        return name

    def _session(self, index: int, network: str, start: float, figures: Figures) -> None:
        api, labels = self.api, {**self.label, "learner": str(index)}
        time.sleep(max(0.0, start - time.perf_counter()))
        began = start
        cid = ""

        def run_d() -> None:
            nonlocal cid
            host_config = api.create_host_config(network_mode=network, **self.hardening)
            created = api.create_container(
                IMAGE, name=f"{network}-web", labels=labels, host_config=host_config
            )
            cid = created["Id"]
            api.start(cid)

        def ps() -> None:
            api.containers(all=True, filters={"label": [f"learner={index}"]})

        def exec_() -> None:
            exec_id = api.exec_create(cid, ["echo", "ready"])["Id"]
            api.exec_start(exec_id)

        def logs() -> None:
            api.logs(cid)

        def rm_f() -> None:
            api.remove_container(cid, force=True, v=True)

        for step, call in zip(STEPS, (run_d, ps, exec_, logs, rm_f), strict=True):
            try:
                call()
            except Exception as exc:
                figures.failures.append(f"{step.label}: {type(exc).__name__}: {exc}"[:200])
                return
            end = time.perf_counter()
            figures.results[step.label].append(end - began)
            began = end

    def burst(self, offsets: Sequence[float], recorder: EngineRequests | None = None) -> Figures:
        figures = Figures()
        with ThreadPoolExecutor(max_workers=8) as pool:
            networks = list(pool.map(self._network, range(len(offsets))))
        mark = recorder.mark() if recorder is not None else 0
        start = time.perf_counter() + 0.2
        with ThreadPoolExecutor(max_workers=len(offsets)) as pool:
            done = [
                pool.submit(self._session, i, net, start + o, figures)
                for i, (net, o) in enumerate(zip(networks, offsets, strict=True))
            ]
            for future in done:
                future.result()
        figures.total = time.perf_counter() - start
        if recorder is not None:  # its own threads' requests (the coach's own are owned)
            figures.requests = sum(1 for owner, _ in recorder.since(mark) if owner == "?")
        self.clean()
        return figures

    def clean(self) -> None:
        """Remove every container and network the raw side made."""
        clean_raw(self.api, self.instance)


def clean_raw(api: docker.APIClient, instance: str) -> None:
    """Blocking: remove every container and network the raw side of ``instance`` made."""
    filters = {"label": [f"org.docker-coach.bench={instance}"]}
    for container in api.containers(all=True, filters=filters):
        with contextlib.suppress(docker.errors.NotFound):
            api.remove_container(container["Id"], force=True, v=True)
    for network in api.networks(filters=filters):
        with contextlib.suppress(docker.errors.NotFound):
            api.remove_network(network["Id"])


def remove_raw(instance: str) -> None:
    client = docker.from_env(timeout=300)
    try:
        clean_raw(client.api, instance)
    finally:
        client.close()


def probe_starts(levels: Sequence[int], count: int, settings: Settings) -> None:
    """Containers created+started (then removed) per second at each level of concurrency:
    what ``workers[].concurrent_starts`` is chosen from."""
    instance = f"bench-starts-{uuid.uuid4().hex[:8]}"
    raw = RawSide(instance, settings, max(levels))
    network = raw._network(0)
    api = raw.api
    print(f"\ncontainer create+start and remove, {count} containers per level ({IMAGE})")
    print(
        f"  {'at once':>8} {'starts/s':>9} {'start p50 ms':>13} {'removes/s':>10} {'rm p50 ms':>10}"
    )
    try:
        for level in levels:
            ids: list[str] = []

            def start_one(index: int, level: int = level, ids: list[str] = ids) -> float:
                began = time.perf_counter()
                host_config = api.create_host_config(network_mode=network, **raw.hardening)
                created = api.create_container(
                    IMAGE, name=f"{network}-{level}-{index}", labels=raw.label,
                    host_config=host_config,
                )  # fmt: skip
                api.start(created["Id"])
                ids.append(created["Id"])
                return time.perf_counter() - began

            def remove_one(cid: str) -> float:
                began = time.perf_counter()
                api.remove_container(cid, force=True, v=True)
                return time.perf_counter() - began

            with ThreadPoolExecutor(max_workers=level) as pool:
                began = time.perf_counter()
                starts = list(pool.map(start_one, range(count)))
                start_wall = time.perf_counter() - began
                began = time.perf_counter()
                removes = list(pool.map(remove_one, list(ids)))
                remove_wall = time.perf_counter() - began
            print(
                f"  {level:>8} {count / start_wall:>9.1f} {ms(statistics.median(starts)):>13} "
                f"{count / remove_wall:>10.1f} {ms(statistics.median(removes)):>10}"
            )
    finally:
        raw.clean()
        raw.client.close()


def remove_instance(instance: str, passes: int = 3) -> int:
    """Remove everything labelled with the coach's bench instance (the safety net). A call
    the coach's threads were still making when it closed may add a container meanwhile (a
    network then has an endpoint again): what could not go is tried again, ``passes`` times."""
    client = docker.from_env(timeout=300)
    api = client.api
    filters = {"label": [f"{naming.INSTANCE}={instance}"]}
    removed = 0
    try:
        for _ in range(passes):
            left = 0
            for container in api.containers(all=True, filters=filters):
                with contextlib.suppress(docker.errors.NotFound):
                    api.remove_container(container["Id"], force=True, v=True)
                    removed += 1
            for network in api.networks(filters=filters):
                try:
                    api.remove_network(network["Id"])
                    removed += 1
                except docker.errors.NotFound:
                    pass
                except docker.errors.APIError:  # an endpoint joined since: the next pass
                    left += 1
            for volume in api.volumes(filters=filters).get("Volumes") or []:
                try:
                    api.remove_volume(volume["Name"], force=True)
                    removed += 1
                except docker.errors.NotFound:
                    pass
                except docker.errors.APIError:
                    left += 1
            if not left:
                break
    finally:
        client.close()
    return removed


# --------------------------------------------------------------------------------------------
# One measurement: a burst through the coach and through the raw engine, side by side
# --------------------------------------------------------------------------------------------


@dataclass
class Round:
    """One burst through the coach and the same work through the raw engine."""

    coach: Figures
    raw: Figures

    @property
    def ratio(self) -> float:
        return self.coach.total / self.raw.total if self.raw.total else float("nan")


@dataclass
class Measured:
    """One class size on one loop: a round or more (each alternating which side goes first)."""

    learners: int
    loop: str
    rounds: list[Round]
    first: tuple[list[float], list[float], list[str]] | None = None
    cap: int = 0  # each container's writable-layer cap, on both sides (0: none)

    @property
    def ratio(self) -> float:
        """The median round's ratio: one round's is within the machine's noise (±0.15)."""
        return statistics.median(r.ratio for r in self.rounds)

    @property
    def median_round(self) -> Round:
        """The round whose ratio is the median (the lower middle one of an even count)."""
        ordered = sorted(self.rounds, key=lambda r: r.ratio)
        return ordered[(len(ordered) - 1) // 2]

    @property
    def acks(self) -> list[float]:
        return [a for r in self.rounds for a in r.coach.acks]

    @property
    def lags(self) -> list[float]:
        return [lag for r in self.rounds for lag in r.coach.lags]

    @property
    def failures(self) -> list[str]:
        return [f for r in self.rounds for f in r.coach.failures]


def bench_settings(
    base: Settings, workdir: Path, instance: str, learners: int, warm_pool: int | None
) -> Settings:
    """The coach's settings for one class: its own instance and folder, room for the class,
    and a warm pool of ``warm_pool`` sandboxes per worker (None: as many as the class has
    learners, as a worker set up for a class would keep; the raw side's networks, too, are
    made before the clock starts)."""
    data = base.model_dump()
    data["data_dir"] = str(workdir)
    data["database"] = str(workdir / f"{instance}.sqlite3")
    sandbox = data["sandbox"]
    sandbox["instance"] = instance
    pool = learners if warm_pool is None else warm_pool
    room = 2 * learners + pool + 60  # the class, its pool, whatever others keep meanwhile
    sandbox["workers"] = [
        {**worker, "max_sandboxes": max(worker["max_sandboxes"] or 0, room), "warm_pool": pool}
        for worker in sandbox["workers"]
    ]
    return Settings.model_validate(data)


async def container_cap(coach: Coach) -> int:
    """The size cap the coach gives a container of the bench's image on its (first) worker:
    0 where the engine takes none."""
    service = coach.sandbox
    worker = service.manager.pool.workers[0]
    support = await service.watchdog.support(worker)
    image = await asyncio.to_thread(_image_bytes, worker.api)
    return storage_bytes(coach.settings.sandbox.limits, support, image)


def _image_bytes(api: docker.APIClient) -> int:
    attrs: dict[str, Any] = api.inspect_image(IMAGE)  # type: ignore[no-untyped-call]
    return int(attrs.get("Size") or 0)


async def raw_burst(raw: RawSide, offsets: Sequence[float]) -> Figures:
    """The raw engine's burst on threads; the loop's lag meanwhile (only the ticker runs on
    it: what the process's own threads and the machine do to the loop, without the coach)."""
    recorder = EngineRequests()
    with Ticker() as ticker, recorder.installed():
        figures = await asyncio.to_thread(raw.burst, offsets, recorder)
    figures.lags = ticker.lags
    return figures


async def measure(
    options: argparse.Namespace,
    settings: Settings,
    library: ContentLibrary,
    learners: int,
    loop_name: str,
    raw_first: bool,
    first_runs: int,
) -> Measured:
    """One class size on one loop: the coach's burst and the raw engine's, side by side."""
    rng = random.Random(options.seed + learners)
    offsets = sorted(rng.uniform(0.0, 1.0) for _ in range(learners))
    instance = settings.sandbox.instance
    assert instance is not None  # bench_settings names one
    coach = Coach(settings, library)
    raw: RawSide | None = None
    try:
        await coach.start()
        cap = await container_cap(coach)
        raw = RawSide(instance, settings, learners, cap)
        side = CoachSide(coach)
        await side.pool_ready()
        # one learner after the other first (each claim is refilled before the next learner),
        # then the burst with the pool full again
        first = await side.first_runs(first_runs) if first_runs else None
        rounds: list[Round] = []
        for index in range(max(1, options.rounds)):
            await side.forget_all()
            await side.pool_ready()
            if raw_first == (index % 2 == 0):
                raw_figures = await raw_burst(raw, offsets)
                coach_figures = await side.burst(offsets)
            else:
                coach_figures = await side.burst(offsets)
                raw_figures = await raw_burst(raw, offsets)
            rounds.append(Round(coach_figures, raw_figures))
        await side.forget_all()
        return Measured(learners, loop_name, rounds, first, cap)
    finally:
        await coach.close()
        if raw is not None:
            await asyncio.to_thread(raw.clean)
            raw.client.close()
        with contextlib.suppress(docker.errors.APIError):  # run_one tries again
            await asyncio.to_thread(remove_instance, instance)


def loop_priority(options: argparse.Namespace, base: Settings) -> str:
    chosen: str = options.loop_priority
    return base.event_loop_priority if chosen == "settings" else chosen


def priority_refused(options: argparse.Namespace, base: Settings) -> str:
    """Why the loop's thread cannot have the priority asked for (tried on a thread of its
    own, which then ends), or nothing."""
    if loop_priority(options, base) == "normal":
        return ""
    refused: list[str | None] = []
    probe = threading.Thread(target=lambda: refused.append(raise_thread_priority()))
    probe.start()
    probe.join()
    return f" (refused: {refused[0]}; measured at normal)" if refused[0] else ""


def run_one(
    options: argparse.Namespace,
    base: Settings,
    library: ContentLibrary,
    learners: int,
    loop_name: str,
    raw_first: bool,
    first_runs: int,
) -> Measured:
    """:func:`measure` on a fresh loop of ``loop_name``, in a folder of its own."""
    instance = f"bench-class-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="class-bench-") as tmp:
        settings = bench_settings(base, Path(tmp), instance, learners, options.warm_pool)
        try:
            with open(Path(tmp) / "coach.log", "w", encoding="utf-8") as log_file:
                configure_logging(settings.log_level, settings.log_format, stream=log_file)
                factory = loop_factory(loop_name, loop_priority(options, base))
                with asyncio.Runner(loop_factory=factory) as runner:
                    return runner.run(
                        measure(
                            options, settings, library, learners, loop_name, raw_first, first_runs
                        )
                    )
        finally:
            # the safety net, also when Ctrl-C or SIGTERM cut the coach's own clean-up short
            remove_instance(instance)
            remove_raw(instance)


# --------------------------------------------------------------------------------------------
# Printing
# --------------------------------------------------------------------------------------------


def print_measured(m: Measured) -> None:
    middle = m.median_round
    coach, raw = middle.coach, middle.raw
    which = "" if len(m.rounds) == 1 else ", the median round"
    print(f"\nN={m.learners} learners, loop {m.loop}{which}  (p50 / p95 / max, ms)")
    if m.cap:
        print(f"  each container's writable layer capped at {m.cap / 2**20:.0f} MiB, both sides")
    print(f"  {'':14} {'coach':>24} {'raw engine':>24}")
    print(f"  {'acknowledged':14} {triple(coach.acks):>24} {'—':>24}")
    for step in STEPS:
        print(
            f"  {step.label:14} {triple(coach.results[step.label]):>24} "
            f"{triple(raw.results[step.label]):>24}"
        )
    print(
        f"  {'burst total':14} {coach.total:>23.2f}s {raw.total:>23.2f}s   ratio {middle.ratio:.2f}"
    )
    lags = coach.lags
    print(
        f"  {'loop lag':14} p50 {ms(percentile(lags, 0.5))}, p99 {ms(percentile(lags, 0.99))}, "
        f"max {ms(max(lags) if lags else 0)} ms ({len(lags)} ticks)"
    )
    if raw.lags:
        print(
            f"  {'':14} during the raw burst (nothing but the ticker on the loop): "
            f"p50 {ms(percentile(raw.lags, 0.5))}, p99 {ms(percentile(raw.lags, 0.99))}, "
            f"max {ms(max(raw.lags))} ms"
        )
    if coach.requests:
        learners = max(1, m.learners)
        print(
            f"  {'engine calls':14} per learner: coach {coach.requests / learners:.1f} "
            f"(+ {coach.background / learners:.1f} background work meanwhile), "
            f"raw engine {raw.requests / learners:.1f}"
        )
    if coach.background_kinds:
        kinds = ", ".join(f"{k} {n}" for k, n in coach.background_kinds.most_common(5))
        print(f"  {'':14} background requests, most made: {kinds}")
    if len(m.rounds) > 1:
        each = ", ".join(
            f"{r.coach.total:.1f}/{r.raw.total:.1f} s = {r.ratio:.2f}" for r in m.rounds
        )
        print(f"  {'rounds':14} coach/raw: {each}; median ratio {m.ratio:.2f}")
    raw_failures = [f for r in m.rounds for f in r.raw.failures]
    print(f"  {'failures':14} coach {len(m.failures)}, raw engine {len(raw_failures)}")
    for text in sorted(set(m.failures + raw_failures))[:5]:
        print(f"      {text}")
    if m.first is not None:
        new, returning, failures = m.first
        ratio = statistics.median(new) / statistics.median(returning)
        print(
            f"  first run -d of a new learner vs a returning learner's (median of {len(new)}): "
            f"{ms(statistics.median(new))} ms vs {ms(statistics.median(returning))} ms, "
            f"ratio {ratio:.2f}" + (f", {len(failures)} failures" if failures else "")
        )


def summary(m: Measured) -> str:
    """The last line: ack and lag p99 over every round, the median round's ratio, every
    round's failures."""
    ack = percentile(m.acks, 0.99)
    lag = percentile(m.lags, 0.99)
    failures = len(m.failures)
    return (
        f"N={m.learners}: ack p99 {ms(ack)} ms, burst ratio vs raw engine {m.ratio:.2f}, "
        f"loop lag p99 {ms(lag)} ms, failures {failures}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", default="25,50,100", help="class sizes, comma-separated")
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop", "both", "settings"),
        default="settings",
        help="event loop(s): 'both' runs each class size under asyncio and under uvloop",
    )
    parser.add_argument(
        "--loop-priority",
        choices=("normal", "realtime", "settings"),
        default="realtime",
        help="the priority of the loop's thread (event_loop_priority): 'realtime', the setting "
        "for a class (needs root here), is the default; 'normal' measures without it",
    )
    parser.add_argument("--first-runs", type=int, default=20, help="learners for new vs returning")
    parser.add_argument(
        "--warm-pool",
        type=int,
        default=None,
        help="warm sandboxes per worker (default: the class size; 0 measures without a pool)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="bursts per class size, each side going first in turn; the ratio is the median "
        "round's (one round's moves ±0.15 with the machine, so one round decides nothing)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settings", type=Path, default=None)
    parser.add_argument(
        "--own-core",
        action="store_true",
        help="the bench (coach and raw side alike) on a core of its own, the local engine's "
        "processes on the others (needs root; put back afterwards): the loop's lag without the "
        "machine's",
    )
    parser.add_argument(
        "--starts",
        default="",
        help="only probe the engine: starts/s at these levels of concurrency (e.g. 1,2,4,8,16)",
    )
    options = parser.parse_args(argv)
    sizes = [int(n) for n in str(options.learners).split(",") if n.strip()]
    base = load_settings(options.settings)
    configured = base.event_loop
    loops = (
        ["asyncio", "uvloop"]
        if options.loop == "both"
        else [configured if options.loop == "settings" else options.loop]
    )
    if options.starts:
        levels = [int(n) for n in options.starts.split(",") if n.strip()]
        probe_starts(levels, 48, base)  # one sandbox-sized network (a /26) holds 61
        return 0
    library = load_content(base.content_dir)
    print(
        f"docker SDK {docker.__version__}, thread pool {base.sandbox.thread_pool_size}, "
        f"image {IMAGE}, arrivals spread over 1 s (seed {options.seed}), loops {', '.join(loops)}, "
        f"warm pool {'the class size' if options.warm_pool is None else options.warm_pool}, "
        f"concurrent starts {', '.join(str(w.concurrent_starts) for w in base.sandbox.workers)}, "
        f"loop thread priority {loop_priority(options, base)}{priority_refused(options, base)}"
    )
    with cores.own_core() if options.own_core else contextlib.nullcontext("") as placed:
        if placed:
            print(placed)
        results = measure_all(options, base, library, sizes, loops)
    with open("/proc/loadavg", encoding="ascii") as fh:
        print(f"\nload average after: {' '.join(fh.read().split()[:3])}")
    if len(loops) > 1:
        for m in results:
            print(f"  {m.loop:8} {summary(m)}")
    final = [m for m in results if m.loop == loops[0]][-1]
    print(summary(final))
    return 0 if not final.failures else 1


def measure_all(
    options: argparse.Namespace,
    base: Settings,
    library: ContentLibrary,
    sizes: Sequence[int],
    loops: Sequence[str],
) -> list[Measured]:
    """Each class size under each loop, printed as it is measured."""
    results: list[Measured] = []
    turn = 0
    for index, learners in enumerate(sizes):
        for loop_name in loops:
            last = index == len(sizes) - 1 and loop_name == loops[0]
            measured = run_one(
                options,
                base,
                library,
                learners,
                loop_name,
                raw_first=turn % 2 == 0,
                first_runs=options.first_runs if last else 0,
            )
            turn += 1
            results.append(measured)
            print_measured(measured)
            sys.stdout.flush()
    return results


if __name__ == "__main__":
    # SIGTERM ends the run like Ctrl-C: the coach closes and everything made is removed
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())
