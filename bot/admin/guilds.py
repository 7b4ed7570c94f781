"""Per-server choices (the practice channel), kept in a small JSON file in the data folder.

These are settings of a server, not facts about people, so they stay out of the learning
database; writes are atomic (write a temporary file, then rename).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("bot.admin.guilds")


class GuildSettings:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    async def _load(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            self._data = await asyncio.to_thread(self._read)
        return self._data

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("unreadable server settings; starting empty", extra={"error": str(exc)})
            return {}
        return {str(k): dict(v) for k, v in raw.items() if isinstance(v, dict)}

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)

    async def get(self, guild_id: str, key: str) -> Any:
        return (await self._load()).get(guild_id, {}).get(key)

    async def set(self, guild_id: str, key: str, value: Any) -> None:
        async with self._lock:
            data = dict(await self._load())
            entry = dict(data.get(guild_id, {}))
            if value is None:
                entry.pop(key, None)
            else:
                entry[key] = value
            if entry:
                data[guild_id] = entry
            else:
                data.pop(guild_id, None)
            await asyncio.to_thread(self._write, data)
            self._data = data
