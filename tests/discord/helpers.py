"""Fire raw interaction payloads at a client's connection state and collect the answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from discord.ext import commands

from tests.discord.standin import Recorded, Standin, interaction_payload

Send = Callable[..., Awaitable[list[Recorded]]]


def fire(bot: commands.Bot, payload: dict[str, Any]) -> None:
    """What the gateway does with INTERACTION_CREATE: a real ``Interaction`` from the payload."""
    bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]


async def answers(
    standin: Standin, payload: dict[str, Any], count: int = 1, within: float = 15.0
) -> list[Recorded]:
    """The first ``count`` requests that answered the interaction in ``payload``."""
    interaction_id, token = payload["id"], payload["token"]

    def belongs(r: Recorded) -> bool:
        return f"/interactions/{interaction_id}/" in r.path or f"/{token}" in r.path

    found = await standin.wait_for(belongs, count, within)
    return found[:count]


async def run(
    bot: commands.Bot, standin: Standin, payload: dict[str, Any], count: int = 1
) -> list[Recorded]:
    fire(bot, payload)
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


def text_of(recorded: Recorded) -> str:
    """Content, embed titles, descriptions and fields of a sent message, as one string."""
    message = recorded.message
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
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
        5,
        {
            "custom_id": modal["custom_id"],
            "components": [
                {"type": 1, "components": [{"type": 4, "custom_id": field, "value": text}]}
            ],
        },
        user_id=user_id,
    )
    [answer] = await send(submit, 1)
    return answer
