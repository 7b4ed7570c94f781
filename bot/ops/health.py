"""Readiness: is this coach able to serve? (``/healthz``)

Ready means: it still accepts commands (no shutdown under way), the Discord gateway is
connected (when there is one), the database takes a write, and every worker's engine
answers a ping. Each check has a time-out, so a frozen engine makes ``/healthz`` say so
instead of hanging. A worker's check also says whether its engine caps containers' disk use
and how much of its disk is free: a worker below its free-space floor stays *ready* (its
learners keep working; only new sandboxes, pulls and builds are refused there), and says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.coach import Coach
from bot.sandbox.api import SandboxAdmin, WorkerDiskView

log = logging.getLogger("bot.ops.health")


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str = ""


def sandbox_of(coach: Coach) -> SandboxAdmin:
    """The sandbox's admin view of ``coach``."""
    return coach.sandbox.reader


async def _rewrite_user_version(conn: aiosqlite.Connection) -> None:
    # Writes the header page with the value it already has: proves the file, its journal and
    # the disk take a write, and changes nothing.
    cursor = await conn.execute("PRAGMA user_version")
    row = await cursor.fetchone()
    await conn.execute(f"PRAGMA user_version = {int(row[0]) if row else 0}")


class Readiness:
    def __init__(
        self, coach: Coach, gateway: Callable[[], bool] | None = None, timeout: float = 3.0
    ) -> None:
        self.coach = coach
        self.gateway = gateway
        self.timeout = timeout

    async def check(self) -> tuple[bool, list[CheckResult]]:
        closing = self.coach.gate.closing
        results = [CheckResult("accepting", not closing, "shutting down" if closing else "")]
        if self.gateway is not None:
            connected = self.gateway()
            results.append(CheckResult("gateway", connected, "" if connected else "not connected"))
        database, workers = await asyncio.gather(self._database(), self._workers())
        results.append(database)
        results.extend(workers)
        return all(r.ok for r in results), results

    async def _bounded(self, name: str, probe: Any) -> CheckResult:
        try:
            detail = await asyncio.wait_for(probe, self.timeout)
        except TimeoutError:
            return CheckResult(name, False, f"no answer within {self.timeout:g} s")
        except Exception as exc:  # a failing probe is an answer: not ready
            return CheckResult(name, False, f"{type(exc).__name__}: {exc}"[:300])
        if isinstance(detail, CheckResult):
            return detail
        return CheckResult(name, True, str(detail or ""))

    async def _database(self) -> CheckResult:
        store = self.coach.store
        if store is None:
            return CheckResult("database", False, "not open")
        return await self._bounded("database", store.db.write(_rewrite_user_version))

    async def _workers(self) -> list[CheckResult]:
        sandbox = sandbox_of(self.coach)
        try:
            probed = await asyncio.wait_for(sandbox.probe_workers(), self.timeout)
        except TimeoutError:
            return [CheckResult("workers", False, f"no answer within {self.timeout:g} s")]
        return [
            CheckResult(
                f"worker:{w.name}",
                w.healthy,
                f"{w.sandboxes} sandbox(es){disk_detail(w.disk)}"
                if w.healthy
                else (w.error or "unreachable"),
            )
            for w in probed
        ]


def disk_detail(disk: WorkerDiskView | None) -> str:
    """``; disk limits enforced (btrfs); 97% free`` — what the check says of a worker's disk."""
    if disk is None:
        return ""
    if disk.limits_enforced:
        parts = [f"disk limits enforced ({disk.driver})"]
    elif disk.limits_enforced is False:
        parts = [f"NO disk limits ({disk.driver}): watchdog every {disk.interval_seconds:g} s"]
    else:
        parts = ["disk limits unknown"]
    fraction = disk.free_fraction
    if fraction is not None:
        parts.append(f"{100 * fraction:.0f}% free")
    if disk.below_floor:
        parts.append(f"BELOW the {100 * disk.floor:.0f}% free-space floor: new sandboxes refused")
    return "; " + "; ".join(parts)
