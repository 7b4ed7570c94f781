"""Discord's limits, in one place, and helpers that fit text into them.

These are Discord's rules, not the coach's: capabilities answer with whole text, and the
Discord front end (:mod:`bot.discordbot.render`, the slash builder, the views) makes it fit,
splitting where it can and cutting only its own short labels.
"""

from __future__ import annotations

MESSAGE_CONTENT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_TOTAL = 6000  # every embed of one message together
EMBEDS_PER_MESSAGE = 10
FILES_PER_MESSAGE = 10
BUTTONS_PER_MESSAGE = 25  # five rows of five
BUTTON_LABEL = 80
CUSTOM_ID = 100
AUTOCOMPLETE_CHOICES = 25
CHOICE_NAME = 100  # an autocomplete or option choice: its name and its value
COMMAND_DESCRIPTION = 100
MODAL_TITLE = 45
INPUT_LABEL = 45
INPUT_PLACEHOLDER = 100
ATTACHMENT_BYTES = 10 * 1024 * 1024  # the default; ``Interaction.filesize_limit`` is exact

FENCE = "```"


def cut(text: str, limit: int, note: str = "…") -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with ``note`` when cut.

    Only for the front end's own short labels (a button, a command description); a reply's
    content is split (:func:`split_markdown`) or sent as a file, never cut.
    """
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(note))
    return text[:keep] + note


def head_lines(text: str, max_chars: int, max_lines: int) -> tuple[str, int]:
    """The first whole lines of ``text`` within ``max_chars`` and ``max_lines``, and how many.

    A first line longer than ``max_chars`` is cut, so that a head is never empty.
    """
    kept: list[str] = []
    size = 0
    for line in text.split("\n", max_lines)[:max_lines]:  # never splits the rest of it
        extra = len(line) + (1 if kept else 0)
        if size + extra > max_chars:
            if not kept:
                kept.append(line[:max_chars])
            break
        kept.append(line)
        size += extra
    return "\n".join(kept), len(kept)


def _is_fence(line: str) -> bool:
    return line.lstrip().startswith(FENCE)


def split_markdown(text: str, limit: int) -> list[str]:
    """Split markdown into pieces of at most ``limit`` characters, losing nothing.

    Pieces end at line breaks where possible; a line longer than a piece is broken inside.
    A fenced code block that spans pieces is closed at the end of one and reopened (with its
    language) at the start of the next, so every piece renders on its own.
    """
    if len(text) <= limit:
        return [text]
    if limit < 4 * len(FENCE) + 8:
        raise ValueError(f"limit {limit} is too small to split markdown")
    pieces: list[str] = []
    lines: list[str] = []
    size = 0
    fence: str | None = None  # the opening line of the code block we are in

    def close_piece() -> None:
        nonlocal lines, size
        if fence is not None:
            lines.append(FENCE)
        pieces.append("\n".join(lines))
        lines = [fence] if fence is not None else []
        size = len(fence) if fence is not None else 0

    def only_reopened() -> bool:
        return not lines or (fence is not None and lines == [fence])

    for raw in text.split("\n"):
        line = raw
        after = (None if fence is not None else line.strip()) if _is_fence(line) else fence
        while True:
            closing = len(FENCE) + 1 if after is not None else 0
            need = len(line) + (1 if lines else 0)
            if size + need + closing <= limit:
                lines.append(line)
                size += need
                break
            if not only_reopened():
                close_piece()
                continue
            # One line longer than a whole piece: break it.
            room = max(1, limit - size - (1 if lines else 0) - (len(FENCE) + 1 if fence else 0))
            lines.append(line[:room])
            size += room + (1 if len(lines) > 1 else 0)
            line = line[room:]
            close_piece()
        fence = after
    if not only_reopened():
        pieces.append("\n".join(lines))
    return [piece for piece in pieces if piece.strip()]


def fit_bytes(data: bytes, limit: int) -> bytes:
    """The start of ``data`` within ``limit`` bytes, ending at a line break when there is one
    (and never inside a UTF-8 character)."""
    if len(data) <= limit:
        return data
    head = data[:limit]
    newline = head.rfind(b"\n")
    if newline > 0:
        return head[: newline + 1]
    return head.decode("utf-8", "ignore").encode("utf-8")
