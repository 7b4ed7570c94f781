"""``/help``: every command with its description, in the user's language."""

from __future__ import annotations

from bot.core.commands import MAX_SUGGESTIONS, CommandSpec, OptionSpec, Request, Suggestion
from bot.core.errors import UserError
from bot.core.registry import Registry
from bot.core.reply import Field, Reply


def _usage(spec: CommandSpec) -> str:
    parts = ["/" + spec.name]
    for option in spec.options:
        parts.append(f"<{option.name}>" if option.required else f"[{option.name}]")
    return " ".join(parts)


def register(app: Registry) -> None:
    table = app.table

    async def help_command(request: Request) -> Reply:
        tr = request.tr
        wanted = str(request.opt("command", "")).strip().lstrip("/")
        specs = [s for s in table.all() if not s.admin_only or request.actor.is_admin]
        if wanted:
            specs = [s for s in specs if s.name == wanted or s.path[0] == wanted]
            if not specs:
                raise UserError("general.unknown_command", command="/" + wanted)
        groups: dict[str, list[str]] = {}
        for spec in specs:
            line = f"`{_usage(spec)}` — {tr(spec.key + '.description')}"
            groups.setdefault(spec.path[0], []).append(line)
        fields = [Field("/" + name, "\n".join(lines)) for name, lines in groups.items()]
        return Reply(
            title=tr("general.help_title"),
            body=tr("general.help_intro"),
            fields=tuple(fields),
        )

    async def complete_command(_request: Request, partial: str) -> list[Suggestion]:
        names = sorted({s.path[0] for s in table.all() if not s.admin_only})
        return [Suggestion("/" + n, n) for n in names if partial.lstrip("/").lower() in n][
            :MAX_SUGGESTIONS
        ]

    table.add(
        CommandSpec(("help",), help_command, (OptionSpec("command", completer=complete_command),))
    )
