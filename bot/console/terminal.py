"""What a terminal may be sent: text from sandboxes without its control sequences.

A learner's container can print anything, and a terminal obeys escape sequences: clear the
screen, move the cursor, set the window title, rewrite the clipboard (OSC 52), or hide text.
The console shows such output as text only: every ECMA-48 control sequence (CSI, OSC, DCS
and the other string sequences, two-character escapes), lone escapes and the C0/C1 control
characters are dropped; tabs and newlines stay, ``\\r\\n`` becomes ``\\n``. With colours on
(``--color``), SGR sequences (``ESC [ … m``: colours and bold) are kept, and the colours
are reset at the end so that they never leak into the console's own lines.
"""

from __future__ import annotations

import re

_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: cursor, erase, modes, SGR …
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks, the clipboard
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC: strings up to ST
    r"|\x1b[ -/]*[0-~]"  # other escapes (character sets, keypad, reset)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # the same as 8-bit C1 controls: CSI,
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"  # OSC,
    r"|[\x90\x98\x9e\x9f][^\x9c]*\x9c?"  # DCS, SOS, PM, APC
    r"|\x1b"  # a lone escape
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # C0 and C1 controls (but tab and newline)
)
RESET = "\x1b[0m"


def clean(text: str, colours: bool = False) -> str:
    """``text`` safe to print: control sequences dropped (SGR kept when ``colours``)."""
    if "\x1b" not in text and not any(
        (ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F for c in text
    ):
        return text
    kept = False

    def keep(match: re.Match[str]) -> str:
        nonlocal kept
        if colours and _SGR.fullmatch(match.group(0)):
            kept = True
            return match.group(0)
        return ""

    cleaned = _CONTROL.sub(keep, text.replace("\r\n", "\n"))
    return cleaned + RESET if kept else cleaned
