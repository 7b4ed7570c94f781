"""How the docker CLI lays values out: tabwriter columns, human times and sizes, ellipses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


def table(rows: Sequence[Sequence[str]], *, min_width: int = 10, padding: int = 3) -> str:
    """Lay ``rows`` out in columns like Go's tabwriter (the last column is not padded)."""
    if not rows:
        return ""
    columns = max(len(row) for row in rows)
    widths = [0] * columns
    for row in rows:
        for index, cell in enumerate(row[:-1]):
            widths[index] = max(widths[index], len(cell) + padding, min_width)
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append(("".join(cells) + (row[-1] if row else "")).rstrip())
    return "\n".join(lines)


def human_duration(seconds: float) -> str:
    """go-units ``HumanDuration``: "5 seconds", "About a minute", "2 hours", "3 weeks"."""
    if seconds < 1:
        return "Less than a second"
    if int(seconds) == 1:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600 / 24 / 365)} years"


def ago(moment: datetime | None, now: datetime) -> str:
    """``2 minutes ago`` (empty when the moment is unknown)."""
    if moment is None:
        return ""
    return human_duration(max(0.0, (now - moment).total_seconds())) + " ago"


_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def _scaled(size: float, base: float, units: tuple[str, ...]) -> tuple[float, str]:
    index = 0
    while size >= base and index < len(units) - 1:
        size /= base
        index += 1
    return size, units[index]


def _go_g(value: float, precision: int) -> str:
    return f"{value:.{precision}g}"


def human_size(size: float, precision: int = 3) -> str:
    """Decimal units like ``docker images``: "4.26MB", "187MB", "0B"."""
    value, unit = _scaled(float(size), 1000.0, _DECIMAL)
    return _go_g(value, precision) + unit


def binary_size(size: float) -> str:
    """Binary units like ``docker stats``: "1.523MiB", "128MiB"."""
    value, unit = _scaled(float(size), 1024.0, _BINARY)
    return _go_g(value, 4) + unit


def ellipsis(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters, the last one an ellipsis (like the docker CLI)."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"
