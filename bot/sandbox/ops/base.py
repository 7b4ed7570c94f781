"""What every docker subcommand implementation gets and returns."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from docker.errors import APIError

from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.sandbox.naming import Scope
from bot.sandbox.provision import Sandbox
from bot.sandbox.workers import Worker
from bot.settings import SandboxSettings

log = logging.getLogger("bot.sandbox.ops")


@dataclass
class Output:
    """A command's CLI-like output and translated notes shown next to it."""

    text: str = ""
    name: str = "docker.txt"
    notes: list[str] = field(default_factory=list)
    total_bytes: int | None = None  # set when a stream was cut at the byte cap
    error: bool = False


@dataclass
class Ctx:
    """One command's view of the world: the sandbox, settings, policy and language."""

    sandbox: Sandbox
    settings: SandboxSettings
    policy: Any
    tr: Translator
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def scope(self) -> Scope:
        return self.sandbox.scope

    @property
    def worker(self) -> Worker:
        return self.sandbox.worker

    async def call(self, fn_name: str, /, *args: Any, timeout: float | None = None, **kw: Any):  # noqa: ASYNC109
        return await self.worker.call(
            fn_name, *args, timeout=timeout or self.settings.api_timeout_seconds, **kw
        )

    async def run(self, fn: Any, /, *args: Any, timeout: float | None = None, **kw: Any):  # noqa: ASYNC109
        return await self.worker.run(
            fn, *args, timeout=timeout or self.settings.api_timeout_seconds, **kw
        )

    def engine_error(self, exc: APIError) -> UserError:
        """The engine's own error text (in the user's names) with a friendly hint."""
        return UserError(
            "sandbox.engine_error",
            message=self.engine_text(exc),
            hint=self.hint(exc),
        )

    def engine_text(self, exc: APIError) -> str:
        explanation = exc.explanation
        if isinstance(explanation, bytes):
            explanation = explanation.decode("utf-8", "replace")
        return self.scope.rewrite(str(explanation or exc))[:1500]

    def hint(self, exc: APIError) -> str:
        text = self.engine_text(exc).lower()
        for needle, key in HINTS:
            if needle in text:
                return self.tr(key)
        return ""


HINTS: tuple[tuple[str, str], ...] = (
    ("no such image", "sandbox.hint.no_such_image"),
    ("already in use", "sandbox.hint.name_in_use"),
    ("is not running", "sandbox.hint.not_running"),
    ("is paused", "sandbox.hint.paused"),
    ("is already paused", "sandbox.hint.paused"),
    ("port is already allocated", "sandbox.hint.port_taken"),
    ("executable file not found", "sandbox.hint.no_executable"),
    ("you cannot remove a running container", "sandbox.hint.remove_running"),
    ("volume is in use", "sandbox.hint.volume_in_use"),
    ("has active endpoints", "sandbox.hint.network_in_use"),
    ("could not find an available", "sandbox.hint.address_pools"),
)

Op = Callable[[Ctx, Any], Awaitable[Output]]
