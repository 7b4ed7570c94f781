"""A health file: gateway connection, latency, worker health, interaction counts (JSON)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord

log = logging.getLogger("bot.discord.health")

INTERVAL_SECONDS = 30.0


async def worker_health(coach: Any) -> Any:
    """What the sandbox service says about its workers, if it can say anything."""
    probe = coach.worker_health
    try:
        result = probe()
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, 10)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return result


def snapshot(client: discord.Client, stats: dict[str, int], workers: Any) -> dict[str, Any]:
    latency = client.latency
    ws = getattr(client, "ws", None)
    connected = bool(ws is not None and ws.open and not client.is_closed() and client.is_ready())
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "gateway_connected": connected,
        "latency_ms": None if not math.isfinite(latency) else round(latency * 1000, 1),
        "user": str(client.user) if client.user else None,
        "guilds": len(client.guilds),
        "interactions": dict(stats),
        "workers": workers,
    }


def write_atomically(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(temporary, path)


async def write_health(
    client: discord.Client, coach: Any, stats: dict[str, int], path: Path
) -> dict[str, Any]:
    data = snapshot(client, stats, await worker_health(coach))
    await asyncio.to_thread(write_atomically, path, data)
    return data


async def keep_writing(
    client: discord.Client,
    coach: Any,
    stats: dict[str, int],
    path: Path,
    interval: float = INTERVAL_SECONDS,
) -> None:
    """Rewrite the health file every ``interval`` seconds until cancelled."""
    while True:
        try:
            await write_health(client, coach, stats, path)
        except Exception:
            log.exception("could not write the health file", extra={"path": str(path)})
        await asyncio.sleep(interval)
