"""Turn core :class:`Reply` s into Discord messages that fit Discord's limits.

One reply becomes one message: an embed (title, body, fields, footer, image), the ``code``
as a code block in the message text (or as a file when it does not fit), attachments, and a
row of buttons for its choices and typed-answer prompt.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import discord

from bot.core import limits
from bot.core.i18n import Translator
from bot.core.reply import ChoiceStyle, Reply, ReplyFile, Tone
from bot.discordbot.views import ActionButton

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
MAX_FILES = 10
MAX_BUTTONS = 25
FENCE = "```"


@dataclass
class Message:
    """What one reply sends: keyword arguments for ``send_message`` / ``followup.send``."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    files: list[ReplyFile] = field(default_factory=list)
    view: discord.ui.View | None = None
    ephemeral: bool = True

    def kwargs(self) -> dict[str, object]:
        """Arguments for discord.py; files are made fresh each time (they are read once)."""
        args: dict[str, object] = {
            "allowed_mentions": discord.AllowedMentions.none(),
            "ephemeral": self.ephemeral,
        }
        if self.content:
            args["content"] = self.content
        if self.embeds:
            args["embeds"] = self.embeds
        if self.files:
            args["files"] = [
                discord.File(
                    io.BytesIO(f.data), filename=f.filename, description=f.description or None
                )
                for f in self.files
            ]
        if self.view is not None:
            args["view"] = self.view
        return args


def code_block(code: str, language: str = "") -> str:
    """``code`` fenced for Discord; fences inside it are broken so that they cannot end it."""
    safe = code.rstrip("\n").replace(FENCE, "`\u200b``")
    return f"{FENCE}{language}\n{safe}\n{FENCE}"


class Renderer:
    """Renders replies for one interaction (its language and its upload size limit)."""

    def __init__(self, tr: Translator, filesize_limit: int = limits.ATTACHMENT_BYTES) -> None:
        self.tr = tr
        self.filesize_limit = filesize_limit

    def render(self, reply: Reply) -> Message:
        message = Message(ephemeral=reply.private)
        notes: list[str] = []
        self._place_code(reply, message, notes)
        self._place_files(reply, message, notes)
        embed = self._embed(reply, message)
        if embed is not None:
            message.embeds.append(embed)
        if notes:
            text = "\n".join(notes)
            room = limits.MESSAGE_CONTENT - len(text) - 1
            if reply.code is not None and message.content and len(message.content) > room:
                message.content = self._cut_code(reply.code, room)  # keep the fence closed
            joined = f"{message.content}\n{text}" if message.content else text
            message.content = limits.cut(joined, limits.MESSAGE_CONTENT)
        message.view = self._view(reply)
        if not message.content and not message.embeds and not message.files:
            message.content = "\u200b"  # Discord refuses an empty message
        return message

    # parts --------------------------------------------------------------------------
    def _place_code(self, reply: Reply, message: Message, notes: list[str]) -> None:
        if reply.code is None:
            return
        block = code_block(reply.code)
        if len(block) <= limits.MESSAGE_CONTENT:
            message.content = block
            return
        data = reply.code.encode("utf-8")
        if len(data) <= self.filesize_limit:
            message.files.append(ReplyFile(reply.code_name, data))
            notes.append(self.tr("discord.output_as_file", name=reply.code_name))
            return
        message.content = self._cut_code(reply.code, limits.MESSAGE_CONTENT)

    def _cut_code(self, code: str, room: int) -> str:
        """The start of ``code`` as a code block of at most ``room`` characters, with a note."""
        note = self.tr("discord.output_cut")
        head, _ = limits.cut_lines(code, max(0, room - 2 * len(FENCE) - 2), note)
        return code_block(head)

    def _place_files(self, reply: Reply, message: Message, notes: list[str]) -> None:
        wanted = [*reply.files, *([reply.image] if reply.image else [])]
        for file in wanted:
            if len(file.data) > self.filesize_limit:
                notes.append(
                    self.tr(
                        "discord.file_too_big",
                        name=file.filename,
                        size=len(file.data),
                        limit=self.filesize_limit,
                    )
                )
            elif len(message.files) >= MAX_FILES:
                notes.append(self.tr("discord.too_many_files", name=file.filename))
            else:
                message.files.append(file)

    def _embed(self, reply: Reply, message: Message) -> discord.Embed | None:
        image_attached = reply.image is not None and reply.image in message.files
        if not (reply.title or reply.body or reply.fields or reply.footer or image_attached):
            return None
        title = limits.cut(reply.title, limits.EMBED_TITLE) if reply.title else ""
        footer = limits.cut(reply.footer, limits.EMBED_FOOTER) if reply.footer else ""
        room = min(limits.EMBED_DESCRIPTION, limits.EMBED_TOTAL - len(title) - len(footer))
        embed = discord.Embed(
            title=title or None,
            description=limits.cut(reply.body, room) if reply.body else None,
            colour=COLOURS[reply.tone],
        )
        if footer:
            embed.set_footer(text=footer)
        if image_attached and reply.image is not None:
            embed.set_image(url=f"attachment://{reply.image.filename}")
        budget = limits.EMBED_TOTAL - len(embed)
        for item in reply.fields[: limits.EMBED_FIELDS]:
            name = limits.cut(item.name or "\u200b", limits.EMBED_FIELD_NAME)
            value = limits.cut(item.value or "\u200b", limits.EMBED_FIELD_VALUE)
            if len(name) + len(value) > budget:
                break
            embed.add_field(name=name, value=value, inline=item.inline)
            budget -= len(name) + len(value)
        return embed

    def _view(self, reply: Reply) -> discord.ui.View | None:
        buttons: list[ActionButton] = [
            ActionButton(choice.action, choice.label, STYLES[choice.style])
            for choice in reply.choices
        ]
        if reply.prompt is not None:
            buttons.append(
                ActionButton(
                    reply.prompt.action,
                    reply.prompt.label,
                    discord.ButtonStyle.primary,
                    ask=True,
                )
            )
        if not buttons:
            return None
        view = discord.ui.View(timeout=None)
        for button in buttons[:MAX_BUTTONS]:
            view.add_item(button)
        return view
