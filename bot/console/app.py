"""Read commands from a terminal (or a pipe), print the coach's replies.

The console is a :class:`bot.core.frontend.Frontend`: one user at one terminal. Replies are
printed whole; on an interactive terminal, an answer taller than the screen goes through a
pager (``$PAGER``, else ``less``), and when the output is piped it is always written whole.
Everything printed goes through :func:`bot.console.terminal.clean`: a container's output
cannot drive the terminal (colours are kept only with ``--color``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot import __version__
from bot.coach import Coach
from bot.console.completion import CONSOLE_COMMANDS, choice_matches
from bot.console.parsing import LineError, parse_line
from bot.console.prompt import PromptSession, prompt_session
from bot.console.terminal import clean
from bot.core.context import Actor, Upload
from bot.core.frontend import Frontend
from bot.core.i18n import Translator
from bot.core.moments import in_zone, render_moments
from bot.core.posts import Post
from bot.core.reply import Choice, Reply, ReplyFile, TextPrompt, Tone
from bot.ops.shutdown import blocking_read

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ESCAPED = re.compile(r"\\([\\*_~`|>#\[\]()])")
_MARK = {Tone.INFO: "", Tone.SUCCESS: "✔ ", Tone.WARNING: "! ", Tone.ERROR: "✖ "}
QUIT = {"/quit", "/exit"}
DEFAULT_PAGER = "less"
LESS_OPTIONS = "-FRX"  # quit when it fits, keep colours, leave the text on the screen


@dataclass(frozen=True, slots=True)
class Turn:
    """One line typed at the console: the source of a command's replies."""

    uploads: tuple[Upload, ...] = ()


def _plain(markdown: str) -> str:
    """Drop bold markers and markdown escapes, which a terminal would show literally; show
    moments in the terminal's local time zone."""
    return local_moments(_ESCAPED.sub(r"\1", _BOLD.sub(r"\1", markdown)))


def local_moments(text: str) -> str:
    """Moments (:func:`bot.core.moments.moment`) in the machine's local time zone."""
    return render_moments(text, in_zone)


class ConsoleRenderer:
    """Prints replies as plain text; files go to a downloads folder."""

    def __init__(self, out: TextIO, downloads: Path, tr: Translator, colours: bool = False) -> None:
        self.out = out
        self.downloads = downloads
        self.tr = tr  # the console's language, for the lines it adds itself
        self.colours = colours  # keep the colours of sandbox output

    def _print(self, text: str = "") -> None:
        self.out.write(clean(text, self.colours) + "\n")

    def render(self, reply: Reply, number_from: int = 1) -> list[str]:
        """Print one reply whole, numbering its choices from ``number_from`` (disabled ones
        are shown without a number); return the lines describing saved files."""
        if reply.title:
            self._print(f"{_MARK[reply.tone]}== {_plain(reply.title)} ==")
        elif reply.tone in (Tone.ERROR, Tone.WARNING, Tone.SUCCESS):
            self.out.write(_MARK[reply.tone])  # the line that follows ends it
        if reply.body:
            self._print(_plain(reply.body.rstrip()))
        for field in reply.fields:
            self._print(f"-- {local_moments(field.name)} --")
            self._print(_plain(field.value.rstrip()))
        if reply.code is not None:
            self._print(reply.code.rstrip("\n"))
        saved = [self._save(f) for f in reply.attachments()]
        number = number_from
        for choice in reply.choices:
            if choice.disabled:
                self._print(f"  [-] {choice.label}")
                continue
            self._print(f"  [{number}] {choice.label}")
            number += 1
        if reply.footer:
            self._print(f"({local_moments(reply.footer)})")
        return saved

    def _save(self, file: ReplyFile) -> str:
        self.downloads.mkdir(parents=True, exist_ok=True)
        target = self.downloads / Path(file.filename).name
        target.write_bytes(file.data)
        self._print(self.tr("general.console_saved", name=file.filename, path=target))
        return str(target)


