"""A loopback stand-in for Discord: the gateway (websocket) and the REST API (aiohttp).

An unmodified ``discord.Client`` connects to it when ``discord.http.Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY`` point here (:meth:`Standin.pointed_at`). It records
every REST request (JSON bodies and multipart files) so tests can assert on interaction
callbacks and follow-ups, and it can dispatch gateway events such as INTERACTION_CREATE.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import discord
import yarl
from aiohttp import WSMsgType, web
from discord.gateway import DiscordWebSocket

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
GUILD_ID = 700000000000000001
CHANNEL_ID = 700000000000000002
OTHER_CHANNEL_ID = 700000000000000003
API = "/api/v10"
_ids = itertools.count(1_000_000_000_000_000_000)


def snowflake() -> str:
    return str(next(_ids))


def user_payload(user_id: int | str, name: str, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


BOT_USER = user_payload(BOT_ID, "docker-coach", bot=True)


def message_payload(
    content: str = "",
    *,
    embeds: list[Any] | None = None,
    components: list[Any] | None = None,
    flags: int = 0,
    author: dict[str, Any] | None = None,
    message_id: str | None = None,
    interaction_user: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": message_id or snowflake(),
        "channel_id": str(CHANNEL_ID),
        "guild_id": str(GUILD_ID),
        "author": author or BOT_USER,
        "content": content or "",
        "timestamp": "2026-01-01T09:00:00.000000+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": embeds or [],
        "components": components or [],
        "pinned": False,
        "type": 0 if interaction_user is None else 20,
        "flags": flags,
        "application_id": str(APP_ID),
    }


def _json(data: Any, status: int = 200) -> web.Response:
    """A JSON answer with Discord's exact content type (discord.py compares it exactly)."""
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    files: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def flags(self) -> int:
        body = self.body or {}
        data = body.get("data", body) or {}
        return int(data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    @property
    def message(self) -> dict[str, Any]:
        """The message part of a body: a callback's ``data``, or a webhook's whole body."""
        body = self.body or {}
        return (body.get("data") or {}) if "type" in body else body


class Standin:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.identified = asyncio.Event()
        self.heartbeats = 0
        self.identify: dict[str, Any] = {}
        self._changed = asyncio.Condition()
        self._sequence = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.commands: dict[str, list[Any]] = {}
        self.files: dict[str, bytes] = {}  # served under {base}/files/<name>

    # server life ------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for socket in list(self.sockets):
            with contextlib.suppress(Exception):
                await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway(self) -> yarl.URL:
        return yarl.URL(f"ws://127.0.0.1:{self.port}/gateway")

    @contextlib.asynccontextmanager
    async def pointed_at(self) -> AsyncIterator[Standin]:
        """Point discord.py's REST base and default gateway here; restore them after."""
        saved_base, saved_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.base
        DiscordWebSocket.DEFAULT_GATEWAY = self.gateway
        try:
            yield self
        finally:
            discord.http.Route.BASE = saved_base
            DiscordWebSocket.DEFAULT_GATEWAY = saved_gateway

    # waiting ------------------------------------------------------------------------------
    async def wait_for(
        self, predicate: Callable[[Recorded], bool], count: int = 1, within: float = 15.0
    ) -> list[Recorded]:
        async def matching() -> list[Recorded]:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: len([r for r in self.requests if predicate(r)]) >= count
                )
                return [r for r in self.requests if predicate(r)]

        return await asyncio.wait_for(matching(), within)

    def to_interaction(self, interaction_id: str, token: str) -> list[Recorded]:
        """Every request that answered one interaction: its callback and its webhook calls."""
        return [
            r
            for r in self.requests
            if f"/interactions/{interaction_id}/" in r.path or f"/{token}" in r.path
        ]

    async def _record(self, entry: Recorded) -> None:
        async with self._changed:
            self.requests.append(entry)
            self._changed.notify_all()

    # REST ---------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.StreamResponse:
        tail = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        await self._record(Recorded(request.method, tail, dict(request.query), body, files))
        parts = tail.strip("/").split("/")
        method = request.method
        if tail in ("/gateway", "/gateway/bot"):
            return _json({"url": str(self.gateway), "shards": 1, "session_start_limit": {}})
        if parts[0] == "files":  # attachment downloads (the CDN)
            return web.Response(body=self.files.get(parts[-1], b""))
        if tail == "/users/@me":
            return _json(BOT_USER)
        if tail == "/oauth2/applications/@me":
            return _json(self._application())
        if parts[0] == "applications" and parts[-1] == "commands":
            return self._commands(method, tail, body)
        if parts[0] == "interactions" and parts[-1] == "callback":
            return self._callback(parts[1], body or {})
        if parts[0] == "webhooks":
            return self._webhook(method, parts, body or {})
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[dict[str, Any] | None, list[Any]]:
        if not request.can_read_body:
            return None, []
        if request.content_type.startswith("multipart/"):
            body: dict[str, Any] | None = None
            files: list[tuple[str, bytes]] = []
            reader = await request.multipart()
            async for part in reader:
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":  # type: ignore[union-attr]
                    body = json.loads(data)
                else:
                    files.append((part.filename or "", bytes(data)))  # type: ignore[union-attr]
            return body, files
        text = await request.text()
        return (json.loads(text) if text else None), []

    @staticmethod
    def _application() -> dict[str, Any]:
        return {
            "id": str(APP_ID),
            "name": "Docker Coach",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user_payload(1, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
        }

    def _commands(self, method: str, path: str, body: Any) -> web.Response:
        if method == "PUT":
            stored = [
                {**command, "id": snowflake(), "application_id": str(APP_ID), "version": "1"}
                for command in body or []
            ]
            self.commands[path] = stored
            return _json(stored)
        return _json(self.commands.get(path, []))

    def _callback(self, interaction_id: str, body: dict[str, Any]) -> web.Response:
        kind = body.get("type")
        data = body.get("data") or {}
        flags = int(data.get("flags") or 0)
        answer: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            }
        }
        if kind in (4, 5, 7):
            message = message_payload(
                data.get("content", ""),
                embeds=data.get("embeds"),
                components=data.get("components"),
                flags=flags,
            )
            answer["interaction"]["response_message_id"] = message["id"]
            answer["resource"] = {"type": kind, "message": message}
        return _json(answer)

    def _webhook(self, method: str, parts: list[str], body: dict[str, Any]) -> web.Response:
        message = message_payload(
            body.get("content", ""),
            embeds=body.get("embeds"),
            components=body.get("components"),
            flags=int(body.get("flags") or 0),
        )
        if method == "DELETE":
            return web.Response(status=204)
        return _json(message)

    # gateway ------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            op = payload.get("op")
            if op == 1:
                self.heartbeats += 1
                await socket.send_json({"op": 11})
            elif op == 2:
                self.identify = payload["d"]
                await socket.send_json(self._ready())
                self.identified.set()
        self.sockets.remove(socket)
        return socket

    def _ready(self) -> dict[str, Any]:
        return {
            "op": 0,
            "t": "READY",
            "s": next(self._sequence),
            "d": {
                "v": 10,
                "user": BOT_USER,
                "guilds": [],
                "session_id": "standin-session",
                "resume_gateway_url": str(self.gateway),
                "application": {"id": str(APP_ID), "flags": 0},
                "private_channels": [],
                "relationships": [],
            },
        }

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        for socket in self.sockets:
            await socket.send_json({"op": 0, "t": event, "s": next(self._sequence), "d": data})


