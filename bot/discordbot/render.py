"""Fit core :class:`Reply` s to Discord: messages, embeds, files and buttons within its limits.

A reply arrives whole; nothing is dropped on the way to Discord:

* ``code`` that fits goes in a code block in the message text; longer output is attached as
  a file named after the reply (``code_name``) with its first lines shown above the note.
* the ``body`` is split at line breaks over as many embeds (and messages) as it needs, code
  blocks kept closed; a body longer than :data:`BODY_PAGES` embeds is attached as a markdown
  file with its first page shown.
* ``fields`` longer than a field continue in the next field; more fields than an embed holds
  continue in the next embed. The ``title`` opens the first embed, the ``footer`` and the
  image close the last one.
* attachments over the server's size limit are named in a note instead of sent.
* ``choices`` and the ``prompt`` become persistent buttons on the reply's last message; more
  than a message holds continue in the next message.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

import discord

from bot.core.i18n import Translator
from bot.core.moments import has_moments, in_zone, render_moments
from bot.core.reply import ChoiceStyle, Field, Reply, ReplyFile, Tone
from bot.discordbot import limits
from bot.discordbot.views import ActionButton, PromptMemory

COLOURS = {
    Tone.INFO: discord.Colour.blurple(),
    Tone.SUCCESS: discord.Colour.green(),
    Tone.WARNING: discord.Colour.gold(),
    Tone.ERROR: discord.Colour.red(),
}
STYLES = {
    ChoiceStyle.PRIMARY: discord.ButtonStyle.primary,
    ChoiceStyle.SECONDARY: discord.ButtonStyle.secondary,
    ChoiceStyle.SUCCESS: discord.ButtonStyle.success,
    ChoiceStyle.DANGER: discord.ButtonStyle.danger,
}
FENCE = limits.FENCE
HEAD_LINES = 15  # lines of long output shown above its file
BODY_PAGES = 3  # embeds of body text before the body goes into a file instead
UTC_ZONE = ZoneInfo("UTC")
EMPTY = "\u200b"  # Discord refuses empty texts; a zero-width space shows nothing


@dataclass
class Message:
    """One Discord message: keyword arguments for ``send_message`` / ``followup.send``."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    files: list[ReplyFile] = field(default_factory=list)
    view: discord.ui.View | None = None
    ephemeral: bool = True

    def kwargs(self) -> dict[str, Any]:
        """Arguments for sending it; files are made fresh each time (they are read once)."""
        args: dict[str, Any] = {
            "allowed_mentions": discord.AllowedMentions.none(),
            "ephemeral": self.ephemeral,
        }
        if self.content:
            args["content"] = self.content
        if self.embeds:
            args["embeds"] = self.embeds
        if self.files:
            args["files"] = self.discord_files()
        if self.view is not None:
            args["view"] = self.view
        return args

    def edit_kwargs(self) -> dict[str, Any]:
        """Arguments for editing a message into this one: whatever it does not have, the
        edited message loses (its text, embeds, files, buttons). Visibility cannot change."""
        return {
            "allowed_mentions": discord.AllowedMentions.none(),
            "content": self.content,
            "embeds": self.embeds,
            "attachments": self.discord_files(),
            "view": self.view,
        }

    def channel_kwargs(self) -> dict[str, Any]:
        """Arguments for ``Messageable.send`` (a channel or a DM: no visibility to choose)."""
        args = self.kwargs()
        del args["ephemeral"]
        return args

    def channel_edit_kwargs(self) -> dict[str, Any]:
        """Arguments for ``Message.edit`` with the bot's token."""
        return self.edit_kwargs()

    def buttons(self) -> list[discord.ui.Item[discord.ui.View]]:
        return list(self.view.children) if self.view is not None else []

    def discord_files(self) -> list[discord.File]:
        return [
            discord.File(io.BytesIO(f.data), filename=f.filename, description=f.description or None)
            for f in self.files
        ]

    def is_empty(self) -> bool:
        return not (self.content or self.embeds or self.files)


def _timestamp(when: datetime, style: str) -> str:
    return discord.utils.format_dt(when, style)  # type: ignore[arg-type]


def discord_moments(reply: Reply) -> Reply:
    """The reply with its moments as Discord timestamps, which every client shows in its
    reader's time zone and language. Discord renders them in message text, descriptions and
    field values but not in titles and footers: a footer with a moment becomes the last line
    of the body, in small text; a title shows the moment in UTC."""
    texts = (reply.title or "", reply.body, reply.footer or "", *(f.value for f in reply.fields))
    if not any(has_moments(text) for text in texts):
        return reply
    body = render_moments(reply.body, _timestamp)
    footer = reply.footer
    if footer and has_moments(footer):
        small = "\n".join(f"-# {line}" for line in render_moments(footer, _timestamp).split("\n"))
        body = f"{body}\n\n{small}" if body else small
        footer = None
    title = reply.title
    if title and has_moments(title):
        title = render_moments(title, lambda when, _style: in_zone(when, "f", UTC_ZONE))
    fields = tuple(
        Field(f.name, render_moments(f.value, _timestamp), f.inline) for f in reply.fields
    )
    return reply.but(title=title, body=body, footer=footer, fields=fields)