class Console(Frontend[Turn]):
    """The terminal front end: one user, one line at a time."""

    def __init__(
        self,
        coach: Coach,
        actor: Actor,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        interactive: bool | None = None,
        pager: bool = True,
        colours: bool = False,
    ) -> None:
        self.coach = coach
        self.user = actor
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.pager = pager and self.interactive and _isatty(self.stdout)
        self.locale = actor.locale  # follows /language (see :meth:`handle`)
        self.renderer = ConsoleRenderer(
            self.stdout,
            coach.settings.data_dir / "downloads",
            coach.translator(self.locale),
            colours,
        )
        self.choices: list[Choice] = []
        self.prompt: TextPrompt | None = None
        self.uploads: list[Upload] = []
        self.session: PromptSession[str] | None = None
        self.original = actor  # who started the console (/as switches the acting member)
        self.members = [actor.user_id]  # everyone typed as so far (what Tab offers after /as)
        # The channel's open question (a study round): anyone may answer it after /as.
        self.channel_choices: list[Choice] = []
        self.channel_prompt: TextPrompt | None = None
        self.channel_key: str | None = None
        self._unsubscribe = coach.posts.subscribe(self.on_post)

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
        self.close()
        return 0

    def close(self) -> None:
        """Stop showing the channel's posts."""
        self._unsubscribe()

    async def _read_line(self) -> str | None:
        if self.session is not None:
            try:
                line: str = await self.session.prompt_async("coach> ")
            except EOFError:
                return None
            except KeyboardInterrupt:  # Ctrl-C drops the line being typed, as in a shell
                return ""
            return line
        if self.interactive:
            try:
                return await blocking_read(input, "coach> ")
            except EOFError:
                return None
        line = await blocking_read(self.stdin.readline)
        return line.rstrip("\n") if line else None

    def _enable_line_editing(self) -> None:
        """On a terminal: prompt_toolkit (Tab completes like Discord's autocomplete, the arrow
        keys pick a numbered choice, history kept between runs); readline where the output
        is not a terminal too."""
        history = self.coach.settings.data_dir / "console_history"
        if _isatty(self.stdout) and self.stdin is sys.stdin:
            with contextlib.suppress(OSError):
                history.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.session = prompt_session(self, history)
                return
            except Exception:  # a terminal prompt_toolkit cannot drive: plain line editing
                self.session = None
        self._enable_readline(history)

    def _enable_readline(self, history: Path) -> None:
        try:
            import readline
        except ImportError:  # pragma: no cover - not on every platform
            return
        try:
            history.parent.mkdir(parents=True, exist_ok=True)
            if history.exists():
                readline.read_history_file(history)
            import atexit

            atexit.register(readline.write_history_file, history)
        except OSError:
            pass
        names = [f"/{spec.name}" for spec in self.coach.table.all()]
        names += [f"/{name}" for name in CONSOLE_COMMANDS]

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
        if not text.startswith("/") and (self.prompt or self.channel_prompt) is not None:
            prompt = self.prompt or self.channel_prompt
            self.prompt = None  # a personal prompt is answered once; the channel's stays open
            assert prompt is not None
            turn = Turn()
            await self.present(turn, await self.coach.press(self.actor(turn), prompt.action, text))
            return
        if text.isdigit():
            await self._choose(int(text))
            return
        if self.interactive and not text.startswith("/") and self.choices:
            picked = choice_matches(self.choices, text)
            if len(picked) == 1:  # the start of a choice's label picks it
                await self._choose(picked[0][0])
                return
        command, _, rest = text.partition(" ")
        if command == "/attach":
            self._attach(rest.strip())
            return
        if command == "/as":
            self._act_as(rest.strip())
            return
        try:
            parsed = parse_line(self.coach.table, text)
        except LineError as exc:
            self.stdout.write(f"✖ {self.tr(exc.key, **exc.params)}\n")
            return
        turn = Turn(tuple(self.uploads))
        self.uploads.clear()
        await self.present(
            turn, await self.coach.run(self.actor(turn), parsed.spec.path, parsed.options)
        )

    async def _choose(self, number: int) -> None:
        choices = self.choices or self.channel_choices
        if not 1 <= number <= len(choices):
            self.stdout.write(f"✖ {self.tr('general.console_no_choice', number=number)}\n")
            return
        choice = choices[number - 1]
        turn = Turn()
        await self.present(turn, await self.coach.press(self.actor(turn), choice.action))

    def _act_as(self, name: str) -> None:
        """``/as NAME``: type as another member of the group from now on (console only), so
        that one terminal can play a whole channel round or group practice."""
        if not name or len(name) > 32 or any(ch.isspace() for ch in name):
            self.stdout.write(f"✖ {self.tr('general.console_as_usage')}\n")
            return
        original = self.original
        if name == original.user_id:
            self.user = original
        else:
            self.user = Actor(name, name, original.guild_id, original.locale, False)
        if name not in self.members:
            self.members.append(name)
        self.choices, self.prompt = [], None  # the last member's own choices are theirs
        self.stdout.write(self.tr("general.console_acting_as", name=name) + "\n")

    async def on_post(self, post: Post) -> None:
        """A message the coach posted on its own in a channel of this console's group."""
        if post.guild_id != self.user.guild_id:
            return
        buffer = io.StringIO()
        self.renderer.out = buffer
        if post.channel_id != self.user.channel_id:
            buffer.write(f"[#{post.channel_id}]\n")
        self.renderer.render(post.reply)
        reply = post.reply
        enabled = [c for c in reply.choices if not c.disabled]
        if enabled or reply.prompt is not None:
            self.channel_choices, self.channel_prompt = enabled, reply.prompt
            self.channel_key = post.key
            if enabled:
                buffer.write(self.tr("general.console_choose") + "\n")
            if reply.prompt is not None:
                label = reply.prompt.label
                buffer.write(f"> {label} ({self.tr('general.console_answer')})\n")
        elif post.key is not None and post.key == self.channel_key:
            self.channel_choices, self.channel_prompt, self.channel_key = [], None, None
        self.stdout.write(buffer.getvalue())
        self.stdout.flush()

    async def _follow_language(self) -> None:
        """Speak the language the user chose with /language (the store remembers it)."""
        locale = (await self.coach.localize(self.user)).locale
        if locale != self.locale:
            self.locale = locale
            self.renderer.tr = self.coach.translator(locale)

    def _attach(self, raw: str) -> None:
        if not raw:
            self.stdout.write(f"✖ {self.tr('general.console_attach_usage')}\n")
            return
        path = Path(os.path.expanduser(raw))
        limit = self.coach.settings.sandbox.upload_max_bytes
        try:
            data = _read_attachment(path, limit)
        except OSError as exc:
            self.stdout.write(
                f"✖ {self.tr('general.console_no_file', path=raw, reason=exc.strerror)}\n"
            )
            return
        except _TooBig as exc:
            self.stdout.write(
                f"✖ {self.tr('general.console_too_big', path=raw, size=exc.size, limit=limit)}\n"
            )
            return

        async def read(data: bytes = data) -> bytes:
            return data

        self.uploads.append(Upload(path.name, len(data), read))
        self.stdout.write(
            self.tr("general.console_attached", name=path.name, size=len(data)) + "\n"
        )

    # the Frontend protocol --------------------------------------------------------------
    def current_actor(self) -> Actor:
        """Who is typing, in the language they chose (for suggestions)."""
        user = self.user
        return Actor(
            user.user_id,
            user.display_name,
            user.guild_id,
            self.locale,
            user.is_admin,
            channel_id=user.channel_id,
        )

    def actor(self, source: Turn) -> Actor:
        """The console's user, with the files staged for this line."""
        user = self.user
        return Actor(
            user.user_id,
            user.display_name,
            user.guild_id,
            user.locale,
            user.is_admin,
            source.uploads,
            user.channel_id,
        )

    async def present(self, source: Turn, replies: Sequence[Reply]) -> None:
        """Print ``replies`` whole; page them when they are taller than the terminal."""
        text = self._format(replies)
        if self.pager and text.count("\n") >= _screen_lines():
            await asyncio.to_thread(page, text, self.stdout)
        else:
            self.stdout.write(text)
        self.stdout.flush()

    def show(self, replies: Sequence[Reply]) -> None:
        """Print ``replies`` whole, never paged."""
        self.stdout.write(self._format(replies))
        self.stdout.flush()

    def _format(self, replies: Sequence[Reply]) -> str:
        """The text of ``replies``; remembers their choices and prompt for the next line."""
        buffer = io.StringIO()
        self.renderer.out = buffer
        new_choices: list[Choice] = []
        for reply in replies:
            self.renderer.render(reply, number_from=len(new_choices) + 1)
            new_choices.extend(c for c in reply.choices if not c.disabled)
            if reply.prompt is not None:
                self.prompt = reply.prompt
                buffer.write(f"> {reply.prompt.label} ({self.tr('general.console_answer')})\n")
        if new_choices:
            buffer.write(self.tr("general.console_choose") + "\n")
        if new_choices or replies:
            self.choices = new_choices
        return buffer.getvalue()


