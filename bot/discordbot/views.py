"""Buttons that keep working after a restart, and the modal for typed answers.

A button's ``custom_id`` is the core's action string (``quiz:answer:<round>:<n>``), so any
process of the bot can route a press: :class:`ActionButton` is a ``DynamicItem`` whose
template matches every action. A typed-answer prompt is the same action behind a ``~``;
pressing it opens an :class:`AnswerModal`. Owner checks are the core's job.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import ui

from bot.core import limits

if TYPE_CHECKING:
    from bot.discordbot.frontend import Frontend

ASK_MARK = "~"
MODAL_TITLE = 45
INPUT_LABEL = 45
INPUT_PLACEHOLDER = 100
ANSWER_LENGTH = 400


def custom_id_for(action: str, ask: bool = False) -> str:
    custom_id = (ASK_MARK if ask else "") + action
    if len(custom_id) > limits.CUSTOM_ID:
        raise ValueError(f"action too long for a custom_id: {action!r}")
    return custom_id


def frontend_of(interaction: discord.Interaction) -> Frontend:
    return interaction.client.front  # type: ignore[attr-defined]


class ActionButton(ui.DynamicItem[ui.Button], template=r"(?P<ask>~)?(?P<action>[^~].*)"):
    """A button whose press is routed to ``Coach.press`` by its action string."""

    def __init__(
        self,
        action: str,
        label: str,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        ask: bool = False,
    ) -> None:
        super().__init__(
            ui.Button(
                label=limits.cut(label or "…", limits.BUTTON_LABEL),
                style=style,
                custom_id=custom_id_for(action, ask),
            )
        )
        self.action = action
        self.ask = ask

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Button, match: re.Match[str], /
    ) -> ActionButton:
        return cls(match["action"], item.label or "…", item.style, ask=bool(match["ask"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        front = frontend_of(interaction)
        if self.ask:
            await front.open_prompt(interaction, self.action, self.item.label or "…")
        else:
            await front.press(interaction, self.action, None)


def submitted_text(data: Any) -> str:
    """The first text value in a modal submit's components (rows or labels, any depth)."""
    if isinstance(data, dict):
        if isinstance(data.get("value"), str):
            return data["value"]
        nested = [data.get("component"), *(data.get("components") or [])]
        return next((text for item in nested if (text := submitted_text(item))), "")
    if isinstance(data, list):
        return next((text for item in data if (text := submitted_text(item))), "")
    return ""


class AnswerModal(ui.Modal):
    """Asks for a typed answer. Its ``custom_id`` is ``~<action>``: the bot's
    ``on_interaction`` hands every such submit to the core, so an answer typed while the bot
    restarted still arrives; this object only shows the form."""

    def __init__(self, front: Frontend, action: str, title: str, label: str) -> None:
        super().__init__(
            title=limits.cut(title, MODAL_TITLE),
            timeout=15 * 60,
            custom_id=custom_id_for(action, ask=True),
        )
        self.front = front
        self.action = action
        self.answer: ui.TextInput[Any] = ui.TextInput(
            label=limits.cut(label, INPUT_LABEL),
            style=discord.TextStyle.paragraph,
            max_length=ANSWER_LENGTH,
        )
        self.add_item(self.answer)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        return None  # answered by CoachBot.on_interaction (see the class docstring)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:
        await self.front.report_error(interaction, error, "modal")