def code_block(code: str, language: str = "") -> str:
    """``code`` fenced for Discord; fences inside it are broken so that they cannot end it."""
    safe = code.rstrip("\n").replace(FENCE, "`\u200b``")
    return f"{FENCE}{language}\n{safe}\n{FENCE}"


def _embed_size(message: Message) -> int:
    return sum(len(embed) for embed in message.embeds)


def _fits_together(first: Message, second: Message) -> bool:
    """Whether ``second`` can be shown inside ``first``, in the same order, within Discord's
    limits: its text (if any) cannot go above ``first``'s embeds, and buttons stay last."""
    if first.view is not None:
        return False
    if second.content and (first.embeds or first.files):
        return False
    content = len(first.content or "") + len(second.content or "") + 1
    return (
        content <= limits.MESSAGE_CONTENT
        and len(first.embeds) + len(second.embeds) <= limits.EMBEDS_PER_MESSAGE
        and _embed_size(first) + _embed_size(second) <= limits.EMBED_TOTAL
        and len(first.files) + len(second.files) <= limits.FILES_PER_MESSAGE
        and len({f.filename for f in first.files} & {f.filename for f in second.files}) == 0
    )


def merge(messages: list[Message]) -> list[Message]:
    """Consecutive messages shown as few as Discord allows (an answer and the next question in
    one message, a command's output and the practice step it completed): fewer messages, fewer
    edits, less of the channel's rate limit."""
    merged: list[Message] = []
    for message in messages:
        if message.content == EMPTY:
            message.content = None
        last = merged[-1] if merged else None
        if last is None or last.ephemeral != message.ephemeral or not _fits_together(last, message):
            merged.append(message)
            continue
        if message.content:
            last.content = f"{last.content}\n{message.content}" if last.content else message.content
        last.embeds.extend(message.embeds)
        last.files.extend(message.files)
        last.view = message.view
    for message in merged:
        if message.is_empty():
            message.content = EMPTY
    return merged


