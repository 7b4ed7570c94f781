"""The store: one SQLite file holding people, their progress and their quiz history."""

from __future__ import annotations

from pathlib import Path

from bot.core.clock import Clock
from bot.store.db import Database
from bot.store.guilds import GuildRepo
from bot.store.live import LiveMessageRepo
from bot.store.meta import MetaRepo
from bot.store.practice import PracticeRepo
from bot.store.progress import ProgressRepo
from bot.store.quiz import QuizRepo
from bot.store.study import StudyRepo
from bot.store.users import UserRepo


class Store:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.users = UserRepo(db, clock)
        self.quiz = QuizRepo(db, clock)
        self.practice = PracticeRepo(db, clock)
        self.progress = ProgressRepo(db, clock)
        self.guilds = GuildRepo(db, clock)
        self.meta = MetaRepo(db)
        self.study = StudyRepo(db, clock)
        self.live_messages = LiveMessageRepo(db, clock)

    @classmethod
    async def open(
        cls,
        path: Path,
        clock: Clock,
        *,
        separate_reader: bool = True,
        backups: Path | None = None,
    ) -> Store:
        """Open (creating the folder and file) and migrate the database at ``path``, after a
        backup to ``backups`` if migrations are pending."""
        database = await Database.connect(
            Path(path), separate_reader=separate_reader, backups=backups
        )
        return cls(database, clock)

    async def close(self) -> None:
        await self.db.close()

    @property
    def path(self) -> Path:
        return self.db.path

    async def known_user_ids(self) -> set[str]:
        """Every user the store knows anything about."""
        return await self.users.known_user_ids()

    async def forget_user(self, user_id: str) -> bool:
        """Delete everything about ``user_id`` in every table; True if there was anything."""
        return await self.users.forget(user_id)

    async def integrity_check(self) -> str:
        return str(await self.db.scalar("PRAGMA integrity_check", (), "?"))
