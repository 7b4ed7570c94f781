"""Front-end-neutral replies.

A capability answers with :class:`Reply` s that carry **whole** content and its structure:
a title, a markdown body of any length, named fields, preformatted output (``code``) of any
length, files, an image, choices and a typed-answer prompt. Nothing here knows how big a
Discord message is or how wide a terminal is: each front end fits a reply to its own medium
(:mod:`bot.core.frontend` describes how). Capabilities never cut text to make it fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

ACTION_MAX = 99
"""The longest action string a choice or a prompt may carry.

Front ends carry an action verbatim in their own callback ids and cannot shorten it (a cut
id routes nowhere). 99 characters fit every front end we know: Discord's ``custom_id`` holds
100 with a one-character marker for prompts, Slack's ``action_id`` holds 255.
"""


class Tone(StrEnum):
    """How a reply should look: the colour of an embed, the marker in the console."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class ChoiceStyle(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    SUCCESS = "success"
    DANGER = "danger"


class Placement(StrEnum):
    """Where a reply goes, as far as the medium allows.

    ``NEW`` adds a message. ``REPLACE`` is the answer to a choice or a typed answer that
    should take the place of the message the choice was on (a quiz question becomes its
    graded version; a confirmation becomes its outcome): a front end that can edit messages
    edits that one, so its old choices stop being pressable; one that cannot (a terminal)
    shows the reply as a new message. The *leading* replies of a press marked ``REPLACE``
    take that place together (a graded answer and the next question: a quiz round lives in
    one message); a ``REPLACE`` after a ``NEW`` reply is shown as new.
    """

    NEW = "new"
    REPLACE = "replace"


@dataclass(frozen=True, slots=True)
class Field:
    """A named section of a reply (a hint, the examples, a table of contents entry)."""

    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class ReplyFile:
    filename: str
    data: bytes
    description: str = ""


def _check_action(action: str) -> None:
    if not action or len(action) > ACTION_MAX:
        raise ValueError(f"action must be 1 to {ACTION_MAX} characters: {action!r}")


@dataclass(frozen=True, slots=True)
class Choice:
    """A button (Discord) or a numbered option (console).

    ``action`` is a stable identifier that the core routes back to the capability that
    made the choice, even after a restart (see :data:`ACTION_MAX`). A ``disabled`` choice
    is shown but cannot be picked (an answered question keeps its options, greyed out).
    """

    label: str
    action: str
    style: ChoiceStyle = ChoiceStyle.SECONDARY
    disabled: bool = False

    def __post_init__(self) -> None:
        _check_action(self.action)


def spent(
    choices: tuple[Choice, ...],
    pressed: str | None = None,
    style: ChoiceStyle = ChoiceStyle.PRIMARY,
) -> tuple[Choice, ...]:
    """``choices`` once answered, to show on the reply that replaces them: every one disabled,
    the pressed one (by action) in ``style`` (green for right, red for wrong), the rest grey."""
    return tuple(
        replace(
            choice,
            disabled=True,
            style=style if choice.action == pressed else ChoiceStyle.SECONDARY,
        )
        for choice in choices
    )


@dataclass(frozen=True, slots=True)
class TextPrompt:
    """Ask the user to type an answer (a Discord form; the next line in the console)."""

    action: str
    label: str
    placeholder: str = ""

    def __post_init__(self) -> None:
        _check_action(self.action)


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer to the user, whole.

    * ``title``: a heading (content keeps titles short, but front ends still fit them).
    * ``body``: markdown of any length (``**bold**``, `` `code` ``, fenced blocks, lists).
    * ``fields``: named sections of any length, shown after the body in order.
    * ``code``: preformatted output (a docker CLI table, container logs) of any length, never
      cut by the capability; ``code_name`` is the file name a front end uses when it sends
      the output as a file (``docker-logs-web.txt``).
    * ``files`` and ``image``: attachments (an image is shown inline where the medium can).
    * ``choices`` and ``prompt``: what the user can do next (see :class:`Choice`).
    * ``footer``: a short note shown last.
    * ``tone``: colour or marker; ``private``: only the user who asked should see it.
    * ``placement``: a new message, or the message a choice was pressed on (:class:`Placement`).
    * ``meta``: facts for other capabilities' listeners (never shown).
    """

    body: str = ""
    title: str | None = None
    fields: tuple[Field, ...] = ()
    code: str | None = None
    code_name: str = "output.txt"
    files: tuple[ReplyFile, ...] = ()
    image: ReplyFile | None = None
    choices: tuple[Choice, ...] = ()
    prompt: TextPrompt | None = None
    footer: str | None = None
    tone: Tone = Tone.INFO
    private: bool = True
    placement: Placement = Placement.NEW
    meta: dict[str, str] = field(default_factory=dict, compare=False)

    def but(self, **changes: object) -> Reply:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def attachments(self) -> tuple[ReplyFile, ...]:
        """Every file the reply carries, its image last."""
        return (*self.files, self.image) if self.image is not None else self.files
