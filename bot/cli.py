"""``python -m bot``: console, run, sync, content check, content coverage."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.core.errors import ConfigError
from bot.ops import cli as ops_cli
from bot.settings import Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Docker Coach: learn Docker on Discord or in a terminal.",
        epilog="COACH_* environment variables override the settings file; DISCORD_TOKEN "
        "gives the bot token. Try it first with: python -m bot console",
    )
    parser.add_argument(
        "--settings",
        type=Path,
        help="YAML settings file (default: $COACH_SETTINGS, else built-in defaults)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    console = sub.add_parser("console", help="the coach in a terminal, no Discord needed")
    console.add_argument(
        "--user", default=None, help="your name in the console (default: your login)"
    )
    console.add_argument(
        "--locale", choices=("en", "ko"), default=None, help="reply language (default: settings)"
    )
    console.add_argument(
        "--db", type=Path, default=None, help="SQLite file (default: in the data folder)"
    )
    console.add_argument(
        "--guild", default="console", help="the server your progress is kept under"
    )
    console.add_argument(
        "--instance",
        default=None,
        help="sandbox instance on the worker (default: the database's own; a console next to "
        "the running bot, on its database, needs one of its own, e.g. --instance console)",
    )
    console.add_argument(
        "--log-file",
        type=Path,
        default=None,
        help="where the coach's log goes (default: console.log beside the database); the "
        "terminal shows only the coach's answers",
    )
    console.add_argument(
        "--admin", action="store_true", help="act as a server manager (allows /admin commands)"
    )
    console.add_argument(
        "--color",
        dest="colours",
        action="store_true",
        help="keep the colours of sandbox output (other terminal control sequences are "
        "always removed)",
    )
    console.add_argument(
        "--no-pager",
        dest="pager",
        action="store_false",
        help="never page long answers (default: page them through $PAGER or less on a terminal)",
    )

    run = sub.add_parser("run", help="run the Discord bot (needs a token)")
    run.add_argument(
        "--db", type=Path, default=None, help="SQLite file (default: in the data folder)"
    )

    sync = sub.add_parser("sync", help="register the slash commands with Discord")
    where = sync.add_mutually_exclusive_group()
    where.add_argument(
        "--guild",
        type=int,
        default=None,
        help="server id: register there only (shows at once); default: every server "
        "(takes up to an hour)",
    )
    where.add_argument(
        "--clear-guild",
        type=int,
        default=None,
        metavar="GUILD",
        help="server id: remove the commands registered there only (after a server sync and a "
        "global one, every command shows twice there)",
    )

    content = sub.add_parser("content", help="check the content files or show their coverage")
    content_sub = content.add_subparsers(dest="content_command", required=True, metavar="ACTION")
    check = content_sub.add_parser("check", help="validate all content; list every problem")
    check.add_argument(
        "--content", type=Path, default=None, help="content folder (default: settings)"
    )
    coverage = content_sub.add_parser(
        "coverage", help="which content covers each part of the seed text"
    )
    coverage.add_argument(
        "--content", type=Path, default=None, help="content folder (default: settings)"
    )
    ops_cli.add_commands(sub)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.settings)
    db = getattr(args, "db", None)
    if db:
        settings = settings.with_overrides(database=db)
    instance = getattr(args, "instance", None)
    if instance:
        sandbox = settings.sandbox.model_dump(exclude_unset=True)
        sandbox["instance"] = instance  # validated like the setting
        settings = settings.with_overrides(sandbox=sandbox)
    return settings


def _console_settings(settings: Settings) -> Settings:
    """The console is a few people at one terminal: no warm pool of sandboxes kept ready for
    a class, unless the settings ask for one."""
    workers = tuple(
        w if "warm_pool" in w.model_fields_set else w.model_copy(update={"warm_pool": 0})
        for w in settings.sandbox.workers
    )
    sandbox = settings.sandbox.model_copy(update={"workers": workers})
    return settings.model_copy(update={"sandbox": sandbox})


def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.coach import Coach
    from bot.console.app import run_console
    from bot.core.context import Actor
    from bot.ops.shutdown import Stopped, StopSignals, run_until_stopped

    settings = _console_settings(settings)

    name = args.user or getpass.getuser() or "learner"
    actor = Actor(
        user_id=name,
        display_name=name,
        guild_id=args.guild,
        locale=args.locale or settings.default_locale,
        is_admin=args.admin,
    )

    async def main() -> int:
        with StopSignals() as signals:
            try:
                coach = await signals.unless_stopped(Coach.open(settings))
            except Stopped:
                return 0
            async with coach:
                return await run_until_stopped(
                    run_console(coach, actor, pager=args.pager, colours=args.colours),
                    coach.gate,
                    settings.shutdown_grace_seconds,
                    signals=signals,
                )

    return asyncio.run(main())


def _content_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.coach import content_registry

    root = args.content or settings.content_dir
    registry = content_registry(settings)
    library, problems = registry.check(root)
    for warning in registry.warnings(library):
        print(f"warning: {warning}")
    if problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) in {root}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{count} {kind}" for kind, count in library.counts().items())
    print(f"content OK: {counts}")
    return 0


def _content_coverage(args: argparse.Namespace, settings: Settings) -> int:
    from bot.coach import content_registry

    report, status = content_registry(settings).coverage_report(
        args.content or settings.content_dir
    )
    print(report)
    return status


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.discord.token:
        print(
            "No Discord token: set DISCORD_TOKEN or discord.token in the settings file.",
            file=sys.stderr,
        )
        return 2
    from bot.discordbot.runner import run_bot

    return run_bot(settings)


def _sync(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.discord.token:
        print("No Discord token: set DISCORD_TOKEN to register commands.", file=sys.stderr)
        return 2
    from bot.discordbot.runner import sync_commands

    return sync_commands(settings, args.guild, clear=args.clear_guild)


def _log_file(args: argparse.Namespace, settings: Settings) -> Path | None:
    """Where the log goes instead of stderr: the console's terminal is the learner's, so its
    log goes to a file (``--log-file``, else ``console.log`` beside the database)."""
    if args.command != "console":
        return None
    return args.log_file or settings.database_path.with_name("console.log")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
        from bot.core.logs import configure_logging

        log_file = _log_file(args, settings)
        quiet = args.command not in ("run", "sync") and log_file is None
        try:
            configure_logging(
                "WARNING" if quiet else settings.log_level, settings.log_format, file=log_file
            )
        except OSError as exc:
            print(f"Cannot write the log to {log_file}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        if args.command == "console":
            return _console(args, settings)
        if args.command == "run":
            return _run(args, settings)
        if args.command == "sync":
            return _sync(args, settings)
        if args.command in ops_cli.COMMANDS:
            return ops_cli.run(args, settings)
        if args.content_command == "check":
            return _content_check(args, settings)
        return _content_coverage(args, settings)
    except ConfigError as exc:
        print("Cannot start: invalid settings or content:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
