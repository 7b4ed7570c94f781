"""The sandbox's own exceptions, all under :class:`~bot.core.errors.CoachError`.

docker-py and requests raise their own exception types; :mod:`bot.sandbox.workers` maps them
once, at the worker boundary, into these. Nothing else in the sandbox sees a docker-py or
requests exception. What the user sees is decided at the command boundary
(:mod:`bot.sandbox.handlers`): an :class:`EngineError` becomes the engine's own words in the
learner's names with a hint, a :class:`WorkerDown` becomes "the practice worker is unavailable".
"""

from __future__ import annotations

from http import HTTPStatus

from bot.core.errors import CoachError


class SandboxError(CoachError):
    """Base of the sandbox's internal errors."""


class WorkerDown(SandboxError):
    """The worker's engine did not answer (connection refused or reset, TLS/SSH failure,
    no answer in time). The worker is marked down; users are told it is unavailable."""


class TookTooLong(SandboxError):
    """A call that may rightly be slow (a pull, an index search) did not end in time; the
    worker itself answered and stays healthy."""


class EngineError(SandboxError):
    """The engine answered a request with an error: its HTTP status and its own explanation
    (in real, prefixed names: rewrite it before a user sees it)."""

    def __init__(self, explanation: str, status: int | None = None) -> None:
        super().__init__(explanation)
        self.explanation = explanation
        self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.explanation!r}, status={self.status})"


class EngineNotFound(EngineError):
    """404: no such container, image, volume, network or path."""

    def __init__(self, explanation: str, status: int | None = HTTPStatus.NOT_FOUND) -> None:
        super().__init__(explanation, status)


class EngineConflict(EngineError):
    """409: the object is in a state that forbids the request (not running, name in use…)."""

    def __init__(self, explanation: str, status: int | None = HTTPStatus.CONFLICT) -> None:
        super().__init__(explanation, status)


class LimitsMissing(SandboxError):
    """A container the coach created lacks part of its hardening; it was removed again."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"container lacks limits: {', '.join(missing)}")
        self.missing = missing


class TooBig(SandboxError):
    """An archive read from a container is larger than the limit it was read with."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit
