"""Front-end-neutral replies: the console prints them, the Discord layer turns them into
embeds, buttons, modals and files."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


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


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class ReplyFile:
    filename: str
    data: bytes
    description: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    """A button (Discord) or a numbered option (console).

    ``action`` is a stable identifier (a Discord ``custom_id``, at most 100 characters)
    that the core routes back to the capability that made the choice, even after a restart.
    """

    label: str
    action: str
    style: ChoiceStyle = ChoiceStyle.SECONDARY

    def __post_init__(self) -> None:
        if len(self.action) > 100:
            raise ValueError(f"choice action too long ({len(self.action)} > 100): {self.action}")


@dataclass(frozen=True, slots=True)
class TextPrompt:
    """Ask the user to type an answer (a Discord modal; the next line in the console)."""

    action: str
    label: str
    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the user.

    ``body`` is markdown (at most an embed description); ``code`` is preformatted output
    such as a docker CLI table, which each front end fits to its own limits (a code block,
    or a file when it is too long). ``private`` replies are only shown to the user who asked.
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
    meta: dict[str, str] = field(default_factory=dict, compare=False)

    def but(self, **changes: object) -> Reply:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]
