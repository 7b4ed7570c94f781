"""A third front end, for tests only: a JSON chat API, as a web page or Slack would speak it.

It is built from the seam alone (:mod:`bot.core.frontend`): it knows the coach only as a
:class:`~bot.core.frontend.CoachPort` and replies only as :class:`~bot.core.reply.Reply`,
and it imports nothing from the console, the Discord front end or any capability. Its medium
has rules of its own, unlike Discord's and the terminal's: a message holds at most
:data:`MESSAGE_CHARS` characters of text (longer text continues in more messages), and output
longer than :data:`CODE_CHARS` is attached as a file with its first lines shown. Messages have
ids and can be edited, so a reply that replaces the message a button was on edits it.

Every message it sends is a JSON object (checked with ``json.dumps``) in :attr:`outbox`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.context import Actor, Upload
from bot.core.frontend import CoachPort, Frontend
from bot.core.moments import in_zone, render_moments
from bot.core.reply import Choice, Placement, Reply, TextPrompt

MESSAGE_CHARS = 1000
CODE_CHARS = 1500
HEAD_LINES = 5


@dataclass(frozen=True)
class Event:
    """What the page posts: one user's command, button press, typed answer or keystrokes.

    A button is named by the id of the message it is on and its index there.
    """

    user: str
    locale: str = "en"
    command: str | None = None  # "concept", "practice start"
    options: dict[str, Any] = field(default_factory=dict)
    press: tuple[int, int] | None = None  # (message id, button index)
    answer: str | None = None  # the text typed into the form shown last
    uploads: tuple[Upload, ...] = ()


@dataclass
class Sent:
    """One message of this medium, as JSON: visible to one user or the whole room."""

    id: int
    to: str  # a user id, or "room"
    data: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    actions: list[Choice] = field(default_factory=list)
    edits: int = 0

    @property
    def text(self) -> str:
        return str(self.data["text"])


def split_lines(text: str, limit: int) -> list[str]:
    """Text in pieces of at most ``limit`` characters, at line breaks where it can."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    if current:
        pieces.append(current)
    return pieces


UTC = ZoneInfo("UTC")  # the page shows moments in UTC


class PlainFrontend(Frontend[Event]):
    """A :class:`bot.core.frontend.Frontend` of :class:`Event` s."""

    def __init__(self, coach: CoachPort, room: str = "web-room") -> None:
        self.coach = coach
        self.room = room
        self.outbox: list[Sent] = []
        self.prompts: dict[str, TextPrompt] = {}  # user -> the form they were shown last

    # input ------------------------------------------------------------------------------
    def actor(self, source: Event) -> Actor:
        return Actor(
            user_id=f"web:{source.user}",
            display_name=source.user.title(),
            guild_id=self.room,
            locale=source.locale,
            uploads=source.uploads,
        )

    async def handle(self, event: Event) -> list[Sent]:
        """Take one event from the page; return the messages sent (or edited) for it."""
        before = len(self.outbox)
        actor = self.actor(event)
        origin: Sent | None = None
        if event.command is not None:
            replies = await self.coach.run(actor, event.command.split(), event.options)
        elif event.press is not None:
            message_id, index = event.press
            origin = self.outbox[message_id]
            choice = origin.actions[index]
            if choice.disabled:
                return []  # the page does not send presses of a disabled button
            replies = await self.coach.press(actor, choice.action)
        elif event.answer is not None:
            prompt = self.prompts.pop(actor.user_id)
            replies = await self.coach.press(actor, prompt.action, event.answer)
        else:
            raise ValueError("an event needs a command, a press or an answer")
        await self.present(event, replies, origin)
        edited = [origin] if origin is not None and origin.edits else []
        return edited + self.outbox[before:]

    async def suggest(self, event: Event, option: str, partial: str) -> list[str]:
        """Suggestions while the user types ``option`` of ``event.command``."""
        assert event.command is not None
        found = await self.coach.complete(self.actor(event), event.command.split(), option, partial)
        return [s.value for s in found]

    # output -----------------------------------------------------------------------------
    async def present(
        self, source: Event, replies: Sequence[Reply], origin: Sent | None = None
    ) -> None:
        user = self.actor(source).user_id
        replacing = 0
        if origin is not None:
            while replacing < len(replies) and replies[replacing].placement is Placement.REPLACE:
                replacing += 1
        if replacing:  # the leading replacing replies become the pressed message, together
            group = [message for reply in replies[:replacing] for message in self.render(reply)]
            origin.data = dict(group[-1].data, text="\n\n".join(m.data["text"] for m in group))
            origin.files = {name: data for m in group for name, data in m.files.items()}
            origin.actions = group[-1].actions
            origin.edits += 1
        for number, reply in enumerate(replies):
            to = user if reply.private else "room"
            if reply.prompt is not None:
                self.prompts[user] = reply.prompt
            if number < replacing:
                continue
            messages = self.render(reply)
            for message in messages:
                self._send(to, message)

    def _send(self, to: str, message: Sent) -> None:
        message.id, message.to = len(self.outbox), to
        json.dumps(message.data)  # every message is JSON
        self.outbox.append(message)

    def render(self, reply: Reply) -> list[Sent]:
        """One reply as messages of this medium: text in pieces, long output as a file."""
        parts = []
        if reply.title:
            parts.append(f"# {reply.title}")
        if reply.body:
            parts.append(reply.body)
        parts += [f"## {item.name}\n{item.value}" for item in reply.fields]
        files = {f.filename: f.data for f in reply.attachments()}
        if reply.code is not None:
            if len(reply.code) <= CODE_CHARS:
                parts.append(reply.code)
            else:
                files[reply.code_name] = reply.code.encode()
                head = "\n".join(reply.code.split("\n")[:HEAD_LINES])
                parts.append(f"{head}\n[whole output attached: {reply.code_name}]")
        if reply.footer:
            parts.append(f"({reply.footer})")
        text = render_moments("\n\n".join(parts), lambda when, style: in_zone(when, style, UTC))
        pieces = split_lines(text, MESSAGE_CHARS) or [""]
        messages = [
            Sent(0, "", {"tone": reply.tone.value, "text": piece, "buttons": [], "files": []})
            for piece in pieces
        ]
        last = messages[-1]
        last.files = files
        last.data["files"] = [{"name": name, "bytes": len(data)} for name, data in files.items()]
        last.actions = list(reply.choices)
        last.data["buttons"] = [
            {"label": c.label, "enabled": not c.disabled} for c in reply.choices
        ]
        if reply.prompt is not None:
            last.data["form"] = {"label": reply.prompt.label, "hint": reply.prompt.placeholder}
        return messages
