"""/healthz and /metrics: in-process against a coach, and ``python -m bot run`` as a real
process logged in to the loopback Discord stand-in, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.coach import Coach
from bot.core.clock import FixedClock
from bot.core.metrics import REGISTRY
from bot.ops.health import Readiness
from bot.ops.http import OpsServer
from bot.settings import HttpSettings, Settings
from tests.conftest import TEST_INSTANCE, make_actor
from tests.discord.standin import Standin, command_data, interaction_payload
from tests.support import bot_env

NO_ENGINE = [{"name": "gone", "url": "tcp://127.0.0.1:9"}]


async def get(port: int, path: str) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as answer,
    ):
        return answer.status, answer.headers.get("Content-Type", ""), await answer.text()


@contextlib.asynccontextmanager
async def _unreachable_worker_coach(settings: Settings) -> AsyncIterator[Coach]:
    data = settings.model_dump()
    data["sandbox"]["workers"] = NO_ENGINE
    coach = await Coach.open(Settings.model_validate(data), clock=FixedClock())
    try:
        yield coach
    finally:
        await coach.close()


@pytest.fixture
async def unreachable_worker_coach(settings: Settings) -> AsyncIterator[Coach]:
    async with _unreachable_worker_coach(settings) as coach:
        yield coach


async def test_healthz_is_503_naming_what_is_not_ready(unreachable_worker_coach: Coach):
    coach = unreachable_worker_coach
    server = await OpsServer(HttpSettings(port=0), Readiness(coach, lambda: False, 2)).start()
    try:
        status, kind, text = await get(server.port, "/healthz")
        assert status == 503 and kind.startswith("application/json")
        checks = json.loads(text)["checks"]
        assert checks["database"]["ok"] is True
        assert checks["gateway"] == {"ok": False, "detail": "not connected"}
        assert checks["worker:gone"]["ok"] is False
        coach.gate.close()
        _status, _kind, text = await get(server.port, "/healthz")
        assert json.loads(text)["checks"]["accepting"] == {"ok": False, "detail": "shutting down"}
        assert (await get(server.port, "/livez"))[0] == 200
    finally:
        await server.stop()


async def test_metrics_count_each_command_with_its_outcome(settings: Settings):
    # read before the coach opens: its first look at the worker counts, in the background
    unreachable = REGISTRY.get_sample_value("coach_engine_errors_total", {"kind": "unreachable"})
    async with _unreachable_worker_coach(settings) as coach:
        text = await _metrics_after_three_commands(coach)
    assert 'coach_interactions_total{command="concept",outcome="ok"}' in text
    assert 'coach_interactions_total{command="quiz",outcome="user_error"}' in text
    assert 'coach_command_seconds_count{command="docker"}' in text
    counted = re.search(r'^coach_engine_errors_total\{kind="unreachable"\} (\S+)$', text, re.M)
    assert counted and float(counted.group(1)) > (unreachable or 0)  # counted, not only listed
    assert 'coach_worker_up{worker="gone"} 0.0' in text


async def _metrics_after_three_commands(coach: Coach) -> str:
    await coach.run(make_actor("mo"), ("concept",), {"topic": "volume"})
    await coach.run(make_actor("mo"), ("quiz",), {"count": 999})  # out of range
    await coach.run(make_actor("mo"), ("docker",), {"command": "ps"})  # worker unreachable
    server = await OpsServer(HttpSettings(port=0), Readiness(coach)).start()
    try:
        status, kind, text = await get(server.port, "/metrics")
    finally:
        await server.stop()
    assert status == 200 and kind.startswith("text/plain")
    return text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.docker
async def test_bot_process_serves_health_and_stops_cleanly_on_sigterm(tmp_path: Path):
    standin = Standin()
    await standin.start()
    port = free_port()
    env = bot_env(
        DISCORD_TOKEN="test-token",
        COACH_DATA_DIR=str(tmp_path),
        COACH_HTTP__PORT=str(port),
        COACH_DISCORD__API_BASE=standin.base,
        COACH_DISCORD__GATEWAY_URL=str(standin.gateway),
        COACH_SANDBOX__INSTANCE=TEST_INSTANCE,
    )
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await asyncio.wait_for(standin.identified.wait(), 60)
        status, _kind, text = await _ready(port)
        assert status == 200, text
        payload = interaction_payload(2, command_data(("concept",), {"topic": "volume"}))
        await standin.dispatch("INTERACTION_CREATE", payload)
        [answer] = await standin.wait_for(lambda r: payload["id"] in r.path, 1, 30)
        assert answer.body and answer.body["type"] == 4
        _status, _kind, metrics = await get(port, "/metrics")
        assert 'coach_interactions_total{command="concept",outcome="ok"} 1.0' in metrics
        bot.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(bot.communicate(), 30)
        assert bot.returncode == 0, output.decode()
        assert b"stop signal received" in output
        assert not standin.sockets  # the gateway connection was closed
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        await standin.stop()


async def _ready(port: int) -> tuple[int, str, str]:
    """/healthz once the endpoint answers 200 (bounded: the bot is starting)."""
    answer: tuple[int, str, str] = (0, "", "")
    for _ in range(100):
        try:
            answer = await get(port, "/healthz")
        except aiohttp.ClientError:
            await asyncio.sleep(0.2)
            continue
        if answer[0] == 200:
            return answer
        await asyncio.sleep(0.2)
    return answer
