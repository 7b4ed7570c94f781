"""Read commands from a terminal (or a pipe), print the coach's replies."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot import __version__
from bot.coach import Coach
from bot.console.parsing import LineError, parse_line
from bot.core.context import Actor, Upload
from bot.core.i18n import Translator
from bot.core.reply import Choice, Reply, ReplyFile, TextPrompt, Tone

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ESCAPED = re.compile(r"\\([\\*_~`|>#\[\]()])")
_MARK = {Tone.INFO: "", Tone.SUCCESS: "✔ ", Tone.WARNING: "! ", Tone.ERROR: "✖ "}
QUIT = {"/quit", "/exit"}


def _plain(markdown: str) -> str:
    """Drop bold markers and markdown escapes, which a terminal would show literally."""
    return _ESCAPED.sub(r"\1", _BOLD.sub(r"\1", markdown))


class ConsoleRenderer:
    """Prints replies as plain text; files go to a downloads folder."""

    def __init__(self, out: TextIO, downloads: Path, tr: Translator) -> None:
        self.out = out
        self.downloads = downloads
        self.tr = tr  # the console's language, for the lines it adds itself

    def _print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def render(self, reply: Reply, number_from: int = 1) -> list[str]:
        """Print one reply; return the lines describing saved files."""
        if reply.title:
            self._print(f"{_MARK[reply.tone]}== {_plain(reply.title)} ==")
        elif reply.tone in (Tone.ERROR, Tone.WARNING, Tone.SUCCESS):
            self.out.write(_MARK[reply.tone])
        if reply.body:
            self._print(_plain(reply.body.rstrip()))
        for field in reply.fields:
            self._print(f"-- {field.name} --")
            self._print(_plain(field.value.rstrip()))
        if reply.code is not None:
            self._print(reply.code.rstrip("\n"))
        saved = [self._save(f) for f in (*reply.files, *([reply.image] if reply.image else []))]
        for number, choice in enumerate(reply.choices, start=number_from):
            self._print(f"  [{number}] {choice.label}")
        if reply.footer:
            self._print(f"({reply.footer})")
        return saved

    def _save(self, file: ReplyFile) -> str:
        self.downloads.mkdir(parents=True, exist_ok=True)
        target = self.downloads / Path(file.filename).name
        target.write_bytes(file.data)
        self._print(self.tr("general.console_saved", name=file.filename, path=target))
        return str(target)


class Console:
    def __init__(
        self,
        coach: Coach,
        actor: Actor,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.coach = coach
        self.actor = actor
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.locale = actor.locale  # follows /language (see :meth:`handle`)
        self.renderer = ConsoleRenderer(
            self.stdout, coach.settings.data_dir / "downloads", coach.translator(self.locale)
        )
        self.choices: list[Choice] = []
        self.prompt: TextPrompt | None = None
        self.uploads: list[Upload] = []

    def tr(self, key: str, **params: object) -> str:
        return self.coach.translator(self.locale)(key, **params)

    async def run(self) -> int:
        if self.interactive:
            self._enable_line_editing()
            self.stdout.write(self.tr("general.console_welcome", version=__version__) + "\n")
        while True:
            line = await self._read_line()
            if line is None:
                break
            if line.strip() in QUIT:
                break
            await self.handle(line)
        return 0

    async def _read_line(self) -> str | None:
        if self.interactive:
            try:
                return await asyncio.to_thread(input, "coach> ")
            except EOFError:
                return None
        line = await asyncio.to_thread(self.stdin.readline)
        return line.rstrip("\n") if line else None

    def _enable_line_editing(self) -> None:
        try:
            import readline
        except ImportError:  # pragma: no cover - not on every platform
            return
        history = self.coach.settings.data_dir / "console_history"
        try:
            history.parent.mkdir(parents=True, exist_ok=True)
            if history.exists():
                readline.read_history_file(history)
            import atexit

            atexit.register(readline.write_history_file, history)
        except OSError:
            pass
        names = [f"/{spec.name}" for spec in self.coach.table.all()]

        def complete(text: str, state: int) -> str | None:
            matches = [n for n in names if n.startswith(text)]
            return matches[state] if state < len(matches) else None

        readline.set_completer(complete)
        readline.set_completer_delims(" ")
        readline.parse_and_bind("tab: complete")

    async def handle(self, line: str) -> None:
        text = line.strip()
        if not text or text.startswith("#"):
            return
        await self._follow_language()
        if self.prompt is not None and not text.startswith("/"):
            prompt, self.prompt = self.prompt, None
            self.show(await self.coach.press(self._actor(), prompt.action, text))
            return
        if text.isdigit():
            await self._choose(int(text))
            return
        command, _, rest = text.partition(" ")
        if command == "/attach":
            self._attach(rest.strip())
            return
        try:
            parsed = parse_line(self.coach.table, text)
        except LineError as exc:
            self.stdout.write(f"✖ {self.tr(exc.key, **exc.params)}\n")
            return
        actor = self._actor(consume_uploads=True)
        self.show(await self.coach.run(actor, parsed.spec.path, parsed.options))

    async def _choose(self, number: int) -> None:
        if not 1 <= number <= len(self.choices):
            self.stdout.write(f"✖ {self.tr('general.console_no_choice', number=number)}\n")
            return
        choice = self.choices[number - 1]
        self.show(await self.coach.press(self._actor(), choice.action))

    async def _follow_language(self) -> None:
        """Speak the language the user chose with /language (the store remembers it)."""
        locale = (await self.coach.localize(self.actor)).locale
        if locale != self.locale:
            self.locale = locale
            self.renderer.tr = self.coach.translator(locale)

    def _attach(self, raw: str) -> None:
        if not raw:
            self.stdout.write(f"✖ {self.tr('general.console_attach_usage')}\n")
            return
        path = Path(os.path.expanduser(raw))
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.stdout.write(
                f"✖ {self.tr('general.console_no_file', path=raw, reason=exc.strerror)}\n"
            )
            return

        async def read(data: bytes = data) -> bytes:
            return data

        self.uploads.append(Upload(path.name, len(data), read))
        self.stdout.write(
            self.tr("general.console_attached", name=path.name, size=len(data)) + "\n"
        )

    def _actor(self, consume_uploads: bool = False) -> Actor:
        uploads = tuple(self.uploads)
        if consume_uploads:
            self.uploads.clear()
        return Actor(
            self.actor.user_id,
            self.actor.display_name,
            self.actor.guild_id,
            self.actor.locale,
            self.actor.is_admin,
            uploads if consume_uploads else (),
        )

    def show(self, replies: Sequence[Reply]) -> None:
        new_choices: list[Choice] = []
        for reply in replies:
            self.renderer.render(reply, number_from=len(new_choices) + 1)
            new_choices.extend(reply.choices)
            if reply.prompt is not None:
                self.prompt = reply.prompt
                self.stdout.write(f"> {reply.prompt.label} ({self.tr('general.console_answer')})\n")
        if new_choices:
            self.stdout.write(self.tr("general.console_choose") + "\n")
        if new_choices or replies:
            self.choices = new_choices
        self.stdout.flush()


async def run_console(coach: Coach, actor: Actor, **kwargs: object) -> int:
    console = Console(coach, actor, **kwargs)  # type: ignore[arg-type]
    return await console.run()
