"""The grammar's one exception: a command line the docker CLI would not accept either."""

from __future__ import annotations

from bot.core.errors import UserError


class CliError(UserError):
    """A command line that cannot be read; the key is ``cli.<problem>`` and the parameters
    name the flag or argument at fault."""


def bad_value(flag: str, value: str, kind: str) -> CliError:
    """``cli.bad_<kind>``: the message says what ``flag`` expects instead of ``value``."""
    return CliError("cli.bad_" + kind, flag=flag, value=value)
