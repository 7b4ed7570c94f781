"""One exception tree for the coach.

A :class:`UserError` is the user's mistake or a refusal: front ends show its translated
message and nothing else. Every other :class:`CoachError` is raised on purpose by the coach
itself (a store that closed, content that does not load, a part used before it started);
anything that escapes a handler is logged with an id that the user is shown.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CoachError(Exception):
    """Base of every error the coach raises on purpose."""


class UserError(CoachError):
    """A problem the user can fix; carries a translation key and its parameters.

    ``title_key`` is the heading front ends show above the message: a neutral one by
    default ("That didn't work"; "Not quite" is the quiz's, for a wrong answer); a policy
    refusal, a request still running and trouble on our side (:class:`Unavailable`) have
    their own."""

    title_key: ClassVar[str] = "general.error_title"
    ours: ClassVar[bool] = False  # the trouble is on the coach's side, not the user's

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r}, **{self.params!r})"


class NotFound(UserError):
    """The user named something that does not exist (for them)."""


class Refused(UserError):
    """The safety policy refused a request."""

    title_key: ClassVar[str] = "general.refused_title"


class Busy(UserError):
    """The user's previous request is still running."""

    title_key: ClassVar[str] = "general.busy_title"


class Unavailable(UserError):
    """A backing service (a practice worker) cannot serve the user right now: it is down,
    slow, full or in trouble. Infrastructure, not the user's mistake: its own title."""

    title_key: ClassVar[str] = "general.unavailable_title"
    ours: ClassVar[bool] = True


class ConfigError(CoachError):
    """Settings or content are invalid; the app must not start."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class NotStarted(CoachError):
    """A part that exists only once the coach has started (the store) was used before."""


class StoreError(CoachError):
    """The store cannot do what was asked: it is closed, its writer stopped, or its schema
    does not fit this code."""
