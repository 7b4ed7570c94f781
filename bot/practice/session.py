"""One learner's place in a scenario, as saved between commands (and restarts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.practice.uses import CommandUse, keep_outputs
from bot.store.practice import SessionRecord


@dataclass
class PracticeSession:
    """An active scenario: the step reached, hints shown, commands used, facts remembered.

    ``used`` holds ``(step index, command use)`` pairs, so that a check can ask "since this
    step began" or "ever in this session" (:mod:`bot.practice.uses`). ``last_fail`` is the fail
    check whose hint was shown last, so that the same hint is not repeated after every command.
    """

    user_id: str
    guild_id: str
    scenario_id: str
    started_at: datetime
    step_started_at: datetime
    step_index: int = 0
    hints_shown: int = 0
    used: list[tuple[int, CommandUse]] = field(default_factory=list)
    remembered: dict[str, str] = field(default_factory=dict)
    last_fail: str | None = None
    skipped: int = 0

    @classmethod
    def from_record(cls, record: SessionRecord) -> PracticeSession:
        return cls(
            user_id=record.user_id,
            guild_id=record.guild_id,
            scenario_id=record.scenario_id,
            started_at=record.started_at,
            step_started_at=record.step_started_at,
            step_index=record.step_index,
            hints_shown=record.hints_shown,
            used=[(index, CommandUse.decode(token)) for index, token in record.used],
            remembered=dict(record.remembered),
            last_fail=record.last_fail,
            skipped=record.skipped,
        )

    def to_record(self) -> SessionRecord:
        return SessionRecord(
            user_id=self.user_id,
            guild_id=self.guild_id,
            scenario_id=self.scenario_id,
            started_at=self.started_at,
            step_started_at=self.step_started_at,
            step_index=self.step_index,
            hints_shown=self.hints_shown,
            skipped=self.skipped,
            used=self._saved_uses(),
            remembered=tuple(sorted(self.remembered.items())),
            last_fail=self.last_fail,
        )

    def _saved_uses(self) -> tuple[tuple[int, str], ...]:
        kept = keep_outputs([use for _index, use in self.used])
        return tuple(
            (index, use.encode()) for (index, _old), use in zip(self.used, kept, strict=True)
        )

    def use(self, command: CommandUse) -> None:
        """Record a command used at the current step."""
        self.used.append((self.step_index, command))

    def used_since_step(self) -> list[CommandUse]:
        return [command for index, command in self.used if index == self.step_index]

    def used_in_session(self) -> list[CommandUse]:
        return [command for _index, command in self.used]

    def advance(self, now: datetime) -> None:
        self.step_index += 1
        self.hints_shown = 0
        self.last_fail = None
        self.step_started_at = now
