"""The coach's HTTP endpoint for operators: ``/healthz``, ``/livez`` and ``/metrics``.

Served by aiohttp (already there for discord.py) on ``http.host:http.port`` (default
127.0.0.1:9464; the container listens on 0.0.0.0 and compose publishes it on the host's
loopback only). It exposes no learner data: check names, counts and Prometheus metrics.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.core.metrics import REGISTRY
from bot.ops.health import Readiness
from bot.settings import HttpSettings

log = logging.getLogger("bot.ops.http")


class OpsServer:
    def __init__(self, settings: HttpSettings, readiness: Readiness) -> None:
        self.settings = settings
        self.readiness = readiness
        self._runner: web.AppRunner | None = None
        self.port = settings.port

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/livez", self._livez)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> OpsServer:
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        if runner.addresses:  # the bound socket tells the real port when 0 was asked for
            self.port = int(runner.addresses[0][1])
        where = {"host": self.settings.host, "port": self.port}
        log.info("health and metrics endpoint", extra=where)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _healthz(self, _request: web.Request) -> web.Response:
        ready, results = await self.readiness.check()
        body = {
            "status": "ok" if ready else "unavailable",
            "checks": {r.name: {"ok": r.ok, "detail": r.detail} for r in results},
        }
        return web.Response(
            text=json.dumps(body, indent=2) + "\n",
            status=200 if ready else 503,
            content_type="application/json",
        )

    async def _livez(self, _request: web.Request) -> web.Response:
        return web.Response(text="alive\n")

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