class Renderer:
    """Renders replies for one interaction (its language and its upload size limit).

    ``prompts`` remembers the placeholder of every typed-answer button rendered, so that the
    form it opens can show it (see :class:`~bot.discordbot.views.PromptMemory`).
    """

    def __init__(
        self,
        tr: Translator,
        filesize_limit: int = limits.ATTACHMENT_BYTES,
        prompts: PromptMemory | None = None,
    ) -> None:
        self.tr = tr
        self.filesize_limit = filesize_limit
        self.prompts = prompts

    def render_all(self, replies: Sequence[Reply]) -> list[Message]:
        """The messages of every reply, in order."""
        return [message for reply in replies for message in self.render(reply)]

    def render(self, reply: Reply) -> list[Message]:
        """The messages that show ``reply`` whole, in order (always at least one)."""
        reply = discord_moments(reply)
        notes: list[str] = []
        files: list[ReplyFile] = []
        pages = self._pages(reply, files, notes)
        image = self._attachments(reply, files, notes)
        content = self._code(reply, files, notes)
        embeds = self._embeds(reply, pages, image)
        messages = self._pack(embeds, reply.private)
        messages[0].content = content
        self._place_files(messages, files, image, reply.private)
        self._place_buttons(messages, reply)
        for message in messages:
            if message.is_empty():
                message.content = EMPTY
        return messages

    # code ---------------------------------------------------------------------------
    def _code(self, reply: Reply, files: list[ReplyFile], notes: list[str]) -> str | None:
        """The message text: the code block (or the head of long output) and the notes."""
        note_text = limits.cut("\n".join(notes), limits.MESSAGE_CONTENT // 2)
        if reply.code is None:
            return note_text or None
        block = code_block(reply.code)
        if len(block) + len(note_text) + 1 <= limits.MESSAGE_CONTENT:
            return f"{block}\n{note_text}" if note_text else block
        data = reply.code.encode("utf-8")
        total = reply.code.rstrip("\n").count("\n") + 1
        kept = limits.fit_bytes(data, self.filesize_limit)
        files.insert(0, ReplyFile(reply.code_name, kept))
        if len(kept) == len(data):
            note = self.tr("discord.output_as_file", name=reply.code_name, lines=total)
        else:
            note = self.tr(
                "discord.output_file_cut",
                name=reply.code_name,
                size=len(data),
                limit=self.filesize_limit,
            )
        note_text = f"{note}\n{note_text}" if note_text else note
        room = limits.MESSAGE_CONTENT - len(note_text) - 2 * len(FENCE) - 4
        head, _shown = limits.head_lines(reply.code, max(0, room), HEAD_LINES)
        return f"{code_block(head)}\n{note_text}"

    # body and attachments ---------------------------------------------------------------
    def _pages(self, reply: Reply, files: list[ReplyFile], notes: list[str]) -> list[str]:
        if not reply.body:
            return []
        pages = limits.split_markdown(reply.body, limits.EMBED_DESCRIPTION)
        if len(pages) <= BODY_PAGES:
            return pages
        name = PurePath(reply.code_name).stem + ".md"
        files.append(ReplyFile(name, reply.body.encode("utf-8")))
        notes.append(self.tr("discord.body_as_file", name=name))
        return pages[:1]

    def _attachments(
        self, reply: Reply, files: list[ReplyFile], notes: list[str]
    ) -> ReplyFile | None:
        """Queue the reply's files that the server accepts; return the image if it is one."""
        for file in reply.attachments():
            if len(file.data) > self.filesize_limit:
                notes.append(
                    self.tr(
                        "discord.file_too_big",
                        name=file.filename,
                        size=len(file.data),
                        limit=self.filesize_limit,
                    )
                )
            elif file is not reply.image:
                files.append(file)
        if reply.image is not None and len(reply.image.data) <= self.filesize_limit:
            return reply.image
        return None

    # embeds -------------------------------------------------------------------------
    def _embeds(
        self, reply: Reply, pages: list[str], image: ReplyFile | None
    ) -> list[discord.Embed]:
        colour = COLOURS[reply.tone]
        title = limits.cut(reply.title, limits.EMBED_TITLE) if reply.title else None
        embeds = [
            discord.Embed(title=title if n == 0 else None, description=page, colour=colour)
            for n, page in enumerate(pages)
        ]
        if title and not embeds:
            embeds.append(discord.Embed(title=title, colour=colour))
        for name, value, inline in self._field_parts(reply):
            size = len(name) + len(value)
            last = embeds[-1] if embeds else None
            if (
                last is None
                or len(last.fields) >= limits.EMBED_FIELDS
                or len(last) + size > limits.EMBED_TOTAL
            ):
                last = discord.Embed(colour=colour)
                embeds.append(last)
            last.add_field(name=name, value=value, inline=inline)
        footer = limits.cut(reply.footer, limits.EMBED_FOOTER) if reply.footer else None
        if footer or image is not None:
            if not embeds or len(embeds[-1]) + len(footer or "") > limits.EMBED_TOTAL:
                embeds.append(discord.Embed(colour=colour))
            if footer:
                embeds[-1].set_footer(text=footer)
            if image is not None:
                embeds[-1].set_image(url=f"attachment://{image.filename}")
        return embeds

    @staticmethod
    def _field_parts(reply: Reply) -> list[tuple[str, str, bool]]:
        """Each field as one or more embed fields: long values continue in unnamed fields."""
        parts: list[tuple[str, str, bool]] = []
        for item in reply.fields:
            name = limits.cut(item.name or EMPTY, limits.EMBED_FIELD_NAME)
            values = limits.split_markdown(item.value, limits.EMBED_FIELD_VALUE) or [EMPTY]
            for n, value in enumerate(values):
                parts.append((name if n == 0 else EMPTY, value or EMPTY, item.inline))
        return parts

    # messages -----------------------------------------------------------------------
    @staticmethod
    def _pack(embeds: list[discord.Embed], private: bool) -> list[Message]:
        """Embeds into as few messages as Discord allows (10 embeds, 6000 characters each)."""
        messages = [Message(ephemeral=private)]
        size = 0
        for embed in embeds:
            current = messages[-1]
            if current.embeds and (
                len(current.embeds) >= limits.EMBEDS_PER_MESSAGE
                or size + len(embed) > limits.EMBED_TOTAL
            ):
                current = Message(ephemeral=private)
                messages.append(current)
                size = 0
            current.embeds.append(embed)
            size += len(embed)
        return messages

    @staticmethod
    def _place_files(
        messages: list[Message], files: list[ReplyFile], image: ReplyFile | None, private: bool
    ) -> None:
        """Files go with the first message, the image with the embed that shows it; what a
        message cannot carry follows in messages of its own."""
        if image is not None:
            holder = next(m for m in reversed(messages) if m.embeds)
            holder.files.append(image)
        first = messages[0]
        room = limits.FILES_PER_MESSAGE - len(first.files)
        first.files[:0] = files[:room]
        rest = files[room:]
        for start in range(0, len(rest), limits.FILES_PER_MESSAGE):
            chunk = rest[start : start + limits.FILES_PER_MESSAGE]
            messages.append(Message(files=list(chunk), ephemeral=private))

    def _place_buttons(self, messages: list[Message], reply: Reply) -> None:
        buttons = [
            ActionButton(
                choice.action, choice.label, STYLES[choice.style], disabled=choice.disabled
            )
            for choice in reply.choices
        ]
        if reply.prompt is not None:
            if self.prompts is not None:
                self.prompts.remember(reply.prompt.action, reply.prompt.placeholder)
            buttons.append(
                ActionButton(
                    reply.prompt.action, reply.prompt.label, discord.ButtonStyle.primary, ask=True
                )
            )
        for start in range(0, len(buttons), limits.BUTTONS_PER_MESSAGE):
            if start:
                messages.append(Message(ephemeral=reply.private))
            view = discord.ui.View(timeout=None)
            for button in buttons[start : start + limits.BUTTONS_PER_MESSAGE]:
                view.add_item(button)
            messages[-1].view = view
