"""The loopback Discord stand-in (tests/discord/standin.py) as a network service: TEST ONLY.

``deploy/compose.test.yaml`` runs it as the ``discord`` service, so the real coach container
(``discord.api_base`` / ``discord.gateway_url`` pointed here) logs in over REST, connects to
the gateway and answers interactions, exactly as it would with Discord. The stack test
drives it from the host through a small control API:

* ``GET  /_control/status`` — has the bot identified on the gateway? commands registered?
* ``POST /_control/dispatch`` ``{"event": "INTERACTION_CREATE", "data": {...}}`` — send a
  gateway event to every connected bot;
* ``GET  /_control/answers?interaction=ID&token=T&count=N&within=S`` — wait for the first N
  REST requests that answered that interaction and return them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from typing import Any

import yarl
from aiohttp import web

from tests.discord.standin import API, Recorded, Standin


class ServedStandin(Standin):
    """The stand-in on a fixed port of every interface, known to clients as ``public_host``."""

    def __init__(self, public_host: str, port: int) -> None:
        super().__init__()
        self.public_host = public_host
        self.port = port

    @property
    def base(self) -> str:
        return f"http://{self.public_host}:{self.port}{API}"

    @property
    def gateway(self) -> yarl.URL:
        return yarl.URL(f"ws://{self.public_host}:{self.port}/gateway")

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        app.router.add_get("/_control/status", self._status)
        app.router.add_post("/_control/dispatch", self._dispatch)
        app.router.add_get("/_control/answers", self._answers)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "0.0.0.0", self.port).start()

    async def _status(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "identified": self.identified.is_set(),
                "connected": len(self.sockets),
                "heartbeats": self.heartbeats,
                "commands": {path: len(found) for path, found in self.commands.items()},
                "requests": len(self.requests),
            }
        )

    async def _dispatch(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not self.sockets:
            return web.json_response({"error": "no bot is connected"}, status=409)
        await self.dispatch(str(body["event"]), body["data"])
        return web.json_response({"dispatched": len(self.sockets)})

    async def _answers(self, request: web.Request) -> web.Response:
        interaction = request.query["interaction"]
        token = request.query["token"]
        count = int(request.query.get("count", "1"))
        within = float(request.query.get("within", "60"))

        def belongs(r: Recorded) -> bool:
            return f"/interactions/{interaction}/" in r.path or f"/{token}" in r.path

        try:
            found = await self.wait_for(belongs, count, within)
        except TimeoutError:
            found = [r for r in self.requests if belongs(r)]
            return web.json_response({"error": "timed out", "answers": _dump(found)}, status=504)
        return web.json_response({"answers": _dump(found[:count])})


def _dump(found: list[Recorded]) -> list[dict[str, Any]]:
    return [
        {"method": r.method, "path": r.path, "body": r.body, "files": [n for n, _ in r.files]}
        for r in found
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--public-host", default="discord", help="the name clients use")
    args = parser.parse_args()
    server = ServedStandin(args.public_host, args.port)
    await server.start()
    print(json.dumps({"standin": server.base, "gateway": str(server.gateway)}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
