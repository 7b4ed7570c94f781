"""The console's prompt on a terminal (prompt_toolkit).

* **Tab** completes commands, subcommands, options and values with the suggestions Discord's
  autocomplete gives (:mod:`bot.console.completion`).
* After an answer with numbered choices, **↑/↓** on an empty line open the choices, and typing
  the start of a label narrows them; **Enter** on a highlighted choice picks it.
* History is kept between runs (``console_history`` in the data folder).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from prompt_toolkit import PromptSession
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import Output

from bot.console.completion import CoachCompleter
from bot.core.context import Actor
from bot.core.frontend import CoachPort
from bot.core.reply import Choice


class Console(Protocol):
    """What the prompt needs of the console: whose coach, who types, the open choices, the
    members typed as (``/as``) and the session it runs in (a protocol, so that the console
    imports the prompt and not back)."""

    @property
    def coach(self) -> CoachPort: ...

    @property
    def session(self) -> PromptSession[str] | None: ...

    @property
    def choices(self) -> Sequence[Choice]: ...

    @property
    def members(self) -> Sequence[str]: ...

    def current_actor(self) -> Actor: ...


__all__ = ["PromptSession", "prompt_session"]


def prompt_session(
    console: Console, history: Path, *, input: Input | None = None, output: Output | None = None
) -> PromptSession[str]:
    """The prompt for ``console`` (``input``/``output``: the terminal unless a test gives
    its own)."""
    completer = CoachCompleter(
        console.coach, console.current_actor, lambda: console.choices, lambda: console.members
    )
    bindings = KeyBindings()
    choosing = Condition(lambda: bool(console.choices))

    @bindings.add("down", filter=choosing)
    @bindings.add("up", filter=choosing)
    def _open_choices(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.complete_state is not None:
            if event.key_sequence[0].key == "up":
                buffer.complete_previous()
            else:
                buffer.complete_next()
        elif not buffer.text.startswith("/"):
            buffer.start_completion(select_first=True)
        elif event.key_sequence[0].key == "up":
            buffer.history_backward()
        else:
            buffer.history_forward()

    @bindings.add("enter", filter=Condition(lambda: _has_selection(console)))
    def _pick(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        state = buffer.complete_state
        if state is not None and state.current_completion is not None:
            buffer.apply_completion(state.current_completion)
        buffer.validate_and_handle()

    try:
        stored: FileHistory | InMemoryHistory = FileHistory(str(history))
    except OSError:
        stored = InMemoryHistory()
    return PromptSession(
        completer=completer,
        complete_while_typing=Condition(
            lambda: bool(console.choices) and not _typed(console).startswith("/")
        ),
        key_bindings=bindings,
        history=stored,
        enable_history_search=False,
        input=input,
        output=output,
    )


def _typed(console: Console) -> str:
    session = console.session
    return session.default_buffer.text if session is not None else ""


def _has_selection(console: Console) -> bool:
    session = console.session
    if session is None:
        return False
    state = session.default_buffer.complete_state
    return state is not None and state.current_completion is not None
