"""Buttons that keep working after a restart, and the modal for typed answers.

A button's ``custom_id`` is the core's action string (``quiz:answer:<round>:<n>``), so any
process of the bot can route a press: :class:`ActionButton` is a ``DynamicItem`` whose
template matches every action. A typed-answer prompt is the same action behind a ``~``;
pressing it opens an :class:`AnswerModal`. Owner checks are the core's job.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any, Protocol

import discord
from discord import ui

from bot.discordbot import limits

ASK_MARK = "~"
ANSWER_LENGTH = 400


class PressHandler(Protocol):
    """What the buttons and the form hand their events to (the Discord front end).

    Declared here so that the views need not import the front end that renders them.
    """

    async def press(
        self, interaction: discord.Interaction, action: str, value: str | None
    ) -> None: ...

    async def open_prompt(
        self, interaction: discord.Interaction, action: str, label: str
    ) -> None: ...

    async def report_error(
        self, interaction: discord.Interaction, error: BaseException, kind: str
    ) -> None: ...


class PromptMemory:
    """The placeholders of the typed-answer buttons this process rendered (``docker …``).

    A button carries only its action; the form it opens shows the placeholder remembered
    here, or a general one for buttons rendered before a restart. Bounded: the oldest go.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._placeholders: OrderedDict[str, str] = OrderedDict()

    def remember(self, action: str, placeholder: str) -> None:
        if not placeholder:
            return
        self._placeholders[action] = placeholder
        self._placeholders.move_to_end(action)
        while len(self._placeholders) > self.size:
            self._placeholders.popitem(last=False)

    def placeholder(self, action: str) -> str | None:
        return self._placeholders.get(action)


def custom_id_for(action: str, ask: bool = False) -> str:
    custom_id = (ASK_MARK if ask else "") + action
    if len(custom_id) > limits.CUSTOM_ID:
        raise ValueError(f"action too long for a custom_id: {action!r}")
    return custom_id


def frontend_of(interaction: discord.Interaction) -> PressHandler:
    front: PressHandler = interaction.client.front  # type: ignore[attr-defined]
    return front


class ActionButton(ui.DynamicItem[ui.Button[ui.View]], template=r"(?P<ask>~)?(?P<action>[^~].*)"):
    """A button whose press is routed to ``Coach.press`` by its action string."""

    def __init__(
        self,
        action: str,
        label: str,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        ask: bool = False,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            ui.Button(
                label=limits.cut(label or "…", limits.BUTTON_LABEL),
                style=style,
                custom_id=custom_id_for(action, ask),
                disabled=disabled,
            )
        )
        self.action = action
        self.ask = ask

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> ActionButton:
        label = getattr(item, "label", None) or "…"
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        return cls(match["action"], label, style, ask=bool(match["ask"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        front = frontend_of(interaction)
        if self.ask:
            await front.open_prompt(interaction, self.action, self.item.label or "…")
        else:
            await front.press(interaction, self.action, None)


def submitted_text(data: Any) -> str:
    """The first text value in a modal submit's components (rows or labels, any depth)."""
    if isinstance(data, dict):
        value = data.get("value")
        if isinstance(value, str):
            return value
        nested = [data.get("component"), *(data.get("components") or [])]
        return next((text for item in nested if (text := submitted_text(item))), "")
    if isinstance(data, list):
        return next((text for item in data if (text := submitted_text(item))), "")
    return ""


class AnswerModal(ui.Modal):
    """Asks for a typed answer. Its ``custom_id`` is ``~<action>``: the bot's
    ``on_interaction`` hands every such submit to the core, so an answer typed while the bot
    restarted still arrives; this object only shows the form."""

    def __init__(
        self, front: PressHandler, action: str, title: str, label: str, placeholder: str = ""
    ) -> None:
        super().__init__(
            title=limits.cut(title, limits.MODAL_TITLE),
            timeout=15 * 60,
            custom_id=custom_id_for(action, ask=True),
        )
        self.front = front
        self.action = action
        self.answer: ui.TextInput[Any] = ui.TextInput(
            label=limits.cut(label, limits.INPUT_LABEL),
            style=discord.TextStyle.paragraph,
            placeholder=limits.cut(placeholder, limits.INPUT_PLACEHOLDER) or None,
            max_length=ANSWER_LENGTH,
        )
        self.add_item(self.answer)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        return None  # answered by CoachBot.on_interaction (see the class docstring)

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows it so
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await self.front.report_error(interaction, error, "modal")
