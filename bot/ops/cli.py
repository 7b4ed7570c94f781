"""``python -m bot db backup|restore|check`` and ``python -m bot health``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings

COMMANDS = ("db", "health")


def add_commands(sub: Any) -> None:
    """Add the operator commands to the ``python -m bot`` parser's subcommands."""
    db = sub.add_parser("db", help="back up, restore or check the database")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    backup = db_sub.add_parser("backup", help="copy the database to PATH (safe while the bot runs)")
    # A string, not a Path: a trailing slash ("/data/backups/") says "a folder" (Path drops it).
    backup.add_argument(
        "path", help="a new file, or a folder for a dated file (made if PATH ends with /)"
    )
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    restore = db_sub.add_parser(
        "restore", help="replace the database with the backup PATH (the bot must be stopped)"
    )
    restore.add_argument("path", type=Path, help="a file made by `db backup`")
    check = db_sub.add_parser("check", help="integrity check and schema version; exit 1 if not OK")
    for parser in (backup, restore, check):
        parser.add_argument(
            "--db", type=Path, default=None, help="SQLite file (default: in the data folder)"
        )

    sub.add_parser(
        "health",
        help="ask the running bot's /healthz (the container's health check); exit 1 if not ready",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "health":
        return _health(settings)
    from bot.store import maintenance

    try:
        if args.db_command == "backup":
            result = maintenance.backup(settings.database_path, args.path, overwrite=args.force)
            print(f"backed up to {result.path} ({result.size_bytes:,} bytes, "
                  f"schema version {result.version}, integrity {result.integrity})")  # fmt: skip
            return 0
        if args.db_command == "restore":
            result, safety = maintenance.restore(
                args.path, settings.database_path, settings.backup_dir
            )
            if safety is not None:
                print(f"the database it replaced was saved to {safety}")
            print(f"restored {args.path} to {settings.database_path}")
            print("\n".join(result.lines()))
            return 0 if result.ok else 1
        result = maintenance.check(settings.database_path)
        print("\n".join(result.lines()))
        return 0 if result.ok else 1
    except maintenance.MaintenanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _health(settings: Settings) -> int:
    from bot.ops.probe import report

    http = settings.http
    return report(http.host, http.port, timeout=http.probe_timeout_seconds + 2)