# interaction payloads -----------------------------------------------------------------------
def member_payload(user_id: int | str, name: str, permissions: int = 0) -> dict[str, Any]:
    return {
        "user": user_payload(user_id, name),
        "roles": [],
        "joined_at": "2025-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "permissions": str(permissions),
    }


def interaction_payload(
    kind: int,
    data: dict[str, Any],
    *,
    user_id: int = 111,
    name: str = "alice",
    locale: str = "en-US",
    permissions: int = 0,
    channel_id: int = CHANNEL_ID,
    message: dict[str, Any] | None = None,
    guild: bool = True,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": snowflake(),
        "application_id": str(APP_ID),
        "type": kind,
        "token": "token-" + snowflake(),
        "version": 1,
        "channel_id": str(channel_id),
        "channel": {
            "id": str(channel_id),
            "type": 0,
            "name": "study",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "guild_id": str(GUILD_ID),
        },
        "locale": locale,
        "app_permissions": str(discord.Permissions.all().value),
        "attachment_size_limit": 10 * 1024 * 1024,
        "entitlements": [],
        "authorizing_integration_owners": {},
        "data": data,
    }
    if guild:
        payload["guild_id"] = str(GUILD_ID)
        payload["guild_locale"] = "en-US"
        payload["member"] = member_payload(user_id, name, permissions)
        payload["context"] = 0
    else:
        payload["user"] = user_payload(user_id, name)
        payload["context"] = 1
        payload["channel"] = {"id": str(channel_id), "type": 1, "recipients": []}
    if message is not None:
        payload["message"] = message
    return payload


def command_data(
    path: tuple[str, ...],
    options: dict[str, Any] | None = None,
    *,
    types: dict[str, int] | None = None,
    focused: str | None = None,
    resolved: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``data`` of an APPLICATION_COMMAND (or autocomplete) interaction for ``path``."""
    types = types or {}
    leaf = []
    for key, value in (options or {}).items():
        option_type = types.get(key) or (
            5 if isinstance(value, bool) else 4 if isinstance(value, int) else 3
        )
        entry: dict[str, Any] = {"name": key, "type": option_type, "value": value}
        if key == focused:
            entry["focused"] = True
        leaf.append(entry)
    nested: list[Any] = leaf
    for depth in range(len(path) - 1, 0, -1):
        kind = 1 if depth == len(path) - 1 else 2
        nested = [{"name": path[depth], "type": kind, "options": nested}]
    data: dict[str, Any] = {"id": snowflake(), "name": path[0], "type": 1, "options": nested}
    if resolved:
        data["resolved"] = resolved
    return data


def component_message(custom_ids: list[str], flags: int = 64) -> dict[str, Any]:
    """A message of ours that carries buttons with ``custom_ids`` (as Discord sends it back)."""
    rows = [
        {
            "type": 1,
            "components": [
                {"type": 2, "style": 2, "label": cid[:80], "custom_id": cid}
                for cid in custom_ids[i : i + 5]
            ],
        }
        for i in range(0, len(custom_ids), 5)
    ]
    return message_payload("", components=rows, flags=flags)


def custom_ids(recorded: Recorded) -> list[str]:
    return [
        component["custom_id"]
        for row in recorded.message.get("components") or []
        for component in row.get("components", [])
        if "custom_id" in component
    ]
