"""The seam between the coach and a medium: what a front end is and what it must do.

A front end (the terminal console, Discord; tomorrow Slack or a web page) is a translator
between a medium and the coach. It never reaches into a capability: everything it needs is
:class:`CoachPort` (four calls and the command table), :class:`~bot.core.reply.Reply` and
:class:`~bot.core.context.Actor`. A new front end is one new package; no capability changes.

Input, from the medium to the coach
-----------------------------------
* **Who**: every event becomes an :class:`~bot.core.context.Actor`: a stable ``user_id``
  (a string, unique within the medium), a ``display_name``, a ``guild_id`` that scopes
  progress and leaderboards (a server, a workspace, a course; the console uses ``console``),
  the medium's ``locale`` (the coach swaps in the language the user chose), ``is_admin``
  (may manage the group) and ``uploads`` (files sent with this command, read lazily).
* **Commands**: the front end reads a command path and options (a console line, a slash
  command, a form) against :attr:`CoachPort.table` (names, option kinds, choices, which
  option takes "the rest of the line") and calls :meth:`CoachPort.run`. The table is the
  single declaration of commands, so front ends cannot drift apart.
* **Choices and typed answers**: a :class:`~bot.core.reply.Choice` carries an ``action``; a
  press is :meth:`CoachPort.press` with that action. A :class:`~bot.core.reply.TextPrompt`
  asks for text; the answer is ``press(actor, prompt.action, text)``. Actions are routed by
  the coach and stay valid after a restart: a front end may store them in its own ids.
* **Autocomplete**: :meth:`CoachPort.complete` while the user types an option that has a
  completer; it never raises and returns at most
  :data:`~bot.core.commands.MAX_SUGGESTIONS` suggestions. The front end fits labels and
  values to its medium; it must never shorten a *value* (a cut value is another command).

Output, from the coach to the medium
------------------------------------
``run`` and ``press`` return replies in the order they should be shown. A front end shows
every part of each reply, **whole**; when the medium has limits, it fits, it does not drop:

* ``title``, ``body`` (markdown), ``fields``, ``footer``: long text goes over several
  messages or into a file rather than being cut; markdown that the medium cannot show is
  rendered plainly (the console prints ``**x**`` as ``x``).
* ``code``: preformatted, shown whole (the console pages it on a terminal); where it does not
  fit a message, it is sent as a file named ``code_name`` with its first lines shown.
* ``files`` and ``image``: attached, or saved where the user can open them.
* ``choices`` and ``prompt``: buttons and a form, or numbered options and "type your answer".
  A ``disabled`` choice is shown, not pressable.
* moments: text may hold :func:`~bot.core.moments.moment` markers (a due time, when a
  sandbox stops); the front end shows each in its reader's time zone (Discord: its own
  timestamps; the console: the terminal's local zone), never as the marker.
* ``tone``: a colour or a marker. ``private``: only the asking user sees the reply, when
  the medium can whisper; a medium without an audience (a terminal) ignores it.
* ``placement``: :attr:`~bot.core.reply.Placement.REPLACE` edits the message the choice came
  from where the medium can edit, and is shown as a new message elsewhere.

Time
----
Some mediums must acknowledge an event within a deadline (Discord: 3 s; Slack: 3 s). A
command whose :attr:`~bot.core.commands.CommandSpec.touches_worker` is set may take
seconds (Docker, disk): acknowledge at once ("thinking…"), then deliver. Anything else may
be answered directly when it finishes in time, and acknowledged when it does not.
Visibility must be decided *before* acknowledging (from the command and any ``share``
option the front end offers), since some mediums fix it at acknowledgement.

Messages that change
--------------------
The leading replies to a press may take the place of the message the press came from
(:attr:`~bot.core.reply.Placement.REPLACE`; spent choices come back ``disabled``, see
:func:`~bot.core.reply.spent`): a medium that can edit puts them in that message, in the
answer to the press itself, which is why such a press should be acknowledged as "updating"
rather than "thinking" when it is slow. The other replies to a press are for the presser
alone: a medium with an audience shows them privately, so that pressing the buttons of a
public message never posts to everyone. Messages the
coach posts on its own and edits over time (a channel's live scoreboard, a group's practice
board) will come through the same replies, addressed by a stable key that the front end maps
to the message it posted; none exists yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from bot.core.commands import CommandTable, Suggestion
from bot.core.context import Actor
from bot.core.i18n import Translator
from bot.core.reply import Reply

SourceT_contra = TypeVar("SourceT_contra", contravariant=True)


class CoachPort(Protocol):
    """What a front end may use of the coach: the command table and four calls."""

    @property
    def table(self) -> CommandTable:
        """Every command, with its options, as the capabilities registered them."""
        ...

    async def run(
        self, actor: Actor, path: Sequence[str], options: dict[str, Any] | None = None
    ) -> list[Reply]:
        """Run a command; user mistakes and failures come back as error replies."""
        ...

    async def press(self, actor: Actor, action: str, value: str | None = None) -> list[Reply]:
        """A choice pressed (``value`` is None) or a prompt answered (``value`` is the text)."""
        ...

    async def complete(
        self, actor: Actor, path: Sequence[str], option: str, partial: str
    ) -> list[Suggestion]:
        """Suggestions for an option while the user types it."""
        ...

    async def localize(self, actor: Actor) -> Actor:
        """The actor in the language they chose (for the front end's own lines)."""
        ...

    def translator(self, locale: str) -> Translator:
        """Messages in ``locale``, for text the front end adds itself."""
        ...


@runtime_checkable
class Frontend(Protocol[SourceT_contra]):
    """A medium's translator. ``Source`` is what one event arrived on and what its replies
    go back to: a Discord interaction, the console's terminal, a Slack request, a web
    request. The event loop that reads the medium (a gateway, stdin, HTTP) is the front
    end's own; these two methods are what every front end has in common."""

    def actor(self, source: SourceT_contra) -> Actor:
        """Who sent the event, in the medium's terms (see "Who" above)."""
        ...

    async def present(self, source: SourceT_contra, replies: Sequence[Reply]) -> None:
        """Show ``replies`` to the user of ``source``, whole, fitted to the medium."""
        ...
