"""Fire raw interaction payloads at a client's connection state and collect the answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from discord.ext import commands

from tests.discord.standin import (
    Message,
    Recorded,
    Standin,
    interaction_payload,
    modal_data,
)

Send = Callable[..., Awaitable[list[Recorded]]]


def fire(bot: commands.Bot, payload: dict[str, Any], standin: Standin | None = None) -> None:
    """What the gateway does with INTERACTION_CREATE: a real ``Interaction`` from the payload
    (the stand-in, when given, learns of the interaction first, as Discord knows of it)."""
    if standin is not None:
        standin.register(payload)
    bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]


async def answers(
    standin: Standin, payload: dict[str, Any], count: int = 1, within: float = 15.0
) -> list[Recorded]:
    """The first ``count`` accepted requests that answered the interaction in ``payload``
    (a request refused with a 429 and retried counts once, by its retry)."""
    interaction_id, token = payload["id"], payload["token"]

    def belongs(r: Recorded) -> bool:
        return r.ok and (f"/interactions/{interaction_id}/" in r.path or f"/{token}" in r.path)

    found = await standin.wait_for(belongs, count, within)
    return found[:count]


async def run(
    bot: commands.Bot, standin: Standin, payload: dict[str, Any], count: int = 1
) -> list[Recorded]:
    fire(bot, payload, standin)
    return await answers(standin, payload, count)


# Names discord.py gives the tasks it starts for an event: listeners, app commands, views.
HANDLER_TASKS = ("discord.py: ", "discord-ui-", "CommandTree-invoker")


async def settled(within: float = 15.0) -> None:
    """Wait until every task the client started for the events so far has finished.

    A handler's REST calls reach the stand-in before the handler returns, so once this
    returns, every answer the bot was going to give is recorded.
    """
    current = asyncio.current_task()
    async with asyncio.timeout(within):
        while True:
            pending = [
                task
                for task in asyncio.all_tasks()
                if task is not current and task.get_name().startswith(HANDLER_TASKS)
            ]
            if not pending:
                return
            await asyncio.wait(pending)


def text_of(recorded: Recorded | Message) -> str:
    """Content, embed titles, descriptions, fields and footers of a message, as one string."""
    if isinstance(recorded, Message):
        content, embeds = recorded.content, recorded.embeds
    else:
        content = recorded.message.get("content") or ""
        embeds = recorded.message.get("embeds") or []
    parts = [content or ""]
    for embed in embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(parts)


async def answer_with(
    send: Send, custom_id: str, message: dict[str, Any], user_id: int, text: str = "docker ps"
) -> Recorded:
    """Press a button; for a typed-answer button, fill in and submit the modal it opens.

    ``send(payload, count)`` delivers an interaction (straight to the client's state, or
    through the gateway) and returns the first ``count`` requests that answered it.
    """
    press = interaction_payload(
        3, {"custom_id": custom_id, "component_type": 2}, message=message, user_id=user_id
    )
    [first] = await send(press, 1)
    if first.body.get("type") != 9:
        return first
    modal = first.body["data"]
    field = modal["components"][0]["components"][0]["custom_id"]
    submit = interaction_payload(
        5, modal_data(modal["custom_id"], field, text), user_id=user_id, message=message
    )
    [answer] = await send(submit, 1)
    return answer