class _TooBig(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _read_attachment(path: Path, limit: int) -> bytes:
    """The file's bytes, its size checked first: never more than ``limit`` + 1 bytes are
    read, whatever the file claims (a device, a file that grows); only regular files."""
    status = path.stat()
    if not stat.S_ISREG(status.st_mode):
        raise (
            IsADirectoryError(errno.EISDIR, "not a regular file")
            if path.is_dir()
            else (OSError(errno.EINVAL, "not a regular file"))
        )
    if status.st_size > limit:
        raise _TooBig(status.st_size)
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _TooBig(len(data))
    return data


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _screen_lines() -> int:
    return shutil.get_terminal_size().lines - 1


def pager_command() -> tuple[list[str], dict[str, str]] | None:
    """The pager to run (``$PAGER``, else ``less``) and its environment; None for no pager."""
    env = dict(os.environ)
    chosen = env.get("PAGER", "").strip()
    if chosen:
        return shlex.split(chosen), env
    if shutil.which(DEFAULT_PAGER) is None:
        return None
    env.setdefault("LESS", LESS_OPTIONS)
    return [DEFAULT_PAGER], env


def page(text: str, out: TextIO) -> None:
    """Show ``text`` through the pager; write it to ``out`` when there is none that works."""
    command = pager_command()
    if command is not None:
        argv, env = command
        encoding = getattr(out, "encoding", None) or "utf-8"
        try:
            # Its exit status is not checked: once it ran, the user has seen the text.
            subprocess.run(argv, input=text, encoding=encoding, errors="replace", env=env)
            return
        except OSError:  # no such pager: show the text plainly
            pass
    out.write(text)


async def run_console(coach: Coach, actor: Actor, **kwargs: Any) -> int:
    console = Console(coach, actor, **kwargs)
    return await console.run()
