"""Per-user rate limits on the coach's clock (so tests move time instead of sleeping).

A :class:`Rate` allows ``uses`` in any window of ``seconds``; :class:`Cooldowns` keeps one
sliding window per (bucket, user). Commands name their bucket in their
:class:`~bot.discordbot.policy.Policy`: ``/docker``, ``/sh``, ``/download`` and ``/sandbox``
share the ``sandbox`` bucket, so alternating them does not get around it. Button presses
share the ``press`` bucket; when it is full, a member is told once when to try again and
further presses until then are acknowledged silently, so that spamming buttons cannot make
the bot post message after message.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

SANDBOX = "sandbox"
PROGRESS = "progress"
QUIZ = "quiz"
PRESS = "press"


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``uses`` in any ``seconds``; ``seconds == 0`` means no limit."""

    uses: int
    seconds: float

    @property
    def limited(self) -> bool:
        return self.uses > 0 and self.seconds > 0


class Cooldowns:
    """Sliding windows of recent uses, per bucket and key, on an injectable clock."""

    def __init__(self, now: Callable[[], datetime], rates: dict[str, Rate]) -> None:
        self._now = now
        self.rates = dict(rates)
        self._uses: dict[tuple[str, str], deque[datetime]] = {}
        self._told: dict[tuple[str, str], datetime] = {}

    def take(self, bucket: str, key: str) -> datetime | None:
        """Use one of ``key``'s uses in ``bucket``: None when allowed (the use counts), else
        the moment the next use will be allowed (nothing counts)."""
        rate = self.rates.get(bucket)
        if rate is None or not rate.limited:
            return None
        now = self._now()
        window = timedelta(seconds=rate.seconds)
        uses = self._uses.setdefault((bucket, key), deque())
        while uses and now - uses[0] >= window:
            uses.popleft()
        if len(uses) >= rate.uses:
            return uses[0] + window
        uses.append(now)
        self._prune(now)
        return None

    def first_refusal(self, bucket: str, key: str, retry_at: datetime) -> bool:
        """Whether this refusal is the first until ``retry_at`` (the one worth a message)."""
        told = self._told.get((bucket, key))
        if told is not None and told >= retry_at:
            return False
        self._told[(bucket, key)] = retry_at
        return True

    def _prune(self, now: datetime) -> None:
        """Forget idle keys now and then, so that memory follows the active users."""
        if len(self._uses) < 4096:
            return
        longest = timedelta(seconds=max((r.seconds for r in self.rates.values()), default=0))
        for key, uses in list(self._uses.items()):
            if not uses or now - uses[-1] >= longest:
                del self._uses[key]
        for key, until in list(self._told.items()):
            if until <= now:
                del self._told[key]
