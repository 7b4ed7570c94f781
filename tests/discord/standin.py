"""A loopback stand-in for Discord: the gateway (websocket) and the REST API (aiohttp).

An unmodified ``discord.Client`` connects to it when ``discord.http.Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY`` point here (:meth:`Standin.pointed_at`). It records
every REST request (JSON bodies and multipart files), keeps the messages they create and edit,
and dispatches gateway events such as INTERACTION_CREATE.

It behaves like Discord where a bot can get it wrong:

* **Interactions** are answered once (a second callback is ``400``, code 40060), within 3 s
  (later: ``404`` Unknown interaction, 10062), and their token works for 15 minutes (later:
  ``401`` Invalid Webhook Token, 50027). After a "thinking" deferral (type 5) the **first
  follow-up takes the deferral's place and its visibility**, whatever flags it asks for; a
  deferred update (type 6) and an update (type 7) address the message the component was on.
* **Channels, threads and permissions**: the guild's channels (a text channel, a second one,
  a voice channel) and a thread; ``GET /channels/{id}``; ``POST /channels/{id}/threads``
  opens a thread only in a text or announcement channel (else ``400``, 50024), with a name
  of 1–100 characters, when the bot's permissions there — computed as Discord does, from
  the roles and the channel's overwrites (:meth:`Standin.deny`) — include Create Public
  Threads (else ``403``, 50013); the parent gets a "started a thread" system message
  (type 18) and the gateway a THREAD_CREATE. Posting in a channel of the guild needs Send
  Messages there, in a thread Send Messages in Threads (of its parent), else ``403``. An
  archived thread (:meth:`Standin.archive`, as after a day without messages) refuses edits
  of its messages (``400``, 50083) until it is unarchived (``PATCH /channels/{id}``
  ``archived: false``, Send Messages is enough unless it is locked); a new message in it
  unarchives it, unless it is locked.
* **Form rules** (:mod:`tests.discord.forms`): a message, autocomplete result or modal that
  breaks Discord's limits (100-character choice values, 45-character modal titles, five
  buttons a row, 2000 characters of content…) is refused with ``400`` (50035; an empty new
  message 50006) and kept in :attr:`Standin.refused_forms` (the tests' fixture fails on any).
* **Rate limits**: :meth:`Standin.rate_limit` makes chosen requests answer ``429`` with a
  ``retry_after`` (per route or global), as Discord does (with its ``Via`` header).
* **Gateway**: sessions with sequence numbers; :meth:`Standin.reconnect` sends RECONNECT (the
  client comes back with RESUME and gets what it missed, then RESUMED);
  :meth:`Standin.invalidate_session` sends INVALID_SESSION (resumable or not); READY lists
  the guilds as unavailable and a GUILD_CREATE with the guild's real data follows.

Time is the stand-in's :class:`StandinClock`: real time by default (as a service), frozen in
tests so that only the test moves it (``standin.clock.advance(15 * 60)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import discord
import yarl
from aiohttp import WSMsgType, web
from discord.gateway import DiscordWebSocket

from tests.discord import forms

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
GUILD_ID = 700000000000000001
CHANNEL_ID = 700000000000000002
OTHER_CHANNEL_ID = 700000000000000003
THREAD_ID = 700000000000000004
DM_CHANNEL_ID = 700000000000000005
VOICE_CHANNEL_ID = 700000000000000006
THREAD_TYPES = frozenset({10, 11, 12})  # announcement, public and private threads
TEXT_TYPES = frozenset({0, 5})  # channels that can have threads: text, announcement
ARCHIVE_MINUTES = frozenset({60, 1440, 4320, 10080})
OWNER_ID = 100
API = "/api/v10"
EPHEMERAL = 64
# The callback types Discord takes for each interaction type: a command can be answered,
# deferred or given a form; a component can also update its message; autocomplete only gets
# choices; a submitted form cannot open another form (nor update a message it was not on).
CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}
MODAL_SUBMIT_CALLBACKS = {4, 5}
ACK_SECONDS = 3.0
TOKEN_SECONDS = 15 * 60.0
_ids = itertools.count(1_000_000_000_000_000_000)


def snowflake() -> str:
    return str(next(_ids))


class StandinClock:
    """Seconds as the stand-in sees them: real time plus what a test added; or, frozen, only
    what a test added (so that a slow machine never makes an interaction late)."""

    def __init__(self, frozen: bool = False) -> None:
        self.frozen = frozen
        self._offset = 0.0

    def now(self) -> float:
        return self._offset + (0.0 if self.frozen else time.monotonic())

    def advance(self, seconds: float) -> float:
        self._offset += seconds
        return self.now()


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
    channel_id: int | str = CHANNEL_ID,
    guild_id: int | str | None = GUILD_ID,
    attachments: list[Any] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": message_id or snowflake(),
        "channel_id": str(channel_id),
        "author": author or BOT_USER,
        "content": content or "",
        "timestamp": "2026-01-01T09:00:00.000000+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": embeds or [],
        "components": components or [],
        "pinned": False,
        "type": 0 if interaction_user is None else 20,
        "flags": flags,
        "application_id": str(APP_ID),
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    return payload


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer with Discord's exact content type (discord.py compares it exactly)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _error(status: int, message: str, code: int) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


@dataclass
class Recorded:
    """One REST request as it arrived, and what the stand-in answered."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    files: list[tuple[str, bytes]] = field(default_factory=list)
    status: int = 200
    message_id: str | None = None  # the message the request created or edited

    @property
    def flags(self) -> int:
        body = self.body or {}
        data = body.get("data", body) or {}
        return int(data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        """Whether the request *asked* for an ephemeral message (see :class:`Message` for
        what Discord actually showed)."""
        return bool(self.flags & EPHEMERAL)

    @property
    def message(self) -> dict[str, Any]:
        """The message part of a body: a callback's ``data``, or a webhook's whole body."""
        body = self.body or {}
        return (body.get("data") or {}) if "type" in body else body

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Message:
    """A message as members see it, after every edit."""

    id: str
    channel_id: str
    flags: int
    content: str = ""
    embeds: list[Any] = field(default_factory=list)
    components: list[Any] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    edits: int = 0
    deleted: bool = False
    loading: bool = False  # a "thinking…" message that a follow-up has not replaced yet
    interaction_id: str | None = None
    type: int = 0  # 18: "started a thread" (a system message in the parent)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def public(self) -> bool:
        return not self.ephemeral

    def apply(self, body: dict[str, Any], files: list[tuple[str, bytes]]) -> None:
        """Edit: what the body names changes; what it leaves out stays (as on Discord)."""
        for key in ("content", "embeds", "components"):
            if key in body and body[key] is not None:
                setattr(self, key, body[key])
        if "attachments" in body or files:
            self.attachments = [name for name, _data in files]

    def payload(self, guild_id: int | None = GUILD_ID) -> dict[str, Any]:
        """The message as Discord sends it back in a component interaction."""
        return message_payload(
            self.content,
            embeds=self.embeds,
            components=self.components,
            flags=self.flags,
            message_id=self.id,
            channel_id=self.channel_id,
            guild_id=guild_id,
        )

    def custom_ids(self) -> list[str]:
        return [
            component["custom_id"]
            for row in self.components
            for component in row.get("components", [])
            if "custom_id" in component
        ]

    def buttons(self) -> list[dict[str, Any]]:
        return [c for row in self.components for c in row.get("components", [])]


@dataclass
class InteractionState:
    """What the stand-in knows of one interaction: when it was created, how it was answered."""

    id: str
    token: str
    created: float
    channel_id: str
    message_id: str | None = None  # the message a component or form was on
    callback: int | None = None  # the type of the first (only) callback
    original: str | None = None  # the message the response created or addresses
    deferred_flags: int = 0
    followups: list[str] = field(default_factory=list)
    kind: int = 0  # 2 command, 3 component, 4 autocomplete, 5 modal submit (0: unknown)


@dataclass
class RateLimit:
    """Answer the next ``times`` requests matching ``method``/``pattern`` with a 429."""

    pattern: re.Pattern[str]
    method: str | None
    times: int
    retry_after: float
    is_global: bool

    def matches(self, method: str, path: str) -> bool:
        if self.times <= 0:
            return False
        return (self.method is None or self.method == method) and bool(self.pattern.search(path))


@dataclass
class Session:
    """A gateway session: its sequence, the events sent, the socket it is on (if any)."""

    id: str
    sequence: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    socket: web.WebSocketResponse | None = None
    valid: bool = True


class Standin:
    """``deadlines=False`` stops enforcing Discord's 3 s and 15 min (for a service whose
    clients are too slow to be fair to)."""

    def __init__(self, clock: StandinClock | None = None, deadlines: bool = True) -> None:
        self.clock = clock or StandinClock()
        self.deadlines = deadlines
        self.requests: list[Recorded] = []
        self.messages: dict[str, Message] = {}
        self.interactions: dict[str, InteractionState] = {}
        self._tokens: dict[str, str] = {}
        self.sockets: list[web.WebSocketResponse] = []
        self.sessions: dict[str, Session] = {}
        self.identified = asyncio.Event()
        self.identifies = 0
        self.resumes = 0
        self.heartbeats = 0
        self.identify: dict[str, Any] = {}
        self.limits: list[RateLimit] = []
        self.guilds: list[dict[str, Any]] = [guild_payload()]
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.commands: dict[str, list[Any]] = {}
        self.files: dict[str, bytes] = {}  # served under {base}/files/<name>
        self._events: list[tuple[str, dict[str, Any]]] = []  # sent once a request is answered
        self.gone: set[str] = set()  # channels and threads someone deleted
        self.refused_forms: list[tuple[str, str, list[str]]] = []  # (method, path, problems)
        self.granted: list[tuple[str, str, str]] = []  # (guild, member, role) given by the bot

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

    # what tests set up ------------------------------------------------------------------
    def rate_limit(
        self,
        pattern: str,
        *,
        method: str | None = None,
        times: int = 1,
        retry_after: float = 0.05,
        is_global: bool = False,
    ) -> RateLimit:
        """Answer the next ``times`` requests whose path matches ``pattern`` with a 429."""
        rule = RateLimit(re.compile(pattern), method, times, retry_after, is_global)
        self.limits.append(rule)
        return rule

    def deny(self, channel_id: int | str, *permissions: str) -> None:
        """A manager takes ``permissions`` (discord.py names) from @everyone in a channel (an
        overwrite, as Discord's channel settings make)."""
        _guild, channel = self.channel(channel_id)
        bits = discord.Permissions(**dict.fromkeys(permissions, True)).value
        overwrites = channel.setdefault("permission_overwrites", [])
        everyone = next((o for o in overwrites if o["id"] == _guild["id"]), None)
        if everyone is None:
            everyone = {"id": _guild["id"], "type": 0, "allow": "0", "deny": "0"}
            overwrites.append(everyone)
        everyone["deny"] = str(int(everyone["deny"]) | bits)
        everyone["allow"] = str(int(everyone["allow"]) & ~bits)

    def add_role(self, name: str, *, position: int, bot: bool = False, **permissions: bool) -> str:
        """A role of the guild (``permissions``: discord.py names) at ``position``; ``bot``:
        the bot has it. Its id."""
        guild = self.guilds[0]
        role_id = snowflake()
        guild["roles"].append(
            {
                "id": role_id,
                "name": name,
                "permissions": str(discord.Permissions(**permissions).value),
                "position": position,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        )
        if bot:
            member = next(m for m in guild["members"] if m["user"]["id"] == str(BOT_ID))
            member["roles"].append(role_id)
        return role_id

    def archive(self, thread_id: int | str, *, locked: bool = False) -> None:
        """Discord archives a thread after its auto-archive time without messages."""
        _guild, thread = self.channel(thread_id)
        thread["thread_metadata"]["archived"] = True
        thread["thread_metadata"]["locked"] = locked

    def delete_channel(self, channel_id: int | str) -> None:
        """A moderator deletes a channel or thread: anything addressed to it is 404 (10003)."""
        guild, channel = self.channel(channel_id)
        for kind in ("channels", "threads"):
            guild[kind] = [c for c in guild.get(kind, []) if c is not channel]
        self.gone.add(str(channel_id))

    def archived(self, channel_id: int | str) -> bool:
        try:
            _guild, channel = self.channel(channel_id)
        except KeyError:
            return False
        return bool((channel.get("thread_metadata") or {}).get("archived"))

    def channel(self, channel_id: int | str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The guild and the channel (or thread) with that id; KeyError if none has it."""
        for guild in self.guilds:
            for channel in (*guild["channels"], *guild.get("threads", [])):
                if channel["id"] == str(channel_id):
                    return guild, channel
        raise KeyError(channel_id)

    def threads(self, parent_id: int | str = CHANNEL_ID) -> list[dict[str, Any]]:
        return [
            thread
            for guild in self.guilds
            for thread in guild.get("threads", [])
            if thread.get("parent_id") == str(parent_id)
        ]

    def permissions(
        self, channel_id: int | str, user_id: int | str = BOT_ID
    ) -> discord.Permissions:
        """A member's permissions in a channel, as Discord computes them: @everyone and their
        roles, then the channel's overwrites (@everyone, their roles, them); a thread has its
        parent's."""
        guild, channel = self.channel(channel_id)
        if channel.get("type") in THREAD_TYPES:
            guild, channel = self.channel(channel["parent_id"])
        member = next(m for m in guild["members"] if m["user"]["id"] == str(user_id))
        roles = {role["id"]: role for role in guild["roles"]}
        value = int(roles[guild["id"]]["permissions"])
        for role_id in member["roles"]:
            value |= int(roles[role_id]["permissions"])
        if str(user_id) == guild["owner_id"] or discord.Permissions(value).administrator:
            return discord.Permissions.all()
        overwrites = channel.get("permission_overwrites") or []
        layers = (
            [o for o in overwrites if o["id"] == guild["id"]],
            [o for o in overwrites if o["type"] == 0 and o["id"] in member["roles"]],
            [o for o in overwrites if o["type"] == 1 and o["id"] == str(user_id)],
        )
        for layer in layers:
            deny = allow = 0
            for overwrite in layer:
                deny |= int(overwrite["deny"])
                allow |= int(overwrite["allow"])
            value = (value & ~deny) | allow
        allowed = discord.Permissions(value)
        return allowed if allowed.view_channel else discord.Permissions.none()

    def register(self, payload: dict[str, Any]) -> InteractionState:
        """Remember an interaction about to be delivered (its time, channel and message)."""
        state = InteractionState(
            id=str(payload["id"]),
            token=str(payload["token"]),
            created=self.clock.now(),
            channel_id=str(payload.get("channel_id") or CHANNEL_ID),
            message_id=(payload.get("message") or {}).get("id"),
            kind=int(payload.get("type") or 0),
        )
        self.interactions[state.id] = state
        self._tokens[state.token] = state.id
        shown = payload.get("message")
        if shown and shown["id"] not in self.messages:  # a message made outside the stand-in
            self.messages[shown["id"]] = Message(
                id=shown["id"],
                channel_id=state.channel_id,
                flags=int(shown.get("flags") or 0),
                content=shown.get("content") or "",
                embeds=list(shown.get("embeds") or []),
                components=list(shown.get("components") or []),
            )
        return state

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

    async def wait_until(self, condition: Callable[[], bool], within: float = 15.0) -> None:
        """Wait until ``condition()`` holds (checked whenever a request or gateway event
        changes the stand-in's state)."""

        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(condition)

        await asyncio.wait_for(until(), within)

    def to_interaction(self, interaction_id: str, token: str) -> list[Recorded]:
        """Every request that answered one interaction: its callback and its webhook calls."""
        return [
            r
            for r in self.requests
            if f"/interactions/{interaction_id}/" in r.path or f"/{token}" in r.path
        ]

    def answered(self, interaction_id: str, token: str) -> list[Recorded]:
        """The requests that answered one interaction and were accepted (no 429s)."""
        return [r for r in self.to_interaction(interaction_id, token) if r.ok]

    def channel_messages(self, channel_id: int | str = CHANNEL_ID) -> list[Message]:
        return [m for m in self.messages.values() if m.channel_id == str(channel_id)]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # REST ---------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.StreamResponse:
        tail = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        entry = Recorded(request.method, tail, dict(request.query), body, files)
        response = self._limited(request.method, tail) or self._route(entry)
        entry.status = response.status
        events, self._events = self._events, []
        for event, data in events:
            await self.dispatch(event, data)
        async with self._changed:
            self.requests.append(entry)
            self._changed.notify_all()
        return response

    def _limited(self, method: str, path: str) -> web.Response | None:
        rule = next((r for r in self.limits if r.matches(method, path)), None)
        if rule is None:
            return None
        rule.times -= 1
        scope = "global" if rule.is_global else "user"
        headers = {
            "Via": "1.1 google",  # Discord's own 429s carry it; Cloudflare's do not
            "Retry-After": str(max(1, round(rule.retry_after))),
            "X-RateLimit-Scope": scope,
        }
        if rule.is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(
                {
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset-After": f"{rule.retry_after:.3f}",
                    "X-RateLimit-Bucket": "standin-" + re.sub(r"\W", "", rule.pattern.pattern),
                }
            )
        data = {
            "message": "You are being rate limited.",
            "retry_after": rule.retry_after,
            "global": rule.is_global,
        }
        return _json(data, status=429, headers=headers)

    def _route(self, entry: Recorded) -> web.Response:
        tail, method, body = entry.path, entry.method, entry.body
        parts = tail.strip("/").split("/")
        if tail in ("/gateway", "/gateway/bot"):
            return _json({"url": str(self.gateway), "shards": 1, "session_start_limit": {}})
        if parts[0] == "files":  # attachment downloads (the CDN)
            return web.Response(body=self.files.get(parts[-1], b""))
        if tail == "/users/@me":
            return _json(BOT_USER)
        if tail == "/users/@me/channels" and method == "POST":
            recipient = str((body or {}).get("recipient_id", ""))
            return _json(dm_channel_payload(recipient))
        if tail == "/oauth2/applications/@me":
            return _json(self._application())
        if parts[0] == "applications" and parts[-1] == "commands":
            return self._commands(method, tail, body)
        if parts[0] == "interactions" and parts[-1] == "callback":
            return self._callback(entry, parts[1], parts[2], body or {})
        if parts[0] == "webhooks":
            return self._webhook(entry, method, parts, body or {})
        if parts[0] == "guilds" and len(parts) == 6 and parts[2:5:2] == ["members", "roles"]:
            return self._give_role(method, parts[1], parts[3], parts[5])
        if parts[0] == "channels" and len(parts) >= 2 and parts[1] in self.gone:
            return _error(404, "Unknown Channel", 10003)
        if parts[0] == "channels" and len(parts) == 2 and method == "GET":
            return self._get_channel(parts[1])
        if parts[0] == "channels" and len(parts) == 2 and method == "PATCH":
            return self._edit_thread(parts[1], body or {})
        if parts[0] == "channels" and len(parts) == 3 and parts[2] == "threads":
            return self._start_thread(entry, method, parts[1], body or {})
        if parts[0] == "channels" and len(parts) >= 3 and parts[2] == "messages":
            return self._channel_message(entry, method, parts, body or {})
        return _error(404, "404: Not Found", 0)

    def _give_role(self, method: str, guild_id: str, user_id: str, role_id: str) -> web.Response:
        """``PUT /guilds/{g}/members/{u}/roles/{r}``: needs Manage Roles (from the bot's roles)
        and a role below the bot's highest one, as on Discord (else ``403``, 50013)."""
        guild = next((g for g in self.guilds if g["id"] == guild_id), None)
        if guild is None or method != "PUT":
            return _error(404, "404: Not Found", 0)
        roles = {role["id"]: role for role in guild["roles"]}
        if role_id not in roles:
            return _error(404, "Unknown Role", 10011)
        me = next(m for m in guild["members"] if m["user"]["id"] == str(BOT_ID))
        value = int(roles[guild["id"]]["permissions"])
        for own in me["roles"]:
            value |= int(roles[own]["permissions"])
        allowed = discord.Permissions(value)
        highest = max((int(roles[own]["position"]) for own in me["roles"]), default=0)
        if not (allowed.manage_roles or allowed.administrator):
            return _error(403, "Missing Permissions", 50013)
        if int(roles[role_id]["position"]) >= highest:
            return _error(403, "Missing Permissions", 50013)
        self.granted.append((guild_id, user_id, role_id))
        return web.Response(status=204)

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
            "owner": user_payload(OWNER_ID, "owner"),
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

    # interactions -------------------------------------------------------------------------
    def _interaction(self, interaction_id: str, token: str) -> InteractionState:
        state = self.interactions.get(interaction_id)
        if state is None:  # delivered without register(): it was created just now
            state = InteractionState(interaction_id, token, self.clock.now(), str(CHANNEL_ID))
            self.interactions[interaction_id] = state
            self._tokens[token] = interaction_id
        return state

    def _by_token(self, token: str) -> InteractionState:
        interaction_id = self._tokens.get(token)
        if interaction_id is None:
            return self._interaction("unknown-" + token, token)
        return self.interactions[interaction_id]

    def _new_message(
        self,
        body: dict[str, Any],
        files: list[tuple[str, bytes]],
        *,
        channel_id: str,
        flags: int,
        interaction_id: str | None = None,
        loading: bool = False,
    ) -> Message:
        message = Message(
            id=snowflake(),
            channel_id=channel_id,
            flags=flags,
            loading=loading,
            interaction_id=interaction_id,
        )
        message.apply(body, files)
        self.messages[message.id] = message
        return message

    def _callback(
        self, entry: Recorded, interaction_id: str, token: str, body: dict[str, Any]
    ) -> web.Response:
        state = self._interaction(interaction_id, token)
        if state.callback is not None:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        if self.deadlines and self.clock.now() - state.created > ACK_SECONDS:
            return _error(404, "Unknown interaction", 10062)
        kind = int(body.get("type") or 0)
        data = body.get("data") or {}
        flags = int(data.get("flags") or 0)
        refused = self._check_callback(entry, state, kind, data)
        if refused is not None:
            return refused  # not acknowledged: the bot may still answer
        state.callback = kind
        message: Message | None = None
        if kind == 4:  # CHANNEL_MESSAGE_WITH_SOURCE
            message = self._new_message(
                data, entry.files, channel_id=state.channel_id, flags=flags, interaction_id=state.id
            )
        elif kind == 5:  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "thinking…"
            state.deferred_flags = flags & EPHEMERAL
            message = self._new_message(
                {},
                [],
                channel_id=state.channel_id,
                flags=state.deferred_flags,
                interaction_id=state.id,
                loading=True,
            )
        elif kind in (6, 7):  # (DEFERRED_)UPDATE_MESSAGE: the component's message
            message = self.messages.get(state.message_id or "")
            if message is None and state.message_id is not None:
                message = Message(state.message_id, state.channel_id, 0)
                self.messages[message.id] = message
            if message is not None and kind == 7:
                message.apply(data, entry.files)
                message.edits += 1
        if message is not None:
            state.original = message.id
            entry.message_id = message.id
        answer: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool((message.flags if message else flags) & 64),
            }
        }
        if message is not None and kind in (4, 5, 7):
            answer["interaction"]["response_message_id"] = message.id
            answer["resource"] = {"type": kind, "message": message.payload()}
        return _json(answer)

    def _webhook(
        self, entry: Recorded, method: str, parts: list[str], body: dict[str, Any]
    ) -> web.Response:
        if len(parts) < 3:
            return _error(404, "Unknown Webhook", 10015)
        state = self._by_token(parts[2])
        if self.deadlines and self.clock.now() - state.created > TOKEN_SECONDS:
            return _error(401, "Invalid Webhook Token", 50027)
        if state.callback is None:
            return _error(404, "Unknown Webhook", 10015)  # nothing to follow up yet
        if len(parts) == 3 and method == "POST":
            return self._check_message(entry, body) or self._follow_up(entry, state, body)
        if len(parts) == 5 and parts[3] == "messages":
            target = state.original if parts[4] == "@original" else parts[4]
            message = self.messages.get(target or "")
            if message is None or message.deleted:
                return _error(404, "Unknown Message", 10008)
            entry.message_id = message.id
            if method == "DELETE":
                message.deleted = True
                return web.Response(status=204)
            if method == "PATCH":
                refused = self._check_message(entry, body, creating=message.loading)
                if refused is not None:
                    return refused
                message.apply(body, entry.files)
                message.edits += 1
                message.loading = False
            return _json(message.payload())
        return _error(405, "405: Method Not Allowed", 0)

    def _check_callback(
        self, entry: Recorded, state: InteractionState, kind: int, data: dict[str, Any]
    ) -> web.Response | None:
        """Discord's rules for a callback: its type must suit the interaction's, its ``data``
        the form rules (None: it is taken)."""
        allowed = CALLBACKS.get(state.kind)
        if state.kind == 5 and state.message_id is None:
            allowed = MODAL_SUBMIT_CALLBACKS  # a form opened by a command: no message to update
        if allowed is not None and kind not in allowed:
            return self._refuse(entry, 50035, [f"callback {kind} to an interaction {state.kind}"])
        if kind in (4, 7):  # a new message, or the component's message edited
            return self._check_message(entry, data, creating=kind == 4)
        if kind == 8:  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
            return self._refuse(entry, 50035, forms.autocomplete_problems(data))
        if kind == 9:  # MODAL
            return self._refuse(entry, 50035, forms.modal_problems(data))
        return None

    def _check_message(
        self, entry: Recorded, body: dict[str, Any], *, creating: bool = True
    ) -> web.Response | None:
        code, problems = forms.message_problems(body, len(entry.files), creating=creating)
        return self._refuse(entry, code, problems)

    def _refuse(self, entry: Recorded, code: int, problems: list[str]) -> web.Response | None:
        """``400`` as Discord answers a body it will not take (and remember why)."""
        if not problems:
            return None
        self.refused_forms.append((entry.method, entry.path, problems))
        message = "Cannot send an empty message" if code == 50006 else "Invalid Form Body"
        errors = {"_errors": [{"code": "BASE_TYPE_BAD", "message": p} for p in problems]}
        return _json({"message": message, "code": code, "errors": errors}, status=400)

    def _follow_up(
        self, entry: Recorded, state: InteractionState, body: dict[str, Any]
    ) -> web.Response:
        loading = self.messages.get(state.original or "")
        if state.callback == 5 and loading is not None and loading.loading:
            # Discord's rule: the first follow-up after a deferral *is* the deferred message,
            # with the deferral's visibility, whatever flags the follow-up asks for.
            loading.apply(body, entry.files)
            loading.loading = False
            message = loading
        else:
            message = self._new_message(
                body,
                entry.files,
                channel_id=state.channel_id,
                flags=int(body.get("flags") or 0),
                interaction_id=state.id,
            )
        state.followups.append(message.id)
        entry.message_id = message.id
        return _json(message.payload())

    def _get_channel(self, channel_id: str) -> web.Response:
        try:
            _guild, channel = self.channel(channel_id)
        except KeyError:
            return _error(404, "Unknown Channel", 10003)
        if not self.permissions(channel_id).view_channel:
            return _error(403, "Missing Access", 50001)
        return _json(channel)

    def _start_thread(
        self, entry: Recorded, method: str, channel_id: str, body: dict[str, Any]
    ) -> web.Response:
        """POST /channels/{id}/threads: a thread without a starter message."""
        if method != "POST":
            return _error(405, "405: Method Not Allowed", 0)
        try:
            guild, parent = self.channel(channel_id)
        except KeyError:
            return _error(404, "Unknown Channel", 10003)
        if parent.get("type") not in TEXT_TYPES:
            return _error(400, "Cannot execute action on this channel type", 50024)
        name = str(body.get("name") or "")
        duration = int(body.get("auto_archive_duration") or 4320)
        if not 1 <= len(name) <= 100 or duration not in ARCHIVE_MINUTES:
            return _error(400, "Invalid Form Body", 50035)
        kind = int(body.get("type") or 12)  # Discord's default: a private thread
        allowed = self.permissions(channel_id)
        wanted = allowed.create_private_threads if kind == 12 else allowed.create_public_threads
        if not (allowed.view_channel and wanted):
            return _error(403, "Missing Permissions", 50013)
        thread = thread_payload(snowflake(), channel_id, name=name, kind=kind)
        thread["guild_id"] = guild["id"]
        thread["owner_id"] = str(BOT_ID)
        thread["thread_metadata"]["auto_archive_duration"] = duration
        guild.setdefault("threads", []).append(thread)
        system = self._new_message({"content": name}, [], channel_id=channel_id, flags=0)
        system.type = 18  # THREAD_CREATED, in the parent
        entry.message_id = thread["id"]
        self._events.append(("THREAD_CREATE", {**thread, "newly_created": True}))
        return _json(thread, status=201)

    def _edit_thread(self, channel_id: str, body: dict[str, Any]) -> web.Response:
        """PATCH /channels/{id} for a thread: only ``archived`` is modelled."""
        try:
            _guild, thread = self.channel(channel_id)
        except KeyError:
            return _error(404, "Unknown Channel", 10003)
        metadata = thread.get("thread_metadata")
        if metadata is None or set(body) - {"archived"}:
            return _error(400, "Invalid Form Body", 50035)
        allowed = self.permissions(channel_id)
        may = allowed.manage_threads or (not metadata["locked"] and allowed.send_messages)
        if not may:
            return _error(403, "Missing Permissions", 50013)
        metadata["archived"] = bool(body["archived"])
        self._events.append(("THREAD_UPDATE", dict(thread)))
        return _json(thread)

    def _may_post(self, channel_id: str) -> bool:
        """Send Messages in a channel of the guild, Send Messages in Threads in a thread;
        channels the guild does not have (DMs) are not checked."""
        try:
            _guild, channel = self.channel(channel_id)
        except KeyError:
            return True
        allowed = self.permissions(channel_id)
        if channel.get("type") in THREAD_TYPES:
            return allowed.send_messages_in_threads
        return allowed.send_messages

    def _channel_message(
        self, entry: Recorded, method: str, parts: list[str], body: dict[str, Any]
    ) -> web.Response:
        channel_id = parts[1]
        if len(parts) == 3 and method == "POST":
            if not self._may_post(channel_id):
                return _error(403, "Missing Permissions", 50013)
            refused = self._check_message(entry, body)
            if refused is not None:
                return refused
            if self.archived(channel_id):
                _guild, thread = self.channel(channel_id)
                if thread["thread_metadata"]["locked"]:
                    return _error(400, "Thread is locked", 50083)
                thread["thread_metadata"]["archived"] = False  # a new message unarchives it
            message = self._new_message(body, entry.files, channel_id=channel_id, flags=0)
            entry.message_id = message.id
            return _json(message.payload())
        if len(parts) == 4:
            message = self.messages.get(parts[3])
            if message is None or message.deleted or message.channel_id != channel_id:
                return _error(404, "Unknown Message", 10008)
            entry.message_id = message.id
            if method in ("PATCH", "DELETE") and self.archived(channel_id):
                return _error(400, "Thread is archived", 50083)
            if method == "PATCH":
                refused = self._check_message(entry, body, creating=False)
                if refused is not None:
                    return refused
                message.apply(body, entry.files)
                message.edits += 1
            elif method == "DELETE":
                message.deleted = True
                return web.Response(status=204)
            return _json(message.payload())
        return _error(405, "405: Method Not Allowed", 0)

    # gateway ------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        session: Session | None = None
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        try:
            async for frame in socket:
                if frame.type is not WSMsgType.TEXT:
                    continue
                payload = json.loads(frame.data)
                op = payload.get("op")
                if op == 1:
                    self.heartbeats += 1
                    await socket.send_json({"op": 11})
                elif op == 2:
                    session = await self._identified(socket, payload["d"])
                elif op == 6:
                    session = await self._resumed(socket, payload["d"]) or session
        finally:
            if session is not None and session.socket is socket:
                session.socket = None
            self.sockets.remove(socket)
            await self._notify()
        return socket

    async def _identified(self, socket: web.WebSocketResponse, data: dict[str, Any]) -> Session:
        self.identify = data
        self.identifies += 1
        session = Session("standin-session-" + snowflake(), socket=socket)
        self.sessions[session.id] = session
        await self._send(session, "READY", self._ready(session))
        for guild in self.guilds:
            await self._send(session, "GUILD_CREATE", guild)
        self.identified.set()
        await self._notify()
        return session

    async def _resumed(self, socket: web.WebSocketResponse, data: dict[str, Any]) -> Session | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or not session.valid:
            await socket.send_json({"op": 9, "d": False})
            return None
        session.socket = socket
        missed = [e for e in session.events if e["s"] > int(data.get("seq") or 0)]
        for event in missed:
            await socket.send_json(event)
        await self._send(session, "RESUMED", {})
        self.resumes += 1
        await self._notify()
        return session

    def _ready(self, session: Session) -> dict[str, Any]:
        return {
            "v": 10,
            "user": BOT_USER,
            "guilds": [{"id": g["id"], "unavailable": True} for g in self.guilds],
            "session_id": session.id,
            "resume_gateway_url": str(self.gateway),
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }

    async def _send(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.sequence += 1
        frame = {"op": 0, "t": event, "s": session.sequence, "d": data}
        session.events.append(frame)
        if session.socket is not None and not session.socket.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await session.socket.send_json(frame)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to every session; a session whose client is reconnecting
        gets it when it resumes."""
        if event == "INTERACTION_CREATE" and str(data.get("id")) not in self.interactions:
            self.register(data)
        for session in list(self.sessions.values()):
            if session.valid:
                await self._send(session, event, data)

    async def reconnect(self) -> None:
        """Ask every client to reconnect and resume (op 7 RECONNECT)."""
        for socket in list(self.sockets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await socket.send_json({"op": 7, "d": None})

    async def invalidate_session(self, resumable: bool = False) -> None:
        """op 9 INVALID_SESSION: a resumable one asks the client to RESUME, another to
        IDENTIFY anew (its session is forgotten)."""
        for session in list(self.sessions.values()):
            if session.socket is None:
                continue
            if not resumable:
                session.valid = False
            with contextlib.suppress(ConnectionError, RuntimeError):
                await session.socket.send_json({"op": 9, "d": resumable})


# payloads -----------------------------------------------------------------------------------
def channel_payload(
    channel_id: int | str = CHANNEL_ID, name: str = "study", position: int = 0
) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "guild_id": str(GUILD_ID),
    }


def thread_payload(
    thread_id: int | str = THREAD_ID,
    parent_id: int | str = CHANNEL_ID,
    *,
    name: str = "practice night",
    kind: int = 11,  # a public thread
) -> dict[str, Any]:
    return {
        "id": str(thread_id),
        "type": kind,
        "name": name,
        "parent_id": str(parent_id),
        "guild_id": str(GUILD_ID),
        "owner_id": "111",
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2026-01-01T09:00:00.000000+00:00",
            "locked": False,
        },
    }


def voice_channel_payload(
    channel_id: int | str = VOICE_CHANNEL_ID, name: str = "study room", position: int = 2
) -> dict[str, Any]:
    """A voice channel (its text chat takes commands; it cannot have threads)."""
    return {
        **channel_payload(channel_id, name, position),
        "type": 2,
        "bitrate": 64000,
        "user_limit": 0,
        "rtc_region": None,
        "video_quality_mode": 1,
    }


def dm_channel_payload(user_id: int | str, channel_id: int | str = DM_CHANNEL_ID) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 1,
        "last_message_id": None,
        "recipients": [user_payload(user_id, f"user{user_id}")],
    }


def guild_payload(guild_id: int | str = GUILD_ID, name: str = "Docker Study") -> dict[str, Any]:
    """A GUILD_CREATE as Discord sends it to a bot with only the guilds intent."""
    everyone = discord.Permissions(  # a new server's defaults, as far as a bot cares
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        create_private_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        use_application_commands=True,
    )
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(OWNER_ID),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "ko",
        "system_channel_id": str(CHANNEL_ID),
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "features": ["COMMUNITY", "NEWS"],
        "roles": [
            {
                "id": str(guild_id),
                "name": "@everyone",
                "permissions": str(everyone.value),
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "emojis": [],
        "stickers": [],
        "joined_at": "2025-12-01T00:00:00.000000+00:00",
        "large": False,
        "unavailable": False,
        "member_count": 4,
        "voice_states": [],
        "members": [
            {
                "user": BOT_USER,
                "roles": [],
                "joined_at": "2025-12-01T00:00:00.000000+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "nick": None,
            }
        ],
        "channels": [
            channel_payload(CHANNEL_ID, "study", 0),
            channel_payload(OTHER_CHANNEL_ID, "general", 1),
            voice_channel_payload(),
        ],
        "threads": [thread_payload()],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


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
    thread: bool = False,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload: in a server channel (or one of its threads, with
    ``parent_id``), or in a DM with the bot (``guild=False``: ``user`` instead of ``member``)."""
    payload: dict[str, Any] = {
        "id": snowflake(),
        "application_id": str(APP_ID),
        "type": kind,
        "token": "token-" + snowflake(),
        "version": 1,
        "locale": locale,
        "app_permissions": str(discord.Permissions.all().value),
        "attachment_size_limit": 10 * 1024 * 1024,
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID) if guild else str(user_id)},
        "data": data,
    }
    if guild:
        if thread:
            channel = thread_payload(channel_id, CHANNEL_ID)
        elif channel_id == VOICE_CHANNEL_ID:
            channel = voice_channel_payload(channel_id)
        else:
            channel = channel_payload(channel_id)
        payload["channel_id"] = str(channel_id)
        payload["channel"] = channel
        payload["guild_id"] = str(GUILD_ID)
        payload["guild"] = {"id": str(GUILD_ID), "locale": "ko", "features": ["COMMUNITY"]}
        payload["guild_locale"] = "ko"
        payload["member"] = member_payload(user_id, name, permissions)
        payload["context"] = 0
    else:
        payload["channel_id"] = str(DM_CHANNEL_ID)
        payload["channel"] = dm_channel_payload(user_id)
        payload["user"] = user_payload(user_id, name)
        payload["context"] = 1
        payload["authorizing_integration_owners"] = {"0": str(GUILD_ID)}
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


def modal_data(custom_id: str, field_id: str, value: str) -> dict[str, Any]:
    """The ``data`` of a MODAL_SUBMIT whose one text input holds ``value``."""
    return {
        "custom_id": custom_id,
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": field_id, "value": value}]}
        ],
    }


def component_message(custom_ids: list[str], flags: int = EPHEMERAL) -> dict[str, Any]:
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
