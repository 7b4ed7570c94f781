"""One learner's place in a scenario, as saved between commands (and restarts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class PracticeSession:
    """An active scenario: the step reached, hints shown, commands used, facts remembered.

    ``used`` holds ``(step index, docker subcommand)`` pairs, so that a check can ask
    "since this step began" or "ever in this session". ``last_fail`` is the fail check
    whose hint was shown last, so that the same hint is not repeated after every command.
    """

    user_id: str
    guild_id: str
    scenario_id: str
    started_at: datetime
    step_started_at: datetime
    step_index: int = 0
    hints_shown: int = 0
    used: list[tuple[int, str]] = field(default_factory=list)
    remembered: dict[str, str] = field(default_factory=dict)
    last_fail: str | None = None
    skipped: int = 0

    def used_since_step(self) -> list[str]:
        return [command for index, command in self.used if index == self.step_index]

    def used_in_session(self) -> list[str]:
        return [command for _index, command in self.used]

    def advance(self, now: datetime) -> None:
        self.step_index += 1
        self.hints_shown = 0
        self.last_fail = None
        self.step_started_at = now
