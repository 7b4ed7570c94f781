"""Prometheus metrics: the counters every part of the coach bumps, in one registry.

The metrics live here, at the bottom of the layers, so any capability can count without
knowing who serves them; ``bot/ops/http.py`` exposes :data:`REGISTRY` as ``/metrics``. Each
hook is one call at the place where the thing happens:

* interactions and their latency: :func:`observe_command`, called once per request by the
  coach (``Coach._guarded``), so every front end is counted the same way;
* the executor: one :class:`TrackedCall` per Docker call, and :func:`engine_error`;
* sandboxes per worker: :func:`set_sandboxes`;
* quiz answers and practice steps: :func:`quiz_answered`, :func:`practice_step_completed`.

A private registry (not prometheus-client's global one) keeps the process collectors out of
tests and lets several coaches in one test process share it harmlessly.
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # type: ignore[no-untyped-call]  # no ``*_created`` series needed
REGISTRY = CollectorRegistry(auto_describe=True)

# Latency buckets from autocomplete-fast answers to slow pulls (seconds).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

INTERACTIONS = Counter(
    "coach_interactions",
    "Commands and button presses answered, by command and outcome "
    "(ok, user_error, error, refused_shutting_down).",
    ("command", "outcome"),
    registry=REGISTRY,
)
LATENCY = Histogram(
    "coach_command_seconds",
    "Time from receiving a command to having its replies, by command.",
    ("command",),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
IN_FLIGHT = Gauge(
    "coach_commands_in_flight", "Commands being answered right now.", registry=REGISTRY
)
SANDBOXES = Gauge(
    "coach_sandboxes",
    "Sandboxes (host shells of every coach instance) on each worker, as last counted.",
    ("worker",),
    registry=REGISTRY,
)
WORKER_UP = Gauge(
    "coach_worker_up", "1 when the worker's engine answered the last ping.", ("worker",),
    registry=REGISTRY,
)  # fmt: skip
EXECUTOR_QUEUED = Gauge(
    "coach_executor_queue_depth",
    "Docker calls waiting for a thread of the bounded executor.",
    registry=REGISTRY,
)
EXECUTOR_RUNNING = Gauge(
    "coach_executor_running", "Docker calls running on the executor's threads.", registry=REGISTRY
)
EXECUTOR_TIMEOUTS = Counter(
    "coach_executor_timeouts",
    "Docker calls that did not end within their time-out.",
    registry=REGISTRY,
)
EXECUTOR_QUEUE_TIMEOUTS = Counter(
    "coach_executor_queue_timeouts",
    "Docker calls that found no free thread of the executor in time (the learner was told "
    "the worker is busy).",
    registry=REGISTRY,
)
ENGINE_ERRORS = Counter(
    "coach_engine_errors",
    "Errors from a worker's engine, by kind (unreachable, timeout, api).",
    ("kind",),
    registry=REGISTRY,
)
QUIZ_ANSWERS = Counter(
    "coach_quiz_answers",
    "Quiz and review answers recorded, by result (correct, wrong).",
    ("result",),
    registry=REGISTRY,
)
WORKER_DISK_FREE = Gauge(
    "coach_worker_disk_free_bytes",
    "Free bytes of each worker's data-root filesystem, as last checked.",
    ("worker",),
    registry=REGISTRY,
)
WORKER_DISK_TOTAL = Gauge(
    "coach_worker_disk_total_bytes",
    "Size of each worker's data-root filesystem.",
    ("worker",),
    registry=REGISTRY,
)
WORKER_BELOW_FLOOR = Gauge(
    "coach_worker_below_disk_floor",
    "1 while a worker's free space is below its floor (new sandboxes, pulls, builds refused).",
    ("worker",),
    registry=REGISTRY,
)
WORKER_DISK_LIMITS = Gauge(
    "coach_worker_disk_limits",
    "1 when the worker's engine caps each container's writable layer; 0: the watchdog only.",
    ("worker",),
    registry=REGISTRY,
)
DISK_BUDGET_STOPS = Counter(
    "coach_disk_budget_stops",
    "Times the disk watchdog stopped a sandbox's writers or found it over its budget.",
    ("worker",),
    registry=REGISTRY,
)
PRACTICE_STEPS = Counter(
    "coach_practice_steps_completed",
    "Guided-practice steps passed (checked against the sandbox).",
    registry=REGISTRY,
)

# Create the labelled series that must show (as 0) before anything happened.
for _kind in ("unreachable", "timeout", "api"):
    ENGINE_ERRORS.labels(_kind)
for _result in ("correct", "wrong"):
    QUIZ_ANSWERS.labels(_result)


def observe_command(command: str, outcome: str, seconds: float) -> None:
    INTERACTIONS.labels(command, outcome).inc()
    LATENCY.labels(command).observe(seconds)


class TrackedCall:
    """One Docker call's way through the executor: queued, then running, then done.

    The event loop creates it and calls :meth:`finish`; the executor's thread calls
    :meth:`start`. A lock makes the two agree when a call times out while still queued.
    """

    __slots__ = ("_lock", "_state")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = "queued"
        EXECUTOR_QUEUED.inc()

    def start(self) -> None:
        with self._lock:
            if self._state == "queued":
                self._state = "running"
                EXECUTOR_QUEUED.dec()
                EXECUTOR_RUNNING.inc()

    def finish(self) -> None:
        with self._lock:
            if self._state == "queued":
                EXECUTOR_QUEUED.dec()
            elif self._state == "running":
                EXECUTOR_RUNNING.dec()
            self._state = "done"


def engine_error(kind: str) -> None:
    if kind == "timeout":
        EXECUTOR_TIMEOUTS.inc()
    ENGINE_ERRORS.labels(kind).inc()


def executor_queue_timeout() -> None:
    EXECUTOR_QUEUE_TIMEOUTS.inc()


def set_sandboxes(worker: str, count: int) -> None:
    SANDBOXES.labels(worker).set(count)


def set_worker_up(worker: str, up: bool) -> None:
    WORKER_UP.labels(worker).set(1 if up else 0)


def set_worker_disk(worker: str, free: int, total: int, below_floor: bool) -> None:
    WORKER_DISK_FREE.labels(worker).set(free)
    WORKER_DISK_TOTAL.labels(worker).set(total)
    WORKER_BELOW_FLOOR.labels(worker).set(1 if below_floor else 0)


def set_worker_disk_limits(worker: str, enforced: bool) -> None:
    WORKER_DISK_LIMITS.labels(worker).set(1 if enforced else 0)


def disk_budget_stop(worker: str) -> None:
    DISK_BUDGET_STOPS.labels(worker).inc()


def quiz_answered(correct: bool) -> None:
    QUIZ_ANSWERS.labels("correct" if correct else "wrong").inc()


def practice_step_completed() -> None:
    PRACTICE_STEPS.inc()
