"""What Tab offers in the console: the same suggestions Discord's autocomplete gives.

:func:`suggest` reads a partly typed line against the command table, like
:func:`~bot.console.parsing.parse_line` reads a whole one, and answers with
:class:`Candidate` s: command and subcommand names, an option's fixed choices, or what the
option's completer says (concept names in both languages, scenario ids, the learner's own
container names), through :meth:`CoachPort.complete`, exactly as Discord asks for them.
Before a command is typed, the numbered choices of the last answer are offered by label.
The console's own commands (:data:`CONSOLE_COMMANDS`: ``/as`` and ``/attach``, which Discord
does not have) complete like the others; ``/as`` offers the members this console has typed as.

:class:`CoachCompleter` adapts it to prompt_toolkit (used on a terminal only; piped input is
read line by line as always).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from dataclasses import dataclass

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from bot.core.commands import CommandSpec, OptionKind
from bot.core.context import Actor
from bot.core.frontend import CoachPort
from bot.core.reply import Choice

CONSOLE_COMMANDS = ("as", "attach")  # handled by the console itself, not the command table


@dataclass(frozen=True, slots=True)
class Candidate:
    """Replace the last ``replace`` characters before the cursor with ``text``."""

    text: str
    replace: int
    display: str = ""


def choice_matches(choices: Sequence[Choice], typed: str) -> list[tuple[int, Choice]]:
    """The numbered choices (1-based) whose number or label starts with ``typed``."""
    wanted = typed.strip().casefold()
    return [
        (number, choice)
        for number, choice in enumerate(choices, start=1)
        if str(number).startswith(wanted) or choice.label.casefold().startswith(wanted)
    ]


async def suggest(
    coach: CoachPort,
    actor: Actor,
    line: str,
    choices: Sequence[Choice] = (),
    members: Sequence[str] = (),
) -> list[Candidate]:
    """What can follow ``line`` (the text before the cursor); ``members``: who ``/as`` can
    switch to (the members this console has typed as)."""
    if not line.startswith("/"):
        return [
            Candidate(str(number), len(line), f"{number}  {choice.label}")
            for number, choice in choice_matches(choices, line)
        ]
    words = line[1:].split(" ")
    if len(words) > 1 and words[0].lower() in CONSOLE_COMMANDS:
        return _console_values(words, members)
    table = coach.table
    spec, used = table.resolve([w.lower() for w in words[:-1]])
    if spec is None:
        return _names(coach, words)
    return await _option_values(coach, actor, spec, " ".join(words[used:]))


def _names(coach: CoachPort, words: list[str]) -> list[Candidate]:
    """Command names (``/pr`` → ``/practice``), then subcommands (``/practice st``)."""
    typed = words[-1].lower()
    if len(words) == 1:
        names = sorted({*coach.table.top_level_names(), *CONSOLE_COMMANDS})
        return [Candidate("/" + name, len(typed) + 1) for name in names if name.startswith(typed)]
    group = words[0].lower()
    return [
        Candidate(spec.path[-1], len(typed))
        for spec in coach.table.subcommands(group)
        if len(spec.path) == len(words) and spec.path[-1].startswith(typed)
    ]


def _console_values(words: list[str], members: Sequence[str]) -> list[Candidate]:
    """``/as NAME``: the members typed as so far (one word: a name has no spaces); ``/attach``
    takes a path, which Tab leaves to the user."""
    if words[0].lower() != "as" or len(words) != 2:
        return []
    typed = words[1]
    return [
        Candidate(name, len(typed))
        for name in dict.fromkeys(members)
        if name.casefold().startswith(typed.casefold())
    ]


async def _option_values(
    coach: CoachPort, actor: Actor, spec: CommandSpec, remainder: str
) -> list[Candidate]:
    """Values for the option the cursor is in (positional, as the console reads them)."""
    positional = [o for o in spec.options if o.kind is not OptionKind.ATTACHMENT]
    parts = remainder.split(" ")
    for index, option in enumerate(positional):
        last = option.rest or index == len(positional) - 1
        if not last and len(parts) > 1:
            parts = parts[1:]
            continue
        partial = " ".join(parts) if last else parts[0]
        if option.choices:
            return [
                Candidate(value, len(partial))
                for value in option.choices
                if value.startswith(partial)
            ]
        if option.kind is OptionKind.BOOLEAN:
            return [Candidate(v, len(partial)) for v in ("true", "false") if v.startswith(partial)]
        if option.completer is None:
            return []
        found = await coach.complete(actor, spec.path, option.name, partial)
        return [Candidate(s.value, len(partial), s.label or s.value) for s in found]
    return []


class CoachCompleter(Completer):
    """prompt_toolkit's view of :func:`suggest` (asynchronous: the coach runs on the same
    event loop as the prompt)."""

    def __init__(
        self,
        coach: CoachPort,
        actor: Callable[[], Actor],
        choices: Callable[[], Sequence[Choice]],
        members: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        self.coach = coach
        self.actor = actor
        self.choices = choices
        self.members = members

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        return []  # only the asynchronous path is used (prompt_async)

    async def get_completions_async(
        self, document: Document, complete_event: CompleteEvent
    ) -> AsyncGenerator[Completion, None]:
        line = document.text_before_cursor
        for candidate in await suggest(
            self.coach, self.actor(), line, self.choices(), self.members()
        ):
            yield Completion(
                candidate.text,
                start_position=-candidate.replace,
                display=candidate.display or None,
            )
